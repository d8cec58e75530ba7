//! What a fine-tuning run produced and measured, for people and for the page's results.

use serde::Serialize;

use super::{FeatureMap, Mistake, Strategy};
use crate::metrics::Report;
use crate::train::{BackboneMode, EpochSummary, TrainConfig};

/// What a fine-tuning run produced and measured, without the network itself.
#[derive(Clone, Debug, Serialize)]
pub struct FineTuneReport {
    pub strategy: Strategy,
    pub architecture: crate::model::Architecture,
    pub class_names: Vec<String>,
    /// A new head replaced the pretrained one (new task), rather than adapting it.
    pub new_head: bool,
    /// The person's samples trained on.
    pub train_samples: usize,
    pub validation_samples: usize,
    /// Adapt mode: the digits without samples, kept by MNIST digits of them in training.
    pub kept_by_rehearsal: Vec<String>,
    /// How many MNIST digits joined training to keep them.
    pub kept_samples: usize,
    /// What the run changed of the settings, for people: e.g. "batch 4: only 4 training
    /// samples".
    pub notes: Vec<String>,
    pub config: TrainConfig,
    /// What it trained with, for people: e.g. "learning rate 0.001 · up to 120 epochs,
    /// patience 10 · batch 8 · augmented · weight decay 0.0001" (*Compare* may run a fresh
    /// network with its own defaults).
    pub trained_with: String,
    pub history: Vec<EpochSummary>,
    pub best_epoch: Option<usize>,
    pub stopped: bool,
    pub early_stopped: bool,
    /// The starting network's accuracy on the validation split (pretrained head in adapt
    /// mode; an untrained head otherwise).
    pub validation_accuracy_before: Option<f64>,
    /// The fine-tuned network on the validation split.
    pub validation: Option<Report>,
    /// Held-out MNIST accuracy before and after, and their difference (adapt mode only).
    pub source_accuracy_before: Option<f64>,
    pub source_accuracy_after: Option<f64>,
    pub forgetting: Option<f64>,
    /// The person's samples in feature space before and after, and class separation there.
    pub feature_map: Option<FeatureMap>,
    /// Validation samples the fine-tuned network gets wrong, most confident first.
    pub mistakes: Vec<Mistake>,
    /// The run went on from the weights after this epoch (`history` holds only the epochs
    /// after it).
    pub resumed_after_epoch: Option<usize>,
    pub seconds: f64,
}

/// A run's training settings in a line, for people (`FineTuneReport::trained_with`).
pub(super) fn trained_with(config: &TrainConfig) -> String {
    let rate = config.learning_rate;
    let mut parts = vec![match config.backbone {
        BackboneMode::Frozen => format!("learning rate {rate} (backbone frozen)"),
        BackboneMode::Train { lr_scale } if lr_scale != 1.0 => {
            format!("learning rate {rate} (backbone ×{lr_scale})")
        }
        BackboneMode::Train { .. } => format!("learning rate {rate}"),
    }];
    parts.push(match config.patience {
        Some(patience) => format!("up to {} epochs, patience {patience}", config.epochs),
        None => format!("{} epochs", config.epochs),
    });
    parts.push(format!("batch {}", config.batch_size));
    if config.augmentation.is_some() {
        parts.push("augmented".into());
    }
    if config.weight_decay > 0.0 {
        parts.push(format!("weight decay {}", config.weight_decay));
    }
    if config.rehearsal > 0 {
        parts.push(format!("{} MNIST digits a batch", config.rehearsal));
    }
    parts.join(" · ")
}
