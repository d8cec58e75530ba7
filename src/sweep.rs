//! The evidence for the fine-tuning defaults: every target domain the project can make, at a
//! few shots per class and several seeds, fine-tuned with variations of the settings one
//! factor at a time around a base; each run measured on held-out samples of its domain (never
//! used to train or to stop early) and, in adapt mode, for forgetting on held-out MNIST.
//! Native only (it uses the synthetic domains).

use burn::prelude::Device;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::Serialize;

use crate::data::{IMAGE_PIXELS, Sample, digit_names, first_per_class};
use crate::model::Classifier;
use crate::synthetic::{self, SYMBOL_NAMES};
use crate::train::{self, Silent};
use crate::transfer::{self, FineTuneRequest, Settings, SourceDigits, Strategy, Task};
use crate::weights::WeightsInfo;

/// A target domain: where the few-shot samples are drawn from, and its own test set.
pub struct Domain {
    pub name: &'static str,
    pub classes: Vec<String>,
    /// Candidates for the training shots.
    pub pool: Vec<Sample>,
    /// Measured only.
    pub test: Vec<Sample>,
}

/// Rows and columns swapped: MNIST digits in a style the pretrained network has never seen.
pub fn transposed(sample: &Sample) -> Sample {
    let mut image = [0u8; IMAGE_PIXELS];
    for (i, v) in image.iter_mut().enumerate() {
        *v = sample.image[(i % 28) * 28 + i / 28];
    }
    Sample {
        image,
        label: sample.label,
    }
}

/// The domains: typeset digits (`fonts`), transposed MNIST digits (the training split for
/// shots, the held-out split for the test), and drawn symbols as a new three-class task;
/// `test_per_class` samples of each class to measure on.
pub fn domains(
    fonts: &[ab_glyph::FontVec],
    mnist_train: &[Sample],
    mnist_held_out: &[Sample],
    test_per_class: usize,
) -> Vec<Domain> {
    let transposed_set = |set: &[Sample], n| -> Vec<Sample> {
        first_per_class(set, n).iter().map(transposed).collect()
    };
    vec![
        Domain {
            name: "typeset digits",
            classes: digit_names(),
            pool: synthetic::font_digits(fonts, 20, 1),
            test: synthetic::font_digits(fonts, test_per_class, 100),
        },
        Domain {
            name: "transposed MNIST",
            classes: digit_names(),
            pool: transposed_set(mnist_train, 20),
            test: transposed_set(mnist_held_out, test_per_class),
        },
        Domain {
            name: "drawn symbols (new task)",
            classes: SYMBOL_NAMES.iter().map(|s| s.to_string()).collect(),
            pool: synthetic::symbols(20, 1),
            test: synthetic::symbols(test_per_class, 100),
        },
    ]
}

/// One setting tried: a name for the table and the settings.
#[derive(Clone, Debug, Serialize)]
pub struct Variant {
    pub name: String,
    pub settings: Settings,
}

/// `base`, then each factor changed on its own: strategy, learning rate, epochs, patience,
/// batch size, augmentation, weight decay and rehearsal.
pub fn variants(base: &Settings) -> Vec<Variant> {
    let with = |name: String, change: &dyn Fn(&mut Settings)| {
        let mut settings = base.clone();
        change(&mut settings);
        Variant { name, settings }
    };
    let mut out = vec![with("base".into(), &|_| {})];
    for strategy in Strategy::ALL.into_iter().filter(|s| *s != base.strategy) {
        out.push(with(format!("strategy {strategy}"), &|s| {
            s.strategy = strategy
        }));
    }
    for lr in [base.learning_rate / 3.0, base.learning_rate * 3.0] {
        out.push(with(format!("learning rate {lr:.4}"), &|s| {
            s.learning_rate = lr
        }));
    }
    for epochs in [base.epochs / 2, base.epochs * 2] {
        out.push(with(format!("{epochs} epochs"), &|s| s.epochs = epochs));
    }
    let patience = if base.patience == 0 { 5 } else { 0 };
    out.push(with(format!("patience {patience}"), &|s| {
        s.patience = patience
    }));
    out.push(with("batch 8".into(), &|s| s.batch_size = Some(8)));
    let augment = !base.augment;
    out.push(with(
        format!("augmentation {}", if augment { "on" } else { "off" }),
        &|s| s.augment = augment,
    ));
    out.push(with("weight decay 1e-4".into(), &|s| s.weight_decay = 1e-4));
    out.push(with("rehearsal 16".into(), &|s| s.rehearsal = 16));
    out
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
    /// `variant`, and measure. Rehearsal is left out of a new task (it needs the digits).
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
        let request = FineTuneRequest {
            pretrained: self.model,
            info: self.info,
            task: Task {
                class_names: &domain.classes,
                samples: &samples,
            },
            settings: &settings,
            source: self.source,
            resume: None,
        };
        let tuned = transfer::fine_tune(request, self.device, &mut Silent).await?;
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
        })
    }
}

fn mean_and_spread(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let spread = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    Some((mean, spread))
}

/// The table: per setting, the mean ± spread (population standard deviation over seeds) of
/// target accuracy per domain and shot count, its mean over all of them, and the mean
/// forgetting in adapt mode; settings ordered by mean target accuracy.
pub fn table(outcomes: &[Outcome], domains: &[&str], shots: &[usize]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for o in outcomes {
        if !names.contains(&o.variant.as_str()) {
            names.push(&o.variant);
        }
    }
    let figure = |name: &str, domain: &str, n: usize| {
        let values: Vec<f64> = outcomes
            .iter()
            .filter(|o| o.variant == name && o.domain == domain && o.shots == n)
            .map(|o| o.accuracy)
            .collect();
        mean_and_spread(&values)
    };
    let overall = |name: &str| {
        let values: Vec<f64> = outcomes
            .iter()
            .filter(|o| o.variant == name)
            .map(|o| o.accuracy)
            .collect();
        mean_and_spread(&values).map_or(0.0, |(m, _)| m)
    };
    let forgetting = |name: &str| {
        let values: Vec<f64> = outcomes
            .iter()
            .filter(|o| o.variant == name)
            .filter_map(|o| o.forgetting)
            .collect();
        mean_and_spread(&values)
    };
    names.sort_by(|a, b| overall(b).total_cmp(&overall(a)));
    let mut header = String::from("| setting | mean accuracy | forgetting (adapt) |");
    let mut rule = String::from("| --- | --- | --- |");
    for domain in domains {
        for n in shots {
            header += &format!(" {domain}, {n} |");
            rule += " --- |";
        }
    }
    let mut out = format!("{header}\n{rule}\n");
    for name in names {
        let forgot = forgetting(name).map_or("–".into(), |(m, s)| {
            format!("{:.2} ± {:.2} pt", m * 100.0, s * 100.0)
        });
        let mut line = format!("| {name} | {:.3} | {forgot} |", overall(name));
        for domain in domains {
            for &n in shots {
                line += &match figure(name, domain, n) {
                    Some((m, s)) => format!(" {m:.3} ± {s:.3} |"),
                    None => " – |".into(),
                };
            }
        }
        out += &line;
        out.push('\n');
    }
    out
}
