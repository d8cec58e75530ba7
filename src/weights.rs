//! Weight files: burn's own burnpack format, with metadata that says what the weights are
//! (architecture, class names, format version). Loading checks every tensor's presence and
//! shape and reports what is wrong instead of panicking.

use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use burn::store::burn_pack::{DType, Reader};
use burn::store::{
    ApplyError, ApplyResult, BurnToPyTorchAdapter, BurnpackStore, ModuleSnapshot,
    PyTorchToBurnAdapter, SafetensorsStore,
};
use burn::tensor::Bytes;
use thiserror::Error;

use crate::model::{Architecture, Classifier};
use crate::samples::MAX_CLASSES;

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

/// PyTorch's parameter names for each part of a network, as `(burn prefix, PyTorch prefix)`.
/// The `mlp` is the textbook `Net`: `fc1` (784 → 128) and `fc2` (the head). The `cnn` names
/// its layers `conv1`, `conv2`, `fc1` and `fc2` (the head). Linear weights are stored
/// `[out, in]` as PyTorch does (burn keeps them `[in, out]`).
pub fn pytorch_names(architecture: Architecture) -> &'static [(&'static str, &'static str)] {
    match architecture {
        Architecture::Mlp => &[("backbone.Mlp.fc1.", "fc1."), ("head.", "fc2.")],
        Architecture::Cnn => &[
            ("backbone.Cnn.conv1.", "conv1."),
            ("backbone.Cnn.conv2.", "conv2."),
            ("backbone.Cnn.fc.", "fc1."),
            ("head.", "fc2."),
        ],
    }
}

fn to_pytorch_name(architecture: Architecture, burn_name: &str) -> String {
    pytorch_names(architecture)
        .iter()
        .find_map(|(burn, torch)| {
            burn_name
                .strip_prefix(burn)
                .map(|rest| format!("{torch}{rest}"))
        })
        .unwrap_or_else(|| burn_name.to_string())
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

/// Encode a classifier as safetensors with PyTorch's names and layouts, and digit-transfer's
/// description in the file's metadata.
pub fn to_safetensors(model: &Classifier, info: &WeightsInfo) -> Result<Vec<u8>, WeightsError> {
    let classes =
        serde_json::to_string(&info.class_names).map_err(|e| WeightsError::Write(e.to_string()))?;
    let mut store = SafetensorsStore::from_bytes(None)
        .with_to_adapter(BurnToPyTorchAdapter)
        .metadata(KEY_ARCHITECTURE, info.architecture.name())
        .metadata(KEY_CLASSES, classes)
        .metadata(KEY_VERSION, FORMAT_VERSION.to_string());
    for (burn, torch) in pytorch_names(info.architecture) {
        store = store.with_key_remapping(format!("^{}", regex::escape(burn)), *torch);
    }
    model
        .save_into(&mut store)
        .map_err(|e| WeightsError::Write(e.to_string()))?;
    store
        .get_bytes()
        .map_err(|e| WeightsError::Write(e.to_string()))
}

/// Decode safetensors with PyTorch's names (e.g. the textbook `Net` saved from PyTorch) into a
/// classifier. Without digit-transfer's metadata the architecture is read off the tensor
/// names (`conv1.*` means `cnn`) and the class count off `fc2.weight`.
pub fn from_safetensors(
    bytes: &[u8],
    expected: Option<Architecture>,
    device: &Device,
) -> Result<(Classifier, WeightsInfo), WeightsError> {
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| WeightsError::NotSafetensors(e.to_string()))?;
    let tensors = header.tensors();
    let metadata = header.metadata().clone().unwrap_or_default();
    let architecture = match metadata.get(KEY_ARCHITECTURE) {
        Some(name) => name
            .parse()
            .map_err(|_| WeightsError::UnknownArchitecture(name.clone()))?,
        None if tensors.contains_key("conv1.weight") => Architecture::Cnn,
        None => Architecture::Mlp,
    };
    if let Some(expected) = expected
        && expected != architecture
    {
        return Err(WeightsError::WrongArchitecture {
            expected,
            found: architecture,
        });
    }
    let file = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| WeightsError::NotSafetensors(e.to_string()))?;
    for (name, tensor) in file.iter() {
        if tensor.dtype() != safetensors::Dtype::F32 {
            return Err(WeightsError::BadTensor {
                name: name.to_string(),
                message: format!(
                    "data type {:?}; digit-transfer reads float32",
                    tensor.dtype()
                ),
            });
        }
        check_finite(name, tensor.data())?;
    }
    let class_names: Vec<String> = match metadata.get(KEY_CLASSES) {
        Some(json) => {
            serde_json::from_str(json).map_err(|e| WeightsError::BadClassNames(e.to_string()))?
        }
        None => {
            let head = tensors
                .get("fc2.weight")
                .ok_or_else(|| WeightsError::MissingTensor {
                    name: "fc2.weight".into(),
                })?;
            let classes = head.shape.first().copied().unwrap_or(0);
            (0..classes).map(|c| c.to_string()).collect()
        }
    };
    check_class_count(&class_names)?;
    let mut model = Classifier::new(architecture, class_names.len(), device);
    let mut store = SafetensorsStore::from_bytes(Some(bytes.to_vec()))
        .with_from_adapter(PyTorchToBurnAdapter)
        .validate(false)
        .allow_partial(true);
    for (burn, torch) in pytorch_names(architecture) {
        store = store.with_key_remapping(format!("^{}", regex::escape(torch)), *burn);
    }
    let result = model
        .load_from(&mut store)
        .map_err(|e| WeightsError::NotSafetensors(e.to_string()))?;
    check_applied(result, architecture, |path| {
        to_pytorch_name(architecture, path)
    })?;
    Ok((
        model,
        WeightsInfo {
            architecture,
            class_names,
        },
    ))
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

/// Encode weights in `format`.
pub fn encode(
    model: &Classifier,
    info: &WeightsInfo,
    format: Format,
) -> Result<Vec<u8>, WeightsError> {
    match format {
        Format::Burnpack => to_burnpack(model, info),
        Format::Safetensors => to_safetensors(model, info),
    }
}

/// Encode a classifier and its description as burnpack bytes.
pub fn to_burnpack(model: &Classifier, info: &WeightsInfo) -> Result<Vec<u8>, WeightsError> {
    let classes =
        serde_json::to_string(&info.class_names).map_err(|e| WeightsError::Write(e.to_string()))?;
    let mut store = BurnpackStore::from_bytes(None)
        .metadata(KEY_ARCHITECTURE, info.architecture.name())
        .metadata(KEY_CLASSES, classes)
        .metadata(KEY_VERSION, FORMAT_VERSION.to_string());
    model
        .save_into(&mut store)
        .map_err(|e| WeightsError::Write(e.to_string()))?;
    let bytes = store
        .get_bytes()
        .map_err(|e| WeightsError::Write(e.to_string()))?;
    Ok(bytes.to_vec())
}

/// Collects every float parameter, flattened, in visiting order.
struct Gather(Vec<(Vec<usize>, Tensor<1>)>);

impl ModuleVisitor for Gather {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let shape = tensor.dims().to_vec();
        self.0.push((shape, tensor.flatten(0, D - 1)));
    }
}

/// Replaces every float parameter, in the same visiting order, with values on the CPU.
struct Scatter {
    values: std::vec::IntoIter<(Vec<usize>, Vec<f32>)>,
    device: Device,
}

impl ModuleMapper for Scatter {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        match self.values.next() {
            Some((shape, values)) => {
                param.map(|_| Tensor::from_data(TensorData::new(values, shape), &self.device))
            }
            None => param,
        }
    }
}

/// A copy of `model` on the CPU, read back asynchronously: the browser cannot read WebGPU
/// buffers synchronously, and writing a file reads every tensor. Every parameter goes in one
/// read (concatenated on the device), since each GPU read is a round trip.
pub async fn to_cpu(model: &Classifier) -> Result<Classifier, WeightsError> {
    let mut gather = Gather(Vec::new());
    model.visit(&mut gather);
    let (shapes, tensors): (Vec<Vec<usize>>, Vec<Tensor<1>>) = gather.0.into_iter().unzip();
    let all = if tensors.is_empty() {
        Vec::new()
    } else {
        crate::device::read_floats(Tensor::cat(tensors, 0))
            .await
            .map_err(WeightsError::Write)?
    };
    let mut rest = all.as_slice();
    let mut values = Vec::with_capacity(shapes.len());
    for shape in shapes {
        let len = shape.iter().product::<usize>();
        if rest.len() < len {
            return Err(WeightsError::Write(format!(
                "the device returned {} values fewer than the parameters hold",
                len - rest.len()
            )));
        }
        let (head, tail) = rest.split_at(len);
        values.push((shape, head.to_vec()));
        rest = tail;
    }
    let mut scatter = Scatter {
        values: values.into_iter(),
        device: crate::device::cpu(),
    };
    Ok(model.clone().map(&mut scatter))
}

/// [`to_burnpack`] for a model on any device, the browser's WebGPU included.
pub async fn to_burnpack_async(
    model: &Classifier,
    info: &WeightsInfo,
) -> Result<Vec<u8>, WeightsError> {
    to_burnpack(&to_cpu(model).await?, info)
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

/// Open burnpack bytes: only the header and metadata are parsed.
fn burnpack_reader(bytes: &[u8]) -> Result<Reader, WeightsError> {
    Reader::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| WeightsError::NotBurnpack(e.to_string()))
}

/// Read only the description of a burnpack weight file.
pub fn read_info(bytes: &[u8]) -> Result<WeightsInfo, WeightsError> {
    describe(&burnpack_reader(bytes)?)
}

/// The description in an opened burnpack file's metadata.
fn describe(reader: &Reader) -> Result<WeightsInfo, WeightsError> {
    let metadata = reader.metadata();
    let get = |key: &'static str| metadata.get(key).ok_or(WeightsError::MissingMetadata(key));
    let version = get(KEY_VERSION)?;
    if version.parse::<u32>() != Ok(FORMAT_VERSION) {
        return Err(WeightsError::UnsupportedVersion {
            found: version.clone(),
        });
    }
    let name = get(KEY_ARCHITECTURE)?;
    let architecture = name
        .parse()
        .map_err(|_| WeightsError::UnknownArchitecture(name.clone()))?;
    let class_names: Vec<String> = serde_json::from_str(get(KEY_CLASSES)?)
        .map_err(|e| WeightsError::BadClassNames(e.to_string()))?;
    check_class_count(&class_names)?;
    Ok(WeightsInfo {
        architecture,
        class_names,
    })
}

/// Decode burnpack bytes into a classifier on `device`, checking that every tensor is present
/// with the right shape. With `expected` set, weights of another architecture are refused.
pub fn from_burnpack(
    bytes: &[u8],
    expected: Option<Architecture>,
    device: &Device,
) -> Result<(Classifier, WeightsInfo), WeightsError> {
    let reader = burnpack_reader(bytes)?;
    let info = describe(&reader)?;
    if let Some(expected) = expected
        && expected != info.architecture
    {
        return Err(WeightsError::WrongArchitecture {
            expected,
            found: info.architecture,
        });
    }
    let tensors = reader
        .into_tensors()
        .map_err(|e| WeightsError::NotBurnpack(e.to_string()))?;
    for tensor in tensors {
        if tensor.dtype == DType::F32 {
            let name = tensor.name.clone();
            let data = tensor
                .into_bytes()
                .map_err(|e| WeightsError::NotBurnpack(e.to_string()))?;
            check_finite(&name, &data)?;
        }
    }
    let architecture = info.architecture;
    let mut model = Classifier::new(architecture, info.class_names.len(), device);
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes.to_vec())))
        .validate(false)
        .allow_partial(true);
    let result = model
        .load_from(&mut store)
        .map_err(|e| WeightsError::NotBurnpack(e.to_string()))?;
    check_applied(result, architecture, str::to_string)?;
    Ok((model, info))
}
