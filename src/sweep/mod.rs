//! The evidence for the fine-tuning defaults: every target domain the project can make or
//! obtain, at a few shots per class and several seeds, fine-tuned with the settings varied
//! around a base ([`variants`]: one factor at a time, and at first some together); each run
//! measured on held-out samples of its domain (never used to train or to stop early) and, in
//! adapt mode, for forgetting on held-out MNIST. A search climbs from the base to the best
//! neighbour until the base is best ([`choose`]); the digit domains and the new-task ones are
//! searched apart, as only adapting can forget. Native only (it uses the synthetic domains).

mod domain;
mod table;

use burn::prelude::Device;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::Serialize;

pub use domain::{Domain, DomainError, domains, handwriting, optical_digits, transposed, typeset};
pub use table::{Summary, detail_table, mean_accuracy, paired_gain, summarise, summary_table};

use crate::data::first_per_class;
use crate::model::Classifier;
use crate::train::{self, Silent};
use crate::transfer::{self, AUTO_BATCH, FineTuneRequest, Settings, SourceDigits, Strategy, Task};
use crate::weights::WeightsInfo;

/// The most held-out MNIST accuracy a default may cost in adapt mode, on average (0.5 point).
pub const MAX_FORGETTING: f64 = 0.005;
/// The most images a default may train on per class, on average over the runs with the most
/// shots: the work of a run, counted rather than timed so that the choice does not depend on
/// the machine's load, and per class so that a task of 26 classes may take longer than one of
/// 3. The page's CPU builds train the `cnn` on about 1,000 (one thread) to 2,400 (two) images
/// a second: a 10-class task at this bound takes about 4 to 10 s there.
pub const MAX_IMAGES_PER_CLASS: f64 = 1000.0;

/// One setting tried: a name for the table and the settings.
#[derive(Clone, Debug, Serialize)]
pub struct Variant {
    pub name: String,
    pub settings: Settings,
}

/// `base`, then each factor changed on its own: strategy, learning rate (÷3, ×3), epochs
/// (½, ×2), patience (off, ×2), batch size, augmentation, weight decay and rehearsal (each
/// turned on when off, else off or halved and ×2 or ×10; `adapt` only, as a new task has no
/// digits to rehearse). With `joint`, also the corners of [`corners`]. A fresh network's
/// search (a `scratch` base) keeps its strategy: it chooses the baseline's own settings.
pub fn variants(base: &Settings, adapt: bool, joint: bool) -> Vec<Variant> {
    let mut out = one_factor(base, adapt);
    if joint && base.strategy != Strategy::Scratch {
        for corner in corners(base, adapt) {
            if !out.iter().any(|v| v.settings == corner.settings) {
                out.push(corner);
            }
        }
    }
    out
}

/// The factors that trade accuracy against forgetting, changed together: strategy (head,
/// full) × learning rate (×1, ×3) × rehearsal (×1, ×4; `adapt` only). One factor at a time
/// cannot find a higher learning rate that more rehearsal keeps within the bound.
pub fn corners(base: &Settings, adapt: bool) -> Vec<Variant> {
    let rehearsals = if adapt {
        vec![base.rehearsal, (base.rehearsal * 4).max(16)]
    } else {
        vec![base.rehearsal]
    };
    let mut out = Vec::new();
    for strategy in [Strategy::Head, Strategy::Full] {
        for learning_rate in [base.learning_rate, scaled(base.learning_rate, 3.0)] {
            for &rehearsal in &rehearsals {
                let mut name = format!("{strategy}, learning rate {learning_rate:.2e}");
                if adapt {
                    name += &format!(", rehearsal {rehearsal}");
                }
                out.push(Variant {
                    name,
                    settings: Settings {
                        strategy,
                        learning_rate,
                        rehearsal,
                        ..base.clone()
                    },
                });
            }
        }
    }
    out
}

/// `rate` × `by` to 4 significant digits, so that a default taken from the sweep reads as
/// typed (0.009, not 0.009000000000000001).
fn scaled(rate: f64, by: f64) -> f64 {
    let exact = rate * by;
    format!("{exact:.3e}").parse().unwrap_or(exact)
}

fn one_factor(base: &Settings, adapt: bool) -> Vec<Variant> {
    let with = |name: String, change: &dyn Fn(&mut Settings)| {
        let mut settings = base.clone();
        change(&mut settings);
        Variant { name, settings }
    };
    let mut out = vec![with("base".into(), &|_| {})];
    let strategies = match base.strategy {
        Strategy::Scratch => Vec::new(),
        own => Strategy::ALL.into_iter().filter(|s| *s != own).collect(),
    };
    for strategy in strategies {
        out.push(with(format!("strategy {strategy}"), &|s| {
            s.strategy = strategy
        }));
    }
    for lr in [
        scaled(base.learning_rate, 1.0 / 3.0),
        scaled(base.learning_rate, 3.0),
    ] {
        out.push(with(format!("learning rate {lr:.2e}"), &|s| {
            s.learning_rate = lr
        }));
    }
    for epochs in [(base.epochs / 2).max(1), base.epochs * 2] {
        out.push(with(format!("{epochs} epochs"), &|s| s.epochs = epochs));
    }
    // Off is the neighbour worth knowing for patience (never stop early).
    let patiences = match base.patience {
        0 => vec![5],
        p => vec![0, p * 2],
    };
    for patience in patiences {
        out.push(with(format!("patience {patience}"), &|s| {
            s.patience = patience
        }));
    }
    let batches = match base.batch_size {
        None => vec![Some(AUTO_BATCH / 2), Some(AUTO_BATCH * 2)],
        Some(b) => vec![None, Some(if b > 8 { b / 2 } else { b * 2 })],
    };
    for batch in batches {
        let name = batch.map_or("batch auto".into(), |b| format!("batch {b}"));
        out.push(with(name, &|s| s.batch_size = batch));
    }
    let augment = !base.augment;
    out.push(with(
        format!("augmentation {}", if augment { "on" } else { "off" }),
        &|s| s.augment = augment,
    ));
    let decays = if base.weight_decay == 0.0 {
        vec![1e-4]
    } else {
        vec![0.0, base.weight_decay * 10.0]
    };
    for decay in decays {
        out.push(with(format!("weight decay {decay:.0e}"), &|s| {
            s.weight_decay = decay
        }));
    }
    let rehearsals = match base.rehearsal {
        _ if !adapt => vec![],
        0 => vec![16],
        r => vec![r / 2, r * 2],
    };
    for rehearsal in rehearsals {
        out.push(with(format!("rehearsal {rehearsal}"), &|s| {
            s.rehearsal = rehearsal
        }));
    }
    out
}

/// The setting to take: the best mean target accuracy among those that forget at most
/// [`MAX_FORGETTING`] in adapt mode and train on at most [`MAX_IMAGES_PER_CLASS`]; when none forgets so
/// little, the one that forgets least (a search then climbs toward the bound first). Ties go
/// to the earlier variant, and the base (the first) stays unless the best is
/// [`clearly_better`]. A setting with a fixed batch is never taken ([`may_be_default`]): the
/// page refuses a batch larger than the training samples (a person's first few drawings), where
/// the sweep lowers it, so the batch stays automatic ([`crate::transfer::AUTO_BATCH`]) and the
/// batch variants say what another size would do. None when no variant is quick enough.
pub fn choose<'a>(variants: &'a [Variant], outcomes: &[Outcome]) -> Option<&'a Variant> {
    let quick: Vec<(&Variant, Summary)> = variants
        .iter()
        .filter(|v| may_be_default(v, outcomes))
        .map(|v| (v, summarise(outcomes, &v.name)))
        .collect();
    let forgetting = |s: &Summary| s.forgetting.unwrap_or(0.0);
    let first_max = |score: &dyn Fn(&Summary) -> f64| {
        quick
            .iter()
            .fold(
                None,
                |best: Option<&(&Variant, Summary)>, candidate| match best {
                    Some(b) if score(&b.1) >= score(&candidate.1) => Some(b),
                    _ => Some(candidate),
                },
            )
            .map(|(v, _)| *v)
    };
    if quick.iter().any(|(_, s)| forgetting(s) <= MAX_FORGETTING) {
        let best = first_max(&|s| {
            if forgetting(s) <= MAX_FORGETTING {
                s.accuracy
            } else {
                f64::NEG_INFINITY
            }
        })?;
        // The base, where it may stay, gives way only to a clear gain: without this a search
        // near the top climbs on noise (e.g. doubling epochs that early stopping never reaches).
        let base = quick
            .first()
            .filter(|(v, s)| v.name == variants[0].name && forgetting(s) <= MAX_FORGETTING);
        match base {
            Some((base, _)) if !clearly_better(outcomes, &base.name, &best.name) => Some(base),
            _ => Some(best),
        }
    } else {
        first_max(&|s| -forgetting(s))
    }
}

/// Whether `other` beats `base` by more than chance: its paired gain is more than twice its
/// standard error ([`paired_gain`]). With too few pairs to tell, any gain.
pub fn clearly_better(outcomes: &[Outcome], base: &str, other: &str) -> bool {
    match paired_gain(outcomes, base, other) {
        Some((gain, error)) => gain > 2.0 * error,
        None => summarise(outcomes, other).accuracy > summarise(outcomes, base).accuracy,
    }
}

/// Whether [`choose`] may take `variant` at all, whatever its accuracy: it ran, keeps the batch
/// automatic, and trains on at most [`MAX_IMAGES_PER_CLASS`] images a class.
pub fn may_be_default(variant: &Variant, outcomes: &[Outcome]) -> bool {
    let s = summarise(outcomes, &variant.name);
    variant.settings.batch_size.is_none()
        && s.runs > 0
        && s.slowest_images_per_class <= MAX_IMAGES_PER_CLASS
}

/// One run's figures.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub variant: String,
    pub domain: &'static str,
    pub shots: usize,
    pub seed: u64,
    /// On the domain's test set.
    pub accuracy: f64,
    /// Held-out MNIST accuracy before − after (adapt mode).
    pub forgetting: Option<f64>,
    pub seconds: f64,
    /// Images trained on (samples and rehearsal digits, every epoch run).
    pub images: usize,
    /// The task's classes.
    pub classes: usize,
}

/// How many images a run trained on: its training split and the rehearsal digits of every
/// batch, each epoch it ran.
fn images_trained(report: &transfer::FineTuneReport) -> usize {
    let batch = report.config.batch_size.max(1);
    let batches = report.train_samples.div_ceil(batch);
    report.history.len() * (report.train_samples + batches * report.config.rehearsal)
}

/// The pretrained network, the MNIST digits for rehearsal and forgetting, and the device.
pub struct Bench<'a> {
    pub model: &'a Classifier,
    pub info: &'a WeightsInfo,
    pub source: SourceDigits<'a>,
    pub device: &'a Device,
}

impl Bench<'_> {
    /// Fine-tune on `shots` samples per class of `domain` (which ones: from `seed`) with
    /// `variant`, and measure. Rehearsal is left out of a new task (it needs the digits); a
    /// batch size larger than the training split is lowered to it.
    pub async fn run(
        &self,
        domain: &Domain,
        shots: usize,
        seed: u64,
        variant: &Variant,
    ) -> Result<Outcome, transfer::TransferError> {
        let mut pool = domain.pool.clone();
        pool.shuffle(&mut StdRng::seed_from_u64(seed));
        let samples = first_per_class(&pool, shots);
        let adapt = domain.classes == self.info.class_names;
        let settings = Settings {
            seed,
            rehearsal: if adapt { variant.settings.rehearsal } else { 0 },
            ..variant.settings.clone()
        };
        let task = Task {
            class_names: &domain.classes,
            samples: &samples,
        };
        let request = |settings| FineTuneRequest {
            pretrained: self.model,
            info: self.info,
            task,
            settings,
            source: self.source,
            resume: None,
        };
        let tuned = match transfer::fine_tune(request(&settings), self.device, &mut Silent).await {
            // A batch larger than the few shots leave: all of them, as a person would choose.
            Err(transfer::TransferError::BatchTooLarge { samples, .. }) => {
                let fewer = Settings {
                    batch_size: Some(samples),
                    ..settings.clone()
                };
                transfer::fine_tune(request(&fewer), self.device, &mut Silent).await?
            }
            result => result?,
        };
        let accuracy = train::evaluate(&tuned.model, &domain.test, self.device)
            .await?
            .accuracy();
        Ok(Outcome {
            variant: variant.name.clone(),
            domain: domain.name,
            shots,
            seed,
            accuracy,
            forgetting: tuned.report.forgetting,
            seconds: tuned.report.seconds,
            images: images_trained(&tuned.report),
            classes: domain.classes.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(base: &Settings) -> Vec<String> {
        variants(base, true, false)
            .into_iter()
            .map(|v| v.name)
            .collect()
    }

    #[test]
    fn variants_change_one_factor_each_around_the_base() {
        let base = Settings {
            strategy: Strategy::Full,
            epochs: 30,
            batch_size: None,
            learning_rate: 1e-3,
            weight_decay: 0.0,
            augment: false,
            patience: 5,
            rehearsal: 0,
            ..Settings::default()
        };
        assert_eq!(
            names(&base),
            [
                "base",
                "strategy head",
                "strategy scratch",
                "learning rate 3.33e-4",
                "learning rate 3.00e-3",
                "15 epochs",
                "60 epochs",
                "patience 0",
                "patience 10",
                "batch 4",
                "batch 16",
                "augmentation on",
                "weight decay 1e-4",
                "rehearsal 16",
            ]
        );
        for v in variants(&base, true, false).iter().skip(1) {
            let differences = [
                v.settings.strategy != base.strategy,
                v.settings.learning_rate != base.learning_rate,
                v.settings.epochs != base.epochs,
                v.settings.patience != base.patience,
                v.settings.batch_size != base.batch_size,
                v.settings.augment != base.augment,
                v.settings.weight_decay != base.weight_decay,
                v.settings.rehearsal != base.rehearsal,
            ];
            assert_eq!(differences.iter().filter(|d| **d).count(), 1, "{}", v.name);
        }
        let on = Settings {
            batch_size: Some(32),
            weight_decay: 1e-4,
            rehearsal: 16,
            patience: 0,
            ..base
        };
        let names = names(&on);
        for expected in [
            "batch auto",
            "batch 16",
            "weight decay 0e0",
            "weight decay 1e-3",
            "rehearsal 8",
            "rehearsal 32",
            "patience 5",
        ] {
            assert!(
                names.contains(&expected.to_string()),
                "{expected}: {names:?}"
            );
        }
    }

    #[test]
    fn a_new_task_varies_no_rehearsal_and_the_joint_round_adds_the_corners() {
        let base = Settings::new_task();
        let new_task = variants(&base, false, false);
        assert!(new_task.iter().all(|v| v.settings.rehearsal == 0));
        assert_eq!(new_task.len(), variants(&base, true, false).len() - 1);
        // Head at ×1 is the base, full at ×1 and head at ×3 are one factor away: one corner
        // is new in a new task; in adapt mode four more change rehearsal too.
        assert_eq!(variants(&base, false, true).len(), new_task.len() + 1);
        let adapt = Settings::default();
        let joint = variants(&adapt, true, true);
        let one = variants(&adapt, true, false);
        assert_eq!(joint.len(), one.len() + 5, "{:?}", names(&adapt));
        let expected = Settings {
            strategy: Strategy::Full,
            learning_rate: scaled(adapt.learning_rate, 3.0),
            rehearsal: adapt.rehearsal * 4,
            ..adapt.clone()
        };
        let name = format!(
            "full, learning rate {:.2e}, rehearsal {}",
            expected.learning_rate, expected.rehearsal
        );
        let full_fast = joint.iter().find(|v| v.name == name).map(|v| &v.settings);
        assert_eq!(full_fast, Some(&expected));
        let settings: Vec<&Settings> = joint.iter().map(|v| &v.settings).collect();
        for (i, s) in settings.iter().enumerate() {
            assert!(!settings[..i].contains(s), "tried twice: {s:?}");
        }
    }

    #[test]
    fn a_fresh_networks_search_keeps_its_strategy() {
        let base = Settings::scratch();
        let fresh = variants(&base, false, true);
        assert!(
            fresh
                .iter()
                .all(|v| v.settings.strategy == Strategy::Scratch)
        );
        // No corners (they vary the strategy) and no other strategy: the one-factor changes
        // of everything else.
        assert!(
            !fresh
                .iter()
                .any(|v| v.name.contains("strategy") || v.name.contains(','))
        );
        assert_eq!(fresh.len(), variants(&base, false, false).len());
        assert!(fresh.iter().any(|v| v.name.starts_with("learning rate")));
    }

    fn outcome(variant: &str, accuracy: f64, forgetting: f64, images: usize) -> Outcome {
        Outcome {
            variant: variant.into(),
            domain: "d",
            shots: 5,
            seed: 1,
            accuracy,
            forgetting: Some(forgetting),
            seconds: 1.0,
            images,
            classes: 4,
        }
    }

    #[test]
    fn the_choice_is_the_most_accurate_setting_that_keeps_mnist_and_is_quick() {
        let variants = variants(&Settings::default(), true, false);
        let (base, fast, forgetful, slow) = (
            &variants[0].name,
            &variants[1].name,
            &variants[2].name,
            &variants[3].name,
        );
        let outcomes = [
            outcome(base, 0.90, 0.004, 100),
            outcome(fast, 0.92, 0.005, 100),
            outcome(forgetful, 0.99, 0.006, 100),
            outcome(slow, 0.99, 0.0, 4 * MAX_IMAGES_PER_CLASS as usize + 1),
        ];
        assert_eq!(choose(&variants, &outcomes).map(|v| &v.name), Some(fast));
        // A tie keeps the earlier, the base.
        let tie = [outcome(base, 0.9, 0.0, 100), outcome(fast, 0.9, 0.0, 100)];
        assert_eq!(choose(&variants, &tie).map(|v| &v.name), Some(base));
        // None forgets little enough: the one that forgets least, toward the bound.
        let all_forget = [
            outcome(base, 0.9, 0.02, 100),
            outcome(fast, 0.8, 0.01, 100),
            outcome(forgetful, 0.99, 0.03, 100),
        ];
        assert_eq!(choose(&variants, &all_forget).map(|v| &v.name), Some(fast));
        assert!(choose(&variants, &outcomes[3..]).is_none());
        assert!(may_be_default(&variants[1], &outcomes));
        assert!(!may_be_default(&variants[3], &outcomes), "too slow");
        assert!(!may_be_default(&variants[1], &outcomes[2..]), "never ran");
    }

    #[test]
    fn the_base_gives_way_only_to_a_clear_gain() {
        let variants = variants(&Settings::default(), true, false);
        let (base, noisy, clear) = (&variants[0].name, &variants[1].name, &variants[2].name);
        // One run a seed, paired with the base's run of the same seed.
        let seeded = |name: &str, accuracies: [f64; 4]| -> Vec<Outcome> {
            (1..)
                .zip(accuracies)
                .map(|(seed, accuracy)| Outcome {
                    seed,
                    ..outcome(name, accuracy, 0.0, 100)
                })
                .collect()
        };
        let base_runs = seeded(base, [0.80, 0.90, 0.70, 0.85]);
        // Ahead on average (+0.25 point) but as often behind as ahead: noise.
        let noisy_runs = seeded(noisy, [0.82, 0.86, 0.74, 0.84]);
        let outcomes = [&base_runs[..], &noisy_runs].concat();
        let (gain, error) = paired_gain(&outcomes, base, noisy).expect("four pairs");
        assert!(
            (gain - 0.0025).abs() < 1e-9 && error > 0.01,
            "{gain} ± {error}"
        );
        assert_eq!(choose(&variants, &outcomes).map(|v| &v.name), Some(base));
        // Ahead by 3 points on every pair: clear, though behind the noisy one's best seed.
        let clear_runs = seeded(clear, [0.83, 0.93, 0.73, 0.88]);
        let outcomes = [&base_runs[..], &noisy_runs, &clear_runs].concat();
        assert!(clearly_better(&outcomes, base, clear));
        assert!(!clearly_better(&outcomes, base, noisy));
        assert_eq!(choose(&variants, &outcomes).map(|v| &v.name), Some(clear));
    }
}
