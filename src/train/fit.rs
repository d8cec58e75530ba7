//! The training loop: batches, Adam, validation after every epoch, early stopping, progress
//! to an [`Observer`] and checkpoints.
//!
//! Results are read back from the device as rarely as they can be: on a GPU each read waits
//! for the queue to drain, so a run reads its figures once per epoch (the training totals and
//! the validation figures together) plus one read per checkpoint. On the CPU a read is free,
//! so each batch's loss is read as it finishes, for live progress and an immediate stop when
//! it diverges.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use web_time::Instant;

use super::features::{CacheSets, FeatureCache};
use super::predict::{
    batch_stats, count_hits, cross_entropy, mean_loss_and_accuracy, read, validation_stats,
};
use super::{
    BackboneMode, BatchProgress, Control, EpochSummary, Observer, TrainConfig, TrainError,
    TrainOutcome, TrainSets, check_labels, compose_batch, draw_rehearsal, images_tensor,
    labels_tensor,
};
use crate::model::{Classifier, DROPOUT};

/// A dropout mask `[batch, features]`: 0 with probability [`DROPOUT`], else `1 / (1 - p)`.
pub(super) fn dropout_mask(
    batch: usize,
    features: usize,
    rng: &mut StdRng,
    device: &Device,
) -> Tensor<2> {
    let kept = (1.0 / (1.0 - DROPOUT)) as f32;
    let values: Vec<f32> = (0..batch * features)
        .map(|_| if rng.random_bool(DROPOUT) { 0.0 } else { kept })
        .collect();
    Tensor::from_data(TensorData::new(values, [batch, features]), device)
}

fn adam(config: &TrainConfig) -> burn::optim::ModuleOptimizer {
    AdamConfig::new()
        .with_weight_decay(
            (config.weight_decay > 0.0).then(|| WeightDecayConfig::new(config.weight_decay as f32)),
        )
        .init()
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

/// An epoch's training loss and hits. Read per batch where reads are free (`eager`); else
/// summed on the device, `[loss sum, hits, count]`, and read once at the epoch's end.
struct Tally {
    eager: bool,
    pending: Option<Tensor<1>>,
    loss_sum: f64,
    hits: f64,
    seen: usize,
}

impl Tally {
    fn new(eager: bool) -> Self {
        Tally {
            eager,
            pending: None,
            loss_sum: 0.0,
            hits: 0.0,
            seen: 0,
        }
    }

    /// Adds one batch; returns its mean loss and accuracy when it was read.
    async fn add(&mut self, stats: Tensor<1>, n: usize) -> Result<Option<(f32, f32)>, TrainError> {
        self.seen += n;
        if self.eager {
            let values = read(stats).await?;
            if let [loss, hits, ..] = values[..] {
                self.loss_sum += f64::from(loss);
                self.hits += f64::from(hits);
            }
            return Ok(Some(mean_loss_and_accuracy(&values)));
        }
        self.pending = Some(match self.pending.take() {
            Some(sum) => sum + stats,
            None => stats,
        });
        Ok(None)
    }
}

/// The epoch whose weights a run keeps: the lowest validation loss so far.
struct Best {
    epoch: usize,
    val_loss: f32,
    model: Classifier,
}

/// How a run ended, for [`outcome`].
#[derive(Clone, Copy, PartialEq)]
enum End {
    Finished,
    Stopped,
    EarlyStopped,
}

fn outcome(
    trained: Classifier,
    history: Vec<EpochSummary>,
    best: Option<Best>,
    end: End,
) -> TrainOutcome {
    let (best_epoch, model) = match best {
        Some(best) => (Some(best.epoch), best.model),
        None => (None, trained.valid()),
    };
    TrainOutcome {
        model,
        history,
        stopped: end == End::Stopped,
        best_epoch,
        early_stopped: end == End::EarlyStopped,
    }
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

/// Refuse a run that cannot train, before any work is done.
fn check(model: &Classifier, sets: &TrainSets<'_>, config: &TrainConfig) -> Result<(), TrainError> {
    config.validate()?;
    if sets.train.is_empty() {
        return Err(TrainError::NoSamples);
    }
    if config.patience.is_some() && sets.validation.is_empty() {
        return Err(TrainError::PatienceWithoutValidation);
    }
    if config.rehearsal > 0 && sets.rehearsal.is_empty() {
        return Err(TrainError::RehearsalWithoutSource);
    }
    check_labels(sets.train, model.classes())?;
    check_labels(sets.validation, model.classes())?;
    check_labels(sets.rehearsal, model.classes())
}

/// What one epoch needs besides the model.
struct Epoch<'r, 'a> {
    number: usize,
    sets: TrainSets<'a>,
    config: &'r TrainConfig,
    cache: Option<&'r FeatureCache>,
    order: &'r [usize],
    rng: &'r mut StdRng,
    autodiff: &'r Device,
    eager: bool,
}

/// The result of training one epoch's batches.
struct Trained {
    model: Classifier,
    tally: Tally,
    seconds: f64,
    stopped: bool,
}

impl Epoch<'_, '_> {
    /// One batch's logits (dropout on the features) and labels: from the cached features of
    /// a frozen backbone, or through the whole network (augmented, with rehearsed digits).
    fn forward(&mut self, model: &Classifier, chunk: &[usize]) -> (Tensor<2>, Vec<usize>) {
        let samples = self.sets.train;
        let features = model.architecture().feature_size();
        match self.cache {
            Some(cache) => {
                let mut x = cache.batch(chunk, self.rng, self.autodiff);
                let mut labels: Vec<usize> = chunk.iter().map(|&i| samples[i].label).collect();
                let source = self.sets.rehearsal;
                let drawn = draw_rehearsal(source.len(), self.config.rehearsal, self.rng);
                if !drawn.is_empty() {
                    let rehearsed = cache.rehearsed(&drawn, source, self.autodiff);
                    x = Tensor::cat(vec![x, rehearsed], 0);
                    labels.extend(drawn.iter().map(|&i| source[i].label));
                }
                let keep = dropout_mask(labels.len(), features, self.rng, self.autodiff);
                (model.head.forward(x * keep), labels)
            }
            None => {
                let batch = compose_batch(
                    samples,
                    chunk,
                    self.sets.rehearsal,
                    self.config.rehearsal,
                    self.config.augmentation.as_ref(),
                    self.rng,
                );
                let images = images_tensor(batch.iter().map(|s| &s.image), self.autodiff);
                let keep = dropout_mask(batch.len(), features, self.rng, self.autodiff);
                let labels: Vec<usize> = batch.iter().map(|s| s.label).collect();
                (model.forward_with_dropout(images, keep), labels)
            }
        }
    }
}

/// One optimizer per part of the network, so the backbone can learn at its own rate.
type Optimizers = (burn::optim::ModuleOptimizer, burn::optim::ModuleOptimizer);

/// Backward through `loss` and one Adam step at `rate` (the backbone at its scale, or not at
/// all when frozen).
fn step(
    mut model: Classifier,
    loss: Tensor<1>,
    rate: f64,
    config: &TrainConfig,
    optimizers: &mut Optimizers,
) -> Classifier {
    let mut grads = loss.backward();
    let head_grads = GradientsParams::from_module(&mut grads, &model.head);
    let backbone_grads = GradientsParams::from_module(&mut grads, &model.backbone);
    model = optimizers.0.step(rate, model, head_grads);
    if let BackboneMode::Train { lr_scale } = config.backbone {
        model = optimizers.1.step(rate * lr_scale, model, backbone_grads);
    }
    model
}

/// One epoch's batches: forward, backward and Adam for each, with progress to `observer`.
async fn train_epoch(
    mut trained: Classifier,
    mut epoch: Epoch<'_, '_>,
    optimizers: &mut Optimizers,
    observer: &mut impl Observer,
    last_yield: &mut Instant,
) -> Result<Trained, TrainError> {
    let (number, config) = (epoch.number, epoch.config);
    let batches = epoch.sets.train.len().div_ceil(config.batch_size);
    let started = Instant::now();
    let mut tally = Tally::new(epoch.eager);
    let mut stopped = false;
    for (index, chunk) in epoch.order.chunks(config.batch_size).enumerate() {
        let (logits, labels) = epoch.forward(&trained, chunk);
        let targets = labels_tensor(&labels, epoch.autodiff);
        let hits = count_hits(logits.clone(), targets.clone());
        let loss = cross_entropy(logits, targets);
        let stats = batch_stats(loss.clone().detach(), hits, labels.len());
        let read = tally.add(stats, labels.len()).await?;
        if let Some((batch_loss, _)) = read
            && !batch_loss.is_finite()
        {
            return Err(TrainError::Diverged {
                epoch: number,
                batch: Some(index + 1),
                loss: batch_loss,
            });
        }
        let step_index = (number - 1) * batches + index;
        let rate =
            (config.schedule).rate(config.learning_rate, step_index, config.epochs * batches);
        trained = step(trained, loss, rate, config, optimizers);

        // Figures cover the whole batch, rehearsed samples included.
        let progress = BatchProgress {
            epoch: number,
            epochs: config.epochs,
            batch: index + 1,
            batches,
            loss: read.map(|(loss, _)| loss),
            accuracy: read.map(|(_, accuracy)| accuracy),
            samples_per_sec: tally.seen as f64 / started.elapsed().as_secs_f64().max(1e-9),
        };
        let control = observer.batch(&progress);
        // Yielding costs a timer tick (≥ 4 ms once browsers clamp nested timers), so
        // yield often enough for the page to feel live, not after every small batch.
        if last_yield.elapsed() >= YIELD_INTERVAL {
            yield_now().await;
            *last_yield = Instant::now();
        }
        if control == Control::Stop {
            stopped = true;
            break;
        }
    }
    Ok(Trained {
        model: trained,
        tally,
        seconds: started.elapsed().as_secs_f64(),
        stopped,
    })
}

/// The epoch's figures: the training totals not yet read and the validation figures, in one
/// device read (none when neither is left on the device).
async fn summarize(
    number: usize,
    trained: &Trained,
    validation: Option<Tensor<1>>,
) -> Result<EpochSummary, TrainError> {
    let tally = &trained.tally;
    let parts: Vec<Tensor<1>> = tally
        .pending
        .iter()
        .cloned()
        .chain(validation.iter().cloned())
        .collect();
    let values = if parts.is_empty() {
        Vec::new()
    } else {
        read(Tensor::cat(parts, 0)).await?
    };
    let (train, rest) = if tally.pending.is_some() {
        values.split_at(3.min(values.len()))
    } else {
        (&[][..], values.as_slice())
    };
    let (loss_sum, hits) = match train {
        [loss, hits, ..] => (f64::from(*loss), f64::from(*hits)),
        _ => (tally.loss_sum, tally.hits),
    };
    let seen = tally.seen.max(1) as f64;
    let loss = (loss_sum / seen) as f32;
    if !loss.is_finite() {
        return Err(TrainError::Diverged {
            epoch: number,
            batch: None,
            loss,
        });
    }
    let (val_loss, val_accuracy) = validation
        .is_some()
        .then(|| mean_loss_and_accuracy(rest))
        .unzip();
    Ok(EpochSummary {
        epoch: number,
        loss,
        accuracy: (hits / seen) as f32,
        samples_per_sec: tally.seen as f64 / trained.seconds.max(1e-9),
        seconds: trained.seconds,
        val_loss,
        val_accuracy,
    })
}

/// The weights after epoch `number`, read off the device, to an observer that wants them.
async fn send_checkpoint(
    observer: &mut impl Observer,
    number: usize,
    trained: &Classifier,
) -> Result<(), TrainError> {
    if observer.wants_checkpoints() {
        let weights = crate::weights::HostWeights::read(&trained.valid())
            .await
            .map_err(|e| TrainError::Device(e.to_string()))?;
        observer.checkpoint(number, &weights);
    }
    Ok(())
}

impl Best {
    /// Keep epoch `number`'s weights when its validation loss is the lowest so far.
    fn keep(best: &mut Option<Best>, number: usize, val_loss: Option<f32>, trained: &Classifier) {
        if let Some(loss) = val_loss
            && best.as_ref().is_none_or(|best| loss < best.val_loss)
        {
            *best = Some(Best {
                epoch: number,
                val_loss: loss,
                model: trained.valid(),
            });
        }
    }
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
    check(model, &sets, config)?;
    let eager = crate::device::reads_are_free(device);
    let autodiff = device.clone().autodiff();
    // Gradients on everywhere first: a model frozen by an earlier run trains again.
    let mut trained = model.clone().set_require_grad(true).fork(&autodiff).train();
    if config.backbone == BackboneMode::Frozen {
        trained = trained.freeze_backbone();
    }
    let mut optimizers: Optimizers = (adam(config), adam(config));
    let mut rng = StdRng::seed_from_u64(config.seed);
    // A frozen backbone gives the same features every epoch (for each distorted copy): compute
    // them once, and those of the rehearsal source when it is smaller than the draws.
    let batches = sets.train.len().div_ceil(config.batch_size);
    let cache = (config.backbone == BackboneMode::Frozen).then(|| {
        let sets = CacheSets {
            samples: sets.train,
            validation: sets.validation,
            source: sets.rehearsal,
            draws: (config.epochs.saturating_sub(done))
                .saturating_mul(batches)
                .saturating_mul(config.rehearsal),
        };
        FeatureCache::new(model, sets, config.augmentation.as_ref(), &mut rng, device)
    });
    let mut order: Vec<usize> = (0..sets.train.len()).collect();
    let mut history = Vec::with_capacity(config.epochs);
    let mut best: Option<Best> = None;
    let mut last_yield = Instant::now();
    for number in done + 1..=config.epochs {
        order.shuffle(&mut rng);
        let epoch = Epoch {
            number,
            sets,
            config,
            cache: cache.as_ref(),
            order: &order,
            rng: &mut rng,
            autodiff: &autodiff,
            eager,
        };
        let run = train_epoch(trained, epoch, &mut optimizers, observer, &mut last_yield).await?;
        if run.stopped {
            return Ok(outcome(run.model, history, best, End::Stopped));
        }
        let validation = match &cache {
            Some(cache) => cache.validation_stats(&run.model),
            None => validation_stats(&run.model, sets.validation, device),
        };
        let summary = summarize(number, &run, validation).await?;
        trained = run.model;
        let control = observer.epoch(&summary);
        let val_loss = summary.val_loss;
        history.push(summary);
        send_checkpoint(observer, number, &trained).await?;
        yield_now().await;
        last_yield = Instant::now();
        Best::keep(&mut best, number, val_loss, &trained);
        if control == Control::Stop {
            return Ok(outcome(trained, history, best, End::Stopped));
        }
        let patience_over = matches!(
            (config.patience, &best),
            (Some(patience), Some(best)) if number - best.epoch >= patience && number < config.epochs
        );
        if patience_over {
            return Ok(outcome(trained, history, best, End::EarlyStopped));
        }
    }
    Ok(outcome(trained, history, best, End::Finished))
}
