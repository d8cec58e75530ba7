//! The page's *Auto* device: each build times training on the device it has, and the choice
//! between the two timings is made here too, so the worker only passes figures along.

use wasm_bindgen::prelude::*;

use crate::device::DeviceKind;
use crate::model::Architecture;
use crate::speed::{self, Adapter, StepTiming};

use super::{from_js, js_error, select_device, to_js};

/// Times a few training steps of `architecture` at `batch_size` on `device` ("cpu" or
/// "webgpu"), after a warm-up step: a [`StepTiming`].
#[wasm_bindgen]
pub async fn time_training(
    device: String,
    architecture: String,
    batch_size: usize,
) -> Result<JsValue, JsError> {
    let selected = select_device(&device).await?;
    let architecture: Architecture = architecture.parse().map_err(|e: String| JsError::new(&e))?;
    let timing = speed::time_training(architecture, batch_size, &selected.device, selected.kind)
        .await
        .map_err(js_error)?;
    to_js(&timing)
}

/// The faster device from the two timings (each a [`StepTiming`] from `time_training`) and
/// the adapter's name and fallback flag: a [`speed::Choice`], whose `device` is "ndarray" or
/// "wgpu".
#[wasm_bindgen]
pub fn choose_device(
    cpu: JsValue,
    gpu: JsValue,
    adapter: String,
    fallback: bool,
) -> Result<JsValue, JsError> {
    let read = |value: JsValue, expected: DeviceKind| -> Result<StepTiming, JsError> {
        let timing: StepTiming = from_js(value, "timing")?;
        if timing.device != expected {
            return Err(JsError::new(&format!(
                "a timing of {} where {expected} was expected",
                timing.device
            )));
        }
        Ok(timing)
    };
    let choice = speed::choose(
        read(cpu, DeviceKind::Ndarray)?,
        read(gpu, DeviceKind::Wgpu)?,
        Adapter {
            name: adapter,
            fallback,
        },
    );
    to_js(&choice)
}

/// The key a measurement is kept under in the browser (network, batch size, adapter, and the
/// threads this build's CPU device computes on).
#[wasm_bindgen]
pub fn choice_key(architecture: &str, batch_size: usize, adapter: &str) -> Result<String, JsError> {
    let architecture: Architecture = architecture.parse().map_err(|e: String| JsError::new(&e))?;
    Ok(speed::choice_key(
        architecture,
        batch_size,
        adapter,
        crate::device::cpu_threads(),
    ))
}

/// How many threads the threaded CPU build trains on where the browser reports `cores` logical
/// cores (`navigator.hardwareConcurrency`): every core, capped.
#[wasm_bindgen]
pub fn cpu_thread_count(cores: usize) -> usize {
    crate::device::cpu_thread_count(cores)
}
