//! Networks: a backbone (feature extractor) and a head (a linear classifier of N classes).
//!
//! - `mlp`: the textbook `Net(784 → 128 ReLU → N)`.
//! - `cnn` (the default): two 3×3 convolutions (16 and 32 channels, each followed by ReLU and
//!   2×2 max-pooling) and a 128-unit fully connected layer, then the head.
//!
//! Inputs are flattened 28×28 images scaled to 0..=1 (`pixel / 255`), shape `[batch, 784]`.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::prelude::*;
use burn::tensor::module::max_pool2d;
use burn::tensor::ops::{MaxPoolOptions, PadMode};

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
const CNN_FEATURES: usize = 128;
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
    activation: Relu,
}

/// The feature extractor of either architecture. (One lives per model, so the size
/// difference between the variants does not matter.)
#[allow(clippy::large_enum_variant)]
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
                let x = max_pool_2x2(c.activation.forward(conv3x3_same(&c.conv1, x)));
                let x = max_pool_2x2(c.activation.forward(conv3x3_same(&c.conv2, x)));
                let [batch, channels, h, w] = x.dims();
                let x = x.reshape([batch, channels * h * w]);
                c.activation.forward(c.fc.forward(x))
            }
        }
    }
}

/// A 3×3 convolution with "same" padding on `[batch, c, h, w]`, computed as patches (im2col:
/// the nine shifted views stacked) times the kernel matrix. burn's direct CPU convolution is
/// far slower for these small images, above all in the backward pass. Every copy keeps an
/// image row or plane innermost, which is what makes this fast on the ndarray CPU device.
fn conv3x3_same(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let [batch, c, h, w] = x.dims();
    let padded = x.pad([(1, 1), (1, 1)], PadMode::Constant(0.0));
    let taps = (0..3)
        .flat_map(|ky| (0..3).map(move |kx| (ky, kx)))
        .map(|(ky, kx)| {
            padded
                .clone()
                .slice([0..batch, 0..c, ky..ky + h, kx..kx + w])
                .reshape([batch, c, 1, h * w])
        })
        .collect();
    // Rows in (in, ky, kx) order: the weight's own [out, in, 3, 3] layout.
    let patches = Tensor::cat(taps, 2).reshape([batch, c * 9, h * w]);
    let weight = conv.weight.val();
    let out_channels = weight.dims()[0];
    let mut y = weight.reshape([1, out_channels, c * 9]).matmul(patches);
    if let Some(bias) = &conv.bias {
        y = y + bias.val().reshape([1, out_channels, 1]);
    }
    y.reshape([batch, out_channels, h, w])
}

/// 2×2 max-pooling with stride 2.
fn max_pool_2x2(x: Tensor<4>) -> Tensor<4> {
    max_pool2d(x, MaxPoolOptions::new([2, 2]))
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
    fn im2col_convolution_and_pooling_match_burns_own() {
        use burn::nn::pool::MaxPool2dConfig;
        use burn::tensor::Distribution;
        let device = cpu();
        let conv = Conv2dConfig::new([3, 5], [3, 3])
            .with_padding(PaddingConfig2d::Same)
            .init(&device);
        let nchw = Tensor::<4>::random([2, 3, 6, 8], Distribution::Normal(0.0, 1.0), &device);
        let expected = conv.forward(nchw.clone());
        let ours = conv3x3_same(&conv, nchw);
        let diff = (ours - expected.clone()).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-5, "convolutions differ by {diff}");

        let pool = MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init();
        let x = Tensor::<4>::random([2, 5, 6, 8], Distribution::Normal(0.0, 1.0), &device);
        let expected = pool.forward(x.clone());
        let ours = max_pool_2x2(x);
        let diff = (ours - expected).abs().max().into_scalar::<f32>();
        assert!(diff == 0.0, "pooling differs by {diff}");
    }

    #[test]
    fn shapes_and_parameter_counts() {
        let device = cpu();
        let cnn = Classifier::new(Architecture::Cnn, 10, &device);
        let mlp = Classifier::new(Architecture::Mlp, 10, &device);
        assert_eq!(mlp.num_params(), 784 * 128 + 128 + 128 * 10 + 10);
        assert_eq!(
            cnn.num_params(),
            (9 * 16 + 16) + (9 * 16 * 32 + 32) + (32 * 49 * 128 + 128) + (128 * 10 + 10)
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
