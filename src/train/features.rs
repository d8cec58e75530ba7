//! A frozen backbone's features, computed once before the first epoch: every epoch after that
//! only runs the head, which is what makes head-only fine-tuning fast. Rehearsed source
//! digits are drawn per batch as in a full run; their features come from the same cache when
//! the source is smaller than the draws a run makes, else each batch's few go through the
//! frozen backbone.

use burn::prelude::*;
use rand::RngExt;
use rand::rngs::StdRng;

use super::predict::logit_stats;
use super::{images_tensor, labels_tensor};
use crate::data::{IMAGE_PIXELS, Sample};
use crate::model::Classifier;
use crate::preprocess::Augmentation;

/// Distorted copies of each sample whose features a frozen backbone computes once, when
/// training with augmentation: each epoch then draws one copy per sample.
pub const FROZEN_AUGMENTED_COPIES: usize = 4;

/// The features of a run's training samples (one or more distorted copies of each) and of its
/// validation samples.
pub(super) struct FeatureCache {
    /// `[copies × n, features]`: copy `c` of sample `i` is row `c × n + i`.
    train: Tensor<2>,
    copies: usize,
    n: usize,
    /// Validation features and labels.
    validation: Option<(Tensor<2>, Tensor<1, Int>)>,
    /// Every rehearsal source digit's features (`[source, features]`), when that is less
    /// work than the digits a run draws.
    source: Option<Tensor<2>>,
    /// The frozen network (for source digits drawn without `source`), and its device.
    model: Classifier,
    device: Device,
}

/// What a run's cache is built from.
pub(super) struct CacheSets<'a> {
    pub samples: &'a [Sample],
    pub validation: &'a [Sample],
    /// The rehearsal source, and how many of its digits the run draws at most.
    pub source: &'a [Sample],
    pub draws: usize,
}

/// Features of `images` through `model`'s backbone (no gradients), in chunks.
fn features<'a>(
    model: &Classifier,
    images: impl ExactSizeIterator<Item = &'a [u8; IMAGE_PIXELS]>,
    device: &Device,
) -> Tensor<2> {
    let images: Vec<&[u8; IMAGE_PIXELS]> = images.collect();
    let chunks = images
        .chunks(256)
        .map(|chunk| {
            model
                .backbone
                .forward(images_tensor(chunk.iter().copied(), device))
        })
        .collect();
    Tensor::cat(chunks, 0)
}

fn rows_tensor(rows: &[usize], device: &Device) -> Tensor<1, Int> {
    let rows: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
    let n = rows.len();
    Tensor::from_data(TensorData::new(rows, [n]), device)
}

impl FeatureCache {
    pub(super) fn new(
        model: &Classifier,
        sets: CacheSets<'_>,
        augmentation: Option<&Augmentation>,
        rng: &mut StdRng,
        device: &Device,
    ) -> Self {
        let CacheSets {
            samples,
            validation,
            source,
            draws,
        } = sets;
        let model = model.valid();
        let copies = if augmentation.is_some() {
            FROZEN_AUGMENTED_COPIES
        } else {
            1
        };
        let train = (0..copies)
            .map(|_| match augmentation {
                Some(aug) => {
                    let images: Vec<[u8; IMAGE_PIXELS]> =
                        samples.iter().map(|s| aug.apply(&s.image, rng)).collect();
                    features(&model, images.iter(), device)
                }
                None => features(&model, samples.iter().map(|s| &s.image), device),
            })
            .collect();
        let validation = (!validation.is_empty()).then(|| {
            let labels: Vec<usize> = validation.iter().map(|s| s.label).collect();
            (
                features(&model, validation.iter().map(|s| &s.image), device),
                labels_tensor(&labels, device),
            )
        });
        let source = (!source.is_empty() && source.len() <= draws)
            .then(|| features(&model, source.iter().map(|s| &s.image), device).autodiff());
        FeatureCache {
            train: Tensor::cat(train, 0).autodiff(),
            copies,
            n: samples.len(),
            validation,
            source,
            model,
            device: device.clone(),
        }
    }

    /// The features of the source digits at `drawn` (rehearsal), on `autodiff`.
    pub(super) fn rehearsed(
        &self,
        drawn: &[usize],
        source: &[Sample],
        autodiff: &Device,
    ) -> Tensor<2> {
        match &self.source {
            Some(all) => all.clone().select(0, rows_tensor(drawn, autodiff)),
            None => features(
                &self.model,
                drawn.iter().map(|&i| &source[i].image),
                &self.device,
            )
            .autodiff(),
        }
    }

    /// The features of the samples at `chunk`, one random copy of each.
    pub(super) fn batch(&self, chunk: &[usize], rng: &mut StdRng, device: &Device) -> Tensor<2> {
        let rows: Vec<usize> = chunk
            .iter()
            .map(|&i| {
                let copy = if self.copies > 1 {
                    rng.random_range(0..self.copies)
                } else {
                    0
                };
                copy * self.n + i
            })
            .collect();
        self.train.clone().select(0, rows_tensor(&rows, device))
    }

    /// `[loss sum, hits, count]` of `model`'s head on the cached validation features, left on
    /// the device (none without a validation set).
    pub(super) fn validation_stats(&self, model: &Classifier) -> Option<Tensor<1>> {
        let (features, targets) = self.validation.as_ref()?;
        let logits = model.head.valid().forward(features.clone());
        Some(logit_stats(logits, targets.clone()))
    }
}
