//! The page's benchmark entry points (driven by `scripts/bench.sh` in headless Chromium):
//! each returns its figures as JSON.

use wasm_bindgen::prelude::*;

use crate::bench;
use crate::device::{self, DeviceKind};
use crate::model::Architecture;
use crate::samples::SampleSet;
use crate::transfer::{Settings, SourceDigits, Strategy};
use crate::weights;

use super::js_error;

async fn open(device: &str) -> Result<device::Selected, JsError> {
    let kind: DeviceKind = device.parse().map_err(|e: String| JsError::new(&e))?;
    device::open(kind).await.map_err(js_error)
}

fn digits(samples_file: &[u8]) -> Result<Vec<crate::data::Sample>, JsError> {
    Ok(SampleSet::from_json(samples_file)
        .map_err(js_error)?
        .samples)
}

/// The network of `weights` on `device`, and the first digit of a samples file.
async fn model_and_digit(
    device: &str,
    weights: &[u8],
    samples_file: &[u8],
) -> Result<
    (
        crate::model::Classifier,
        crate::data::Sample,
        device::Selected,
    ),
    JsError,
> {
    let selected = open(device).await?;
    let (model, _) = weights::from_bytes(weights, None, &selected.device).map_err(js_error)?;
    let first = digits(samples_file)?
        .into_iter()
        .next()
        .ok_or_else(|| JsError::new("the samples file has no samples"))?;
    Ok((model, first, selected))
}

/// Training throughput of `architecture` at `batch_size` on `device` ("cpu" or "webgpu")
/// over the first `limit` digits of a samples file; `runs` timed epochs after a warm-up.
#[wasm_bindgen]
pub async fn bench_training(
    device: String,
    architecture: String,
    batch_size: usize,
    runs: usize,
    limit: usize,
    samples_file: Vec<u8>,
) -> Result<String, JsError> {
    let selected = open(&device).await?;
    let architecture: Architecture = architecture.parse().map_err(|e: String| JsError::new(&e))?;
    let mut samples = digits(&samples_file)?;
    samples.truncate(limit);
    let result =
        bench::training_throughput(architecture, batch_size, &samples, &selected.device, runs)
            .await
            .map_err(js_error)?;
    serde_json::to_string(&result).map_err(js_error)
}

/// Wall time of one fine-tune of `weights` on `device` with `settings`: 10 of `digits` per
/// class (and validation digits), rehearsing and measuring forgetting on `source`; as JSON.
async fn time_fine_tune(
    device: &str,
    weights: &[u8],
    digits: &[crate::data::Sample],
    settings: &Settings,
    source: SourceDigits<'_>,
) -> Result<String, JsError> {
    let selected = open(device).await?;
    let (model, info) = weights::from_bytes(weights, None, &selected.device).map_err(js_error)?;
    let samples = bench::fine_tune_set(digits, 10);
    let adapting = bench::Adapting {
        pretrained: &model,
        info: &info,
        samples: &samples,
        source,
    };
    let result = bench::fine_tune_time(adapting.request(settings), &selected.device)
        .await
        .map_err(js_error)?;
    serde_json::to_string(&result).map_err(js_error)
}

/// Wall time of fine-tuning pretrained `weights` with `strategy` on 10 digits per class (and
/// validation digits) for `epochs` epochs: the benchmark's workload (`bench::workload`).
#[wasm_bindgen]
pub async fn bench_fine_tune(
    device: String,
    weights: Vec<u8>,
    strategy: String,
    epochs: usize,
    samples_file: Vec<u8>,
) -> Result<String, JsError> {
    let strategy: Strategy = strategy.parse().map_err(|e: String| JsError::new(&e))?;
    let settings = bench::workload(strategy, epochs);
    let digits = digits(&samples_file)?;
    time_fine_tune(
        &device,
        &weights,
        &digits,
        &settings,
        SourceDigits::default(),
    )
    .await
}

/// Wall time of what *Fine-tune* does with nothing changed: the default settings on 10 digits
/// per class (and validation digits) of `samples_file`, rehearsing its digits and measuring
/// forgetting on those of `held_out_file`, as the page's worker does.
#[wasm_bindgen]
pub async fn bench_default_fine_tune(
    device: String,
    weights: Vec<u8>,
    samples_file: Vec<u8>,
    held_out_file: Vec<u8>,
) -> Result<String, JsError> {
    let rehearsal = digits(&samples_file)?;
    let held_out = digits(&held_out_file)?;
    let source = SourceDigits {
        rehearsal: &rehearsal,
        held_out: &held_out,
    };
    time_fine_tune(&device, &weights, &rehearsal, &Settings::default(), source).await
}

/// Latency of `calls` saliency maps ("where it looks") of a digit with `weights` on `device`.
#[wasm_bindgen]
pub async fn bench_saliency(
    device: String,
    weights: Vec<u8>,
    calls: usize,
    samples_file: Vec<u8>,
) -> Result<String, JsError> {
    let (model, first, selected) = model_and_digit(&device, &weights, &samples_file).await?;
    let result = bench::saliency_latency(&model, &first.image, &selected.device, calls)
        .await
        .map_err(|e| JsError::new(&e))?;
    serde_json::to_string(&result).map_err(js_error)
}

/// Latency of `calls` live predictions of a drawn digit with `weights` on `device`.
#[wasm_bindgen]
pub async fn bench_prediction(
    device: String,
    weights: Vec<u8>,
    calls: usize,
    samples_file: Vec<u8>,
) -> Result<String, JsError> {
    let (model, first, selected) = model_and_digit(&device, &weights, &samples_file).await?;
    let (rgba, width, height) = bench::canvas_of(&first.image);
    let result = bench::prediction_latency(&model, &rgba, width, height, &selected.device, calls)
        .await
        .map_err(|e| JsError::new(&e))?;
    serde_json::to_string(&result).map_err(js_error)
}
