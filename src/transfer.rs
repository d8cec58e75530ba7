//! Transfer learning: fine-tuning a pretrained network on a small labelled set.
//!
//! - **Strategies**: head-only (backbone frozen), full (backbone at a tenth of the head's
//!   learning rate), scratch (same architecture, fresh weights: the baseline).
//! - **Same task or new task**: the ten digit classes keep the pretrained head ("adapt to my
//!   handwriting"); other class names get a new head of that size on the pretrained backbone.

use burn::prelude::Device;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::Serialize;
use thiserror::Error;

use crate::data::Sample;
use crate::model::Classifier;
use crate::train::{BackboneMode, TrainConfig};
use crate::weights::WeightsInfo;

/// The backbone's learning rate relative to the head's in the `full` strategy. Small enough
/// that a few noisy samples cannot wreck pretrained features, large enough to adapt them.
pub const FULL_BACKBONE_LR_SCALE: f64 = 0.1;

/// How to fine-tune.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Freeze the backbone; train only the head.
    Head,
    /// Train everything, the backbone at [`FULL_BACKBONE_LR_SCALE`] × the learning rate.
    #[default]
    Full,
    /// Fresh weights of the same architecture, everything trained: what transfer is measured against.
    Scratch,
}

impl Strategy {
    pub const ALL: [Strategy; 3] = [Strategy::Head, Strategy::Full, Strategy::Scratch];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Head => "head",
            Strategy::Full => "full",
            Strategy::Scratch => "scratch",
        }
    }

    /// How this strategy trains the backbone.
    pub fn backbone_mode(self) -> BackboneMode {
        match self {
            Strategy::Head => BackboneMode::Frozen,
            Strategy::Full => BackboneMode::Train {
                lr_scale: FULL_BACKBONE_LR_SCALE,
            },
            Strategy::Scratch => BackboneMode::Train { lr_scale: 1.0 },
        }
    }
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Strategy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "head" | "head-only" => Ok(Strategy::Head),
            "full" => Ok(Strategy::Full),
            "scratch" => Ok(Strategy::Scratch),
            _ => Err(format!(
                "unknown strategy `{s}`: expected `head`, `full` or `scratch`"
            )),
        }
    }
}

/// Why a fine-tuning run cannot start.
#[derive(Debug, Error, PartialEq)]
pub enum TransferError {
    #[error("a classifier needs at least 2 classes, got {0}")]
    TooFewClasses(usize),
    #[error("class names must be distinct and non-empty: {0:?}")]
    BadClassNames(Vec<String>),
    #[error("the validation split must be at least 0 and below 1, not {0}")]
    BadSplit(f64),
    #[error("class `{0}` has no samples")]
    EmptyClass(String),
    #[error("the validation split leaves nothing to train on")]
    NothingToTrain,
}

/// The network a strategy starts from, and its description. `class_names` equal to the
/// pretrained ones keep the pretrained head (adapt mode); any others get a new head.
pub fn starting_point(
    pretrained: &Classifier,
    info: &WeightsInfo,
    class_names: &[String],
    strategy: Strategy,
    seed: u64,
    device: &Device,
) -> Result<(Classifier, WeightsInfo), TransferError> {
    if class_names.len() < 2 {
        return Err(TransferError::TooFewClasses(class_names.len()));
    }
    let distinct: std::collections::HashSet<&String> = class_names.iter().collect();
    if distinct.len() != class_names.len() || class_names.iter().any(|n| n.trim().is_empty()) {
        return Err(TransferError::BadClassNames(class_names.to_vec()));
    }
    let out = WeightsInfo {
        architecture: info.architecture,
        class_names: class_names.to_vec(),
    };
    let model = match strategy {
        Strategy::Scratch => {
            device.seed(seed);
            Classifier::new(info.architecture, class_names.len(), device)
        }
        _ if class_names == info.class_names.as_slice() => pretrained.clone(),
        _ => {
            device.seed(seed);
            pretrained.clone().with_new_head(class_names.len(), device)
        }
    };
    Ok((model, out))
}

/// The training settings of a strategy: `base` with the strategy's backbone mode.
pub fn train_config(strategy: Strategy, base: &TrainConfig) -> TrainConfig {
    TrainConfig {
        backbone: strategy.backbone_mode(),
        ..base.clone()
    }
}

/// Split labelled samples into training and validation sets, class by class (so every class
/// with at least two samples is in both), reproducibly from `seed`.
pub fn split_validation(
    samples: &[Sample],
    class_names: &[String],
    fraction: f64,
    seed: u64,
) -> Result<(Vec<Sample>, Vec<Sample>), TransferError> {
    if !(0.0..1.0).contains(&fraction) {
        return Err(TransferError::BadSplit(fraction));
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut train, mut validation) = (Vec::new(), Vec::new());
    for (class, name) in class_names.iter().enumerate() {
        let mut members: Vec<&Sample> = samples.iter().filter(|s| s.label == class).collect();
        if members.is_empty() {
            return Err(TransferError::EmptyClass(name.clone()));
        }
        members.shuffle(&mut rng);
        let wanted = (members.len() as f64 * fraction).round() as usize;
        // Keep at least one sample of each class for training.
        let held = if fraction > 0.0 && members.len() >= 2 {
            wanted.clamp(1, members.len() - 1)
        } else {
            wanted.min(members.len() - 1)
        };
        validation.extend(members[..held].iter().map(|s| (*s).clone()));
        train.extend(members[held..].iter().map(|s| (*s).clone()));
    }
    if train.is_empty() {
        return Err(TransferError::NothingToTrain);
    }
    Ok((train, validation))
}
