//! The rules of a person's task, asked by the page instead of written again in JavaScript:
//! which classes adapt the pretrained digits, whether a class name or a file may be added,
//! whether a run can start (the settings form checked and typed), the settings a run takes by
//! default, and which compared run to keep.

use serde::Deserialize;
use wasm_bindgen::prelude::*;

use super::{from_js, from_js_strict, js_error, to_js};
use crate::data::{self, IMAGE_PIXELS, Sample};
use crate::model::Architecture;
use crate::samples;
use crate::transfer::{self, Settings, SettingsForm, Strategy, Task};

/// The ten digits' class names, "0" to "9" (adapt mode's classes).
#[wasm_bindgen]
pub fn digit_classes() -> Vec<String> {
    data::digit_names()
}

/// Bytes of one 28×28 image as the page holds it.
#[wasm_bindgen]
pub fn image_pixels() -> usize {
    IMAGE_PIXELS
}

/// Whether `classes` are the ten digits, which adapt the pretrained head ("adapt"), or a new
/// task's, which get a new head.
#[wasm_bindgen]
pub fn is_digit_task(classes: Vec<String>) -> bool {
    classes == data::digit_names()
}

/// The strategies Compare runs, in order: "head", "full", "scratch".
#[wasm_bindgen]
pub fn strategies() -> Vec<String> {
    Strategy::ALL.iter().map(|s| s.name().to_string()).collect()
}

/// The pretrained networks' names ("cnn", "mlp").
#[wasm_bindgen]
pub fn architectures() -> Vec<String> {
    Architecture::ALL
        .iter()
        .map(|a| a.name().to_string())
        .collect()
}

/// The batch size when the form leaves it empty (or all the training samples, if fewer).
#[wasm_bindgen]
pub fn auto_batch_size() -> usize {
    transfer::AUTO_BATCH
}

/// How large each setting may be, and why (`train::limits`): the form's `min`, `max` and hints
/// come from here, and the same table refuses what is past them.
#[wasm_bindgen]
pub fn settings_limits() -> Result<JsValue, JsError> {
    to_js(&crate::train::limits::ALL)
}

/// Whether a run on `device_kind` ("webgpu" or "cpu", as the worker names it) that failed with
/// `message` failed because of the device (lost, out of memory), and may go on on the CPU.
#[wasm_bindgen]
pub fn is_device_fault(message: &str, device_kind: &str) -> bool {
    device_kind
        .parse()
        .is_ok_and(|kind| crate::device::is_device_fault(message, kind))
}

/// The batch size Auto measures at for the form's `batch` (`null` when empty): that batch when
/// it is a whole number within its limit, else the automatic one (a run with another is refused
/// anyway, with the reason).
#[wasm_bindgen]
pub fn measured_batch_size(batch: Option<f64>) -> usize {
    let limit = crate::train::limits::BATCH_SIZE;
    match batch {
        Some(b) if b.fract() == 0.0 && b >= limit.min && b <= limit.max => b as usize,
        _ => transfer::AUTO_BATCH,
    }
}

/// A class a person adds to a new task: the name trimmed, or why not.
#[wasm_bindgen]
pub fn check_new_class(classes: Vec<String>, name: &str) -> Result<String, JsError> {
    samples::check_new_class(&classes, name).map_err(js_error)
}

/// A chosen file (samples or weights) is worth reading: not empty, not over the limit.
#[wasm_bindgen]
pub fn check_file_size(name: &str, bytes: f64) -> Result<(), JsError> {
    samples::check_file_size(name, bytes.max(0.0) as u64).map_err(js_error)
}

/// The settings a run takes when a person changes nothing, `adapt`ing the digits or in a new
/// task (`Settings::chosen`, the sweep's choices in docs/TRANSFER.md): the page's form
/// starts from these and resets to them.
#[wasm_bindgen]
pub fn default_settings(adapt: bool) -> Result<JsValue, JsError> {
    to_js(&Settings::chosen(adapt))
}

/// The settings form (plain numbers, batch size `null` for auto) checked against the task
/// (`classes`, and one label per sample): the typed settings a run takes, or the reason it
/// cannot start — the same reasons, in the same words, as the run itself and the CLI.
#[wasm_bindgen]
pub fn check_fine_tune(
    form: JsValue,
    classes: Vec<String>,
    labels: &[u8],
) -> Result<JsValue, JsError> {
    let form: SettingsForm = from_js_strict(form, "training settings")?;
    let settings = Settings::try_from(form).map_err(js_error)?;
    // Only which classes have samples matters here, not what they look like.
    let samples: Vec<Sample> = labels
        .iter()
        .map(|&label| Sample {
            image: [0; IMAGE_PIXELS],
            label: usize::from(label),
        })
        .collect();
    let task = Task {
        class_names: &classes,
        samples: &samples,
    };
    transfer::check_run(task, &settings, is_digit_task(classes.clone())).map_err(js_error)?;
    to_js(&settings)
}

/// Of compared runs' reports (the `report` of each result), the index of the one to keep.
#[wasm_bindgen]
pub fn best_run(reports: JsValue) -> Result<usize, JsError> {
    #[derive(Deserialize)]
    struct Validation {
        accuracy: f64,
    }
    #[derive(Deserialize)]
    struct Scored {
        validation: Option<Validation>,
    }
    let reports: Vec<Scored> = from_js(reports, "reports")?;
    let accuracies: Vec<Option<f64>> = reports
        .iter()
        .map(|r| r.validation.as_ref().map(|v| v.accuracy))
        .collect();
    transfer::best_run(&accuracies).ok_or_else(|| JsError::new("no runs to choose from"))
}
