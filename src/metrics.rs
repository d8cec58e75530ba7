//! How well a classifier does: accuracy, per-class precision / recall / F1, macro-F1 and the
//! confusion matrix.

use serde::Serialize;

/// Counts of (true class, predicted class) pairs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfusionMatrix {
    /// `counts[truth][predicted]`.
    pub counts: Vec<Vec<u64>>,
}

/// Precision, recall and F1 of one class, and how many samples truly belong to it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ClassMetrics {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

/// Everything measured on one labelled set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub samples: u64,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_class: Vec<ClassMetrics>,
    pub confusion: Vec<Vec<u64>>,
}

impl ConfusionMatrix {
    pub fn new(classes: usize) -> Self {
        Self {
            counts: vec![vec![0; classes]; classes],
        }
    }

    /// A matrix from parallel slices of true and predicted classes (each below `classes`).
    pub fn from_pairs(classes: usize, truth: &[usize], predicted: &[usize]) -> Self {
        let mut matrix = Self::new(classes);
        for (&t, &p) in truth.iter().zip(predicted) {
            matrix.add(t, p);
        }
        matrix
    }

    pub fn add(&mut self, truth: usize, predicted: usize) {
        self.counts[truth][predicted] += 1;
    }

    pub fn classes(&self) -> usize {
        self.counts.len()
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Fraction of samples classified correctly (0 for an empty matrix).
    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.classes()).map(|c| self.counts[c][c]).sum();
        ratio(correct, self.total())
    }

    /// Metrics of each class. A class never predicted has precision 0, one never present has
    /// recall 0 (the scikit-learn convention with `zero_division=0`).
    pub fn per_class(&self) -> Vec<ClassMetrics> {
        (0..self.classes())
            .map(|c| {
                let tp = self.counts[c][c];
                let support: u64 = self.counts[c].iter().sum();
                let predicted: u64 = self.counts.iter().map(|row| row[c]).sum();
                let precision = ratio(tp, predicted);
                let recall = ratio(tp, support);
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                ClassMetrics {
                    precision,
                    recall,
                    f1,
                    support,
                }
            })
            .collect()
    }

    /// Unweighted mean of the per-class F1 scores, over classes with samples or predictions.
    pub fn macro_f1(&self) -> f64 {
        let per_class = self.per_class();
        let present: Vec<f64> = per_class
            .iter()
            .enumerate()
            .filter(|(c, m)| m.support > 0 || self.counts.iter().any(|row| row[*c] > 0))
            .map(|(_, m)| m.f1)
            .collect();
        if present.is_empty() {
            0.0
        } else {
            present.iter().sum::<f64>() / present.len() as f64
        }
    }

    pub fn report(&self) -> Report {
        Report {
            samples: self.total(),
            accuracy: self.accuracy(),
            macro_f1: self.macro_f1(),
            per_class: self.per_class(),
            confusion: self.counts.clone(),
        }
    }
}

fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_three_classes() {
        // truth:     0 0 0 1 1 2
        // predicted: 0 0 1 1 2 2
        let m = ConfusionMatrix::from_pairs(3, &[0, 0, 0, 1, 1, 2], &[0, 0, 1, 1, 2, 2]);
        assert_eq!(m.counts, vec![vec![2, 1, 0], vec![0, 1, 1], vec![0, 0, 1]]);
        assert!((m.accuracy() - 4.0 / 6.0).abs() < 1e-12);
        let pc = m.per_class();
        // class 0: tp 2, predicted 2, support 3 → p 1, r 2/3, f1 0.8
        assert!((pc[0].precision - 1.0).abs() < 1e-12);
        assert!((pc[0].recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((pc[0].f1 - 0.8).abs() < 1e-12);
        // class 1: tp 1, predicted 2, support 2 → p 0.5, r 0.5, f1 0.5
        assert!((pc[1].f1 - 0.5).abs() < 1e-12);
        // class 2: tp 1, predicted 2, support 1 → p 0.5, r 1, f1 2/3
        assert!((pc[2].precision - 0.5).abs() < 1e-12);
        assert!((pc[2].f1 - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(pc[2].support, 1);
        assert!((m.macro_f1() - (0.8 + 0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn empty_and_absent_classes() {
        let empty = ConfusionMatrix::new(4);
        assert_eq!(empty.accuracy(), 0.0);
        assert_eq!(empty.macro_f1(), 0.0);
        // Class 2 never occurs nor is predicted: it does not drag macro-F1 down.
        let m = ConfusionMatrix::from_pairs(3, &[0, 1], &[0, 1]);
        assert_eq!(m.macro_f1(), 1.0);
        assert_eq!(m.per_class()[2].precision, 0.0);
    }
}
