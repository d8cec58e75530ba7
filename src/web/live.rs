//! "Learn as I label": the worker keeps one [`LiveLearner`] for the model in use, and after
//! every label (or deletion, or relabel) the page asks it to learn from all the samples; the
//! new weights go back to the page's predicting model.
//!
//! Live learning runs on the CPU whatever device fine-tunes: an update is a few small steps
//! of the head on cached features, where a GPU's dispatch and read cost more than the work.

use wasm_bindgen::prelude::*;

use crate::device;
use crate::samples;
use crate::train::OnlineLearner;
use crate::transfer::{self, Settings, SettingsForm, SourceDigits};
use crate::weights::{self, WeightsInfo};

use super::task::is_digit_task;
use super::{from_js, js_error, to_js};

/// Where a live learner starts: the weights in use (burnpack or safetensors: pretrained, or a
/// fine-tune's or an earlier live learner's result), the task's classes (the digits' own
/// names: adapting the digits) and the settings form (its learning rate, weight decay,
/// rehearsal and seed are the live learner's too).
#[derive(Debug, serde::Deserialize, serde::Serialize)]
pub struct LiveStart {
    #[serde(with = "serde_bytes")]
    pub weights: Vec<u8>,
    pub classes: Vec<String>,
    #[serde(deserialize_with = "super::strict")]
    pub settings: SettingsForm,
}

/// Every sample the person has labelled: `ids[i]` names image `i` (`images`: `n × 784` bytes)
/// and `labels[i]` its class.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
pub struct LiveSamples {
    pub ids: Vec<String>,
    #[serde(with = "serde_bytes")]
    pub images: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub labels: Vec<u8>,
}

/// One update: what it did (a `Learned` object) and the weights after it (burnpack).
#[wasm_bindgen(getter_with_clone)]
pub struct LiveLearned {
    pub learned: JsValue,
    pub weights: Vec<u8>,
}

/// A network that learns from every label.
#[wasm_bindgen]
pub struct LiveLearner {
    learner: OnlineLearner,
    info: WeightsInfo,
    classes: usize,
}

#[wasm_bindgen]
impl LiveLearner {
    /// A learner starting from `start` (a [`LiveStart`]); `rehearsal`: the MNIST digits
    /// (samples file) it rehearses while adapting the digits, or nothing for a new task.
    pub fn start(start: JsValue, rehearsal: Option<Vec<u8>>) -> Result<LiveLearner, JsError> {
        let LiveStart {
            weights: bytes,
            classes,
            settings,
        } = from_js(start, "live learner")?;
        samples::check_classes(&classes).map_err(js_error)?;
        let settings = Settings::try_from(settings).map_err(js_error)?;
        let adapt = is_digit_task(classes.clone());
        // Learning as one labels runs on the CPU: the worker asks a CPU build for it.
        let device = device::cpu_device().map_err(js_error)?;
        let (model, info) = weights::from_bytes(&bytes, None, &device)
            .map_err(|e| JsError::new(&format!("cannot load the weights: {e}")))?;
        let source = match rehearsal {
            Some(bytes) if adapt => {
                samples::SampleSet::from_json(&bytes)
                    .map_err(|e| JsError::new(&format!("the rehearsal digits: {e}")))?
                    .samples
            }
            _ => Vec::new(),
        };
        let digits = SourceDigits {
            rehearsal: &source,
            held_out: &[],
        };
        let (learner, info) =
            transfer::online_learner(&model, &info, &classes, &settings, digits, adapt, &device)
                .map_err(js_error)?;
        Ok(LiveLearner {
            learner,
            info,
            classes: classes.len(),
        })
    }

    /// Learn from every labelled sample (a [`LiveSamples`]).
    pub async fn learn(&mut self, samples: JsValue) -> Result<LiveLearned, JsError> {
        let LiveSamples {
            ids,
            images,
            labels,
        } = from_js(samples, "samples to learn from")?;
        let samples = samples::from_buffers(&images, &labels, self.classes).map_err(js_error)?;
        let learned = self.learner.learn(&ids, &samples).await.map_err(js_error)?;
        // Read asynchronously, as every read in the browser must be (a blocking read never
        // returns in the GPU build, even of the CPU's tensors).
        let weights = weights::to_burnpack_async(self.learner.model(), &self.info)
            .await
            .map_err(js_error)?;
        Ok(LiveLearned {
            learned: to_js(&learned)?,
            weights,
        })
    }
}

/// Whether live learning has something to learn from these labels of `classes`: any sample
/// while adapting the digits, samples of two classes in a new task (as `finetune --online`).
#[wasm_bindgen]
pub fn can_learn_live(classes: Vec<String>, labels: &[u8]) -> bool {
    let adapt = is_digit_task(classes);
    transfer::can_learn(labels.iter().map(|&label| usize::from(label)), adapt)
}
