//! The browser boundary: what the page's JavaScript calls. Everything here is thin glue over
//! the library; no arithmetic and no rule is written in JavaScript. Values cross as typed
//! objects and byte arrays (serde-wasm-bindgen), not JSON strings.
//!
//! - [`predictor`]: the page's live model (main thread, CPU): draw → probabilities.
//! - [`workbench`]: fine-tuning, in a Web Worker, on WebGPU or the CPU.
//! - [`live`]: "Learn as I label": the head learns after every label, in the same worker.
//! - [`samples`]: the page's samples file, decoded and written in Rust.
//! - [`speed`]: *Auto*: training timed on each device, and the faster one chosen.
//! - [`task`]: the task's rules: class names, file sizes, whether a run can start, the best
//!   of compared runs.
//! - [`threads`] (the threaded build only): the CPU kernels' pool of threads, each a Web Worker.
//! - [`bench`]: timings for `scripts/bench.sh` (`bench_training`, `bench_fine_tune`,
//!   `bench_prediction`): part of the API, so that anyone can time a build in a browser.

pub mod bench;
pub mod live;
pub mod predictor;
pub mod samples;
pub mod speed;
pub mod task;
#[cfg(feature = "threads")]
pub mod threads;
pub mod workbench;

pub use predictor::{DigitModel, Prediction, canvas_to_image};
pub use samples::{SampleBuffers, decode_samples, encode_samples};
pub use workbench::{FineTuneJob, FineTuned, Resume, Workbench};

use wasm_bindgen::{JsError, JsValue};

use crate::device::{self, DeviceKind, Selected};

/// Installed when either wasm build starts: a panic (a bug) is written to the console with its
/// message and location, and kept as `globalThis.digitTransferPanic` so that the page can show
/// it instead of the bare "unreachable" the aborted wasm throws.
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let message = format!("digit-transfer panicked: {info}");
        web_sys::console::error_1(&message.as_str().into());
        let _ = js_sys::Reflect::set(
            &js_sys::global(),
            &"digitTransferPanic".into(),
            &message.as_str().into(),
        );
    }));
}

/// A Rust value as a plain JavaScript value: objects, arrays, `null` for `None`.
pub(crate) fn to_js(value: &impl serde::Serialize) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(js_error)
}

/// A JavaScript value as `T`, or an error naming `what` was wrong.
pub(crate) fn from_js<T: serde::de::DeserializeOwned>(
    value: JsValue,
    what: &str,
) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| JsError::new(&format!("bad {what}: {e}")))
}

/// `T` read from a plain value through JSON: serde-wasm-bindgen reads only the fields a
/// struct knows, so a field it does not know would pass unseen; through JSON,
/// `deny_unknown_fields` refuses it (a renamed form field must not fall back to a default).
pub(crate) fn strict<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
    serde_json::from_value(value).map_err(serde::de::Error::custom)
}

/// [`from_js`] for a plain value (no byte arrays) whose unknown fields must be refused.
pub(crate) fn from_js_strict<T: serde::de::DeserializeOwned>(
    value: JsValue,
    what: &str,
) -> Result<T, JsError> {
    let value: serde_json::Value = from_js(value, what)?;
    serde_json::from_value(value).map_err(|e| JsError::new(&format!("bad {what}: {e}")))
}

/// Any library error as a JavaScript `Error` carrying its message.
pub(crate) fn js_error(error: impl std::fmt::Display) -> JsError {
    JsError::new(&error.to_string())
}

/// The device a page call names: "auto" (WebGPU when the browser offers an adapter, else the
/// CPU, with the reason kept; the page measures which is faster before it asks for "auto"
/// only where there is no adapter to measure), or a kind such as "webgpu" or "cpu".
pub(crate) async fn select_device(name: &str) -> Result<Selected, JsError> {
    match name {
        #[cfg(any(feature = "ndarray", feature = "flex"))]
        "auto" => Ok(device::best().await),
        // The WebGPU build has no CPU to fall back on: the worker loads a CPU build for that.
        #[cfg(not(any(feature = "ndarray", feature = "flex")))]
        "auto" => device::open(DeviceKind::Wgpu).await.map_err(js_error),
        name => {
            let kind: DeviceKind = name.parse().map_err(|e: String| JsError::new(&e))?;
            device::open(kind).await.map_err(js_error)
        }
    }
}
