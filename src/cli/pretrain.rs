//! `pretrain`: train a network from fresh weights.

use std::path::PathBuf;

use anyhow::Result;
use burn::module::Module;
use clap::Args;
use digit_transfer::data::{DIGIT_CLASSES, Split};
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
    #[command(flatten)]
    common: CommonArgs,
}

pub(super) async fn run(args: PretrainArgs) -> Result<()> {
    let selected = super::open_device(args.common.device).await?;
    let (samples, source) = args.data.load(Split::Train, DIGIT_CLASSES)?;
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
    }
    selected.device.seed(args.train.seed);
    let model = Classifier::new(args.arch, DIGIT_CLASSES, &selected.device);
    let mut observer = Bar::new(args.common.json);
    let outcome = train::train(&model, &samples, &config, &selected.device, &mut observer).await?;
    observer.finish();

    let bytes = weights::to_burnpack(&outcome.model, &WeightsInfo::digits(args.arch))?;
    super::write_file(&args.out, &bytes)?;

    // Held-out figures are only meaningful for the default data.
    let held_out = if args.data.images.is_none() {
        let (test, _) = args.data.load(Split::HeldOut, DIGIT_CLASSES)?;
        let evaluation = train::evaluate(&outcome.model, &test, &selected.device).await?;
        Some(evaluation.report())
    } else {
        None
    };
    let parameters = outcome.model.num_params();
    if args.common.json {
        let value = json!({
            "architecture": args.arch,
            "device": selected.kind,
            "samples": samples.len(),
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
