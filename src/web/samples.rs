//! The page's samples file (see [`crate::samples`]), written and read in Rust so that the page
//! and the CLI agree on every byte.

use wasm_bindgen::prelude::*;

use crate::data::IMAGE_PIXELS;
use crate::samples::{self, SampleSet};

use super::js_error;

/// Decoded samples as the page holds them: flat buffers and class names.
#[wasm_bindgen(getter_with_clone)]
pub struct SampleBuffers {
    pub classes: Vec<String>,
    /// `labels.len() × 784` bytes, one 28×28 image after another.
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
}

/// Read a samples file; the error says what is wrong with it.
#[wasm_bindgen]
pub fn decode_samples(bytes: &[u8]) -> Result<SampleBuffers, JsError> {
    let set = SampleSet::from_json(bytes).map_err(js_error)?;
    if set.classes.len() > usize::from(u8::MAX) {
        return Err(JsError::new("too many classes for the page"));
    }
    let mut images = Vec::with_capacity(set.samples.len() * IMAGE_PIXELS);
    let mut labels = Vec::with_capacity(set.samples.len());
    for sample in &set.samples {
        images.extend_from_slice(&sample.image);
        labels.push(sample.label as u8);
    }
    Ok(SampleBuffers {
        classes: set.classes,
        images,
        labels,
    })
}

/// Write a samples file from the page's buffers.
#[wasm_bindgen]
pub fn encode_samples(
    classes: Vec<String>,
    images: &[u8],
    labels: &[u8],
) -> Result<String, JsError> {
    samples::check_classes(&classes).map_err(js_error)?;
    let samples = samples::from_buffers(images, labels, classes.len()).map_err(js_error)?;
    Ok(SampleSet { classes, samples }.to_json())
}
