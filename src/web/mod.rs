//! The browser boundary: what the page's JavaScript calls. Everything here is thin glue over
//! the library; no arithmetic is done in JavaScript.
//!
//! - [`predictor`]: the page's live model (main thread, CPU): draw → probabilities.
//! - [`workbench`]: fine-tuning, in a Web Worker, on WebGPU or the CPU.
//! - [`samples`]: the page's samples file, decoded and written in Rust.
//! - [`speed`]: *Auto*: training timed on each device, and the faster one chosen.
//! - [`bench`]: timings for `scripts/bench.sh`.

pub mod bench;
pub mod predictor;
pub mod samples;
pub mod speed;
pub mod workbench;

pub use predictor::{DigitModel, Prediction, canvas_to_image};
pub use samples::{SampleBuffers, decode_samples, encode_samples};
pub use workbench::{FineTuned, Workbench};

use wasm_bindgen::JsError;

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

/// Any library error as a JavaScript `Error` carrying its message.
pub(crate) fn js_error(error: impl std::fmt::Display) -> JsError {
    JsError::new(&error.to_string())
}

/// The device a page call names: "auto" (WebGPU when the browser offers an adapter, else the
/// CPU, with the reason kept; the page measures which is faster before it asks for "auto"
/// only where there is no adapter to measure), or a kind such as "webgpu" or "cpu".
pub(crate) async fn select_device(name: &str) -> Result<Selected, JsError> {
    match name {
        "auto" => Ok(device::best().await),
        name => {
            let kind: DeviceKind = name.parse().map_err(|e: String| JsError::new(&e))?;
            device::open(kind).await.map_err(js_error)
        }
    }
}
