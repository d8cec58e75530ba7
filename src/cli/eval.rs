//! `eval`: measure weights on labelled digits.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use digit_transfer::data::Split;
use digit_transfer::{feature_map, train};
use serde_json::json;

use super::args::{CommonArgs, DataArgs};

#[derive(Args)]
pub(super) struct EvalArgs {
    /// Weights file (burnpack or safetensors), e.g. written by `pretrain`.
    #[arg(long)]
    weights: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    common: CommonArgs,
}

pub(super) async fn run(args: EvalArgs) -> Result<()> {
    let selected = super::open_device(args.common.device).await?;
    let (model, info) = super::load_weights(&args.weights, None, &selected.device)?;
    let (samples, source) = args.data.load(Split::HeldOut, model.classes())?;
    if samples.is_empty() {
        bail!("there are no samples to evaluate on");
    }
    let report = train::evaluate(&model, &samples, &selected.device)
        .await?
        .report();
    let images: Vec<_> = samples.iter().map(|s| s.image).collect();
    let features = feature_map::features(&model, &images, &selected.device).await?;
    let labelled: Vec<_> = features
        .into_iter()
        .zip(samples.iter().map(|s| s.label))
        .collect();
    let separation = feature_map::halves_separation(&labelled);
    if args.common.json {
        let mut value = serde_json::to_value(&report)?;
        value["architecture"] = json!(info.architecture);
        value["class_names"] = json!(info.class_names);
        value["device"] = json!(selected.kind);
        value["data"] = json!(source);
        // How far apart the classes are in the backbone's feature space (nearest class
        // mean of every other digit, on the rest).
        value["separation"] = json!(separation);
        println!("{value}");
    } else {
        println!(
            "{} weights {} on {source} ({})",
            info.architecture,
            args.weights.display(),
            selected.label
        );
        super::print_report(&report);
        if let Some(separation) = separation {
            println!("feature-space separation (nearest class mean) {separation:.4}");
        }
    }
    Ok(())
}
