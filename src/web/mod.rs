//! The browser boundary: what the page's JavaScript calls. Everything here is thin glue over
//! the library; no arithmetic is done in JavaScript.
//!
//! - [`predictor`]: the page's live model (main thread, CPU): draw → probabilities.
//! - [`workbench`]: fine-tuning, in a Web Worker, on WebGPU or the CPU.
//! - [`samples`]: the page's samples file, decoded and written in Rust.
//! - [`bench`]: timings for `scripts/bench.sh`.

pub mod bench;
pub mod predictor;
pub mod samples;
pub mod workbench;

pub use predictor::{DigitModel, Prediction, canvas_to_image};
pub use samples::{SampleBuffers, decode_samples, encode_samples};
pub use workbench::{FineTuned, Workbench};

use wasm_bindgen::JsError;

use crate::device::{self, DeviceKind, Selected};

/// Any library error as a JavaScript `Error` carrying its message.
pub(crate) fn js_error(error: impl std::fmt::Display) -> JsError {
    JsError::new(&error.to_string())
}

/// The device a page call names: "auto" (WebGPU when the browser offers an adapter, else the
/// CPU, with the reason kept), or a kind such as "webgpu" or "cpu".
pub(crate) async fn select_device(name: &str) -> Result<Selected, JsError> {
    match name {
        "auto" => Ok(device::best().await),
        name => {
            let kind: DeviceKind = name.parse().map_err(|e: String| JsError::new(&e))?;
            device::open(kind).await.map_err(js_error)
        }
    }
}
