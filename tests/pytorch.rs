//! PyTorch interoperability: the textbook Net(784, 128, 10), saved from PyTorch as safetensors
//! (`fc1.weight` [128, 784], `fc1.bias`, `fc2.weight` [10, 128], `fc2.bias`), loads as the `mlp`.
mod common;

use std::collections::HashMap;

use common::mnist_subset;
use digit_transfer::data::{IMAGE_PIXELS, Split};
use digit_transfer::device::cpu;
use digit_transfer::model::Architecture;
use digit_transfer::train;
use digit_transfer::weights::{self, Format, WeightsError};
use futures::executor::block_on;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

/// Known numbers in PyTorch's layout: Linear weights `[out, in]`.
struct Net {
    fc1_w: Vec<f32>,
    fc1_b: Vec<f32>,
    fc2_w: Vec<f32>,
    fc2_b: Vec<f32>,
}

impl Net {
    fn new(classes: usize) -> Self {
        let wave =
            |n: usize, a: f32, b: f32| (0..n).map(|i| (i as f32 * a).sin() * b).collect::<Vec<_>>();
        Net {
            fc1_w: wave(128 * IMAGE_PIXELS, 0.37, 0.05),
            fc1_b: wave(128, 1.3, 0.1),
            fc2_w: wave(classes * 128, 0.71, 0.3),
            fc2_b: wave(classes, 2.1, 0.2),
        }
    }

    fn classes(&self) -> usize {
        self.fc2_b.len()
    }

    /// The network's forward pass written out by hand, in f64: fc2(relu(fc1(x))), softmax.
    fn reference(&self, image: &[u8; IMAGE_PIXELS]) -> Vec<f64> {
        let x: Vec<f64> = image.iter().map(|&p| f64::from(p) / 255.0).collect();
        let hidden: Vec<f64> = (0..128)
            .map(|o| {
                let row = &self.fc1_w[o * IMAGE_PIXELS..(o + 1) * IMAGE_PIXELS];
                let z = f64::from(self.fc1_b[o])
                    + row
                        .iter()
                        .zip(&x)
                        .map(|(w, v)| f64::from(*w) * v)
                        .sum::<f64>();
                z.max(0.0)
            })
            .collect();
        let logits: Vec<f64> = (0..self.classes())
            .map(|o| {
                let row = &self.fc2_w[o * 128..(o + 1) * 128];
                f64::from(self.fc2_b[o])
                    + row
                        .iter()
                        .zip(&hidden)
                        .map(|(w, h)| f64::from(*w) * h)
                        .sum::<f64>()
            })
            .collect();
        let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
        let sum: f64 = exp.iter().sum();
        exp.iter().map(|e| e / sum).collect()
    }

    fn safetensors(&self, skip: Option<&str>, wrong_shape: Option<&str>) -> Vec<u8> {
        let bytes = |v: &[f32]| v.iter().flat_map(|f| f.to_le_bytes()).collect::<Vec<u8>>();
        let data = [
            ("fc1.weight", vec![128, IMAGE_PIXELS], bytes(&self.fc1_w)),
            ("fc1.bias", vec![128], bytes(&self.fc1_b)),
            ("fc2.weight", vec![self.classes(), 128], bytes(&self.fc2_w)),
            ("fc2.bias", vec![self.classes()], bytes(&self.fc2_b)),
        ];
        let views: Vec<(String, TensorView)> = data
            .iter()
            .filter(|(name, _, _)| Some(*name) != skip)
            .map(|(name, shape, raw)| {
                let shape = if Some(*name) == wrong_shape {
                    shape.iter().rev().cloned().collect()
                } else {
                    shape.clone()
                };
                (
                    name.to_string(),
                    TensorView::new(Dtype::F32, shape, raw).unwrap(),
                )
            })
            .collect();
        safetensors::serialize(views, None::<HashMap<String, String>>).unwrap()
    }
}

#[test]
fn pytorch_net_loads_as_the_mlp_and_predicts_like_a_reference() {
    let device = cpu();
    let net = Net::new(10);
    let bytes = net.safetensors(None, None);
    assert_eq!(Format::detect(&bytes), Format::Safetensors);
    let (model, info) = weights::from_bytes(&bytes, Some(Architecture::Mlp), &device).unwrap();
    assert_eq!(info.architecture, Architecture::Mlp);
    assert_eq!(info.class_names.len(), 10);
    let images: Vec<_> = mnist_subset(Split::HeldOut, 2)
        .iter()
        .map(|s| s.image)
        .collect();
    let ours = block_on(train::predict(&model, &images, &device, 64)).unwrap();
    for (image, p) in images.iter().zip(&ours) {
        let reference = net.reference(image);
        for (a, b) in p.iter().zip(&reference) {
            assert!((f64::from(*a) - b).abs() < 1e-4, "{p:?} vs {reference:?}");
        }
        assert_eq!(
            train::argmax(p),
            train::argmax(&reference.iter().map(|&v| v as f32).collect::<Vec<_>>())
        );
    }

    // The textbook's two-class head loads too.
    let two = Net::new(2);
    let (model, info) = weights::from_bytes(&two.safetensors(None, None), None, &device).unwrap();
    assert_eq!((model.classes(), info.class_names.len()), (2, 2));
}

#[test]
fn export_writes_pytorch_names_and_layouts_and_round_trips() {
    let device = cpu();
    let net = Net::new(10);
    let (model, info) = weights::from_bytes(&net.safetensors(None, None), None, &device).unwrap();
    let exported = weights::encode(&model, &info, Format::Safetensors).unwrap();
    let file = SafeTensors::deserialize(&exported).unwrap();
    let mut names: Vec<String> = file.names().into_iter().map(String::from).collect();
    names.sort();
    assert_eq!(names, ["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"]);
    let fc1 = file.tensor("fc1.weight").unwrap();
    assert_eq!(fc1.shape(), [128, IMAGE_PIXELS]);
    let values: Vec<f32> = fc1
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(values, net.fc1_w, "exported exactly as PyTorch lays it out");
    assert_eq!(file.tensor("fc2.weight").unwrap().shape(), [10, 128]);

    // Both formats load back to the same predictions.
    let burnpack = weights::encode(&model, &info, Format::Burnpack).unwrap();
    let images: Vec<_> = mnist_subset(Split::HeldOut, 1)
        .iter()
        .map(|s| s.image)
        .collect();
    let a = block_on(train::predict(
        &weights::from_bytes(&exported, None, &device).unwrap().0,
        &images,
        &device,
        64,
    ))
    .unwrap();
    let b = block_on(train::predict(
        &weights::from_bytes(&burnpack, None, &device).unwrap().0,
        &images,
        &device,
        64,
    ))
    .unwrap();
    assert_eq!(a, b);

    // The pretrained cnn exports with PyTorch names as well.
    let cnn = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/www/weights/pretrained-cnn.bpk"
    ))
    .unwrap();
    let (cnn_model, cnn_info) = weights::from_bytes(&cnn, None, &device).unwrap();
    let exported = weights::encode(&cnn_model, &cnn_info, Format::Safetensors).unwrap();
    let names: Vec<String> = SafeTensors::deserialize(&exported)
        .unwrap()
        .names()
        .into_iter()
        .map(String::from)
        .collect();
    assert!(
        names.contains(&"conv1.weight".to_string()) && names.contains(&"fc2.bias".to_string()),
        "{names:?}"
    );
    let (back, back_info) = weights::from_bytes(&exported, None, &device).unwrap();
    assert_eq!(back_info, cnn_info);
    let x = block_on(train::predict(&back, &images, &device, 64)).unwrap();
    let y = block_on(train::predict(&cnn_model, &images, &device, 64)).unwrap();
    assert_eq!(x, y);
}

#[test]
fn wrong_or_missing_pytorch_tensors_are_named() {
    let device = cpu();
    let net = Net::new(10);
    let err =
        weights::from_bytes(&net.safetensors(Some("fc1.bias"), None), None, &device).unwrap_err();
    assert!(
        matches!(&err, WeightsError::MissingTensor { name } if name == "fc1.bias"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "tensor `fc1.bias` is missing from the weights file"
    );
    let err =
        weights::from_bytes(&net.safetensors(Some("fc2.weight"), None), None, &device).unwrap_err();
    assert!(
        matches!(&err, WeightsError::MissingTensor { name } if name == "fc2.weight"),
        "{err:?}"
    );
    let err =
        weights::from_bytes(&net.safetensors(None, Some("fc1.weight")), None, &device).unwrap_err();
    assert!(
        matches!(&err, WeightsError::WrongShape { name, .. } if name == "fc1.weight"),
        "{err:?}"
    );
    assert!(err.to_string().contains("fc1.weight"), "{err}");
    let mut broken = net.safetensors(None, None);
    broken.truncate(broken.len() / 2);
    let err = weights::from_bytes(&broken, None, &device).unwrap_err();
    assert!(matches!(err, WeightsError::NotSafetensors(_)), "{err:?}");
    let err = weights::from_bytes(
        &net.safetensors(None, None),
        Some(Architecture::Cnn),
        &device,
    )
    .unwrap_err();
    assert!(
        matches!(err, WeightsError::WrongArchitecture { .. }),
        "{err:?}"
    );
}
