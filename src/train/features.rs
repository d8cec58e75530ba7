//! A frozen backbone's features, computed once before the first epoch: every epoch after that
//! only runs the head, which is what makes head-only fine-tuning fast.

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

impl FeatureCache {
    pub(super) fn new(
        model: &Classifier,
        samples: &[Sample],
        validation: &[Sample],
        augmentation: Option<&Augmentation>,
        rng: &mut StdRng,
        device: &Device,
    ) -> Self {
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
        FeatureCache {
            train: Tensor::cat(train, 0).autodiff(),
            copies,
            n: samples.len(),
            validation,
        }
    }

    /// The features of the samples at `chunk`, one random copy of each.
    pub(super) fn batch(&self, chunk: &[usize], rng: &mut StdRng, device: &Device) -> Tensor<2> {
        let rows: Vec<i64> = chunk
            .iter()
            .map(|&i| {
                let copy = if self.copies > 1 {
                    rng.random_range(0..self.copies)
                } else {
                    0
                };
                (copy * self.n + i) as i64
            })
            .collect();
        let rows = Tensor::<1, Int>::from_data(TensorData::new(rows, [chunk.len()]), device);
        self.train.clone().select(0, rows)
    }

    /// `[loss sum, hits, count]` of `model`'s head on the cached validation features, left on
    /// the device (none without a validation set).
    pub(super) fn validation_stats(&self, model: &Classifier) -> Option<Tensor<1>> {
        let (features, targets) = self.validation.as_ref()?;
        let logits = model.head.valid().forward(features.clone());
        Some(logit_stats(logits, targets.clone()))
    }
}
