//! What transfer learning does to the feature space: the backbone's feature vectors of some
//! images, projected to 2-D by PCA (fitted once, deterministically, so two networks' features
//! can be drawn on the same axes), and how well the classes stand apart there
//! (nearest-class-mean accuracy).

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::IMAGE_PIXELS;
use crate::device::read_floats;
use crate::model::Classifier;
use crate::train::{TrainError, images_tensor};

/// The backbone's feature vector of each image (`feature_size` values each).
pub async fn features(
    model: &Classifier,
    images: &[[u8; IMAGE_PIXELS]],
    device: &Device,
) -> Result<Vec<Vec<f32>>, TrainError> {
    let model = model.valid();
    let width = model.architecture().feature_size();
    let mut out = Vec::with_capacity(images.len());
    for chunk in images.chunks(256) {
        let features = model.backbone.forward(images_tensor(chunk.iter(), device));
        let values = read_floats(features.flatten::<1>(0, 1))
            .await
            .map_err(TrainError::Device)?;
        out.extend(values.chunks_exact(width).map(<[f32]>::to_vec));
    }
    Ok(out)
}

/// Two principal axes of a set of feature vectors, and their mean: a 2-D view of feature
/// space that stays put, so features of another network can be drawn in it too.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Projection {
    pub mean: Vec<f32>,
    pub axes: [Vec<f32>; 2],
}

impl Projection {
    /// The two directions of largest variance of `features` (PCA), found deterministically:
    /// power iteration from a fixed start, each axis's largest component made positive.
    /// Fewer than two vectors, or no variance, give the first two coordinate axes.
    pub fn fit(features: &[Vec<f32>]) -> Projection {
        let width = features.first().map_or(0, Vec::len);
        let n = features.len().max(1) as f64;
        let mut mean = vec![0.0f64; width];
        for f in features {
            for (m, v) in mean.iter_mut().zip(f) {
                *m += f64::from(*v) / n;
            }
        }
        let mut covariance = vec![vec![0.0f64; width]; width];
        for f in features {
            let centred: Vec<f64> = f
                .iter()
                .zip(&mean)
                .map(|(v, m)| f64::from(*v) - m)
                .collect();
            for (i, row) in covariance.iter_mut().enumerate() {
                for (j, c) in row.iter_mut().enumerate() {
                    *c += centred[i] * centred[j] / n;
                }
            }
        }
        let first = principal_axis(&covariance, 0);
        deflate(&mut covariance, &first);
        let second = principal_axis(&covariance, 1);
        let to_f32 = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect();
        Projection {
            mean: to_f32(mean),
            axes: [to_f32(first.vector), to_f32(second.vector)],
        }
    }

    /// Each feature vector's coordinates on the two axes.
    pub fn project(&self, features: &[Vec<f32>]) -> Vec<[f32; 2]> {
        features
            .iter()
            .map(|f| {
                let along = |axis: &[f32]| -> f32 {
                    f.iter()
                        .zip(&self.mean)
                        .zip(axis)
                        .map(|((v, m), a)| (v - m) * a)
                        .sum()
                };
                [along(&self.axes[0]), along(&self.axes[1])]
            })
            .collect()
    }
}

/// An eigenvector of a symmetric matrix and its eigenvalue.
struct Axis {
    vector: Vec<f64>,
    value: f64,
}

/// The dominant eigenvector of `matrix` by power iteration; with no variance left, the
/// coordinate axis `fallback`.
fn principal_axis(matrix: &[Vec<f64>], fallback: usize) -> Axis {
    let width = matrix.len();
    let unit = |i: usize| -> Vec<f64> { (0..width).map(|j| f64::from(u8::from(i == j))).collect() };
    // A start no eigenvector is orthogonal to in practice, the same every time.
    let mut v: Vec<f64> = (0..width).map(|i| 1.0 + i as f64 / width as f64).collect();
    let mut value = 0.0;
    for _ in 0..500 {
        let next: Vec<f64> = matrix
            .iter()
            .map(|row| row.iter().zip(&v).map(|(a, b)| a * b).sum())
            .collect();
        let norm = next.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm < 1e-12 {
            return Axis {
                vector: if fallback < width { unit(fallback) } else { v },
                value: 0.0,
            };
        }
        let next: Vec<f64> = next.iter().map(|x| x / norm).collect();
        let change: f64 = next.iter().zip(&v).map(|(a, b)| (a - b).abs()).sum();
        v = next;
        value = norm;
        if change < 1e-10 {
            break;
        }
    }
    // The sign of an eigenvector is arbitrary: fix it, so equal inputs give equal axes.
    let largest = v.iter().copied().fold(
        0.0f64,
        |best, x| if x.abs() > best.abs() { x } else { best },
    );
    if largest < 0.0 {
        v.iter_mut().for_each(|x| *x = -*x);
    }
    Axis { vector: v, value }
}

/// Remove `axis` from `matrix` (Hotelling deflation), so the next power iteration finds the
/// next axis.
fn deflate(matrix: &mut [Vec<f64>], axis: &Axis) {
    for (i, row) in matrix.iter_mut().enumerate() {
        for (j, c) in row.iter_mut().enumerate() {
            *c -= axis.value * axis.vector[i] * axis.vector[j];
        }
    }
}

/// How well classes stand apart in feature space: the fraction of `test` vectors whose
/// nearest class mean (of the `train` vectors, by class) is their own class. None without
/// test vectors, or with fewer than two classes to tell apart (one is trivially "apart").
pub fn separation(train: &[(Vec<f32>, usize)], test: &[(Vec<f32>, usize)]) -> Option<f64> {
    let classes = train.iter().map(|(_, c)| c + 1).max()?;
    let width = train.first().map_or(0, |(f, _)| f.len());
    let mut sums = vec![vec![0.0f64; width]; classes];
    let mut counts = vec![0usize; classes];
    for (f, c) in train {
        counts[*c] += 1;
        for (s, v) in sums[*c].iter_mut().zip(f) {
            *s += f64::from(*v);
        }
    }
    let means: Vec<(usize, Vec<f64>)> = sums
        .into_iter()
        .enumerate()
        .filter(|(c, _)| counts[*c] > 0)
        .map(|(c, s)| (c, s.into_iter().map(|x| x / counts[c] as f64).collect()))
        .collect();
    if test.is_empty() || means.len() < 2 {
        return None;
    }
    let distance = |f: &[f32], m: &[f64]| -> f64 {
        f.iter()
            .zip(m)
            .map(|(v, m)| (f64::from(*v) - m).powi(2))
            .sum()
    };
    let right = test
        .iter()
        .filter(|(f, class)| {
            let nearest = means
                .iter()
                .min_by(|a, b| distance(f, &a.1).total_cmp(&distance(f, &b.1)))
                .map(|(c, _)| *c);
            nearest == Some(*class)
        })
        .count();
    Some(right as f64 / test.len() as f64)
}

/// [`separation`] within one labelled set: class means from every other vector of each class,
/// accuracy on the rest.
pub fn halves_separation(labelled: &[(Vec<f32>, usize)]) -> Option<f64> {
    let mut seen: Vec<usize> = Vec::new();
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (f, class) in labelled {
        if seen.len() <= *class {
            seen.resize(class + 1, 0);
        }
        seen[*class] += 1;
        if seen[*class] % 2 == 1 {
            &mut train
        } else {
            &mut test
        }
        .push((f.clone(), *class));
    }
    separation(&train, &test)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pca_finds_the_direction_of_largest_variance() {
        // Points spread along (1, 1, 0) a lot and along (1, -1, 0) a little.
        let points: Vec<Vec<f32>> = (-5..=5)
            .flat_map(|i| {
                let t = i as f32;
                [vec![t + 0.1, t - 0.1, 0.0], vec![t - 0.1, t + 0.1, 0.0]]
            })
            .collect();
        let p = Projection::fit(&points);
        let s = std::f32::consts::FRAC_1_SQRT_2;
        assert!((p.axes[0][0] - s).abs() < 1e-4 && (p.axes[0][1] - s).abs() < 1e-4);
        assert!((p.axes[1][0].abs() - s).abs() < 1e-3 && p.axes[1][2].abs() < 1e-6);
        assert_eq!(Projection::fit(&points), p, "deterministic");
        let [x, _] = p.project(&[vec![1.0, 1.0, 0.0]])[0];
        assert!((x - 2.0 * s).abs() < 1e-4);
    }

    #[test]
    fn separation_is_nearest_class_mean_accuracy() {
        let train = vec![(vec![0.0, 0.0], 0), (vec![10.0, 0.0], 1)];
        let test = vec![
            (vec![1.0, 0.0], 0),
            (vec![9.0, 0.0], 1),
            (vec![6.0, 0.0], 0),
        ];
        assert_eq!(separation(&train, &test), Some(2.0 / 3.0));
        assert_eq!(separation(&train, &[]), None);
        assert_eq!(separation(&[], &test), None);
        assert_eq!(
            separation(&train[..1], &test),
            None,
            "one class: nothing to tell apart"
        );
        let both: Vec<(Vec<f32>, usize)> = [0.0, 1.0, 10.0, 11.0, 2.0, 9.0]
            .iter()
            .zip([0, 0, 1, 1, 0, 1])
            .map(|(x, c)| (vec![*x], c))
            .collect();
        assert_eq!(halves_separation(&both), Some(1.0));
    }
}
