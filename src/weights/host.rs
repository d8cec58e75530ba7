//! A network's parameters in memory, read off its device in one read: what weight files are
//! written from. Writing needs no CPU device this way (the page's WebGPU build has none), and a
//! network on a GPU costs one round trip however many tensors it has.

use burn::module::{ModuleVisitor, Param};
use burn::prelude::*;
use burn::store::bridge;
use burn::store::burn_pack::Tensor as PackTensor;
use burn::store::{ModuleAdapter, ModuleContext};

use super::WeightsError;
use crate::model::Classifier;

/// One float parameter: where it sits in the network and its values.
struct HostParam {
    /// Its path, e.g. `backbone.Cnn.conv1.weight` (enum variants included, as burn-store
    /// names them).
    name: String,
    /// The modules around it, outermost first (what adapters such as PyTorch's key on).
    containers: Vec<String>,
    id: u64,
    shape: Vec<usize>,
    values: Vec<f32>,
}

/// Every float parameter of a network, in memory.
pub struct HostWeights {
    params: Vec<HostParam>,
}

/// Walks a network as burn-store's collector does, keeping each float parameter's path,
/// surrounding modules and (flattened) tensor, still on its device.
#[derive(Default)]
struct Layout {
    path: Vec<String>,
    containers: Vec<String>,
    params: Vec<(HostParam, Tensor<1>)>,
}

impl ModuleVisitor for Layout {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.push(name.to_string());
        self.containers.push(container_type.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
        self.containers.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let param = HostParam {
            name: self.path.join("."),
            containers: self.containers.clone(),
            id: param.id.val(),
            shape: tensor.dims().to_vec(),
            values: Vec::new(),
        };
        self.params.push((param, tensor.flatten(0, D - 1)));
    }
}

impl HostWeights {
    /// Read `model`'s parameters from whatever device it is on, asynchronously (the browser
    /// cannot read WebGPU buffers otherwise): one read of every parameter, concatenated on the
    /// device.
    pub async fn read(model: &Classifier) -> Result<Self, WeightsError> {
        let (params, all) = Self::layout(model);
        let values = match all {
            Some(all) => crate::device::read_floats(all)
                .await
                .map_err(WeightsError::Write)?,
            None => Vec::new(),
        };
        Self::fill(params, &values)
    }

    /// [`HostWeights::read`] without waiting: natively it blocks until the device answers
    /// (inside an executor too, as the CLI runs); in the browser only a network on the CPU can
    /// be read at once (its read is already done when first polled).
    pub fn read_now(model: &Classifier) -> Result<Self, WeightsError> {
        let (params, all) = Self::layout(model);
        let values = match all {
            #[cfg(not(target_arch = "wasm32"))]
            Some(all) => all
                .into_data()
                .try_to_vec::<f32>()
                .map_err(|e| WeightsError::Write(format!("{e:?}")))?,
            #[cfg(target_arch = "wasm32")]
            Some(all) => {
                use std::future::Future;
                let mut read = std::pin::pin!(crate::device::read_floats(all));
                let mut context = std::task::Context::from_waker(std::task::Waker::noop());
                match read.as_mut().poll(&mut context) {
                    std::task::Poll::Ready(values) => values.map_err(WeightsError::Write)?,
                    std::task::Poll::Pending => {
                        return Err(WeightsError::Write(
                            "this network is on the GPU: its weights can only be read \
                             asynchronously"
                                .to_string(),
                        ));
                    }
                }
            }
            None => Vec::new(),
        };
        Self::fill(params, &values)
    }

    /// Each float parameter of `model` without its values, and all of them flattened into one
    /// tensor on the device (none when there are no parameters).
    fn layout(model: &Classifier) -> (Vec<HostParam>, Option<Tensor<1>>) {
        let mut layout = Layout::default();
        model.visit(&mut layout);
        let (params, tensors): (Vec<HostParam>, Vec<Tensor<1>>) = layout.params.into_iter().unzip();
        let all = (!tensors.is_empty()).then(|| Tensor::cat(tensors, 0));
        (params, all)
    }

    /// `params` with their values, taken in order from `values` (as [`HostWeights::layout`]
    /// concatenated them).
    fn fill(mut params: Vec<HostParam>, values: &[f32]) -> Result<Self, WeightsError> {
        let mut rest = values;
        for param in &mut params {
            let len = param.shape.iter().product::<usize>();
            if rest.len() < len {
                return Err(WeightsError::Write(format!(
                    "the device returned {} values fewer than the parameters hold",
                    len - rest.len()
                )));
            }
            let (head, tail) = rest.split_at(len);
            param.values = head.to_vec();
            rest = tail;
        }
        Ok(HostWeights { params })
    }

    /// How many numbers these weights hold.
    pub fn parameters(&self) -> usize {
        self.params.iter().map(|param| param.values.len()).sum()
    }

    /// Each parameter's path (e.g. `backbone.Cnn.conv1.weight`) and values, in the network's
    /// order.
    pub fn named(&self) -> impl Iterator<Item = (&str, &[f32])> {
        self.params
            .iter()
            .map(|param| (param.name.as_str(), param.values.as_slice()))
    }

    /// The parameters as burn-store tensors, each passed through `adapter` (e.g. to PyTorch's
    /// layouts) with the modules around it, as burn-store's own collector does.
    pub(super) fn tensors(&self, adapter: Option<&dyn ModuleAdapter>) -> Vec<PackTensor> {
        self.params
            .iter()
            .map(|param| {
                let data = TensorData::new(param.values.clone(), param.shape.clone());
                let tensor = bridge::from_data(data, param.name.clone(), Some(param.id));
                match adapter {
                    Some(adapter) => adapter.adapt(tensor, ModuleContext::new(&param.containers)),
                    None => tensor,
                }
            })
            .collect()
    }
}
