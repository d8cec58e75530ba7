//! Transfer learning: fine-tuning a pretrained network on a small labelled set.
//!
//! - **Strategies**: head-only (backbone frozen), full (backbone at a tenth of the head's
//!   learning rate), scratch (same architecture, fresh weights: the baseline).
//! - **Same task or new task**: the ten digit classes keep the pretrained head ("adapt to my
//!   handwriting"); other class names get a new head of that size on the pretrained backbone.
//! - **Adapting some digits**: in adapt mode a person may label only the digits they write
//!   differently; MNIST digits of the others join training, so the head keeps them.
//! - [`split`](split_validation): training and validation samples, class by class.

mod insight;
mod online;
mod report;
mod settings;
mod split;

pub use insight::{FeatureMap, MapPoint, Mistake, SourcePoint};
pub use online::{can_learn, classes_in_turn, online_learner};
pub use report::FineTuneReport;
use report::trained_with;
pub use settings::{AUTO_BATCH, Settings, SettingsForm};
pub use split::{classes_without_samples, split_validation};

use std::sync::{Mutex, PoisonError};

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::Device;
use serde::Serialize;
use thiserror::Error;

use crate::data::Sample;
use crate::model::Classifier;
use crate::train::{self, BackboneMode, Observer, TrainConfig, TrainError, TrainSets};
use crate::weights::WeightsInfo;

/// The backbone's learning rate relative to the head's in the `full` strategy. Small enough
/// that a few noisy samples cannot wreck pretrained features, large enough to adapt them.
pub const FULL_BACKBONE_LR_SCALE: f64 = 0.1;

/// How to fine-tune.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Freeze the backbone; train only the head (the default: `Settings::default`).
    #[default]
    Head,
    /// Train everything, the backbone at [`FULL_BACKBONE_LR_SCALE`] × the learning rate.
    Full,
    /// Fresh weights of the same architecture, everything trained: what transfer is measured against.
    Scratch,
}

impl Strategy {
    pub const ALL: [Strategy; 3] = [Strategy::Head, Strategy::Full, Strategy::Scratch];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Head => "head",
            Strategy::Full => "full",
            Strategy::Scratch => "scratch",
        }
    }

    /// How this strategy trains the backbone.
    pub fn backbone_mode(self) -> BackboneMode {
        match self {
            Strategy::Head => BackboneMode::Frozen,
            Strategy::Full => BackboneMode::Train {
                lr_scale: FULL_BACKBONE_LR_SCALE,
            },
            Strategy::Scratch => BackboneMode::Train { lr_scale: 1.0 },
        }
    }
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Strategy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "head" | "head-only" => Ok(Strategy::Head),
            "full" => Ok(Strategy::Full),
            "scratch" => Ok(Strategy::Scratch),
            _ => Err(format!(
                "unknown strategy `{s}`: expected `head`, `full` or `scratch`"
            )),
        }
    }
}

/// Why a fine-tuning run cannot start.
#[derive(Debug, Error, PartialEq)]
pub enum TransferError {
    #[error("a classifier needs at least 2 classes, got {0}")]
    TooFewClasses(usize),
    #[error("class names must be distinct and non-empty: {0:?}")]
    BadClassNames(Vec<String>),
    #[error(
        "the validation split must be at least 0 and at most {max}, not {0}: {why}",
        max = crate::train::limits::VALIDATION_SPLIT.max,
        why = crate::train::limits::VALIDATION_SPLIT.why
    )]
    BadSplit(f64),
    #[error(
        "{} {} no samples: label at least one sample of each class",
        listed(.0), agree(.0, ("has", "have"))
    )]
    EmptyClasses(Vec<String>),
    #[error("{field} must be a whole number of at least {min}, not {value}")]
    NotACount {
        field: &'static str,
        value: f64,
        min: usize,
    },
    #[error(
        "{} {} no samples, and there are no MNIST digits to keep {} with: label at least one sample of each digit",
        listed(.0), agree(.0, ("has", "have")), agree(.0, ("it", "them"))
    )]
    KeptWithoutSource(Vec<String>),
    #[error("there are no samples: label at least one")]
    NoSamples,
    #[error("the validation split leaves nothing to train on")]
    NothingToTrain,
    #[error(
        "the batch size ({batch}) is larger than the {samples} training samples left after the validation split: choose a batch size of at most {samples}, or label more samples"
    )]
    BatchTooLarge { batch: usize, samples: usize },
    #[error(
        "the checkpoint to go on from does not fit this run ({0}); start the run again instead"
    )]
    BadCheckpoint(String),
    #[error("{0}")]
    Train(#[from] TrainError),
}

/// `“0”, “1” and “2”` and the like.
pub(crate) fn listed(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("“{n}”")).collect();
    match quoted.as_slice() {
        [rest @ .., last] if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// `verbs.0` for one name, `verbs.1` for more.
pub(crate) fn agree(names: &[String], verbs: (&'static str, &'static str)) -> &'static str {
    if names.len() == 1 { verbs.0 } else { verbs.1 }
}

/// What the person wants learnt: their class names and labelled samples.
#[derive(Clone, Copy, Debug)]
pub struct Task<'a> {
    pub class_names: &'a [String],
    pub samples: &'a [Sample],
}

impl Task<'_> {
    /// Refuse a task that cannot train, before a network is touched: fewer than two classes,
    /// names that are empty or repeated, no samples, or a class without samples where the
    /// run has nothing else to keep it by (a new head, not `adapt`ing the digits).
    pub fn check(&self, adapt: bool) -> Result<(), TransferError> {
        check_class_names(self.class_names)?;
        let empty = classes_without_samples(self.samples, self.class_names.len());
        if !adapt && !empty.is_empty() {
            let names = empty.iter().map(|&c| self.class_names[c].clone());
            return Err(TransferError::EmptyClasses(names.collect()));
        }
        if self.samples.is_empty() {
            return Err(TransferError::NoSamples);
        }
        Ok(())
    }
}

/// Everything that can be refused before a run starts, with the run's own messages: the
/// settings and the task (`adapt`: the pretrained digits, where a class may be left empty).
pub fn check_run(task: Task<'_>, settings: &Settings, adapt: bool) -> Result<(), TransferError> {
    settings.check()?;
    task.check(adapt)?;
    Ok(())
}

/// At least two class names, distinct and not blank.
fn check_class_names(class_names: &[String]) -> Result<(), TransferError> {
    if class_names.len() < 2 {
        return Err(TransferError::TooFewClasses(class_names.len()));
    }
    let distinct: std::collections::HashSet<&String> = class_names.iter().collect();
    if distinct.len() != class_names.len() || class_names.iter().any(|n| n.trim().is_empty()) {
        return Err(TransferError::BadClassNames(class_names.to_vec()));
    }
    Ok(())
}

/// Which of several runs on the same samples to keep: the highest validation accuracy
/// (`None`: no validation split, counted as 0), the first of equals. `None` for no runs.
pub fn best_run(validation_accuracies: &[Option<f64>]) -> Option<usize> {
    let score = |i: usize| validation_accuracies[i].unwrap_or(0.0);
    (0..validation_accuracies.len()).reduce(|best, i| if score(i) > score(best) { i } else { best })
}

/// Source-domain digits a run can use: for rehearsal, and to measure forgetting.
#[derive(Clone, Copy, Debug, Default)]
pub struct SourceDigits<'a> {
    /// Mixed into batches when `Settings::rehearsal` > 0.
    pub rehearsal: &'a [Sample],
    /// Measured before and after, in adapt mode (may be empty: no forgetting figure).
    pub held_out: &'a [Sample],
}

/// The weights after an epoch of a run that was interrupted (a lost GPU): the run can go on
/// from them, on another device, instead of starting again.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    pub model: Classifier,
    /// Epochs completed (1-based count).
    pub epoch: usize,
}

/// A fine-tuned network, its description and its report.
#[derive(Debug)]
pub struct FineTuned {
    pub model: Classifier,
    pub info: WeightsInfo,
    pub report: FineTuneReport,
}

/// One fine-tuning run, as asked for: the starting network, the person's task, their
/// settings, the MNIST digits it may use, and optionally a checkpoint to go on from.
#[derive(Clone, Copy, Debug)]
pub struct FineTuneRequest<'a> {
    pub pretrained: &'a Classifier,
    pub info: &'a WeightsInfo,
    pub task: Task<'a>,
    pub settings: &'a Settings,
    pub source: SourceDigits<'a>,
    /// Go on from a checkpoint of the same run (same task and settings) instead of starting
    /// afresh, e.g. on the CPU after the GPU was lost.
    pub resume: Option<&'a Checkpoint>,
}

/// One whole fine-tuning run: split, choose the starting network, train, measure. Shared by
/// the CLI and the page, so both do exactly the same thing.
pub async fn fine_tune(
    request: FineTuneRequest<'_>,
    device: &Device,
    observer: &mut impl Observer,
) -> Result<FineTuned, TransferError> {
    let started = web_time::Instant::now();
    let FineTuneRequest {
        pretrained,
        settings,
        source,
        resume,
        ..
    } = request;
    let Plan {
        adapt,
        start,
        info: out_info,
        samples,
        config,
    } = plan(request, device)?;
    let split::TrainingSamples {
        train: train_set,
        validation,
        own_train,
        kept_by_rehearsal,
        notes,
    } = samples;
    let validation_accuracy_before = insight::accuracy_on(&start, &validation, device).await?;
    let sets = TrainSets {
        train: &train_set,
        validation: &validation,
        // MNIST digits are only mixed into the digits' own task: a new head has other classes.
        rehearsal: if adapt { source.rehearsal } else { &[] },
    };
    let outcome = match resume {
        Some(from) => {
            let model = from.model.clone().fork(device);
            train::fit_from(&model, sets, &config, from.epoch, device, observer).await?
        }
        None => train::fit(&start, sets, &config, device, observer).await?,
    };
    // Forgetting is about the digits, so only adapt mode measures it.
    let look = insight::Look {
        pretrained,
        tuned: &outcome.model,
        samples: request.task.samples,
        validation: &validation,
        source: if adapt { source.held_out } else { &[] },
    };
    let measured = look.measure(device).await?;
    let report = FineTuneReport {
        strategy: settings.strategy,
        architecture: out_info.architecture,
        class_names: out_info.class_names.clone(),
        new_head: !adapt,
        train_samples: own_train,
        validation_samples: validation.len(),
        kept_samples: train_set.len() - own_train,
        kept_by_rehearsal,
        notes,
        trained_with: trained_with(&config),
        config,
        history: outcome.history,
        best_epoch: outcome.best_epoch,
        stopped: outcome.stopped,
        early_stopped: outcome.early_stopped,
        validation_accuracy_before,
        validation: measured.validation,
        source_accuracy_before: measured.source_before,
        source_accuracy_after: measured.source_after,
        forgetting: (measured.source_before)
            .zip(measured.source_after)
            .map(|(b, a)| b - a),
        feature_map: Some(measured.feature_map),
        mistakes: measured.mistakes,
        resumed_after_epoch: resume.map(|c| c.epoch),
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok(FineTuned {
        model: outcome.model,
        info: out_info,
        report,
    })
}

/// What a run will do, decided before it trains: the network it starts from, its samples and
/// its training configuration.
struct Plan {
    /// The pretrained digits' classes (adapt mode), rather than a new head.
    adapt: bool,
    start: Classifier,
    info: WeightsInfo,
    samples: split::TrainingSamples,
    config: TrainConfig,
}

/// Check a request and plan its run; every refusal happens here, before any training.
fn plan(request: FineTuneRequest<'_>, device: &Device) -> Result<Plan, TransferError> {
    let FineTuneRequest {
        pretrained,
        info,
        task,
        settings,
        source,
        resume,
    } = request;
    let adapt = task.class_names == info.class_names.as_slice();
    check_run(task, settings, adapt)?;
    // Rehearsal mixes in MNIST digits: it keeps the pretrained digits while adapting them, and
    // a new head has no digits to keep, so it trains without (as the page's form shows).
    let without;
    let settings = if adapt || settings.rehearsal == 0 {
        settings
    } else {
        without = Settings {
            rehearsal: 0,
            ..settings.clone()
        };
        &without
    };
    let mut samples = split::training_samples(task, settings, source.rehearsal, adapt)?;
    let (start, info) = starting_point(
        pretrained,
        info,
        task.class_names,
        settings.strategy,
        settings.seed,
        device,
    )?;
    let batch_size = settings.batch_for(samples.train.len(), &mut samples.notes)?;
    if let Some(checkpoint) = resume {
        checkpoint.check_fits(&info, settings.epochs)?;
    }
    let config = settings.train_config(batch_size, !samples.validation.is_empty());
    config.validate()?;
    Ok(Plan {
        adapt,
        start,
        info,
        samples,
        config,
    })
}

impl Checkpoint {
    /// Refuse a checkpoint of another network or class count, or of a later epoch than the
    /// run has: going on from it would not be the same run.
    fn check_fits(&self, info: &WeightsInfo, epochs: usize) -> Result<(), TransferError> {
        let model = &self.model;
        if model.architecture() != info.architecture || model.classes() != info.class_names.len() {
            return Err(TransferError::BadCheckpoint(format!(
                "{} with {} classes, the run needs {} with {}",
                model.architecture(),
                model.classes(),
                info.architecture,
                info.class_names.len()
            )));
        }
        if self.epoch > epochs {
            return Err(TransferError::BadCheckpoint(format!(
                "epoch {} of a {}-epoch run",
                self.epoch, epochs
            )));
        }
        Ok(())
    }
}

/// The network a strategy starts from, and its description. `class_names` equal to the
/// pretrained ones keep the pretrained head (adapt mode); any others get a new head.
pub fn starting_point(
    pretrained: &Classifier,
    info: &WeightsInfo,
    class_names: &[String],
    strategy: Strategy,
    seed: u64,
    device: &Device,
) -> Result<(Classifier, WeightsInfo), TransferError> {
    check_class_names(class_names)?;
    let out = WeightsInfo {
        architecture: info.architecture,
        class_names: class_names.to_vec(),
    };
    let classes = class_names.len();
    let model = match strategy {
        Strategy::Scratch => seeded(seed, device, || {
            Classifier::new(info.architecture, classes, device)
        }),
        _ if class_names == info.class_names.as_slice() => pretrained.clone(),
        _ => seeded(seed, device, || {
            pretrained.clone().with_new_head(classes, device)
        }),
    };
    Ok((model, out))
}

/// The CPU backend has one random generator for the whole process (`device.seed` sets it for
/// every thread), and burn draws a parameter's values when it is first used: a network made
/// fresh is made, and its values drawn, under this lock, so that runs on several threads (the
/// sweep's) start from the same values as they would one at a time.
static SEEDED: Mutex<()> = Mutex::new(());

fn seeded(seed: u64, device: &Device, make: impl FnOnce() -> Classifier) -> Classifier {
    let _drawing = SEEDED.lock().unwrap_or_else(PoisonError::into_inner);
    device.seed(seed);
    let model = make();
    model.visit(&mut Drawn);
    model
}

/// Draws every parameter's values.
struct Drawn;

impl ModuleVisitor for Drawn {
    fn visit_float<const D: usize>(&mut self, param: &Param<burn::Tensor<D>>) {
        let _ = param.val();
    }
}

/// The training settings of a strategy: `base` with the strategy's backbone mode.
pub fn train_config(strategy: Strategy, base: &TrainConfig) -> TrainConfig {
    TrainConfig {
        backbone: strategy.backbone_mode(),
        ..base.clone()
    }
}
