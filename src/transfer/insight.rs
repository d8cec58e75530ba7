//! What a run did, to look at: the person's samples in the backbone's feature space before
//! and after (on the same axes), how far apart the classes are there, and the validation
//! samples the fine-tuned network still gets wrong.

use std::collections::HashMap;

use burn::prelude::Device;
use serde::Serialize;

use crate::data::{IMAGE_PIXELS, Sample};
use crate::feature_map::{Projection, features, separation};
use crate::metrics::{ConfusionMatrix, Report};
use crate::model::Classifier;
use crate::train::{self, TrainError};

/// How many held-out MNIST digits of each labelled class are drawn beside the samples.
const SOURCE_PER_CLASS: usize = 20;

/// One of the person's samples in feature space: before (the pretrained backbone) and after
/// (the fine-tuned one), on the same two axes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MapPoint {
    /// Index into the run's samples.
    pub sample: usize,
    pub label: usize,
    pub before: [f32; 2],
    pub after: [f32; 2],
    /// In the validation split (not trained on).
    pub validation: bool,
}

/// A held-out MNIST digit of one of the person's classes, drawn faint for comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourcePoint {
    pub label: usize,
    pub before: [f32; 2],
    pub after: [f32; 2],
}

/// The feature map of a run: points before and after on axes fitted once, to the pretrained
/// features, and the class separation (nearest-class-mean accuracy on the validation split).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeatureMap {
    pub points: Vec<MapPoint>,
    pub source: Vec<SourcePoint>,
    pub separation_before: Option<f64>,
    pub separation_after: Option<f64>,
}

/// A validation sample the fine-tuned network gets wrong.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Mistake {
    /// Index into the run's samples.
    pub sample: usize,
    pub truth: usize,
    pub predicted: usize,
    /// The probability it gave `predicted`.
    pub confidence: f32,
}

/// The networks and samples to look at.
pub(super) struct Look<'a> {
    pub pretrained: &'a Classifier,
    pub tuned: &'a Classifier,
    /// The person's samples, in the run's order.
    pub samples: &'a [Sample],
    pub validation: &'a [Sample],
    /// Held-out MNIST digits (adapt mode; empty otherwise).
    pub source: &'a [Sample],
}

/// Where each of `subset` is in `all` (equal image and label; repeats matched in turn).
fn positions(all: &[Sample], subset: &[Sample]) -> Vec<usize> {
    let mut at: HashMap<(usize, &[u8; IMAGE_PIXELS]), Vec<usize>> = HashMap::new();
    for (i, s) in all.iter().enumerate().rev() {
        at.entry((s.label, &s.image)).or_default().push(i);
    }
    subset
        .iter()
        .filter_map(|s| at.get_mut(&(s.label, &s.image)).and_then(Vec::pop))
        .collect()
}

/// Nearest-class-mean accuracy of the validation samples among the training ones.
fn separated(features: &[Vec<f32>], samples: &[Sample], validation: &[bool]) -> Option<f64> {
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for ((f, s), &held) in features.iter().zip(samples).zip(validation) {
        if held { &mut test } else { &mut train }.push((f.clone(), s.label));
    }
    separation(&train, &test)
}

/// `model`'s accuracy on `samples`; none without samples.
pub(super) async fn accuracy_on(
    model: &Classifier,
    samples: &[Sample],
    device: &Device,
) -> Result<Option<f64>, TrainError> {
    if samples.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        train::evaluate(model, samples, device).await?.accuracy(),
    ))
}

/// What a run measured of its fine-tuned network.
pub(super) struct Measured {
    pub validation: Option<Report>,
    /// Accuracy on the source digits (held-out MNIST) before and after (adapt mode).
    pub source_before: Option<f64>,
    pub source_after: Option<f64>,
    pub feature_map: FeatureMap,
    pub mistakes: Vec<Mistake>,
}

impl Look<'_> {
    /// Everything the report says about the fine-tuned network.
    pub(super) async fn measure(&self, device: &Device) -> Result<Measured, TrainError> {
        // One pass over the validation split serves both its figures and its mistakes.
        let images: Vec<[u8; IMAGE_PIXELS]> = self.validation.iter().map(|s| s.image).collect();
        let probabilities = train::predict(self.tuned, &images, device, 256).await?;
        let validation = (!self.validation.is_empty()).then(|| {
            let mut matrix = ConfusionMatrix::new(self.tuned.classes());
            for (s, p) in self.validation.iter().zip(&probabilities) {
                matrix.add(s.label, train::argmax(p));
            }
            matrix.report()
        });
        Ok(Measured {
            validation,
            source_before: accuracy_on(self.pretrained, self.source, device).await?,
            source_after: accuracy_on(self.tuned, self.source, device).await?,
            feature_map: self.feature_map(device).await?,
            mistakes: self.mistakes(&probabilities),
        })
    }

    /// The feature map: the person's samples (and a few source digits of their classes).
    pub(super) async fn feature_map(&self, device: &Device) -> Result<FeatureMap, TrainError> {
        let mut held = vec![false; self.samples.len()];
        for i in positions(self.samples, self.validation) {
            held[i] = true;
        }
        let labelled: Vec<usize> = self.samples.iter().map(|s| s.label).collect();
        let source: Vec<Sample> = crate::data::first_per_class(self.source, SOURCE_PER_CLASS)
            .into_iter()
            .filter(|s| labelled.contains(&s.label))
            .collect();
        let images: Vec<[u8; IMAGE_PIXELS]> = self
            .samples
            .iter()
            .chain(&source)
            .map(|s| s.image)
            .collect();
        let before = features(self.pretrained, &images, device).await?;
        let after = features(self.tuned, &images, device).await?;
        let projection = Projection::fit(&before);
        let (before_2d, after_2d) = (projection.project(&before), projection.project(&after));
        let n = self.samples.len();
        let points = (0..n)
            .map(|i| MapPoint {
                sample: i,
                label: self.samples[i].label,
                before: before_2d[i],
                after: after_2d[i],
                validation: held[i],
            })
            .collect();
        let source = source
            .iter()
            .enumerate()
            .map(|(k, s)| SourcePoint {
                label: s.label,
                before: before_2d[n + k],
                after: after_2d[n + k],
            })
            .collect();
        Ok(FeatureMap {
            points,
            source,
            separation_before: separated(&before[..n], self.samples, &held),
            separation_after: separated(&after[..n], self.samples, &held),
        })
    }

    /// The validation samples the fine-tuned network gets wrong (given its `probabilities`
    /// for each), most confident first.
    fn mistakes(&self, probabilities: &[Vec<f32>]) -> Vec<Mistake> {
        let at = positions(self.samples, self.validation);
        let mut wrong: Vec<Mistake> = self
            .validation
            .iter()
            .zip(probabilities)
            .zip(at)
            .filter_map(|((s, p), sample)| {
                let predicted = train::argmax(p);
                (predicted != s.label).then(|| Mistake {
                    sample,
                    truth: s.label,
                    predicted,
                    confidence: p[predicted],
                })
            })
            .collect();
        wrong.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        wrong
    }
}
