//! Safetensors with PyTorch's parameter names and layouts, so a `state_dict` saved from
//! PyTorch loads here and what is written here loads there.

use burn::prelude::*;
use burn::store::burn_pack::DType;
use burn::store::{
    BurnToPyTorchAdapter, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore, bridge,
};
use safetensors::{Dtype, tensor::TensorView};

use super::{
    FORMAT_VERSION, HostWeights, KEY_ARCHITECTURE, KEY_CLASSES, KEY_VERSION, WeightsError,
    WeightsInfo, check_applied, check_class_count, check_finite,
};
use crate::model::{Architecture, Classifier};

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

/// `name` with the first prefix of `prefixes` (from, to) that it starts with replaced; unknown
/// names are kept.
fn renamed<'a>(name: &str, mut prefixes: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    prefixes
        .find_map(|(from, to)| name.strip_prefix(from).map(|rest| format!("{to}{rest}")))
        .unwrap_or_else(|| name.to_string())
}

/// PyTorch's name for burn's parameter `burn_name` (unknown names are kept).
fn to_pytorch_name(architecture: Architecture, burn_name: &str) -> String {
    let names = pytorch_names(architecture).iter();
    renamed(burn_name, names.map(|&(burn, torch)| (burn, torch)))
}

/// burn's name for PyTorch's parameter `torch_name` (unknown names are kept, and then refused
/// as unexpected when applied).
fn to_burn_name(architecture: Architecture, torch_name: &str) -> String {
    let names = pytorch_names(architecture).iter();
    renamed(torch_name, names.map(|&(burn, torch)| (torch, burn)))
}

/// Encode a classifier as safetensors with PyTorch's names and layouts, and digit-transfer's
/// description in the file's metadata (natively from any device; in the browser from the CPU).
pub fn to_safetensors(model: &Classifier, info: &WeightsInfo) -> Result<Vec<u8>, WeightsError> {
    HostWeights::read_now(model)?.to_safetensors(info)
}

impl HostWeights {
    /// These weights as safetensors with PyTorch's names and layouts (burn's own
    /// `BurnToPyTorchAdapter`), and burn's and digit-transfer's metadata.
    pub fn to_safetensors(&self, info: &WeightsInfo) -> Result<Vec<u8>, WeightsError> {
        let write = |e: &dyn std::fmt::Display| WeightsError::Write(e.to_string());
        let mut tensors = Vec::new();
        for tensor in self.tensors(Some(&BurnToPyTorchAdapter)) {
            if tensor.dtype != DType::F32 {
                return Err(write(&format!("`{}` is not float32", tensor.name)));
            }
            let name = to_pytorch_name(info.architecture, &tensor.name);
            let shape = tensor.shape.to_vec();
            let bytes = tensor.into_bytes().map_err(|e| write(&e))?;
            tensors.push((name, shape, bytes));
        }
        let views = tensors
            .iter()
            .map(|(name, shape, bytes)| {
                TensorView::new(Dtype::F32, shape.clone(), bytes).map(|view| (name.as_str(), view))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| write(&e))?;
        let mut metadata = SafetensorsStore::default_metadata();
        metadata.insert(KEY_ARCHITECTURE.into(), info.architecture.name().into());
        let classes = serde_json::to_string(&info.class_names).map_err(|e| write(&e))?;
        metadata.insert(KEY_CLASSES.into(), classes);
        metadata.insert(KEY_VERSION.into(), FORMAT_VERSION.to_string());
        let metadata = metadata.into_iter().collect();
        safetensors::serialize(views, Some(metadata)).map_err(|e| write(&e))
    }
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
    // burn's names (PyTorch's `fc1.weight` is `backbone.Mlp.fc1.weight`); the layouts are
    // burn's own PyTorchToBurnAdapter's, as the tensors are applied.
    let mut renamed = Vec::new();
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
        let data =
            TensorData::from_bytes_vec(tensor.data().to_vec(), tensor.shape().to_vec(), DType::F32);
        renamed.push(bridge::from_data(
            data,
            to_burn_name(architecture, name),
            None,
        ));
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
    // Applied without SafetensorsStore, whose key remapping would bring a regular-expression
    // engine into every wasm build.
    let result = model.apply(renamed, None, Some(Box::new(PyTorchToBurnAdapter)), false);
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
