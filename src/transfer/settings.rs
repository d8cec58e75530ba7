//! What a person chooses about a run, and the rules those choices follow. The page's form
//! comes in as plain numbers ([`SettingsForm`]) and is checked here, so the page and the CLI
//! refuse the same things with the same words.

use serde::{Deserialize, Serialize};

use super::{Strategy, TransferError, train_config};
use crate::preprocess::Augmentation;
use crate::train::{TrainConfig, limits};

/// The batch size when none is chosen: this many, or all the training samples if fewer. The
/// sweep's choice (docs/TRANSFER.md: 8 over 16 when adapting the digits), and it keeps a
/// handful of drawings trainable where a batch chosen as a number would refuse them.
pub const AUTO_BATCH: usize = 8;

/// Everything a person chooses about one fine-tuning run (the CLI's flags, the page's form).
/// A field left out takes its default; a field this does not know is refused, so that a
/// renamed form field cannot fall back to a default unnoticed.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub strategy: Strategy,
    pub epochs: usize,
    /// Samples per batch; none: [`AUTO_BATCH`], lowered to what the training split holds. A
    /// number chosen explicitly is kept, and refused when the training split is smaller.
    pub batch_size: Option<usize>,
    pub learning_rate: f64,
    pub weight_decay: f64,
    /// Train on freshly distorted copies every epoch.
    pub augment: bool,
    /// Fraction of each class held out for validation (metrics, early stopping).
    pub validation_split: f64,
    /// Stop after this many epochs without a lower validation loss (0: never stop early).
    pub patience: usize,
    /// MNIST digits mixed into every batch (adapt mode only), against forgetting.
    pub rehearsal: usize,
    pub seed: u64,
}

/// The sweep's choice for adapting the digits (docs/TRANSFER.md, `scripts/sweep.sh`): of the
/// settings tried, the most accurate over the digit domains at 1–10 samples a class that
/// forgets at most 0.5 point of held-out MNIST. A test pins these to docs/transfer.json; a new
/// task has its own ([`Settings::new_task`]).
impl Default for Settings {
    fn default() -> Self {
        Settings {
            strategy: Strategy::Head,
            epochs: 60,
            batch_size: None,
            learning_rate: 3e-3,
            weight_decay: 0.0,
            augment: true,
            validation_split: 0.2,
            patience: 5,
            rehearsal: 32,
            seed: 1,
        }
    }
}

impl Settings {
    /// The sweep's choice for a new task (docs/TRANSFER.md): the most accurate on new classes
    /// at 1–10 samples a class. A new head has no old classes to forget, so nothing holds the
    /// learning rate down as in adapt mode (and the backbone may change: full, at 0.1 × the
    /// rate), and rehearsal has no digits' head to serve. Every epoch runs (patience 0):
    /// with a few samples a class, the validation split is too small to stop on.
    pub fn new_task() -> Settings {
        Settings {
            strategy: Strategy::Full,
            epochs: 120,
            learning_rate: 3e-3,
            weight_decay: 1e-4,
            augment: true,
            patience: 0,
            rehearsal: 0,
            ..Settings::default()
        }
    }

    /// The settings of a fresh network: the baseline that transfer is measured against. A
    /// network without pretrained features learns best at a lower learning rate than one
    /// adapting them, with more weight decay (at a new task's earlier rate of 0.009 it trained
    /// at chance on some tasks), and every epoch. The sweep's search for it (`sweep --searches
    /// scratch`, docs/TRANSFER.md) over the new-task domains chose these; a test pins them to
    /// docs/transfer.json.
    pub fn scratch() -> Settings {
        Settings {
            strategy: Strategy::Scratch,
            epochs: 120,
            learning_rate: 1e-3,
            weight_decay: 1e-3,
            augment: true,
            patience: 0,
            rehearsal: 0,
            ..Settings::default()
        }
    }

    /// The settings a run takes when a person changes nothing: [`Settings::default`] when
    /// `adapt`ing the pretrained digits, else [`Settings::new_task`].
    pub fn chosen(adapt: bool) -> Settings {
        if adapt {
            Settings::default()
        } else {
            Settings::new_task()
        }
    }

    /// The defaults of a run of `strategy` (none: the task's own): [`Settings::scratch`] for
    /// a fresh network, else [`Settings::chosen`].
    pub fn chosen_for(strategy: Option<Strategy>, adapt: bool) -> Settings {
        match strategy {
            Some(Strategy::Scratch) => Settings::scratch(),
            Some(strategy) => Settings {
                strategy,
                ..Settings::chosen(adapt)
            },
            None => Settings::chosen(adapt),
        }
    }

    /// What `strategy` runs with when these settings are compared across strategies: these,
    /// with its strategy. A fresh network takes its own defaults ([`Settings::scratch`],
    /// keeping the seed and validation split) where these are the task's defaults in all that
    /// trains, i.e. where a person changed nothing: the task's defaults are chosen for a
    /// pretrained backbone, and a baseline that cannot train measures nothing.
    pub fn for_strategy(&self, strategy: Strategy, adapt: bool) -> Settings {
        let task = Settings::chosen(adapt);
        let unchanged = Settings {
            strategy: task.strategy,
            seed: task.seed,
            validation_split: task.validation_split,
            ..self.clone()
        } == task;
        if strategy == Strategy::Scratch && unchanged {
            Settings {
                seed: self.seed,
                validation_split: self.validation_split,
                ..Settings::scratch()
            }
        } else {
            Settings {
                strategy,
                ..self.clone()
            }
        }
    }

    /// Refuse what cannot train, before any sample is looked at: the same checks a run
    /// makes, with the same messages.
    pub fn check(&self) -> Result<(), TransferError> {
        let split = limits::VALIDATION_SPLIT;
        if !(split.min..=split.max).contains(&self.validation_split) {
            return Err(TransferError::BadSplit(self.validation_split));
        }
        self.train_config(self.batch_size.unwrap_or(AUTO_BATCH), true)
            .validate()?;
        limits::LEARNING_RATE.check(self.learning_rate)?;
        limits::WEIGHT_DECAY.check(self.weight_decay)?;
        Ok(())
    }

    /// The batch size for `train_samples`: the one chosen (refused when larger), or
    /// [`AUTO_BATCH`] lowered to the training samples, with a note saying so.
    pub fn batch_for(
        &self,
        train_samples: usize,
        notes: &mut Vec<String>,
    ) -> Result<usize, TransferError> {
        match self.batch_size {
            Some(batch) if batch > train_samples => Err(TransferError::BatchTooLarge {
                batch,
                samples: train_samples,
            }),
            Some(batch) => Ok(batch),
            None if train_samples < AUTO_BATCH => {
                notes.push(format!(
                    "batch {train_samples}: only {train_samples} training samples"
                ));
                Ok(train_samples)
            }
            None => Ok(AUTO_BATCH),
        }
    }

    /// The training loop's configuration for these settings, at `batch_size`; early stopping
    /// only `with_validation` samples to watch.
    pub fn train_config(&self, batch_size: usize, with_validation: bool) -> TrainConfig {
        let base = TrainConfig {
            epochs: self.epochs,
            batch_size,
            learning_rate: self.learning_rate,
            weight_decay: self.weight_decay,
            seed: self.seed,
            augmentation: self.augment.then(Augmentation::default),
            patience: (self.patience > 0 && with_validation).then_some(self.patience),
            rehearsal: self.rehearsal,
            ..TrainConfig::default()
        };
        train_config(self.strategy, &base)
    }
}

/// The page's settings form as a browser reads it: every count a plain number, which a person
/// may have typed as `2.5` or left empty. [`Settings::try_from`] turns it into settings, or
/// says which field is wrong.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsForm {
    pub strategy: Strategy,
    pub epochs: f64,
    /// Empty: auto.
    pub batch_size: Option<f64>,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub augment: bool,
    pub validation_split: f64,
    pub patience: f64,
    pub rehearsal: f64,
    pub seed: u64,
}

/// `value` as a count of at least `min`, or which field it is and what it should be.
fn count(field: &'static str, value: f64, min: usize) -> Result<usize, TransferError> {
    let whole = value.is_finite() && value.fract() == 0.0 && value >= min as f64;
    if whole && value <= u32::MAX as f64 {
        Ok(value as usize)
    } else {
        Err(TransferError::NotACount { field, value, min })
    }
}

impl TryFrom<SettingsForm> for Settings {
    type Error = TransferError;

    fn try_from(form: SettingsForm) -> Result<Self, Self::Error> {
        let settings = Settings {
            strategy: form.strategy,
            epochs: count("epochs", form.epochs, 1)?,
            batch_size: form
                .batch_size
                .map(|b| count("the batch size", b, 1))
                .transpose()?,
            learning_rate: form.learning_rate,
            weight_decay: form.weight_decay,
            augment: form.augment,
            validation_split: form.validation_split,
            patience: count("patience", form.patience, 0)?,
            rehearsal: count("rehearsal", form.rehearsal, 0)?,
            seed: form.seed,
        };
        settings.check()?;
        Ok(settings)
    }
}
