mod common;

use burn::prelude::Device;
use common::mnist_subset;
use digit_transfer::data::Split;
use digit_transfer::device::{self, DeviceKind};
use digit_transfer::model::{Architecture, Classifier};
use digit_transfer::train::{
    self, BackboneMode, BatchProgress, Control, EpochSummary, Observer, Silent, TrainConfig,
    TrainError, TrainSets,
};
use futures::executor::block_on;

#[derive(Default)]
struct Record {
    batches: Vec<BatchProgress>,
    epochs: Vec<EpochSummary>,
    stop_after_batches: Option<usize>,
}

impl Observer for Record {
    fn batch(&mut self, p: &BatchProgress) -> Control {
        self.batches.push(p.clone());
        match self.stop_after_batches {
            Some(n) if self.batches.len() >= n => Control::Stop,
            _ => Control::Continue,
        }
    }
    fn epoch(&mut self, s: &EpochSummary) -> Control {
        self.epochs.push(s.clone());
        Control::Continue
    }
}

/// Train briefly on 600 real digits and check on 300 unseen ones that it learned.
fn learns_on(device: &Device, architecture: Architecture) {
    let train_set = mnist_subset(Split::Train, 60);
    let test_set = mnist_subset(Split::HeldOut, 30);
    device.seed(5);
    let model = Classifier::new(architecture, 10, device);
    let before = block_on(train::evaluate(&model, &test_set, device))
        .unwrap()
        .accuracy();
    let config = TrainConfig {
        epochs: 5,
        batch_size: 32,
        seed: 5,
        ..TrainConfig::default()
    };
    let mut record = Record::default();
    let outcome = block_on(train::train(
        &model,
        &train_set,
        &config,
        device,
        &mut record,
    ))
    .unwrap();
    assert!(!outcome.stopped);
    assert_eq!(outcome.history.len(), 5);
    assert_eq!(record.batches.len(), 5 * 600usize.div_ceil(32));
    let first = &outcome.history[0];
    let last = &outcome.history[4];
    assert!(
        last.loss < first.loss * 0.6,
        "{architecture}: loss {} → {}",
        first.loss,
        last.loss
    );
    assert!(
        last.accuracy > first.accuracy,
        "{architecture}: accuracy {} → {}",
        first.accuracy,
        last.accuracy
    );
    let after = block_on(train::evaluate(&outcome.model, &test_set, device))
        .unwrap()
        .accuracy();
    assert!(before < 0.3, "{architecture}: untrained accuracy {before}");
    assert!(
        after > 0.75,
        "{architecture}: held-out accuracy after 5 short epochs {after}"
    );
    // The CPU reports each batch's loss; a GPU reads its figures once per epoch.
    let per_batch = device::reads_are_free(device);
    assert!(record.batches.iter().all(|b| b.samples_per_sec > 0.0
        && b.loss.is_some() == per_batch
        && b.loss.is_none_or(f32::is_finite)));
}

#[test]
fn mlp_and_cnn_learn_on_the_cpu() {
    let device = device::cpu();
    learns_on(&device, Architecture::Mlp);
    learns_on(&device, Architecture::Cnn);
}

#[test]
fn mlp_learns_on_wgpu() {
    match block_on(device::open(DeviceKind::Wgpu)) {
        Ok(selected) => learns_on(&selected.device, Architecture::Mlp),
        // CI installs Mesa's lavapipe so this runs; elsewhere the skip must be asked for.
        Err(e) if std::env::var_os("DIGIT_TRANSFER_SKIP_WGPU").is_some() => {
            eprintln!("skipped: {e}")
        }
        Err(e) => panic!(
            "no wgpu device ({e}); install mesa-vulkan-drivers or set DIGIT_TRANSFER_SKIP_WGPU=1"
        ),
    }
}

#[test]
fn training_is_reproducible_and_leaves_the_input_model_alone() {
    let device = device::cpu();
    let samples = mnist_subset(Split::Train, 10);
    device.seed(9);
    let model = Classifier::new(Architecture::Mlp, 10, &device);
    let config = TrainConfig {
        epochs: 2,
        batch_size: 16,
        seed: 9,
        augmentation: Some(Default::default()),
        ..TrainConfig::default()
    };
    let images: Vec<_> = samples.iter().map(|s| s.image).collect();
    let before = block_on(train::predict(&model, &images, &device, 64)).unwrap();
    let a = block_on(train::train(
        &model,
        &samples,
        &config,
        &device,
        &mut Silent,
    ))
    .unwrap();
    let b = block_on(train::train(
        &model,
        &samples,
        &config,
        &device,
        &mut Silent,
    ))
    .unwrap();
    assert_eq!(
        a.history.iter().map(|e| e.loss).collect::<Vec<_>>(),
        b.history.iter().map(|e| e.loss).collect::<Vec<_>>()
    );
    assert_eq!(
        block_on(train::predict(&model, &images, &device, 64)).unwrap(),
        before
    );
    let after = block_on(train::predict(&a.model, &images, &device, 64)).unwrap();
    assert_ne!(after, before);
    for p in &after {
        assert!(
            (p.iter().sum::<f32>() - 1.0).abs() < 1e-4,
            "probabilities sum to 1"
        );
    }
}

#[test]
fn observer_can_stop_training() {
    let device = device::cpu();
    let samples = mnist_subset(Split::Train, 10);
    let model = Classifier::new(Architecture::Mlp, 10, &device);
    let config = TrainConfig {
        epochs: 50,
        batch_size: 10,
        ..TrainConfig::default()
    };
    let mut record = Record {
        stop_after_batches: Some(3),
        ..Record::default()
    };
    let outcome = block_on(train::train(
        &model,
        &samples,
        &config,
        &device,
        &mut record,
    ))
    .unwrap();
    assert!(outcome.stopped);
    assert_eq!(record.batches.len(), 3);
    assert!(outcome.history.is_empty());
}

#[test]
fn bad_settings_are_refused_before_training() {
    let device = device::cpu();
    let samples = mnist_subset(Split::Train, 2);
    let model = Classifier::new(Architecture::Mlp, 10, &device);
    let run = |config: TrainConfig, samples: &[_]| {
        block_on(train::train(&model, samples, &config, &device, &mut Silent)).unwrap_err()
    };
    assert_eq!(
        run(
            TrainConfig {
                epochs: 0,
                ..Default::default()
            },
            &samples
        ),
        TrainError::NoEpochs
    );
    assert_eq!(
        run(
            TrainConfig {
                batch_size: 0,
                ..Default::default()
            },
            &samples
        ),
        TrainError::NoBatch
    );
    assert_eq!(
        run(
            TrainConfig {
                learning_rate: -1.0,
                ..Default::default()
            },
            &samples
        ),
        TrainError::BadLearningRate(-1.0)
    );
    assert!(matches!(
        run(
            TrainConfig {
                learning_rate: f64::NAN,
                ..Default::default()
            },
            &samples
        ),
        TrainError::BadLearningRate(_)
    ));
    assert_eq!(run(TrainConfig::default(), &[]), TrainError::NoSamples);
    let two = Classifier::new(Architecture::Mlp, 2, &device);
    let err = block_on(train::train(
        &two,
        &samples,
        &TrainConfig::default(),
        &device,
        &mut Silent,
    ))
    .unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::LabelOutOfRange(digit_transfer::data::LabelOutOfRange {
                label: 2..,
                classes: 2,
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn diverging_training_is_stopped_with_a_message() {
    let device = device::cpu();
    let samples = mnist_subset(Split::Train, 20);
    let model = Classifier::new(Architecture::Mlp, 10, &device);
    let config = TrainConfig {
        epochs: 20,
        batch_size: 50,
        learning_rate: 1e30,
        ..TrainConfig::default()
    };
    let err = block_on(train::train(
        &model,
        &samples,
        &config,
        &device,
        &mut Silent,
    ))
    .unwrap_err();
    assert!(matches!(err, TrainError::Diverged { .. }), "{err:?}");
    assert!(err.to_string().contains("lower learning rate"), "{err}");
}

/// Head-only training on cached features, rehearsal included, learns what the whole network
/// learns with its backbone all but still (a rate of 1e-12 of the head's; zero is refused):
/// the same digits drawn, the same losses,
/// whether the source digits' features are all computed first (a small source) or each
/// batch's few as drawn (a large one).
#[test]
fn a_frozen_backbone_with_rehearsal_trains_as_the_whole_network_held_still() {
    let device = device::cpu();
    let samples = mnist_subset(Split::Train, 3);
    let validation = mnist_subset(Split::HeldOut, 1);
    let source = mnist_subset(Split::Train, 12);
    device.seed(4);
    let model = Classifier::new(Architecture::Cnn, 10, &device);
    let frozen = TrainConfig {
        epochs: 3,
        batch_size: 8,
        learning_rate: 0.01,
        seed: 4,
        rehearsal: 4,
        backbone: BackboneMode::Frozen,
        ..TrainConfig::default()
    };
    let still = TrainConfig {
        backbone: BackboneMode::Train { lr_scale: 1e-12 },
        ..frozen.clone()
    };
    // 3 epochs × 4 batches × 4 digits: 48 draws, fewer than the 120 source digits, more
    // than 40 of them.
    for source in [&source[..], &source[..40]] {
        let run = |config: &TrainConfig| {
            let sets = TrainSets {
                train: &samples,
                validation: &validation,
                rehearsal: source,
            };
            let outcome = block_on(train::fit(&model, sets, config, &device, &mut Silent));
            outcome.unwrap().history
        };
        let (cached, whole) = (run(&frozen), run(&still));
        assert_eq!(cached.len(), 3);
        for (a, b) in cached.iter().zip(&whole) {
            assert!(
                (a.loss - b.loss).abs() < 1e-4,
                "{} source: {a:?} vs {b:?}",
                source.len()
            );
            assert_eq!(a.accuracy, b.accuracy);
            let (va, vb) = (a.val_loss.unwrap(), b.val_loss.unwrap());
            assert!((va - vb).abs() < 1e-4, "{va} vs {vb}");
        }
        assert!(cached[2].loss < cached[0].loss, "{cached:?}");
    }
}
