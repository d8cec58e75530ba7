//! Networks: a backbone (feature extractor) and a head (a linear classifier of N classes).
//!
//! - `mlp`: the textbook `Net(784 → 128 ReLU → N)`.
//! - `cnn` (the default): two 3×3 convolutions (16 and 32 channels, each followed by ReLU and
//!   2×2 max-pooling) and a 64-unit fully connected layer, then the head.
//!
//! Inputs are flattened 28×28 images scaled to 0..=1 (`pixel / 255`), shape `[batch, 784]`.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::prelude::*;

use crate::data::{IMAGE_PIXELS, IMAGE_SIDE};

/// Which network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    #[default]
    Cnn,
    Mlp,
}

impl Architecture {
    pub const ALL: [Architecture; 2] = [Architecture::Cnn, Architecture::Mlp];

    /// The name used in files, on the command line and in the page.
    pub fn name(self) -> &'static str {
        match self {
            Architecture::Cnn => "cnn",
            Architecture::Mlp => "mlp",
        }
    }

    /// Width of the feature vector the backbone hands to the head.
    pub fn feature_size(self) -> usize {
        match self {
            Architecture::Cnn => CNN_FEATURES,
            Architecture::Mlp => MLP_HIDDEN,
        }
    }
}

impl std::fmt::Display for Architecture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Architecture {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Architecture::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| format!("unknown architecture `{s}`: expected `cnn` or `mlp`"))
    }
}

const MLP_HIDDEN: usize = 128;
const CNN_CHANNELS: [usize; 2] = [16, 32];
const CNN_FEATURES: usize = 64;
/// Fraction of features dropped before the head while training.
pub const DROPOUT: f64 = 0.25;

/// The textbook `Net`'s first layer: 784 → 128, ReLU.
#[derive(Module, Debug)]
pub struct MlpBackbone {
    fc1: Linear,
    activation: Relu,
}

/// Two convolution blocks and a fully connected layer.
#[derive(Module, Debug)]
pub struct CnnBackbone {
    conv1: Conv2d,
    conv2: Conv2d,
    fc: Linear,
    pool: MaxPool2d,
    activation: Relu,
}

/// The feature extractor of either architecture.
#[derive(Module, Debug)]
pub enum Backbone {
    Cnn(CnnBackbone),
    Mlp(MlpBackbone),
}

impl Backbone {
    pub fn new(architecture: Architecture, device: &Device) -> Self {
        match architecture {
            Architecture::Mlp => Backbone::Mlp(MlpBackbone {
                fc1: LinearConfig::new(IMAGE_PIXELS, MLP_HIDDEN).init(device),
                activation: Relu::new(),
            }),
            Architecture::Cnn => {
                let [c1, c2] = CNN_CHANNELS;
                let conv = |channels| {
                    Conv2dConfig::new(channels, [3, 3])
                        .with_padding(PaddingConfig2d::Same)
                        .init(device)
                };
                let pooled = IMAGE_SIDE / 4;
                Backbone::Cnn(CnnBackbone {
                    conv1: conv([1, c1]),
                    conv2: conv([c1, c2]),
                    fc: LinearConfig::new(c2 * pooled * pooled, CNN_FEATURES).init(device),
                    pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
                    activation: Relu::new(),
                })
            }
        }
    }

    pub fn architecture(&self) -> Architecture {
        match self {
            Backbone::Cnn(_) => Architecture::Cnn,
            Backbone::Mlp(_) => Architecture::Mlp,
        }
    }

    /// Features `[batch, feature_size]` of images `[batch, 784]`.
    pub fn forward(&self, images: Tensor<2>) -> Tensor<2> {
        match self {
            Backbone::Mlp(m) => m.activation.forward(m.fc1.forward(images)),
            Backbone::Cnn(c) => {
                let [batch, _] = images.dims();
                let x = images.reshape([batch, 1, IMAGE_SIDE, IMAGE_SIDE]);
                let x = c.pool.forward(c.activation.forward(c.conv1.forward(x)));
                let x = c.pool.forward(c.activation.forward(c.conv2.forward(x)));
                let [batch, channels, h, w] = x.dims();
                let x = x.reshape([batch, channels * h * w]);
                c.activation.forward(c.fc.forward(x))
            }
        }
    }
}

/// A backbone and a head of `classes` outputs.
#[derive(Module, Debug)]
pub struct Classifier {
    pub backbone: Backbone,
    pub head: Linear,
}

impl Classifier {
    /// Fresh weights (drawn from the device's generator: seed it for reproducibility).
    pub fn new(architecture: Architecture, classes: usize, device: &Device) -> Self {
        Self {
            backbone: Backbone::new(architecture, device),
            head: Self::new_head(architecture, classes, device),
        }
    }

    fn new_head(architecture: Architecture, classes: usize, device: &Device) -> Linear {
        LinearConfig::new(architecture.feature_size(), classes).init(device)
    }

    pub fn architecture(&self) -> Architecture {
        self.backbone.architecture()
    }

    /// Number of classes the head tells apart.
    pub fn classes(&self) -> usize {
        self.head.weight.dims()[1]
    }

    /// Keep the backbone, replace the head with a fresh one of `classes` outputs: the
    /// transfer-learning step.
    pub fn with_new_head(self, classes: usize, device: &Device) -> Self {
        let architecture = self.architecture();
        Self {
            head: Self::new_head(architecture, classes, device),
            ..self
        }
    }

    /// Stop the backbone's weights from training; the head still trains.
    pub fn freeze_backbone(self) -> Self {
        Self {
            backbone: self.backbone.no_grad(),
            ..self
        }
    }

    /// Logits `[batch, classes]` of images `[batch, 784]` in 0..=1.
    pub fn forward(&self, images: Tensor<2>) -> Tensor<2> {
        self.head.forward(self.backbone.forward(images))
    }

    /// Logits with the features multiplied by `keep` (`[batch, feature_size]`), the dropout
    /// mask already scaled by `1 / (1 - p)`. The training loop draws the mask from its own
    /// seeded generator, so a run is reproducible whatever else uses the device.
    pub fn forward_with_dropout(&self, images: Tensor<2>, keep: Tensor<2>) -> Tensor<2> {
        self.head.forward(self.backbone.forward(images) * keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::cpu;

    #[test]
    fn shapes_and_parameter_counts() {
        let device = cpu();
        let cnn = Classifier::new(Architecture::Cnn, 10, &device);
        let mlp = Classifier::new(Architecture::Mlp, 10, &device);
        assert_eq!(mlp.num_params(), 784 * 128 + 128 + 128 * 10 + 10);
        assert_eq!(
            cnn.num_params(),
            (9 * 16 + 16) + (9 * 16 * 32 + 32) + (32 * 49 * 64 + 64) + (64 * 10 + 10)
        );
        let logits = cnn.forward(Tensor::zeros([3, IMAGE_PIXELS], &device));
        assert_eq!(logits.dims(), [3, 10]);
        let two = mlp.with_new_head(2, &device);
        assert_eq!(two.classes(), 2);
        assert_eq!(
            two.forward(Tensor::zeros([1, IMAGE_PIXELS], &device))
                .dims(),
            [1, 2]
        );
        assert_eq!("mlp".parse::<Architecture>(), Ok(Architecture::Mlp));
        assert!("resnet".parse::<Architecture>().is_err());
    }
}
