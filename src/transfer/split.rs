//! Which samples a run trains on and which it validates on: each class split on its own, and
//! in adapt mode the digits a person did not label kept by MNIST digits of those classes.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::{Settings, Task, TransferError, agree, listed};
use crate::data::Sample;

/// The samples a run trains and validates on, and what it says about them.
pub(super) struct TrainingSamples {
    pub train: Vec<Sample>,
    pub validation: Vec<Sample>,
    /// How many of `train` are the person's own (the rest keep unlabelled digits).
    pub own_train: usize,
    /// Adapt mode: the digits without samples, kept by MNIST digits of them.
    pub kept_by_rehearsal: Vec<String>,
    pub notes: Vec<String>,
}

/// Split a task's samples for a run; in adapt mode (`adapt`), digits without samples are kept
/// by MNIST digits of them from `source`, as many of each as the largest labelled class.
pub(super) fn training_samples(
    task: Task<'_>,
    settings: &Settings,
    source: &[Sample],
    adapt: bool,
) -> Result<TrainingSamples, TransferError> {
    let Task {
        class_names,
        samples,
    } = task;
    let (mut train, validation) = split_classes(
        samples,
        class_names,
        settings.validation_split,
        settings.seed,
        adapt,
    )?;
    let own_train = train.len();
    let kept = if adapt {
        classes_without_samples(samples, class_names.len())
    } else {
        Vec::new()
    };
    let kept_by_rehearsal: Vec<String> = kept.iter().map(|&c| class_names[c].clone()).collect();
    let mut notes = Vec::new();
    if !kept.is_empty() {
        let keeping = keeping_digits(&train, &kept, source, settings.seed);
        if keeping.is_empty() {
            return Err(TransferError::KeptWithoutSource(kept_by_rehearsal));
        }
        notes.push(format!(
            "{} {} kept by rehearsal: {} MNIST digits of {} joined training",
            listed(&kept_by_rehearsal),
            agree(&kept_by_rehearsal, ("was", "were")),
            keeping.len(),
            agree(&kept_by_rehearsal, ("it", "them"))
        ));
        train.extend(keeping);
    }
    Ok(TrainingSamples {
        train,
        validation,
        own_train,
        kept_by_rehearsal,
        notes,
    })
}

/// Split labelled samples into training and validation sets, class by class (so every class
/// with at least two samples is in both), reproducibly from `seed`. Every class must have a
/// sample.
pub fn split_validation(
    samples: &[Sample],
    class_names: &[String],
    fraction: f64,
    seed: u64,
) -> Result<(Vec<Sample>, Vec<Sample>), TransferError> {
    split_classes(samples, class_names, fraction, seed, false)
}

/// [`split_validation`] of the classes that have samples; with `allow_empty` false a class
/// without samples is refused.
pub(super) fn split_classes(
    samples: &[Sample],
    class_names: &[String],
    fraction: f64,
    seed: u64,
    allow_empty: bool,
) -> Result<(Vec<Sample>, Vec<Sample>), TransferError> {
    let limit = crate::train::limits::VALIDATION_SPLIT;
    if !(limit.min..=limit.max).contains(&fraction) {
        return Err(TransferError::BadSplit(fraction));
    }
    if !allow_empty {
        let empty = classes_without_samples(samples, class_names.len());
        if !empty.is_empty() {
            let names = empty.iter().map(|&c| class_names[c].clone()).collect();
            return Err(TransferError::EmptyClasses(names));
        }
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut train, mut validation) = (Vec::new(), Vec::new());
    for class in 0..class_names.len() {
        let mut members: Vec<&Sample> = samples.iter().filter(|s| s.label == class).collect();
        if members.is_empty() {
            continue;
        }
        members.shuffle(&mut rng);
        let wanted = (members.len() as f64 * fraction).round() as usize;
        // Keep at least one sample of each class for training.
        let held = if fraction > 0.0 && members.len() >= 2 {
            wanted.clamp(1, members.len() - 1)
        } else {
            wanted.min(members.len() - 1)
        };
        validation.extend(members[..held].iter().map(|s| (*s).clone()));
        train.extend(members[held..].iter().map(|s| (*s).clone()));
    }
    if train.is_empty() {
        return Err(TransferError::NothingToTrain);
    }
    Ok((train, validation))
}

/// The classes of `classes` that no sample has.
pub fn classes_without_samples(samples: &[Sample], classes: usize) -> Vec<usize> {
    let mut seen = vec![false; classes];
    for s in samples {
        if let Some(slot) = seen.get_mut(s.label) {
            *slot = true;
        }
    }
    (0..classes).filter(|&c| !seen[c]).collect()
}

/// Source digits that keep the classes a person did not label (`kept`): as many of each as
/// the most numerous labelled class has in `train`, so every class weighs the same; drawn
/// from `source` reproducibly from `seed`.
fn keeping_digits(train: &[Sample], kept: &[usize], source: &[Sample], seed: u64) -> Vec<Sample> {
    let mut counts = std::collections::HashMap::<usize, usize>::new();
    for s in train {
        *counts.entry(s.label).or_default() += 1;
    }
    let each = counts.values().copied().max().unwrap_or(1).max(1);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6b65_7074);
    kept.iter()
        .flat_map(|&class| {
            let mut pool: Vec<&Sample> = source.iter().filter(|s| s.label == class).collect();
            pool.shuffle(&mut rng);
            pool.into_iter().take(each).cloned().collect::<Vec<_>>()
        })
        .collect()
}
