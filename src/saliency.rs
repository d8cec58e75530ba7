//! Where the network looks: the gradient of a class's score with respect to each input pixel
//! (burn's autodiff), as a 28×28 map of magnitudes scaled to 0..=1.

use burn::prelude::*;

use crate::data::IMAGE_PIXELS;
use crate::device::read_floats;
use crate::model::Classifier;
use crate::train::{TrainError, images_tensor};

/// |∂ logit[`class`] / ∂ pixel| for each pixel of `image`, the largest scaled to 1 (all 0 when
/// the score does not depend on the image at all).
pub async fn saliency(
    model: &Classifier,
    image: &[u8; IMAGE_PIXELS],
    class: usize,
    device: &Device,
) -> Result<Vec<f32>, TrainError> {
    if class >= model.classes() {
        return Err(TrainError::Device(format!(
            "class {class} of a {}-class network",
            model.classes()
        )));
    }
    let autodiff = device.clone().autodiff();
    let model = model.clone().fork(&autodiff);
    let input = images_tensor(std::iter::once(image), &autodiff).require_grad();
    let score = model
        .forward(input.clone())
        .slice([0..1, class..class + 1])
        .sum();
    let gradients = score.backward();
    let gradient = input
        .grad(&gradients)
        .ok_or_else(|| TrainError::Device("no gradient reached the image".into()))?;
    let mut values = read_floats(gradient.abs().flatten::<1>(0, 1))
        .await
        .map_err(TrainError::Device)?;
    let largest = values.iter().copied().fold(0.0f32, f32::max);
    if largest > 0.0 && largest.is_finite() {
        values.iter_mut().for_each(|v| *v /= largest);
    }
    Ok(values)
}
