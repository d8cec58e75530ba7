//! The target domains a sweep fine-tunes on: where the few shots come from, and the domain's
//! own test samples, which only ever measure.

use thiserror::Error;

use crate::data::{DIGIT_CLASSES, IMAGE_PIXELS, Sample, digit_names, first_per_class};
use crate::preprocess::{self, Canvas, PixelFormat, Polarity};
use crate::synthetic::{self, CAPITALS, LOWER_CASE, SIGNS, SYMBOL_NAMES};

/// A target domain: where the few-shot samples are drawn from, and its own test set.
#[derive(Clone)]
pub struct Domain {
    pub name: &'static str,
    pub classes: Vec<String>,
    /// Candidates for the training shots.
    pub pool: Vec<Sample>,
    /// Measured only.
    pub test: Vec<Sample>,
}

/// Why a handwriting file could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DomainError {
    #[error("line {line} of the optical digits: {reason}")]
    BadLine { line: usize, reason: String },
    #[error("the optical digits file holds no digit")]
    Empty,
}

/// Rows and columns swapped: MNIST digits in a style the pretrained network has never seen.
pub fn transposed(sample: &Sample) -> Sample {
    let mut image = [0u8; IMAGE_PIXELS];
    for (i, v) in image.iter_mut().enumerate() {
        *v = sample.image[(i % 28) * 28 + i / 28];
    }
    Sample {
        image,
        label: sample.label,
    }
}

/// The domains made here: typeset digits (`fonts`), transposed MNIST digits (the training
/// split for shots, the held-out split for the test), and as new tasks drawn symbols (3
/// classes), typeset signs (12), capitals (26) and lower-case letters (26);
/// `test_per_class` samples of each class to measure on.
pub fn domains(
    fonts: &[ab_glyph::FontVec],
    mnist_train: &[Sample],
    mnist_held_out: &[Sample],
    test_per_class: usize,
) -> Vec<Domain> {
    let transposed_set = |set: &[Sample], n| -> Vec<Sample> {
        first_per_class(set, n).iter().map(transposed).collect()
    };
    vec![
        Domain {
            name: "typeset digits",
            classes: digit_names(),
            pool: synthetic::font_digits(fonts, 20, 1),
            test: synthetic::font_digits(fonts, test_per_class, 100),
        },
        Domain {
            name: "transposed MNIST",
            classes: digit_names(),
            pool: transposed_set(mnist_train, 20),
            test: transposed_set(mnist_held_out, test_per_class),
        },
        Domain {
            name: "drawn symbols (new task)",
            classes: SYMBOL_NAMES.iter().map(|s| s.to_string()).collect(),
            pool: synthetic::symbols(20, 1),
            test: synthetic::symbols(test_per_class, 100),
        },
        typeset("typeset signs (new task)", fonts, SIGNS, test_per_class),
        typeset(
            "typeset capitals (new task)",
            fonts,
            CAPITALS,
            test_per_class,
        ),
        typeset(
            "typeset lower case (new task)",
            fonts,
            LOWER_CASE,
            test_per_class,
        ),
    ]
}

/// A new task of the characters of `glyphs`, typeset in `fonts`.
pub fn typeset(
    name: &'static str,
    fonts: &[ab_glyph::FontVec],
    glyphs: &str,
    test_per_class: usize,
) -> Domain {
    let classes: Vec<String> = glyphs.chars().map(String::from).collect();
    Domain {
        name,
        pool: synthetic::font_glyphs(fonts, &classes, 20, 1),
        test: synthetic::font_glyphs(fonts, &classes, test_per_class, 100),
        classes,
    }
}

/// The UCI optical digits as scikit-learn ships them (`digits.csv`): one digit a line, 64
/// counts 0..=16 of an 8×8 grid (ink per 4×4 block of a 32×32 bitmap) and then the label.
/// Each grid goes through the page's own preprocessing, as if a person had drawn it.
pub fn optical_digits(text: &str) -> Result<Vec<Sample>, DomainError> {
    let mut samples = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let bad = |reason: String| DomainError::BadLine {
            line: i + 1,
            reason,
        };
        if line.trim().is_empty() {
            continue;
        }
        let values = line
            .split(',')
            .map(|v| v.trim().parse::<u8>())
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|e| bad(e.to_string()))?;
        let [grid @ .., label] = values.as_slice() else {
            return Err(bad("empty".into()));
        };
        if grid.len() != 64 {
            return Err(bad(format!("{} values, expected 65", values.len())));
        }
        if usize::from(*label) >= DIGIT_CLASSES || grid.iter().any(|&v| v > 16) {
            return Err(bad("a count above 16 or a label above 9".into()));
        }
        let ink: Vec<u8> = grid
            .iter()
            .map(|&v| (u16::from(v) * 255 / 16) as u8)
            .collect();
        let canvas = Canvas {
            width: 8,
            height: 8,
            format: PixelFormat::Grey,
            polarity: Polarity::LightOnDark,
            pixels: &ink,
        };
        let image = preprocess::to_mnist(&canvas).map_err(|e| bad(e.to_string()))?;
        samples.push(Sample {
            image,
            label: usize::from(*label),
        });
    }
    if samples.is_empty() {
        return Err(DomainError::Empty);
    }
    Ok(samples)
}

/// Real handwriting by writers MNIST never saw: the first half of `digits` gives the shots,
/// the second half (up to `test_per_class` a class) the test.
pub fn handwriting(digits: &[Sample], test_per_class: usize) -> Domain {
    let (pool, test) = digits.split_at(digits.len() / 2);
    Domain {
        name: "UCI handwriting",
        classes: digit_names(),
        pool: pool.to_vec(),
        test: first_per_class(test, test_per_class),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optical_digits_become_centred_mnist_images() {
        // A vertical bar: a "1" in the middle columns.
        let mut line: Vec<String> = (0..64)
            .map(|i| if i % 8 == 3 || i % 8 == 4 { "16" } else { "0" }.to_string())
            .collect();
        line.push("1".into());
        let samples = optical_digits(&line.join(",")).unwrap();
        assert_eq!(samples.len(), 1);
        assert_eq!(samples[0].label, 1);
        let (cx, cy) = preprocess::centre_of_mass(&samples[0].image, 28).unwrap();
        assert!(
            (cx - 14.0).abs() < 1.0 && (cy - 14.0).abs() < 1.0,
            "{cx} {cy}"
        );
        // 20 rows tall, as MNIST scales the ink to fit 20×20.
        let rows = (0..28)
            .filter(|y| (0..28).any(|x| samples[0].image[y * 28 + x] > 0))
            .count();
        assert_eq!(rows, 20);
    }

    #[test]
    fn a_bad_optical_digits_line_is_named() {
        let short = "0,1,2\n";
        assert_eq!(
            optical_digits(short),
            Err(DomainError::BadLine {
                line: 1,
                reason: "3 values, expected 65".into()
            })
        );
        let mut values = vec!["0"; 64];
        values.push("12");
        let text = format!("\n{}", values.join(","));
        assert!(matches!(
            optical_digits(&text),
            Err(DomainError::BadLine { line: 2, .. })
        ));
        assert!(matches!(
            optical_digits("x"),
            Err(DomainError::BadLine { line: 1, .. })
        ));
        assert_eq!(optical_digits("\n"), Err(DomainError::Empty));
    }
}
