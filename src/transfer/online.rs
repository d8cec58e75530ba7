//! Learning as a person labels ([`train::OnlineLearner`]), set up from the same settings and
//! starting point as a fine-tune, for the page's "Learn as I label" and `finetune --online`.

use burn::prelude::Device;

use super::{Settings, SourceDigits, Strategy, TransferError, starting_point};
use crate::data::Sample;
use crate::model::Classifier;
use crate::train::{OnlineConfig, OnlineLearner};
use crate::weights::WeightsInfo;

/// A learner for `class_names` starting from `start`, described by `info` (the pretrained
/// network, or one of those classes that live learning or a fine-tune left): the head learns, at the
/// settings' learning rate and weight decay; while adapting the pretrained digits it rehearses
/// twice the settings' number of MNIST digits in every step (a new task has no digits to keep).
pub fn online_learner(
    start: &Classifier,
    info: &WeightsInfo,
    class_names: &[String],
    settings: &Settings,
    source: SourceDigits<'_>,
    adapt: bool,
    device: &Device,
) -> Result<(OnlineLearner, WeightsInfo), TransferError> {
    settings.check()?;
    // `start` keeps its head when `info` names the same classes; else it gets a new one.
    let (model, out) = starting_point(
        start,
        info,
        class_names,
        Strategy::Head,
        settings.seed,
        device,
    )?;
    // An update runs after every label, so each sample is stepped on far more often than in
    // one run: twice the run's rehearsal a step keeps the digits as well as a run keeps them.
    let rehearsal = if adapt { settings.rehearsal * 2 } else { 0 };
    let config = OnlineConfig {
        learning_rate: settings.learning_rate,
        weight_decay: settings.weight_decay,
        rehearsal,
        seed: settings.seed,
        ..OnlineConfig::default()
    };
    let source = if rehearsal > 0 { source.rehearsal } else { &[] };
    Ok((OnlineLearner::new(&model, config, source, device)?, out))
}

/// Whether live learning has something to learn: while adapting the digits, any sample (the
/// other digits are kept by rehearsal); in a new task, samples of at least two classes (one
/// class alone teaches nothing to tell apart).
/// `labels`: the samples' classes.
pub fn can_learn(labels: impl IntoIterator<Item = usize>, adapt: bool) -> bool {
    let mut labels = labels.into_iter();
    match labels.next() {
        None => false,
        Some(first) => adapt || labels.any(|label| label != first),
    }
}

/// `samples` in the order a person labelling "a few of each" gives them: the classes in turn
/// (the first of each class, then the second of each, …), each class in its own order. The
/// order `finetune --online` replays a set in.
pub fn classes_in_turn(samples: &[Sample]) -> Vec<Sample> {
    let mut by_class: std::collections::BTreeMap<usize, std::collections::VecDeque<&Sample>> =
        std::collections::BTreeMap::new();
    for s in samples {
        by_class.entry(s.label).or_default().push_back(s);
    }
    let mut out = Vec::with_capacity(samples.len());
    while out.len() < samples.len() {
        for queue in by_class.values_mut() {
            if let Some(s) = queue.pop_front() {
                out.push(s.clone());
            }
        }
    }
    out
}
