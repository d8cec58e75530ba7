//! Learning as a person labels (`train::OnlineLearner`, `transfer::online_learner`): what the
//! page's "Learn as I label" and `finetune --online` run.

mod common;

use burn::prelude::Device;
use common::mnist_subset;
use digit_transfer::bench::{self, Adapting};
use digit_transfer::data::{Sample, Split};
use digit_transfer::device::cpu;
use digit_transfer::model::{Architecture, Classifier};
use digit_transfer::train::{self, TrainError};
use digit_transfer::transfer::{self, Settings, SourceDigits};
use digit_transfer::weights::{self, WeightsInfo};
use futures::executor::block_on;

fn pretrained(architecture: Architecture, device: &Device) -> (Classifier, WeightsInfo) {
    let path = format!(
        "{}/www/weights/pretrained-{architecture}.bpk",
        env!("CARGO_MANIFEST_DIR")
    );
    weights::from_burnpack(&std::fs::read(path).unwrap(), Some(architecture), device).unwrap()
}

/// A digit written "differently": rows and columns swapped.
fn transposed(sample: Sample) -> Sample {
    let mut image = sample.image;
    for y in 0..28 {
        for x in 0..28 {
            image[y * 28 + x] = sample.image[x * 28 + y];
        }
    }
    Sample { image, ..sample }
}

fn accuracy(model: &Classifier, set: &[Sample], device: &Device) -> f64 {
    block_on(train::evaluate(model, set, device))
        .unwrap()
        .accuracy()
}

/// The live learner of adapt mode with the default settings, rehearsing `rehearsal`.
fn adapting_learner(
    model: &Classifier,
    info: &WeightsInfo,
    rehearsal: &[Sample],
    device: &Device,
) -> (train::OnlineLearner, WeightsInfo) {
    let source = SourceDigits {
        rehearsal,
        held_out: &[],
    };
    transfer::online_learner(
        model,
        info,
        &info.class_names,
        &Settings::default(),
        source,
        true,
        device,
    )
    .unwrap()
}

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("sample-{i}")).collect()
}

/// Five digits a class, labelled one at a time with the classes in turn
/// (`bench::online_against_fine_tune`, what the benchmark reports): after the last update the
/// network is within 2 points of one *Fine-tune* with the defaults on the same fifty, on
/// held-out digits of the same kind, and keeps the MNIST digits: typeset digits (which it
/// already knows, so forgetting is all that can change) and MNIST digits written transposed
/// (a style it has never seen, which contradicts MNIST).
#[test]
fn labelling_one_at_a_time_reaches_one_fine_tune_with_the_defaults() {
    let device = cpu();
    let (model, info) = pretrained(Architecture::Cnn, &device);
    let fonts = digit_transfer::synthetic::system_fonts()
        .expect("fonts (scripts/setup.sh --test installs them)");
    let transposed_set =
        |split, n| -> Vec<Sample> { mnist_subset(split, n).into_iter().map(transposed).collect() };
    let rehearsal = mnist_subset(Split::Train, 40);
    let held_out = mnist_subset(Split::HeldOut, 50);
    // (domain, its five a class, its test set, the most forgetting allowed): measured 0.002
    // on typeset digits; transposed digits cost 0.036 (one fine-tune: 0.020).
    let domains = [
        (
            "typeset",
            digit_transfer::synthetic::font_digits(&fonts, 5, 1),
            digit_transfer::synthetic::font_digits(&fonts, 30, 100),
            0.005,
        ),
        (
            "transposed",
            transposed_set(Split::Train, 5),
            transposed_set(Split::HeldOut, 30),
            0.05,
        ),
    ];
    for (name, own, test, most_forgetting) in domains {
        let adapting = Adapting {
            pretrained: &model,
            info: &info,
            samples: &own,
            source: SourceDigits {
                rehearsal: &rehearsal,
                held_out: &held_out,
            },
        };
        let r = block_on(bench::online_against_fine_tune(adapting, &test, &device)).unwrap();
        eprintln!("{name}: {r:?}");
        assert_eq!(r.samples, 50);
        assert!(r.recognised_before_labelled <= 50);
        // One draw; the run augments its samples (the defaults do), which an update on the
        // features kept cannot, so a draw may fall a point behind (measured: 0.637 vs 0.650),
        // though over the benchmark's three draws the two meet (0.630 vs 0.628).
        assert!(
            r.online_accuracy >= r.fine_tune_accuracy - 0.02,
            "{name}: online {} vs one fine-tune {}",
            r.online_accuracy,
            r.fine_tune_accuracy
        );
        assert!(
            r.online_forgetting <= most_forgetting,
            "{name}: forgetting {}",
            r.online_forgetting
        );
        if name == "transposed" {
            assert!(
                r.online_accuracy > r.zero_shot_accuracy + 0.2,
                "online {} vs zero-shot {}",
                r.online_accuracy,
                r.zero_shot_accuracy
            );
        }
    }
}

/// Labels come in with the classes in turn; each update learns one new sample from all there
/// are, and only the head ever changes.
#[test]
fn each_label_is_one_update_and_only_the_head_learns() {
    let device = cpu();
    let (model, info) = pretrained(Architecture::Cnn, &device);
    let own: Vec<Sample> = mnist_subset(Split::Train, 3)
        .into_iter()
        .map(transposed)
        .collect();
    let rehearsal = mnist_subset(Split::Train, 10);
    let (mut learner, out) = adapting_learner(&model, &info, &rehearsal, &device);
    assert_eq!(out.class_names, info.class_names);
    let order = transfer::classes_in_turn(&own);
    assert_eq!(
        order[..12].iter().map(|s| s.label).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    );
    let names = ids(order.len());
    for n in 1..=order.len() {
        let learned = block_on(learner.learn(&names[..n], &order[..n])).unwrap();
        assert_eq!((learned.samples, learned.new), (n, 1));
    }
    let backbone = |m: &Classifier| {
        weights::to_burnpack(
            &Classifier {
                backbone: m.backbone.clone(),
                head: model.head.clone(),
            },
            &info,
        )
        .unwrap()
    };
    assert_eq!(backbone(learner.model()), backbone(&model));
    assert_ne!(
        weights::to_burnpack(learner.model(), &info).unwrap(),
        weights::to_burnpack(&model, &info).unwrap(),
        "the head learnt"
    );
}

/// A relabelled sample is learnt with its new label, a deleted one is no longer learnt from,
/// and an update is refused when ids and samples disagree.
#[test]
fn relabels_and_deletions_are_learnt_and_mismatches_refused() {
    let device = cpu();
    let (model, info) = pretrained(Architecture::Mlp, &device);
    let settings = Settings {
        rehearsal: 0,
        ..Settings::default()
    };
    let (mut learner, _) = transfer::online_learner(
        &model,
        &info,
        &info.class_names,
        &settings,
        SourceDigits::default(),
        true,
        &device,
    )
    .unwrap();
    // Ones, labelled 7 again and again: the network comes to call them 7.
    let ones: Vec<Sample> = mnist_subset(Split::Train, 6)
        .into_iter()
        .filter(|s| s.label == 1)
        .collect();
    let as_seven: Vec<Sample> = ones
        .iter()
        .map(|s| Sample {
            label: 7,
            ..s.clone()
        })
        .collect();
    let names = ids(as_seven.len());
    let first = block_on(learner.learn(&names, &as_seven)).unwrap();
    assert_eq!(
        (first.new, first.recognised),
        (6, 0),
        "ones are not sevens yet"
    );
    for _ in 0..10 {
        let again = block_on(learner.learn(&names, &as_seven)).unwrap();
        assert_eq!(again.new, 0, "features are computed once a sample");
    }
    let other_ones: Vec<Sample> = mnist_subset(Split::HeldOut, 10)
        .into_iter()
        .filter(|s| s.label == 1)
        .collect();
    let predicted = |m: &Classifier| {
        let images: Vec<_> = other_ones.iter().map(|s| s.image).collect();
        let scores = block_on(train::predict(m, &images, &device, 64)).unwrap();
        scores.iter().filter(|p| train::argmax(p) == 7).count()
    };
    assert!(
        predicted(learner.model()) > other_ones.len() / 2,
        "ones seen as 7"
    );

    // Relabelled 1 again: learnt back.
    for _ in 0..20 {
        block_on(learner.learn(&names, &ones)).unwrap();
    }
    assert!(
        predicted(learner.model()) < other_ones.len() / 2,
        "relabelled back to 1"
    );

    // Deleted: one sample left is all it learns from.
    let left = block_on(learner.learn(&names[..1], &ones[..1])).unwrap();
    assert_eq!((left.samples, left.new), (1, 0));

    assert_eq!(
        block_on(learner.learn(&names[..2], &ones[..1])).unwrap_err(),
        TrainError::IdsDoNotMatch { ids: 2, samples: 1 }
    );
    assert_eq!(
        block_on(learner.learn(&[], &[])).unwrap_err(),
        TrainError::NoSamples
    );
}

/// A new task learns once two classes have a sample, with a new head of its classes; adapting
/// the digits learns from the first.
#[test]
fn a_new_task_learns_once_two_classes_have_samples() {
    let device = cpu();
    let (model, info) = pretrained(Architecture::Mlp, &device);
    let digits = mnist_subset(Split::Train, 3);
    let zero = digits.iter().find(|s| s.label == 0).unwrap().clone();
    let one = Sample {
        label: 1,
        ..digits.iter().find(|s| s.label == 1).unwrap().clone()
    };
    assert!(!transfer::can_learn([], true));
    assert!(transfer::can_learn([0], true));
    assert!(!transfer::can_learn([0, 0], false));
    assert!(transfer::can_learn([0, 0, 1], false));

    let classes = vec!["round".to_string(), "straight".to_string()];
    let (mut learner, out) = transfer::online_learner(
        &model,
        &info,
        &classes,
        &Settings::new_task(),
        SourceDigits::default(),
        false,
        &device,
    )
    .unwrap();
    assert_eq!(out.class_names, classes);
    assert_eq!(learner.model().classes(), 2);
    let task = [zero, one];
    for _ in 0..5 {
        block_on(learner.learn(&ids(2), &task)).unwrap();
    }
    assert_eq!(accuracy(learner.model(), &task, &device), 1.0);
    // A label past the task's classes is refused.
    let bad = [Sample {
        label: 2,
        ..task[0].clone()
    }];
    assert!(matches!(
        block_on(learner.learn(&ids(1), &bad)),
        Err(TrainError::LabelOutOfRange(_))
    ));
}

/// The page's first experience: a drawn 1 labelled 7 a few times is predicted 7 (each update
/// steps until the samples it learns from are sure, and no further).
#[test]
fn a_one_labelled_seven_a_few_times_becomes_a_seven() {
    let device = cpu();
    let (model, info) = pretrained(Architecture::Cnn, &device);
    let rehearsal = mnist_subset(Split::Train, 40);
    let one = mnist_subset(Split::HeldOut, 5)
        .into_iter()
        .find(|s| s.label == 1)
        .unwrap();
    let (mut learner, _) = adapting_learner(&model, &info, &rehearsal, &device);
    let sevens: Vec<Sample> = (0..4)
        .map(|_| Sample {
            label: 7,
            ..one.clone()
        })
        .collect();
    let seven =
        |m: &Classifier| block_on(train::predict(m, &[one.image], &device, 1)).unwrap()[0][7];
    assert!(seven(&model) < 0.01);
    let mut steps = Vec::new();
    for n in 1..=4 {
        steps.push(
            block_on(learner.learn(&ids(n), &sevens[..n]))
                .unwrap()
                .steps,
        );
    }
    assert!(
        seven(learner.model()) > 0.8,
        "p(7) = {}",
        seven(learner.model())
    );
    // Once the copies are sure, a further copy costs no step.
    assert!(steps[0] > 0, "{steps:?}");
    let again = block_on(learner.learn(&ids(4), &sevens)).unwrap();
    assert_eq!((again.new, again.steps), (0, 0));
}
