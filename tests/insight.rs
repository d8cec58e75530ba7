//! What the page shows of a run besides numbers: the feature map (the person's samples in
//! feature space before and after, on shared axes, with class separation), the mistakes, and
//! saliency (where the network looks).

mod common;

use burn::prelude::Device;
use common::mnist_subset;
use digit_transfer::data::{IMAGE_PIXELS, Sample, Split};
use digit_transfer::device::cpu;
use digit_transfer::feature_map::{self, Projection};
use digit_transfer::model::{Architecture, Classifier};
use digit_transfer::saliency::saliency;
use digit_transfer::train::Silent;
use digit_transfer::transfer::{self, FineTuneReport, Strategy};
use digit_transfer::weights::{self, WeightsInfo};
use futures::executor::block_on;

fn pretrained(architecture: Architecture, device: &Device) -> (Classifier, WeightsInfo) {
    let path = format!(
        "{}/www/weights/pretrained-{architecture}.bpk",
        env!("CARGO_MANIFEST_DIR")
    );
    weights::from_burnpack(&std::fs::read(path).unwrap(), Some(architecture), device).unwrap()
}

/// Rows and columns swapped: a handwriting the pretrained network has never seen.
fn transposed(sample: &Sample) -> Sample {
    let mut image = [0u8; IMAGE_PIXELS];
    for (i, v) in image.iter_mut().enumerate() {
        *v = sample.image[(i % 28) * 28 + i / 28];
    }
    Sample {
        image,
        label: sample.label,
    }
}

fn run(strategy: Strategy, samples: &[Sample], classes: &[String]) -> FineTuneReport {
    let device = cpu();
    let (model, info) = pretrained(Architecture::Cnn, &device);
    let settings = transfer::Settings {
        strategy,
        epochs: 15,
        validation_split: 0.3,
        patience: 0,
        // The same samples each epoch: the map compares one network's features before and after.
        augment: false,
        ..Default::default()
    };
    let request = transfer::FineTuneRequest {
        pretrained: &model,
        info: &info,
        task: transfer::Task {
            class_names: classes,
            samples,
        },
        settings: &settings,
        source: transfer::SourceDigits::default(),
        resume: None,
    };
    block_on(transfer::fine_tune(request, &device, &mut Silent))
        .unwrap()
        .report
}

#[test]
fn the_feature_map_shows_what_fine_tuning_did_to_the_features() {
    // A new task of three transposed digits: the pretrained features mix them up.
    let samples: Vec<Sample> = mnist_subset(Split::Train, 12)
        .iter()
        .filter(|s| [1, 4, 7].contains(&s.label))
        .map(|s| Sample {
            label: [1, 4, 7].iter().position(|&d| d == s.label).unwrap(),
            ..transposed(s)
        })
        .collect();
    let classes: Vec<String> = ["one", "four", "seven"].map(String::from).to_vec();

    // Head only: the backbone is frozen, so every point stays where it was.
    let head = run(Strategy::Head, &samples, &classes);
    let map = head.feature_map.as_ref().unwrap();
    assert_eq!(map.points.len(), samples.len());
    assert!(map.points.iter().all(|p| p.before == p.after));
    assert_eq!(map.separation_before, map.separation_after);
    assert!(
        map.source.is_empty(),
        "a new task has no MNIST digits beside it"
    );
    let validation: Vec<_> = map.points.iter().filter(|p| p.validation).collect();
    assert_eq!(validation.len(), head.validation_samples);
    for (i, p) in map.points.iter().enumerate() {
        assert_eq!((p.sample, p.label), (i, samples[i].label));
    }

    // Full: the features move, on the same axes, and the classes end up further apart.
    let full = run(Strategy::Full, &samples, &classes);
    let map = full.feature_map.as_ref().unwrap();
    assert!(map.points.iter().any(|p| p.before != p.after));
    let (before, after) = (
        map.separation_before.unwrap(),
        map.separation_after.unwrap(),
    );
    assert!(after >= before, "separation {before} → {after}");
    // Same inputs, same points: the projection is deterministic.
    assert_eq!(
        run(Strategy::Full, &samples, &classes).feature_map,
        full.feature_map
    );

    // Mistakes: validation samples, wrongly predicted, with their confidence.
    let report = full.validation.as_ref().unwrap();
    let wrong = report.samples - (report.accuracy * report.samples as f64).round() as u64;
    assert_eq!(full.mistakes.len() as u64, wrong);
    for m in &full.mistakes {
        assert!(map.points[m.sample].validation);
        assert_eq!(m.truth, samples[m.sample].label);
        assert_ne!(m.predicted, m.truth);
        assert!(m.confidence > 0.0 && m.confidence <= 1.0);
    }
}

#[test]
fn the_projection_shares_axes_and_separation_ranks_networks() {
    let device = cpu();
    let (model, _) = pretrained(Architecture::Cnn, &device);
    let digits = mnist_subset(Split::HeldOut, 20);
    let images: Vec<_> = digits.iter().map(|s| s.image).collect();
    let trained = block_on(feature_map::features(&model, &images, &device)).unwrap();
    device.seed(3);
    let fresh = Classifier::new(Architecture::Cnn, 10, &device);
    let random = block_on(feature_map::features(&fresh, &images, &device)).unwrap();
    let projection = Projection::fit(&trained);
    // Features computed again fit the same axes: the page fits them once and draws later
    // runs in them.
    let again = block_on(feature_map::features(&model, &images, &device)).unwrap();
    assert_eq!(Projection::fit(&again), projection);
    // The axes are principal components: unit length, at right angles, the first the wider.
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    let [first, second] = &projection.axes;
    assert!((dot(first, first) - 1.0).abs() < 1e-3 && (dot(second, second) - 1.0).abs() < 1e-3);
    assert!(dot(first, second).abs() < 1e-3, "{}", dot(first, second));
    let points = projection.project(&trained);
    let spread = |axis: usize| points.iter().map(|p| p[axis].powi(2)).sum::<f32>();
    assert!(spread(0) >= spread(1) && spread(1) > 0.0);
    assert_ne!(points, projection.project(&random));
    let labelled = |features: Vec<Vec<f32>>| -> Vec<(Vec<f32>, usize)> {
        features
            .into_iter()
            .zip(digits.iter().map(|s| s.label))
            .collect()
    };
    let pretrained_apart = feature_map::halves_separation(&labelled(trained)).unwrap();
    let random_apart = feature_map::halves_separation(&labelled(random)).unwrap();
    assert!(pretrained_apart > 0.9, "{pretrained_apart}");
    assert!(
        pretrained_apart > random_apart,
        "{pretrained_apart} vs {random_apart}"
    );
}

#[test]
fn saliency_is_larger_on_the_ink_than_on_the_background_per_pixel() {
    let device = cpu();
    let (model, _) = pretrained(Architecture::Cnn, &device);
    for digit in mnist_subset(Split::HeldOut, 1) {
        let map = block_on(saliency(&model, &digit.image, digit.label, &device)).unwrap();
        assert_eq!(map.len(), IMAGE_PIXELS);
        assert!(map.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(map.contains(&1.0), "scaled to its largest value");
        type Pixels = Vec<(f32, u8)>;
        let (ink, background): (Pixels, Pixels) = map
            .iter()
            .copied()
            .zip(digit.image)
            .partition(|(_, v)| *v > 0);
        // Per pixel: the background has about three times the ink's area.
        let mean = |pixels: &[(f32, u8)]| {
            pixels.iter().map(|(s, _)| s).sum::<f32>() / pixels.len().max(1) as f32
        };
        assert!(
            mean(&ink) > mean(&background),
            "digit {}: ink {} vs background {} per pixel",
            digit.label,
            mean(&ink),
            mean(&background)
        );
    }
    assert!(block_on(saliency(&model, &[0; IMAGE_PIXELS], 10, &device)).is_err());
}
