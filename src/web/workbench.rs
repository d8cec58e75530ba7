//! Fine-tuning in the browser. The page runs this in a Web Worker, so training never blocks
//! drawing; progress goes out through a callback whose answer can stop the run.

use wasm_bindgen::prelude::*;

use crate::data::Sample;
use crate::device::{DeviceKind, Selected};
use crate::samples::{self, SampleSet};
use crate::train::{BatchProgress, Control, EpochSummary, Observer};
use crate::transfer::{self, Checkpoint, Settings, SourceDigits, Strategy, Task};
use crate::weights;

use super::{from_js, js_error, select_device, to_js};

/// A device to train on, and the MNIST digits used for rehearsal and forgetting.
#[wasm_bindgen]
pub struct Workbench {
    selected: Selected,
    rehearsal: Vec<Sample>,
    held_out: Vec<Sample>,
}

/// One run as the worker asks for it: the pretrained weights (burnpack or safetensors
/// bytes), the person's classes and samples (`images`: `n × 784` bytes, `labels`: `n`
/// indices into `classes`), settings as `check_fine_tune` returned them, and optionally the
/// checkpoint to go on from (e.g. on the CPU after the GPU was lost).
#[derive(Debug, serde::Deserialize, serde::Serialize)]
pub struct FineTuneJob {
    #[serde(with = "serde_bytes")]
    pub pretrained: Vec<u8>,
    pub classes: Vec<String>,
    #[serde(with = "serde_bytes")]
    pub images: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub labels: Vec<u8>,
    /// Read strictly: a setting this build does not know is refused, not ignored.
    #[serde(deserialize_with = "super::strict")]
    pub settings: Settings,
    /// The strategy of this run (*Compare* runs each in turn). It runs with `settings`, or a
    /// fresh network with its own defaults where the person changed none of the task's
    /// (`Settings::for_strategy`).
    pub strategy: Strategy,
    /// Whether the page adapts the pretrained digits (else a new task): whose defaults
    /// `settings` are measured against.
    pub adapt: bool,
    #[serde(default)]
    pub resume: Option<Resume>,
}

/// A checkpoint to go on from: burnpack bytes and the epochs it completed.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
pub struct Resume {
    #[serde(with = "serde_bytes")]
    pub weights: Vec<u8>,
    pub epoch: usize,
}

/// The result of one run: its report (a `FineTuneReport` object) and the fine-tuned weights
/// (burnpack).
#[wasm_bindgen(getter_with_clone)]
pub struct FineTuned {
    pub report: JsValue,
    pub weights: Vec<u8>,
}

/// Hands progress to JavaScript (an `EpochSummary` or `BatchProgress` object with its `kind`);
/// a falsy answer stops training. With a checkpoint function, the weights after every epoch
/// go to it too (epoch, burnpack bytes).
struct Callback<'a> {
    progress: &'a js_sys::Function,
    checkpoint: Option<&'a js_sys::Function>,
    info: &'a weights::WeightsInfo,
}

impl Callback<'_> {
    fn send(&self, kind: &str, value: impl serde::Serialize) -> Control {
        let mut json = serde_json::to_value(value).unwrap_or_default();
        json["kind"] = serde_json::Value::from(kind);
        let Ok(value) = to_js(&json) else {
            return Control::Continue;
        };
        match self.progress.call1(&JsValue::NULL, &value) {
            Ok(go_on) if !go_on.is_truthy() => Control::Stop,
            _ => Control::Continue,
        }
    }
}

impl Observer for Callback<'_> {
    fn batch(&mut self, progress: &BatchProgress) -> Control {
        self.send("batch", progress)
    }
    fn epoch(&mut self, summary: &EpochSummary) -> Control {
        self.send("epoch", summary)
    }
    fn wants_checkpoints(&self) -> bool {
        self.checkpoint.is_some()
    }
    fn checkpoint(&mut self, epoch: usize, weights: &weights::HostWeights) {
        // A checkpoint that cannot be written only means a failure later starts afresh.
        if let (Some(send), Ok(bytes)) = (self.checkpoint, weights.to_burnpack(self.info)) {
            let bytes = js_sys::Uint8Array::from(bytes.as_slice());
            let _ = send.call2(&JsValue::NULL, &JsValue::from(epoch as u32), &bytes);
        }
    }
}

#[wasm_bindgen]
impl Workbench {
    /// Open `device`: "webgpu", "cpu", or "auto" (WebGPU when the browser offers an
    /// adapter, else the CPU, with the reason kept in `device_reason`).
    pub async fn open(device: String) -> Result<Workbench, JsError> {
        let selected = select_device(&device).await?;
        Ok(Workbench {
            selected,
            rehearsal: Vec::new(),
            held_out: Vec::new(),
        })
    }

    /// "WebGPU", "CPU (ndarray)", or in the threaded build "CPU (flex) · 4 threads".
    #[wasm_bindgen(getter)]
    pub fn device_label(&self) -> String {
        self.selected.label.clone()
    }

    /// "webgpu" or "cpu".
    #[wasm_bindgen(getter)]
    pub fn device_kind(&self) -> String {
        match self.selected.kind {
            DeviceKind::Wgpu => "webgpu",
            _ => "cpu",
        }
        .to_string()
    }

    /// Why this device and not the other (empty when it was asked for).
    #[wasm_bindgen(getter)]
    pub fn device_reason(&self) -> String {
        self.selected.reason.clone()
    }

    /// Give the MNIST digits (samples files) mixed in by rehearsal and measured for
    /// forgetting.
    pub fn set_source_digits(&mut self, rehearsal: &[u8], held_out: &[u8]) -> Result<(), JsError> {
        let read = |bytes: &[u8], what: &str| {
            SampleSet::from_json(bytes)
                .map(|set| set.samples)
                .map_err(|e| JsError::new(&format!("the {what} digits: {e}")))
        };
        self.rehearsal = read(rehearsal, "rehearsal")?;
        self.held_out = read(held_out, "held-out")?;
        Ok(())
    }

    /// Fine-tune as `job` (a [`FineTuneJob`]) asks. `on_progress` receives an object per
    /// batch and per epoch and returns whether to go on. `on_checkpoint`, when given, receives
    /// the weights after every epoch (epoch, burnpack bytes).
    pub async fn fine_tune(
        &self,
        job: JsValue,
        on_progress: js_sys::Function,
        on_checkpoint: Option<js_sys::Function>,
    ) -> Result<FineTuned, JsError> {
        let FineTuneJob {
            pretrained,
            classes,
            images,
            labels,
            settings,
            strategy,
            adapt,
            resume,
        } = from_js(job, "fine-tuning job")?;
        let settings = settings.for_strategy(strategy, adapt);
        samples::check_classes(&classes).map_err(js_error)?;
        let samples = samples::from_buffers(&images, &labels, classes.len()).map_err(js_error)?;
        let device = &self.selected.device;
        let (pretrained, info) = weights::from_bytes(&pretrained, None, device)
            .map_err(|e| JsError::new(&format!("cannot load the weights: {e}")))?;
        let task = Task {
            class_names: &classes,
            samples: &samples,
        };
        let source = SourceDigits {
            rehearsal: &self.rehearsal,
            held_out: &self.held_out,
        };
        let checkpoint = match resume {
            Some(Resume { weights, epoch }) => {
                let (model, _) = weights::from_burnpack(&weights, Some(info.architecture), device)
                    .map_err(|e| JsError::new(&format!("cannot read the checkpoint: {e}")))?;
                Some(Checkpoint { model, epoch })
            }
            None => None,
        };
        let out_info = weights::WeightsInfo {
            architecture: info.architecture,
            class_names: classes.clone(),
        };
        let mut observer = Callback {
            progress: &on_progress,
            checkpoint: on_checkpoint.as_ref(),
            info: &out_info,
        };
        let tuned = transfer::fine_tune(
            transfer::FineTuneRequest {
                pretrained: &pretrained,
                info: &info,
                task,
                settings: &settings,
                source,
                resume: checkpoint.as_ref(),
            },
            device,
            &mut observer,
        )
        .await
        .map_err(js_error)?;
        let weights = weights::to_burnpack_async(&tuned.model, &tuned.info)
            .await
            .map_err(js_error)?;
        let report = to_js(&tuned.report)?;
        Ok(FineTuned { report, weights })
    }
}
