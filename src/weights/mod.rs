//! Weight files: burn's own burnpack format, with metadata that says what the weights are
//! (architecture, class names, format version) (`burnpack.rs`), and safetensors with
//! PyTorch's names and layouts (`pytorch.rs`). Loading checks every tensor's presence and
//! shape and reports what is wrong instead of panicking.

use burn::prelude::*;
use burn::store::{ApplyError, ApplyResult};
use thiserror::Error;

use crate::model::{Architecture, Classifier};
use crate::samples::MAX_CLASSES;

mod burnpack;
mod host;
mod pytorch;

pub use burnpack::{from_burnpack, read_info, to_burnpack, to_burnpack_async};
pub use host::HostWeights;
pub use pytorch::{from_safetensors, pytorch_names, to_safetensors};

/// Version of the metadata layout written by [`to_burnpack`].
pub const FORMAT_VERSION: u32 = 1;
const KEY_ARCHITECTURE: &str = "digit_transfer.architecture";
const KEY_CLASSES: &str = "digit_transfer.classes";
const KEY_VERSION: &str = "digit_transfer.format_version";

/// What a weight file says about itself.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WeightsInfo {
    pub architecture: Architecture,
    pub class_names: Vec<String>,
}

impl WeightsInfo {
    /// The ten digit classes "0" … "9".
    pub fn digits(architecture: Architecture) -> Self {
        Self {
            architecture,
            class_names: crate::data::digit_names(),
        }
    }
}

/// Why weights could not be saved or loaded.
#[derive(Debug, Error)]
pub enum WeightsError {
    #[error("not a burnpack weights file ({0})")]
    NotBurnpack(String),
    #[error("the weights file has no `{0}` entry: it was not written by digit-transfer")]
    MissingMetadata(&'static str),
    #[error(
        "the weights file has format version {found}; this build reads version {FORMAT_VERSION}"
    )]
    UnsupportedVersion { found: String },
    #[error("the weights file names an unknown architecture `{0}`")]
    UnknownArchitecture(String),
    #[error("the weights file's class names are malformed: {0}")]
    BadClassNames(String),
    #[error("these are `{found}` weights, but `{expected}` weights were expected")]
    WrongArchitecture {
        expected: Architecture,
        found: Architecture,
    },
    #[error("tensor `{name}` has shape {found:?}, but the {architecture} model needs {expected:?}")]
    WrongShape {
        name: String,
        architecture: Architecture,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("tensor `{name}` is missing from the weights file")]
    MissingTensor { name: String },
    #[error("tensor `{name}` in the weights file is not part of the {architecture} model")]
    UnexpectedTensor {
        name: String,
        architecture: Architecture,
    },
    #[error("tensor `{name}` could not be read: {message}")]
    BadTensor { name: String, message: String },
    #[error(
        "tensor `{name}` holds {value} at index {index}: the weights are damaged and cannot predict anything"
    )]
    NotFinite {
        name: String,
        index: usize,
        value: f32,
    },
    #[error("not a safetensors file ({0})")]
    NotSafetensors(String),
    #[error("could not write the weights: {0}")]
    Write(String),
}

/// The file formats weights can be read from and written to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// burn's own format, with digit-transfer's metadata.
    Burnpack,
    /// safetensors with PyTorch's tensor names and layouts (see [`pytorch_names`]).
    Safetensors,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "burnpack" | "bpk" => Ok(Format::Burnpack),
            "safetensors" => Ok(Format::Safetensors),
            _ => Err(format!(
                "unknown format `{s}`: expected `burnpack` or `safetensors`"
            )),
        }
    }
}

impl Format {
    /// Tell the formats apart by their first bytes: safetensors opens with an 8-byte header
    /// length and then the JSON header.
    pub fn detect(bytes: &[u8]) -> Format {
        if bytes.len() > 8 && bytes[8] == b'{' {
            Format::Safetensors
        } else {
            Format::Burnpack
        }
    }
}

/// Turn what applying tensors reported into the first problem found, if any; `name` renders
/// a module path the way the file names it.
fn check_applied(
    result: ApplyResult,
    architecture: Architecture,
    name: impl Fn(&str) -> String,
) -> Result<(), WeightsError> {
    if let Some(error) = result.errors.into_iter().next() {
        return Err(match error {
            ApplyError::ShapeMismatch {
                path,
                expected,
                found,
            } => WeightsError::WrongShape {
                name: name(&path),
                architecture,
                expected: expected.to_vec(),
                found: found.to_vec(),
            },
            ApplyError::DTypeMismatch {
                path,
                expected,
                found,
            } => WeightsError::BadTensor {
                name: name(&path),
                message: format!("data type {found:?}, expected {expected:?}"),
            },
            ApplyError::AdapterError { path, message }
            | ApplyError::LoadError { path, message } => WeightsError::BadTensor {
                name: name(&path),
                message,
            },
        });
    }
    if let Some((path, _)) = result.missing.into_iter().next() {
        return Err(WeightsError::MissingTensor { name: name(&path) });
    }
    if let Some(path) = result.unused.into_iter().next() {
        return Err(WeightsError::UnexpectedTensor {
            name: name(&path),
            architecture,
        });
    }
    Ok(())
}

/// Decode weights in either format (told apart by their first bytes).
pub fn from_bytes(
    bytes: &[u8],
    expected: Option<Architecture>,
    device: &Device,
) -> Result<(Classifier, WeightsInfo), WeightsError> {
    match Format::detect(bytes) {
        Format::Burnpack => from_burnpack(bytes, expected, device),
        Format::Safetensors => from_safetensors(bytes, expected, device),
    }
}

/// Encode weights in `format` (natively from any device; in the browser from the CPU).
pub fn encode(
    model: &Classifier,
    info: &WeightsInfo,
    format: Format,
) -> Result<Vec<u8>, WeightsError> {
    HostWeights::read_now(model)?.encode(info, format)
}

impl HostWeights {
    /// These weights in `format`.
    pub fn encode(&self, info: &WeightsInfo, format: Format) -> Result<Vec<u8>, WeightsError> {
        match format {
            Format::Burnpack => self.to_burnpack(info),
            Format::Safetensors => self.to_safetensors(info),
        }
    }
}

/// Refuse NaN and infinite values: such a network answers NaN for every drawing, and
/// fine-tuning it cannot recover. Checked on the file's bytes (little-endian float32), before
/// anything reaches a device.
fn check_finite(name: &str, bytes: &[u8]) -> Result<(), WeightsError> {
    let bad = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .enumerate()
        .find(|(_, value)| !value.is_finite());
    match bad {
        Some((index, value)) => Err(WeightsError::NotFinite {
            name: name.to_string(),
            index,
            value,
        }),
        None => Ok(()),
    }
}

/// A weight file's class list must describe a classifier: two classes or more.
fn check_class_count(class_names: &[String]) -> Result<(), WeightsError> {
    if class_names.len() < 2 {
        return Err(WeightsError::BadClassNames(format!(
            "{} class(es); a classifier needs at least 2",
            class_names.len()
        )));
    }
    // The head is allocated from this count: a small file must not ask for a huge one.
    if class_names.len() > MAX_CLASSES {
        return Err(WeightsError::BadClassNames(format!(
            "{} classes; digit-transfer handles at most {MAX_CLASSES}",
            class_names.len()
        )));
    }
    Ok(())
}
