//! The live model of the page: a drawing in, probabilities and the 28×28 image the network
//! saw out, on the main thread. It runs on the CPU by default: one small forward pass is
//! quicker there than a round trip to a GPU and back.

use burn::prelude::Device;
use wasm_bindgen::prelude::*;

use crate::data::IMAGE_PIXELS;
use crate::model::Classifier;
use crate::preprocess::{self, Canvas};
use crate::train;
use crate::weights::{self, Format, WeightsInfo};

use super::{js_error, select_device};

/// The 28×28 MNIST-style image (bright ink on black) that the network sees of an RGBA canvas.
#[wasm_bindgen]
pub fn canvas_to_image(rgba: &[u8], width: usize, height: usize) -> Result<Vec<u8>, JsError> {
    let canvas = Canvas::rgba(rgba, width, height);
    Ok(preprocess::to_mnist(&canvas).map_err(js_error)?.to_vec())
}

/// A pretrained classifier living on a device (WebGPU or the CPU).
#[wasm_bindgen]
pub struct DigitModel {
    model: Classifier,
    info: WeightsInfo,
    device: Device,
    device_label: String,
    device_reason: String,
}

/// What the model made of a drawing: the 28×28 image it saw and a probability per class.
#[wasm_bindgen(getter_with_clone)]
pub struct Prediction {
    pub image: Vec<u8>,
    pub probabilities: Vec<f32>,
    pub best: usize,
}

#[wasm_bindgen]
impl DigitModel {
    /// Decode burnpack `bytes` onto `device` ("webgpu", "cpu" or "auto": WebGPU when the
    /// browser offers an adapter, else the CPU).
    pub async fn load(bytes: Vec<u8>, device: String) -> Result<DigitModel, JsError> {
        let selected = select_device(&device).await?;
        let (model, info) = weights::from_bytes(&bytes, None, &selected.device)
            .map_err(|e| JsError::new(&format!("cannot load the weights: {e}")))?;
        Ok(DigitModel {
            model,
            info,
            device: selected.device,
            device_label: selected.label,
            device_reason: selected.reason,
        })
    }

    /// E.g. "WebGPU" or "CPU (ndarray)".
    #[wasm_bindgen(getter)]
    pub fn device_label(&self) -> String {
        self.device_label.clone()
    }

    /// Why the device in use was chosen over the other (empty when it was asked for).
    #[wasm_bindgen(getter)]
    pub fn device_reason(&self) -> String {
        self.device_reason.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn architecture(&self) -> String {
        self.info.architecture.name().to_string()
    }

    #[wasm_bindgen(getter)]
    pub fn class_names(&self) -> Vec<String> {
        self.info.class_names.clone()
    }

    /// The weights as a file: `"burnpack"` (`.bpk`, what the page and CLI load) or
    /// `"safetensors"` (PyTorch names and layouts).
    pub async fn export(&self, format: String) -> Result<Vec<u8>, JsError> {
        let format: Format = format.parse().map_err(|e: String| JsError::new(&e))?;
        let weights = weights::HostWeights::read(&self.model)
            .await
            .map_err(js_error)?;
        weights.encode(&self.info, format).map_err(js_error)
    }

    /// How many numbers the network learns (weights and biases).
    #[wasm_bindgen(getter)]
    pub fn parameters(&self) -> usize {
        burn::module::Module::num_params(&self.model)
    }

    /// Where the network looks for `class` in a 28×28 image: |∂ score / ∂ pixel| per pixel,
    /// the largest scaled to 1.
    pub async fn saliency(&self, image: Vec<u8>, class: usize) -> Result<Vec<f32>, JsError> {
        let image: [u8; IMAGE_PIXELS] = image.try_into().map_err(|v: Vec<u8>| {
            JsError::new(&format!("expected {IMAGE_PIXELS} pixels, got {}", v.len()))
        })?;
        crate::saliency::saliency(&self.model, &image, class, &self.device)
            .await
            .map_err(js_error)
    }

    /// Classify an RGBA canvas (`getImageData().data`) of `width × height` pixels.
    pub async fn predict_canvas(
        &self,
        rgba: Vec<u8>,
        width: usize,
        height: usize,
    ) -> Result<Prediction, JsError> {
        self.predict_image(canvas_to_image(&rgba, width, height)?)
            .await
    }

    /// Classify a 28×28 MNIST-style image (bright ink on black).
    pub async fn predict_image(&self, image: Vec<u8>) -> Result<Prediction, JsError> {
        let image: [u8; IMAGE_PIXELS] = image.try_into().map_err(|v: Vec<u8>| {
            JsError::new(&format!("expected {IMAGE_PIXELS} pixels, got {}", v.len()))
        })?;
        let probabilities = train::predict(&self.model, &[image], &self.device, 1)
            .await
            .map_err(|e| JsError::new(&e.to_string()))?
            .pop()
            .unwrap_or_default();
        Ok(Prediction {
            image: image.to_vec(),
            best: train::argmax(&probabilities),
            probabilities,
        })
    }
}
