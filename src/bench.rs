//! Timings that anyone can rerun: training throughput, fine-tuning wall time and prediction
//! latency, measured by the same code natively (`digit-transfer bench`) and in the browser
//! (the page's wasm, driven by `scripts/bench.sh`).

use burn::prelude::Device;
use serde::Serialize;
use web_time::Instant;

use crate::data::{IMAGE_PIXELS, Sample};
use crate::model::{Architecture, Classifier};
use crate::preprocess::{self, Canvas};
use crate::train::{self, Silent, TrainConfig, TrainError};
use crate::transfer::{
    self, FineTuneRequest, Settings, SourceDigits, Strategy, Task, TransferError,
};
use crate::weights::WeightsInfo;

/// The middle value (the mean of the two middle ones for an even count); 0 for none.
pub fn median(values: &[f64]) -> f64 {
    percentile(values, 0.5)
}

/// The `p`-quantile (0..=1) by linear interpolation between sorted values; 0 for none.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return 0.0;
    }
    sorted.sort_by(f64::total_cmp);
    let rank = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64)
}

/// Training throughput of one network at one batch size.
#[derive(Clone, Debug, Serialize)]
pub struct Throughput {
    pub architecture: Architecture,
    pub batch_size: usize,
    pub samples: usize,
    /// Median over the timed runs.
    pub samples_per_sec: f64,
    /// Every timed run, in samples per second.
    pub runs: Vec<f64>,
}

/// Samples per second of whole training steps (batch assembly, forward, backward, Adam) over
/// `samples`, one epoch per run: one warm-up run, then `runs` timed ones.
pub async fn training_throughput(
    architecture: Architecture,
    batch_size: usize,
    samples: &[Sample],
    device: &Device,
    runs: usize,
) -> Result<Throughput, TrainError> {
    device.seed(1);
    let model = Classifier::new(architecture, 10, device);
    let config = TrainConfig {
        epochs: 1,
        batch_size,
        learning_rate: 1e-3,
        ..TrainConfig::default()
    };
    train::train(&model, samples, &config, device, &mut Silent).await?;
    let mut rates = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        train::train(&model, samples, &config, device, &mut Silent).await?;
        rates.push(samples.len() as f64 / started.elapsed().as_secs_f64().max(1e-9));
    }
    Ok(Throughput {
        architecture,
        batch_size,
        samples: samples.len(),
        samples_per_sec: median(&rates),
        runs: rates,
    })
}

/// One timed fine-tuning run.
#[derive(Clone, Debug, Serialize)]
pub struct FineTuneTime {
    pub strategy: Strategy,
    pub train_samples: usize,
    pub validation_samples: usize,
    pub epochs: usize,
    pub seconds: f64,
    pub validation_accuracy: Option<f64>,
}

/// The benchmark's fine-tuning set: `per_class` digits of each class for training and a
/// quarter as many more for validation, taken from `digits`.
pub fn fine_tune_set(digits: &[Sample], per_class: usize) -> Vec<Sample> {
    crate::data::first_per_class(digits, per_class + per_class.div_ceil(4))
}

/// The benchmark's fixed fine-tuning workload for `strategy`: `epochs` epochs, the samples
/// split 80 / 20 for validation, augmentation on, no early stopping and no rehearsal (so that
/// runs compare across releases whatever the defaults).
pub fn workload(strategy: Strategy, epochs: usize) -> Settings {
    Settings {
        strategy,
        epochs,
        augment: true,
        validation_split: 0.2,
        patience: 0,
        rehearsal: 0,
        ..Settings::default()
    }
}

/// What a timed fine-tune adapts: the pretrained network, its digit samples, and the MNIST
/// digits it rehearses and measures forgetting on (empty: neither).
#[derive(Clone, Copy)]
pub struct Adapting<'a> {
    pub pretrained: &'a Classifier,
    pub info: &'a WeightsInfo,
    pub samples: &'a [Sample],
    pub source: SourceDigits<'a>,
}

impl<'a> Adapting<'a> {
    /// The request to adapt the digits with `settings`.
    pub fn request(self, settings: &'a Settings) -> FineTuneRequest<'a> {
        FineTuneRequest {
            pretrained: self.pretrained,
            info: self.info,
            task: Task {
                class_names: &self.info.class_names,
                samples: self.samples,
            },
            settings,
            source: self.source,
            resume: None,
        }
    }
}

/// Wall time of a whole fine-tuning run, as `transfer::fine_tune` makes it.
pub async fn fine_tune_time(
    request: FineTuneRequest<'_>,
    device: &Device,
) -> Result<FineTuneTime, TransferError> {
    let strategy = request.settings.strategy;
    let started = Instant::now();
    let tuned = transfer::fine_tune(request, device, &mut Silent).await?;
    Ok(FineTuneTime {
        strategy,
        train_samples: tuned.report.train_samples,
        validation_samples: tuned.report.validation_samples,
        epochs: tuned.report.history.len(),
        seconds: started.elapsed().as_secs_f64(),
        validation_accuracy: tuned.report.validation.map(|r| r.accuracy),
    })
}

/// Labelling one at a time (*Learn as I label*) against one *Fine-tune* with the defaults on
/// the same samples: accuracy on the domain's own test set and forgetting of held-out MNIST
/// (the pretrained network's accuracy on `source.held_out` minus the network's after).
#[derive(Clone, Debug, Serialize)]
pub struct OnlineAgainstFineTune {
    pub samples: usize,
    pub online_accuracy: f64,
    pub fine_tune_accuracy: f64,
    pub zero_shot_accuracy: f64,
    pub online_forgetting: f64,
    pub fine_tune_forgetting: f64,
    /// Of the samples, how many the network predicted as labelled before learning them.
    pub recognised_before_labelled: usize,
    pub median_update_ms: f64,
}

/// Replay `adapting.samples` one label at a time, the classes in turn, as the page's live
/// learner learns them (one update a label, every sample so far), then fine-tune once with the
/// defaults on the same samples; both measured on `test`.
pub async fn online_against_fine_tune(
    adapting: Adapting<'_>,
    test: &[Sample],
    device: &Device,
) -> Result<OnlineAgainstFineTune, TransferError> {
    let settings = Settings::default();
    let accuracy = async |model: &Classifier, set: &[Sample]| -> Result<f64, TransferError> {
        Ok(train::evaluate(model, set, device).await?.accuracy())
    };
    let pretrained_mnist = accuracy(adapting.pretrained, adapting.source.held_out).await?;
    let (mut learner, _) = transfer::online_learner(
        adapting.pretrained,
        adapting.info,
        &adapting.info.class_names,
        &settings,
        adapting.source,
        true,
        device,
    )?;
    let order = transfer::classes_in_turn(adapting.samples);
    let ids: Vec<String> = (0..order.len()).map(|i| i.to_string()).collect();
    let (mut recognised, mut times) = (0, Vec::with_capacity(order.len()));
    for n in 1..=order.len() {
        let learned = learner.learn(&ids[..n], &order[..n]).await?;
        recognised += learned.recognised;
        times.push(learned.seconds * 1e3);
    }
    let tuned = transfer::fine_tune(adapting.request(&settings), device, &mut Silent).await?;
    Ok(OnlineAgainstFineTune {
        samples: order.len(),
        online_accuracy: accuracy(learner.model(), test).await?,
        fine_tune_accuracy: accuracy(&tuned.model, test).await?,
        zero_shot_accuracy: accuracy(adapting.pretrained, test).await?,
        online_forgetting: pretrained_mnist
            - accuracy(learner.model(), adapting.source.held_out).await?,
        fine_tune_forgetting: pretrained_mnist
            - accuracy(&tuned.model, adapting.source.held_out).await?,
        recognised_before_labelled: recognised,
        median_update_ms: median(&times),
    })
}

/// Latency of live prediction: canvas pixels in, probabilities out.
#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    pub calls: usize,
    pub median_ms: f64,
    pub p95_ms: f64,
}

/// Time `calls` runs of `once`, after one warm-up run.
async fn latency<T, F: std::future::Future<Output = Result<T, String>>>(
    calls: usize,
    once: impl Fn() -> F,
) -> Result<Latency, String> {
    once().await?;
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        once().await?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    Ok(Latency {
        calls,
        median_ms: median(&times),
        p95_ms: percentile(&times, 0.95),
    })
}

/// Time `calls` predictions of an RGBA canvas (preprocessing included), after one warm-up.
pub async fn prediction_latency(
    model: &Classifier,
    rgba: &[u8],
    width: usize,
    height: usize,
    device: &Device,
    calls: usize,
) -> Result<Latency, String> {
    let canvas = Canvas::rgba(rgba, width, height);
    latency(calls, || async {
        let image = preprocess::to_mnist(&canvas).map_err(|e| e.to_string())?;
        train::predict(model, &[image], device, 1)
            .await
            .map_err(|e| e.to_string())
    })
    .await
}

/// Time `calls` saliency maps of `image` for its top class (as the page draws them after a
/// prediction), after one warm-up.
pub async fn saliency_latency(
    model: &Classifier,
    image: &[u8; crate::data::IMAGE_PIXELS],
    device: &Device,
    calls: usize,
) -> Result<Latency, String> {
    let class = train::predict(model, &[*image], device, 1)
        .await
        .map_err(|e| e.to_string())?
        .first()
        .map_or(0, |p| train::argmax(p));
    latency(calls, || async {
        crate::saliency::saliency(model, image, class, device)
            .await
            .map_err(|e| e.to_string())
    })
    .await
}

/// A 280 × 280 RGBA canvas with a digit drawn on it (black on white, 10 canvas pixels per
/// MNIST pixel), for prediction timings.
pub fn canvas_of(image: &[u8; IMAGE_PIXELS]) -> (Vec<u8>, usize, usize) {
    let side = 280;
    let mut rgba = vec![255u8; side * side * 4];
    for y in 0..side {
        for x in 0..side {
            let ink = image[(y / 10) * 28 + x / 10];
            let offset = (y * side + x) * 4;
            rgba[offset..offset + 3].fill(255 - ink);
        }
    }
    (rgba, side, side)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95), 4.8);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn fine_tune_set_takes_per_class() {
        let digits: Vec<Sample> = (0..400)
            .map(|i| Sample {
                image: [0; IMAGE_PIXELS],
                label: i % 10,
            })
            .collect();
        let set = fine_tune_set(&digits, 10);
        assert_eq!(set.len(), 130);
        assert!((0..10).all(|c| set.iter().filter(|s| s.label == c).count() == 13));
    }
}
