//! burn's own burnpack format, with the metadata that says what the weights are.

use burn::prelude::*;
use burn::store::burn_pack::{DType, Reader, Writer};
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::Bytes;

use super::{
    FORMAT_VERSION, HostWeights, KEY_ARCHITECTURE, KEY_CLASSES, KEY_VERSION, WeightsError,
    WeightsInfo, check_applied, check_class_count, check_finite,
};
use crate::model::{Architecture, Classifier};

/// Encode a classifier and its description as burnpack bytes (natively from any device; in the
/// browser from the CPU, see [`to_burnpack_async`]).
pub fn to_burnpack(model: &Classifier, info: &WeightsInfo) -> Result<Vec<u8>, WeightsError> {
    HostWeights::read_now(model)?.to_burnpack(info)
}

/// [`to_burnpack`] for a model on any device, the browser's WebGPU included.
pub async fn to_burnpack_async(
    model: &Classifier,
    info: &WeightsInfo,
) -> Result<Vec<u8>, WeightsError> {
    HostWeights::read(model).await?.to_burnpack(info)
}

impl HostWeights {
    /// These weights and their description as burnpack bytes, as burn's `BurnpackStore` writes
    /// them (its metadata as well as ours).
    pub fn to_burnpack(&self, info: &WeightsInfo) -> Result<Vec<u8>, WeightsError> {
        let classes = serde_json::to_string(&info.class_names)
            .map_err(|e| WeightsError::Write(e.to_string()))?;
        let mut writer = Writer::new(self.tensors(None));
        for (key, value) in BurnpackStore::default_metadata() {
            writer = writer.with_metadata(&key, &value);
        }
        let bytes = writer
            .with_metadata(KEY_ARCHITECTURE, info.architecture.name())
            .with_metadata(KEY_CLASSES, &classes)
            .with_metadata(KEY_VERSION, &FORMAT_VERSION.to_string())
            .into_bytes()
            .map_err(|e| WeightsError::Write(e.to_string()))?;
        Ok(bytes.to_vec())
    }
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
    for tensor in &tensors {
        if tensor.dtype == DType::F32 {
            let data = tensor
                .to_bytes()
                .map_err(|e| WeightsError::NotBurnpack(e.to_string()))?;
            check_finite(&tensor.name, &data)?;
        }
    }
    let architecture = info.architecture;
    let mut model = Classifier::new(architecture, info.class_names.len(), device);
    // Applied straight from the reader, not through BurnpackStore: the store's key remapping
    // (unused here) would bring a regular-expression engine into every wasm build.
    let result = model.apply(tensors, None, None, false);
    check_applied(result, architecture, str::to_string)?;
    Ok((model, info))
}
