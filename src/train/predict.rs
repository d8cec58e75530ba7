//! Predictions, validation figures and evaluation: the model in validation mode, no gradients.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;
use burn::tensor::activation::softmax;

use super::{TrainError, check_labels, images_tensor, labels_tensor};
use crate::data::{IMAGE_PIXELS, Sample};
use crate::device::read_floats;
use crate::metrics::ConfusionMatrix;
use crate::model::Classifier;

/// A device read, with its failure as a training error.
pub(super) async fn read(tensor: Tensor<1>) -> Result<Vec<f32>, TrainError> {
    read_floats(tensor).await.map_err(TrainError::Device)
}

/// How many rows of `logits` pick their target class, as a one-element tensor.
pub(super) fn count_hits(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    logits
        .argmax(1)
        .squeeze_dim::<1>(1)
        .equal(targets)
        .int()
        .sum()
        .float()
}

/// The mean cross-entropy of `logits` against `targets`.
pub(super) fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits, targets)
}

/// `[loss sum, hits, count]` of one batch of `n` from its mean `loss` and its `hits`, on the
/// device: figures that add up over batches and are read back together, in one round trip.
pub(super) fn batch_stats(loss: Tensor<1>, hits: Tensor<1>, n: usize) -> Tensor<1> {
    let count = Tensor::<1>::from_data(TensorData::new(vec![n as f32], [1]), &loss.device());
    Tensor::cat(
        vec![loss.reshape([1]) * n as f32, hits.reshape([1]), count],
        0,
    )
}

/// [`batch_stats`] of `logits` against `targets`.
pub(super) fn logit_stats(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    let n = targets.dims()[0];
    let hits = count_hits(logits.clone(), targets.clone());
    batch_stats(cross_entropy(logits, targets), hits, n)
}

/// Mean loss and accuracy from `[loss sum, hits, count]` values.
pub(super) fn mean_loss_and_accuracy(stats: &[f32]) -> (f32, f32) {
    match stats {
        [loss, hits, count, ..] => {
            let n = count.max(1.0);
            (loss / n, hits / n)
        }
        _ => (f32::NAN, 0.0),
    }
}

/// `[loss sum, hits, count]` of `model` (in validation mode) on `samples`, summed on the
/// device over chunks of 256 and not yet read; none for no samples.
pub(super) fn validation_stats(
    model: &Classifier,
    samples: &[Sample],
    device: &Device,
) -> Option<Tensor<1>> {
    let model = model.valid();
    samples
        .chunks(256)
        .map(|chunk| {
            let labels: Vec<usize> = chunk.iter().map(|s| s.label).collect();
            let targets = labels_tensor(&labels, device);
            let logits = model.forward(images_tensor(chunk.iter().map(|s| &s.image), device));
            logit_stats(logits, targets)
        })
        .reduce(|a, b| a + b)
}

/// Mean loss and accuracy of `model` (in validation mode) on `samples`: one device read.
pub async fn measure(
    model: &Classifier,
    samples: &[Sample],
    device: &Device,
) -> Result<(f32, f32), TrainError> {
    match validation_stats(model, samples, device) {
        Some(stats) => Ok(mean_loss_and_accuracy(&read(stats).await?)),
        None => Ok((0.0, 0.0)),
    }
}

/// Class probabilities of each image, in batches of `batch_size`.
pub async fn predict(
    model: &Classifier,
    images: &[[u8; IMAGE_PIXELS]],
    device: &Device,
    batch_size: usize,
) -> Result<Vec<Vec<f32>>, TrainError> {
    let model = model.valid();
    let classes = model.classes();
    let mut out = Vec::with_capacity(images.len());
    for chunk in images.chunks(batch_size.max(1)) {
        let probabilities = softmax(model.forward(images_tensor(chunk.iter(), device)), 1);
        let values = read(probabilities.flatten(0, 1)).await?;
        out.extend(values.chunks_exact(classes).map(<[f32]>::to_vec));
    }
    Ok(out)
}

/// Index of the largest value.
pub fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 { (i, v) } else { best }
        })
        .0
}

/// The confusion matrix of `model` on labelled samples.
pub async fn evaluate(
    model: &Classifier,
    samples: &[Sample],
    device: &Device,
) -> Result<ConfusionMatrix, TrainError> {
    check_labels(samples, model.classes())?;
    let images: Vec<[u8; IMAGE_PIXELS]> = samples.iter().map(|s| s.image).collect();
    let probabilities = predict(model, &images, device, 256).await?;
    let mut matrix = ConfusionMatrix::new(model.classes());
    for (sample, p) in samples.iter().zip(&probabilities) {
        matrix.add(sample.label, argmax(p));
    }
    Ok(matrix)
}
