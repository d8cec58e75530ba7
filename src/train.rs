//! The training loop, written once for the command line and the browser. It is `async`
//! because the browser can only read GPU results asynchronously, and it yields to the event
//! loop between batches so a page (or worker) stays responsive and can ask it to stop.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use serde::Serialize;
use thiserror::Error;
use web_time::Instant;

use crate::data::{IMAGE_PIXELS, Sample};
use crate::metrics::ConfusionMatrix;
use crate::model::{Classifier, DROPOUT};
use crate::preprocess::Augmentation;

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
    pub loss: f32,
    pub accuracy: f32,
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
    /// Whether to receive the weights after every epoch. They are copied to the CPU, which
    /// costs a read back from the device, so a run asks only when it might have to go on
    /// elsewhere (a GPU can be lost mid-run).
    fn wants_checkpoints(&self) -> bool {
        false
    }
    /// The weights after `epoch`, on the CPU (only when [`Observer::wants_checkpoints`]).
    fn checkpoint(&mut self, _epoch: usize, _model: &Classifier) {}
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
    #[error("sample {index} has class {label}, but the model has {classes} classes")]
    LabelOutOfRange {
        index: usize,
        label: usize,
        classes: usize,
    },
    #[error(
        "the loss became {loss} in epoch {epoch}, batch {batch}: training stopped and the weights from before it were kept; try a lower learning rate"
    )]
    Diverged {
        epoch: usize,
        batch: usize,
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
        Ok(())
    }
}

fn check_labels(samples: &[Sample], classes: usize) -> Result<(), TrainError> {
    match samples.iter().position(|s| s.label >= classes) {
        Some(index) => Err(TrainError::LabelOutOfRange {
            index,
            label: samples[index].label,
            classes,
        }),
        None => Ok(()),
    }
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

/// A dropout mask `[batch, features]`: 0 with probability [`DROPOUT`], else `1 / (1 - p)`.
fn dropout_mask(batch: usize, features: usize, rng: &mut StdRng, device: &Device) -> Tensor<2> {
    let kept = (1.0 / (1.0 - DROPOUT)) as f32;
    let values: Vec<f32> = (0..batch * features)
        .map(|_| if rng.random_bool(DROPOUT) { 0.0 } else { kept })
        .collect();
    Tensor::from_data(TensorData::new(values, [batch, features]), device)
}

async fn read_floats<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, TrainError> {
    let data = tensor
        .into_data_async()
        .await
        .map_err(|e| TrainError::Device(format!("{e:?}")))?;
    data.try_into_vec::<f32>()
        .map_err(|e| TrainError::Device(format!("{e:?}")))
}

/// How many rows of `logits` pick their target class, as a one-element tensor.
fn count_hits(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    logits
        .argmax(1)
        .squeeze_dim::<1>(1)
        .equal(targets)
        .int()
        .sum()
        .float()
}

/// A scalar loss and a hit count, read back together: one device round trip, not two.
async fn read_loss_and_hits(loss: Tensor<1>, hits: Tensor<1>) -> Result<(f32, usize), TrainError> {
    let stats = read_floats(Tensor::cat(vec![loss.reshape([1]), hits.reshape([1])], 0)).await?;
    Ok((stats[0], stats[1] as usize))
}

/// How long training runs between two yields to the event loop.
const YIELD_INTERVAL: std::time::Duration = std::time::Duration::from_millis(16);

/// Let the browser's event loop run (a macrotask, so messages and clicks get through).
#[cfg(target_arch = "wasm32")]
pub async fn yield_now() {
    use wasm_bindgen::{JsCast, JsValue};
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let global = js_sys::global();
        let timer = js_sys::Reflect::get(&global, &JsValue::from_str("setTimeout"))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        let scheduled =
            timer.is_some_and(|f| f.call2(&global, &resolve, &JsValue::from(0)).is_ok());
        if !scheduled {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Natively there is no event loop to yield to.
#[cfg(not(target_arch = "wasm32"))]
pub async fn yield_now() {}

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
    if !source.is_empty() {
        batch.extend((0..rehearse).map(|_| source[rng.random_range(0..source.len())].clone()));
    }
    batch
}

/// Distorted copies of each sample whose features a frozen backbone computes once, when
/// training with augmentation: each epoch then draws one copy per sample.
pub const FROZEN_AUGMENTED_COPIES: usize = 4;

/// A frozen backbone's features, computed once before the first epoch: every epoch after that
/// only runs the head, which is what makes head-only fine-tuning fast.
struct FeatureCache {
    /// `[copies × n, features]`: copy `c` of sample `i` is row `c × n + i`.
    train: Tensor<2>,
    copies: usize,
    n: usize,
    /// Validation features and labels.
    validation: Option<(Tensor<2>, Tensor<1, Int>)>,
}

/// Features of `images` through `model`'s backbone (no gradients), in chunks.
fn features<'a>(
    model: &Classifier,
    images: impl ExactSizeIterator<Item = &'a [u8; IMAGE_PIXELS]>,
    device: &Device,
) -> Tensor<2> {
    let images: Vec<&[u8; IMAGE_PIXELS]> = images.collect();
    let chunks = images
        .chunks(256)
        .map(|chunk| {
            model
                .backbone
                .forward(images_tensor(chunk.iter().copied(), device))
        })
        .collect();
    Tensor::cat(chunks, 0)
}

impl FeatureCache {
    fn new(
        model: &Classifier,
        samples: &[Sample],
        validation: &[Sample],
        augmentation: Option<&Augmentation>,
        rng: &mut StdRng,
        device: &Device,
    ) -> Self {
        let model = model.valid();
        let copies = if augmentation.is_some() {
            FROZEN_AUGMENTED_COPIES
        } else {
            1
        };
        let train = (0..copies)
            .map(|_| match augmentation {
                Some(aug) => {
                    let images: Vec<[u8; IMAGE_PIXELS]> =
                        samples.iter().map(|s| aug.apply(&s.image, rng)).collect();
                    features(&model, images.iter(), device)
                }
                None => features(&model, samples.iter().map(|s| &s.image), device),
            })
            .collect();
        let validation = (!validation.is_empty()).then(|| {
            let labels: Vec<usize> = validation.iter().map(|s| s.label).collect();
            (
                features(&model, validation.iter().map(|s| &s.image), device),
                labels_tensor(&labels, device),
            )
        });
        FeatureCache {
            train: Tensor::cat(train, 0).autodiff(),
            copies,
            n: samples.len(),
            validation,
        }
    }

    /// The features of the samples at `chunk`, one random copy of each.
    fn batch(&self, chunk: &[usize], rng: &mut StdRng, device: &Device) -> Tensor<2> {
        let rows: Vec<i64> = chunk
            .iter()
            .map(|&i| {
                let copy = if self.copies > 1 {
                    rng.random_range(0..self.copies)
                } else {
                    0
                };
                (copy * self.n + i) as i64
            })
            .collect();
        let rows = Tensor::<1, Int>::from_data(TensorData::new(rows, [chunk.len()]), device);
        self.train.clone().select(0, rows)
    }

    /// Mean validation loss and accuracy of `head` on the cached validation features.
    async fn measure(&self, model: &Classifier) -> Result<Option<(f32, f32)>, TrainError> {
        let Some((features, targets)) = &self.validation else {
            return Ok(None);
        };
        let head = model.head.valid();
        let logits = head.forward(features.clone());
        let n = targets.dims()[0];
        let loss = CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits.clone(), targets.clone());
        let (loss, hits) = read_loss_and_hits(loss, count_hits(logits, targets.clone())).await?;
        Ok(Some((loss, hits as f32 / n.max(1) as f32)))
    }
}

fn adam(config: &TrainConfig) -> burn::optim::ModuleOptimizer {
    AdamConfig::new()
        .with_weight_decay(
            (config.weight_decay > 0.0).then(|| WeightDecayConfig::new(config.weight_decay as f32)),
        )
        .init()
}

/// Mean loss and accuracy of `model` (in validation mode) on `samples`.
pub async fn measure(
    model: &Classifier,
    samples: &[Sample],
    device: &Device,
) -> Result<(f32, f32), TrainError> {
    let model = model.valid();
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let (mut loss_sum, mut hits) = (0f64, 0f64);
    for chunk in samples.chunks(256) {
        let labels: Vec<usize> = chunk.iter().map(|s| s.label).collect();
        let targets = labels_tensor(&labels, device);
        let logits = model.forward(images_tensor(chunk.iter().map(|s| &s.image), device));
        let correct = count_hits(logits.clone(), targets.clone());
        let (loss, correct) = read_loss_and_hits(loss_fn.forward(logits, targets), correct).await?;
        loss_sum += f64::from(loss) * chunk.len() as f64;
        hits += correct as f64;
    }
    let n = samples.len().max(1) as f64;
    Ok(((loss_sum / n) as f32, (hits / n) as f32))
}

/// Train `model` on `samples`, measuring `validation` (may be empty) after every epoch; with
/// `config.patience`, stop when the validation loss stops falling and keep the best epoch.
/// `model` itself is left as it was.
pub async fn fit(
    model: &Classifier,
    sets: TrainSets<'_>,
    config: &TrainConfig,
    device: &Device,
    observer: &mut impl Observer,
) -> Result<TrainOutcome, TrainError> {
    fit_from(model, sets, config, 0, device, observer).await
}

/// [`fit`] going on from a checkpoint: `model` holds the weights after epoch `done`, and
/// epochs `done + 1 ..= config.epochs` remain (numbered, and scheduled, as in the whole run).
/// The optimizer starts afresh: its moments are not part of a checkpoint.
pub async fn fit_from(
    model: &Classifier,
    sets: TrainSets<'_>,
    config: &TrainConfig,
    done: usize,
    device: &Device,
    observer: &mut impl Observer,
) -> Result<TrainOutcome, TrainError> {
    let TrainSets {
        train: samples,
        validation,
        rehearsal,
    } = sets;
    config.validate()?;
    if samples.is_empty() {
        return Err(TrainError::NoSamples);
    }
    if config.patience.is_some() && validation.is_empty() {
        return Err(TrainError::PatienceWithoutValidation);
    }
    if config.rehearsal > 0 && rehearsal.is_empty() {
        return Err(TrainError::RehearsalWithoutSource);
    }
    check_labels(samples, model.classes())?;
    check_labels(validation, model.classes())?;
    check_labels(rehearsal, model.classes())?;

    let autodiff = device.clone().autodiff();
    // Gradients on everywhere first: a model frozen by an earlier run trains again.
    let mut trained = model.clone().set_require_grad(true).fork(&autodiff).train();
    if config.backbone == BackboneMode::Frozen {
        trained = trained.freeze_backbone();
    }
    // One optimizer per part, so the backbone can learn at its own rate.
    let (mut head_optimizer, mut backbone_optimizer) = (adam(config), adam(config));
    let loss_fn = CrossEntropyLossConfig::new().init(&autodiff);
    let mut rng = StdRng::seed_from_u64(config.seed);
    // A frozen backbone gives the same features every epoch (for each distorted copy): compute
    // them once. Rehearsal draws fresh source digits per batch, so it keeps the full path.
    let cache = (config.backbone == BackboneMode::Frozen && config.rehearsal == 0).then(|| {
        FeatureCache::new(
            model,
            samples,
            validation,
            config.augmentation.as_ref(),
            &mut rng,
            device,
        )
    });
    let mut order: Vec<usize> = (0..samples.len()).collect();
    let batches = samples.len().div_ceil(config.batch_size);
    let mut history = Vec::with_capacity(config.epochs);
    let mut best: Option<(usize, f32, Classifier)> = None;
    let finish = |trained: Classifier,
                  history,
                  best: Option<(usize, f32, Classifier)>,
                  stopped,
                  early_stopped| {
        let (best_epoch, model) = match best {
            Some((epoch, _, model)) => (Some(epoch), model),
            None => (None, trained.valid()),
        };
        Ok(TrainOutcome {
            model,
            history,
            stopped,
            best_epoch,
            early_stopped,
        })
    };

    let mut last_yield = Instant::now();
    for epoch in done + 1..=config.epochs {
        order.shuffle(&mut rng);
        let started = Instant::now();
        let (mut loss_sum, mut correct, mut seen) = (0f64, 0usize, 0usize);
        for (index, chunk) in order.chunks(config.batch_size).enumerate() {
            let (logits, labels) = match &cache {
                Some(cache) => {
                    let features = cache.batch(chunk, &mut rng, &autodiff);
                    let keep = dropout_mask(
                        chunk.len(),
                        trained.architecture().feature_size(),
                        &mut rng,
                        &autodiff,
                    );
                    let labels: Vec<usize> = chunk.iter().map(|&i| samples[i].label).collect();
                    (trained.head.forward(features * keep), labels)
                }
                None => {
                    let batch = compose_batch(
                        samples,
                        chunk,
                        rehearsal,
                        config.rehearsal,
                        config.augmentation.as_ref(),
                        &mut rng,
                    );
                    let images = images_tensor(batch.iter().map(|s| &s.image), &autodiff);
                    let keep = dropout_mask(
                        batch.len(),
                        trained.architecture().feature_size(),
                        &mut rng,
                        &autodiff,
                    );
                    let labels: Vec<usize> = batch.iter().map(|s| s.label).collect();
                    (trained.forward_with_dropout(images, keep), labels)
                }
            };
            let targets = labels_tensor(&labels, &autodiff);
            let hits = count_hits(logits.clone(), targets.clone());
            let loss = loss_fn.forward(logits, targets);
            let (batch_loss, batch_hits) = read_loss_and_hits(loss.clone().detach(), hits).await?;
            if !batch_loss.is_finite() {
                return Err(TrainError::Diverged {
                    epoch,
                    batch: index + 1,
                    loss: batch_loss,
                });
            }
            let mut grads = loss.backward();
            let head_grads = GradientsParams::from_module(&mut grads, &trained.head);
            let backbone_grads = GradientsParams::from_module(&mut grads, &trained.backbone);
            let rate = config.schedule.rate(
                config.learning_rate,
                (epoch - 1) * batches + index,
                config.epochs * batches,
            );
            trained = head_optimizer.step(rate, trained, head_grads);
            if let BackboneMode::Train { lr_scale } = config.backbone {
                trained = backbone_optimizer.step(rate * lr_scale, trained, backbone_grads);
            }

            // Figures cover the whole batch, rehearsed samples included.
            loss_sum += f64::from(batch_loss) * labels.len() as f64;
            correct += batch_hits;
            seen += labels.len();
            let progress = BatchProgress {
                epoch,
                epochs: config.epochs,
                batch: index + 1,
                batches,
                loss: batch_loss,
                accuracy: batch_hits as f32 / labels.len() as f32,
                samples_per_sec: seen as f64 / started.elapsed().as_secs_f64().max(1e-9),
            };
            let control = observer.batch(&progress);
            // Yielding costs a timer tick (≥ 4 ms once browsers clamp nested timers), so
            // yield often enough for the page to feel live, not after every small batch.
            if last_yield.elapsed() >= YIELD_INTERVAL {
                yield_now().await;
                last_yield = Instant::now();
            }
            if control == Control::Stop {
                return finish(trained, history, best, true, false);
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let measured = match &cache {
            Some(cache) => cache.measure(&trained).await?,
            None if validation.is_empty() => None,
            None => Some(measure(&trained, validation, device).await?),
        };
        let (val_loss, val_accuracy) = measured.unzip();
        let summary = EpochSummary {
            epoch,
            loss: (loss_sum / seen as f64) as f32,
            accuracy: correct as f32 / seen as f32,
            samples_per_sec: seen as f64 / seconds.max(1e-9),
            seconds,
            val_loss,
            val_accuracy,
        };
        let control = observer.epoch(&summary);
        history.push(summary);
        if observer.wants_checkpoints() {
            let copy = crate::weights::to_cpu(&trained.valid())
                .await
                .map_err(|e| TrainError::Device(e.to_string()))?;
            observer.checkpoint(epoch, &copy);
        }
        yield_now().await;
        last_yield = Instant::now();
        if let Some(loss) = val_loss
            && best
                .as_ref()
                .is_none_or(|(_, best_loss, _)| loss < *best_loss)
        {
            best = Some((epoch, loss, trained.valid()));
        }
        if control == Control::Stop {
            return finish(trained, history, best, true, false);
        }
        if let (Some(patience), Some((best_epoch, _, _))) = (config.patience, &best)
            && epoch - best_epoch >= patience
            && epoch < config.epochs
        {
            return finish(trained, history, best, false, true);
        }
    }
    finish(trained, history, best, false, false)
}

/// Class probabilities of each image, in batches of `batch_size`.
pub async fn predict(
    model: &Classifier,
    images: &[[u8; IMAGE_PIXELS]],
    device: &Device,
    batch_size: usize,
) -> Result<Vec<Vec<f32>>, TrainError> {
    let model = model.valid();
    let classes = model.classes();
    let mut out = Vec::with_capacity(images.len());
    for chunk in images.chunks(batch_size.max(1)) {
        let probabilities = softmax(model.forward(images_tensor(chunk.iter(), device)), 1);
        let values = read_floats(probabilities).await?;
        out.extend(values.chunks_exact(classes).map(<[f32]>::to_vec));
    }
    Ok(out)
}

/// Index of the largest value.
pub fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 { (i, v) } else { best }
        })
        .0
}

/// The confusion matrix of `model` on labelled samples.
pub async fn evaluate(
    model: &Classifier,
    samples: &[Sample],
    device: &Device,
) -> Result<ConfusionMatrix, TrainError> {
    check_labels(samples, model.classes())?;
    let images: Vec<[u8; IMAGE_PIXELS]> = samples.iter().map(|s| s.image).collect();
    let probabilities = predict(model, &images, device, 256).await?;
    let mut matrix = ConfusionMatrix::new(model.classes());
    for (sample, p) in samples.iter().zip(&probabilities) {
        matrix.add(sample.label, argmax(p));
    }
    Ok(matrix)
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
