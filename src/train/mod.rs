//! Training, written once for the command line and the browser. It is `async` because the
//! browser can only read GPU results asynchronously, and it yields to the event loop between
//! batches so a page (or worker) stays responsive and can ask it to stop.
//!
//! - this file: what a run is asked to do ([`TrainConfig`], [`TrainSets`]), what it reports
//!   ([`Observer`]) and how it fails ([`TrainError`]);
//! - [`fit`](mod@fit): the training loop;
//! - [`features`]: a frozen backbone's features, computed once per run;
//! - [`limits`]: how large each setting may be, and why;
//! - [`online`](mod@online): learning as a person labels, a few steps after each label;
//! - [`predict`](mod@predict): predictions, validation figures and evaluation.

mod features;
mod fit;
pub mod limits;
mod online;
mod predict;

pub use features::FROZEN_AUGMENTED_COPIES;
pub use fit::{fit, fit_from, yield_now};
pub use online::{Learned, OnlineConfig, OnlineLearner};
pub use predict::{argmax, evaluate, measure, predict};

use burn::prelude::*;
use rand::RngExt;
use rand::rngs::StdRng;
use serde::Serialize;
use thiserror::Error;

use crate::data::{IMAGE_PIXELS, LabelOutOfRange, Sample, check_label};
use crate::model::Classifier;
use crate::preprocess::Augmentation;
use crate::weights::HostWeights;

/// How to train.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// L2 penalty added by Adam (0 turns it off).
    pub weight_decay: f64,
    /// Seeds shuffling and augmentation.
    pub seed: u64,
    /// Distort each sample afresh every epoch.
    pub augmentation: Option<Augmentation>,
    /// How the learning rate changes over the run.
    #[serde(default)]
    pub schedule: Schedule,
    /// Whether, and how fast, the backbone trains.
    #[serde(default)]
    pub backbone: BackboneMode,
    /// With a validation set: stop after this many epochs without a lower validation loss,
    /// and keep the weights of the best epoch.
    #[serde(default)]
    pub patience: Option<usize>,
    /// Source samples mixed into every batch (rehearsal, against forgetting).
    #[serde(default)]
    pub rehearsal: usize,
}

/// The sample sets of one run.
#[derive(Clone, Copy, Debug, Default)]
pub struct TrainSets<'a> {
    /// What the model learns from.
    pub train: &'a [Sample],
    /// Measured after every epoch (may be empty); drives early stopping.
    pub validation: &'a [Sample],
    /// Source samples (e.g. the MNIST training split) for rehearsal.
    pub rehearsal: &'a [Sample],
}

/// Whether the backbone trains along with the head.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackboneMode {
    /// The backbone trains, its learning rate scaled by `lr_scale` (the head's is unscaled).
    Train { lr_scale: f64 },
    /// The backbone's weights do not change; only the head trains.
    Frozen,
}

impl Default for BackboneMode {
    fn default() -> Self {
        BackboneMode::Train { lr_scale: 1.0 }
    }
}

/// How the learning rate changes over a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// The same rate throughout.
    #[default]
    Constant,
    /// Half a cosine, batch by batch, from the full rate down to 5% of it.
    Cosine,
}

impl Schedule {
    /// The rate for step `step` of `steps` (0-based) when the base rate is `base`.
    pub fn rate(self, base: f64, step: usize, steps: usize) -> f64 {
        match self {
            Schedule::Constant => base,
            Schedule::Cosine => {
                let progress = step as f64 / steps.max(1) as f64;
                base * (0.05 + 0.95 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()))
            }
        }
    }
}

impl std::str::FromStr for Schedule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "constant" => Ok(Schedule::Constant),
            "cosine" => Ok(Schedule::Cosine),
            _ => Err(format!(
                "unknown schedule `{s}`: expected `constant` or `cosine`"
            )),
        }
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 10,
            batch_size: 64,
            learning_rate: 1e-3,
            weight_decay: 0.0,
            seed: 0,
            augmentation: None,
            schedule: Schedule::Constant,
            backbone: BackboneMode::default(),
            patience: None,
            rehearsal: 0,
        }
    }
}

/// Reported after every batch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BatchProgress {
    /// 1-based.
    pub epoch: usize,
    pub epochs: usize,
    /// 1-based.
    pub batch: usize,
    pub batches: usize,
    /// The batch's loss and accuracy where reading them is free (the CPU); on a GPU they are
    /// summed on the device and read once per epoch, so a batch reports none.
    pub loss: Option<f32>,
    pub accuracy: Option<f32>,
    /// Training samples per second so far in this epoch.
    pub samples_per_sec: f64,
}

/// Reported after every epoch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochSummary {
    /// 1-based.
    pub epoch: usize,
    /// Mean training loss over the epoch.
    pub loss: f32,
    /// Training accuracy over the epoch.
    pub accuracy: f32,
    pub samples_per_sec: f64,
    pub seconds: f64,
    /// Mean loss on the validation set after the epoch, when there is one.
    pub val_loss: Option<f32>,
    /// Accuracy on the validation set after the epoch, when there is one.
    pub val_accuracy: Option<f32>,
}

/// Whether training should go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

/// Receives progress; returning [`Control::Stop`] cancels training after the current batch.
pub trait Observer {
    fn batch(&mut self, _progress: &BatchProgress) -> Control {
        Control::Continue
    }
    fn epoch(&mut self, _summary: &EpochSummary) -> Control {
        Control::Continue
    }
    /// Whether to receive the weights after every epoch. They are read off the device, which
    /// costs a round trip, so a run asks only when it might have to go on elsewhere (a GPU can
    /// be lost mid-run).
    fn wants_checkpoints(&self) -> bool {
        false
    }
    /// The weights after `epoch`, in memory (only when [`Observer::wants_checkpoints`]).
    fn checkpoint(&mut self, _epoch: usize, _weights: &HostWeights) {}
}

/// An observer that watches nothing.
pub struct Silent;
impl Observer for Silent {}

/// The trained model and how it got there.
#[derive(Debug)]
pub struct TrainOutcome {
    pub model: Classifier,
    pub history: Vec<EpochSummary>,
    /// True when an observer stopped training early.
    pub stopped: bool,
    /// With a validation set: the epoch whose weights were kept (lowest validation loss).
    pub best_epoch: Option<usize>,
    /// True when early stopping ended the run before its last epoch.
    pub early_stopped: bool,
}

/// Why training did not run or did not finish.
#[derive(Debug, Error, PartialEq)]
pub enum TrainError {
    #[error("there are no samples to train on")]
    NoSamples,
    #[error("epochs must be at least 1")]
    NoEpochs,
    #[error("batch size must be at least 1")]
    NoBatch,
    #[error("learning rate must be a positive number, not {0}")]
    BadLearningRate(f64),
    #[error("weight decay must be zero or a positive number, not {0}")]
    BadWeightDecay(f64),
    #[error(transparent)]
    LabelOutOfRange(#[from] LabelOutOfRange),
    #[error(
        "the loss became {loss} in epoch {epoch}{}: training stopped and the weights from before it were kept; try a lower learning rate",
        .batch.map(|b| format!(", batch {b}")).unwrap_or_default()
    )]
    Diverged {
        epoch: usize,
        /// The batch, where the loss is read per batch (the CPU); a GPU run reads it per epoch.
        batch: Option<usize>,
        loss: f32,
    },
    #[error("patience must be at least 1 epoch")]
    NoPatience,
    #[error("early stopping needs a validation set: set a validation split")]
    PatienceWithoutValidation,
    #[error("rehearsal needs source samples to mix in")]
    RehearsalWithoutSource,
    #[error("the device failed: {0}")]
    Device(String),
    #[error("{ids} sample ids for {samples} samples")]
    IdsDoNotMatch { ids: usize, samples: usize },
    #[error("{} must be at most {}, not {}: {}", .limit.name, .limit.max, limits::Limit::shown(*.value), .limit.why)]
    TooLarge { limit: limits::Limit, value: f64 },
}

impl TrainConfig {
    /// Refuse settings that cannot train, before any work is done.
    pub fn validate(&self) -> Result<(), TrainError> {
        if self.epochs == 0 {
            return Err(TrainError::NoEpochs);
        }
        if self.batch_size == 0 {
            return Err(TrainError::NoBatch);
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(TrainError::BadLearningRate(self.learning_rate));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(TrainError::BadWeightDecay(self.weight_decay));
        }
        if let BackboneMode::Train { lr_scale } = self.backbone
            && !(lr_scale.is_finite() && lr_scale > 0.0)
        {
            return Err(TrainError::BadLearningRate(self.learning_rate * lr_scale));
        }
        if self.patience == Some(0) {
            return Err(TrainError::NoPatience);
        }
        // What a run allocates by: any run, a person's or the CLI's pretraining. (The learning
        // rate and weight decay a person may choose are bounded with the settings.)
        limits::EPOCHS.check(self.epochs as f64)?;
        limits::BATCH_SIZE.check(self.batch_size as f64)?;
        limits::PATIENCE.check(self.patience.unwrap_or(0) as f64)?;
        limits::REHEARSAL.check(self.rehearsal as f64)?;
        Ok(())
    }
}
fn check_labels(samples: &[Sample], classes: usize) -> Result<(), TrainError> {
    for (index, sample) in samples.iter().enumerate() {
        check_label(index, sample.label, classes)?;
    }
    Ok(())
}
/// Images `[batch, 784]` scaled to 0..=1.
pub fn images_tensor<'a>(
    images: impl ExactSizeIterator<Item = &'a [u8; IMAGE_PIXELS]>,
    device: &Device,
) -> Tensor<2> {
    let batch = images.len();
    let mut values = Vec::with_capacity(batch * IMAGE_PIXELS);
    for image in images {
        values.extend(image.iter().map(|&p| f32::from(p) / 255.0));
    }
    Tensor::from_data(TensorData::new(values, [batch, IMAGE_PIXELS]), device)
}

fn labels_tensor(labels: &[usize], device: &Device) -> Tensor<1, Int> {
    let values: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
    Tensor::from_data(TensorData::new(values, [labels.len()]), device)
}

/// Train `model` on `samples`; `model` itself is left as it was.
pub async fn train(
    model: &Classifier,
    samples: &[Sample],
    config: &TrainConfig,
    device: &Device,
    observer: &mut impl Observer,
) -> Result<TrainOutcome, TrainError> {
    let sets = TrainSets {
        train: samples,
        ..TrainSets::default()
    };
    fit(model, sets, config, device, observer).await
}

/// One batch: the training samples at `chunk` (augmented when asked), then `rehearse` source
/// samples drawn at random from `source`.
pub fn compose_batch(
    samples: &[Sample],
    chunk: &[usize],
    source: &[Sample],
    rehearse: usize,
    augmentation: Option<&Augmentation>,
    rng: &mut StdRng,
) -> Vec<Sample> {
    let mut batch: Vec<Sample> = chunk
        .iter()
        .map(|&i| match augmentation {
            Some(aug) => Sample {
                image: aug.apply(&samples[i].image, rng),
                label: samples[i].label,
            },
            None => samples[i].clone(),
        })
        .collect();
    batch.extend(
        draw_rehearsal(source.len(), rehearse, rng)
            .into_iter()
            .map(|i| source[i].clone()),
    );
    batch
}

/// Which of `source` source digits a batch rehearses: `rehearse` at random (none from an
/// empty source). One function, so a run on cached features draws what a full one would.
pub(crate) fn draw_rehearsal(source: usize, rehearse: usize, rng: &mut StdRng) -> Vec<usize> {
    if source == 0 {
        return Vec::new();
    }
    (0..rehearse).map(|_| rng.random_range(0..source)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_schedule_decays_from_the_full_rate_to_five_percent() {
        let rate = |step| Schedule::Cosine.rate(0.01, step, 100);
        assert!((rate(0) - 0.01).abs() < 1e-12);
        assert!((rate(50) - 0.01 * 0.525).abs() < 1e-12);
        assert!((rate(100) - 0.0005).abs() < 1e-12);
        assert!((1..100).all(|s| rate(s) < rate(s - 1)));
        assert_eq!(Schedule::Constant.rate(0.01, 70, 100), 0.01);
        assert_eq!("cosine".parse::<Schedule>(), Ok(Schedule::Cosine));
        assert!("linear".parse::<Schedule>().is_err());
    }

    #[test]
    fn argmax_takes_the_first_largest() {
        assert_eq!(argmax(&[0.1, 0.7, 0.2]), 1);
        assert_eq!(argmax(&[0.5, 0.5]), 0);
        assert_eq!(argmax(&[]), 0);
    }
}
