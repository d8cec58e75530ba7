//! Sample sets as files: the JSON the page exports and imports, which the CLI reads too.
//!
//! ```json
//! {
//!   "format": "digit-transfer-samples",
//!   "version": 1,
//!   "classes": ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
//!   "samples": [{ "label": 7, "image": "<base64 of 784 bytes>" }]
//! }
//! ```
//!
//! `classes` names the classes in order; `label` indexes it. `image` is the 28×28 image the
//! model sees — one byte a pixel, row-major, 0 background and 255 ink (the MNIST convention) —
//! in standard base64 with padding.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::{IMAGE_PIXELS, LabelOutOfRange, Sample, check_label};

/// The `format` tag of a samples file.
pub const FORMAT: &str = "digit-transfer-samples";
/// The version this build writes and reads.
pub const VERSION: u32 = 1;
/// Largest samples file accepted (about 30,000 samples), checked before parsing.
pub const MAX_BYTES: usize = 32 * 1024 * 1024;
/// Most classes a sample set may name.
pub const MAX_CLASSES: usize = 64;
/// Longest class name, in characters.
pub const MAX_CLASS_NAME: usize = 40;

/// Labelled samples and the names of their classes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleSet {
    pub classes: Vec<String>,
    pub samples: Vec<Sample>,
}

/// Why a samples file was refused.
#[derive(Debug, Error, PartialEq)]
pub enum SamplesError {
    #[error("the samples file is empty")]
    Empty,
    #[error("the samples file is {0} bytes; the limit is {MAX_BYTES} (about 30,000 samples)")]
    TooLarge(usize),
    #[error("not a digit-transfer samples file: {0}")]
    Malformed(String),
    #[error("not a digit-transfer samples file: its format is `{0}`, expected `{FORMAT}`")]
    WrongFormat(String),
    #[error("samples file version {0} is newer than this build reads ({VERSION})")]
    UnsupportedVersion(u32),
    #[error("a sample set needs at least 2 classes, this one names {0}")]
    TooFewClasses(usize),
    #[error("a sample set may name at most {MAX_CLASSES} classes, this one names {0}")]
    TooManyClasses(usize),
    #[error(
        "class names must be distinct, non-empty and at most {MAX_CLASS_NAME} characters: {0:?}"
    )]
    BadClassName(String),
    #[error("a class needs a name")]
    UnnamedClass,
    #[error("class names are at most {MAX_CLASS_NAME} characters")]
    LongClassName,
    #[error("there is already a class “{0}”")]
    DuplicateClass(String),
    #[error("a task has at most {MAX_CLASSES} classes")]
    ClassLimit,
    #[error("{0} is empty")]
    EmptyFile(String),
    #[error("{name} is {} MB; the limit is {} MB", bytes.div_ceil(1 << 20), MAX_BYTES >> 20)]
    FileTooLarge { name: String, bytes: u64 },
    #[error(transparent)]
    LabelOutOfRange(#[from] LabelOutOfRange),
    #[error("sample {index}: its image is not valid base64 ({message})")]
    BadImage { index: usize, message: String },
    #[error("sample {index}: its image has {len} pixels, expected 28×28 = {IMAGE_PIXELS}")]
    WrongImageSize { index: usize, len: usize },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSample {
    label: usize,
    image: String,
}

#[derive(Serialize, Deserialize)]
struct File {
    format: String,
    version: u32,
    classes: Vec<String>,
    samples: Vec<FileSample>,
}

/// Check class names: 2 to [`MAX_CLASSES`] of them, distinct, non-empty, not too long.
pub fn check_classes(classes: &[String]) -> Result<(), SamplesError> {
    if classes.len() < 2 {
        return Err(SamplesError::TooFewClasses(classes.len()));
    }
    if classes.len() > MAX_CLASSES {
        return Err(SamplesError::TooManyClasses(classes.len()));
    }
    for (i, name) in classes.iter().enumerate() {
        if name.trim().is_empty()
            || name.chars().count() > MAX_CLASS_NAME
            || classes[..i].contains(name)
        {
            return Err(SamplesError::BadClassName(name.clone()));
        }
    }
    Ok(())
}

/// A class a person adds to `classes`: its name trimmed, or why it cannot be added.
pub fn check_new_class(classes: &[String], name: &str) -> Result<String, SamplesError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(SamplesError::UnnamedClass);
    }
    if name.chars().count() > MAX_CLASS_NAME {
        return Err(SamplesError::LongClassName);
    }
    if classes.iter().any(|c| c == name) {
        return Err(SamplesError::DuplicateClass(name.to_string()));
    }
    if classes.len() >= MAX_CLASSES {
        return Err(SamplesError::ClassLimit);
    }
    Ok(name.to_string())
}

/// A file a person chose (samples or weights) is worth reading: not empty, and at most
/// [`MAX_BYTES`], before its bytes are even loaded.
pub fn check_file_size(name: &str, bytes: u64) -> Result<(), SamplesError> {
    if bytes == 0 {
        return Err(SamplesError::EmptyFile(name.to_string()));
    }
    if bytes > MAX_BYTES as u64 {
        return Err(SamplesError::FileTooLarge {
            name: name.to_string(),
            bytes,
        });
    }
    Ok(())
}

impl SampleSet {
    /// The file's bytes (pretty enough to read, compact enough to keep).
    pub fn to_json(&self) -> String {
        let file = File {
            format: FORMAT.to_string(),
            version: VERSION,
            classes: self.classes.clone(),
            samples: self
                .samples
                .iter()
                .map(|s| FileSample {
                    label: s.label,
                    image: STANDARD.encode(s.image),
                })
                .collect(),
        };
        let mut out = String::from("{\n");
        let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""));
        out += &format!("  \"format\": {},\n", quote(&file.format));
        out += &format!("  \"version\": {},\n", file.version);
        let classes: Vec<String> = file.classes.iter().map(|c| quote(c)).collect();
        out += &format!("  \"classes\": [{}],\n", classes.join(", "));
        out += "  \"samples\": [";
        for (i, s) in file.samples.iter().enumerate() {
            out += if i == 0 { "\n    " } else { ",\n    " };
            out += &format!("{{\"label\": {}, \"image\": \"{}\"}}", s.label, s.image);
        }
        out += if file.samples.is_empty() {
            "]\n}\n"
        } else {
            "\n  ]\n}\n"
        };
        out
    }

    /// Parse and check a samples file.
    pub fn from_json(bytes: &[u8]) -> Result<SampleSet, SamplesError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(SamplesError::Empty);
        }
        if bytes.len() > MAX_BYTES {
            return Err(SamplesError::TooLarge(bytes.len()));
        }
        // The tag first, so that other JSON gets the clearest message.
        #[derive(Deserialize)]
        struct Tag {
            format: Option<String>,
            version: Option<u32>,
        }
        let tag: Tag =
            serde_json::from_slice(bytes).map_err(|e| SamplesError::Malformed(e.to_string()))?;
        match tag.format {
            Some(format) if format == FORMAT => {}
            Some(format) => return Err(SamplesError::WrongFormat(format)),
            None => return Err(SamplesError::Malformed("it has no `format` field".into())),
        }
        if let Some(version) = tag.version
            && version > VERSION
        {
            return Err(SamplesError::UnsupportedVersion(version));
        }
        let file: File =
            serde_json::from_slice(bytes).map_err(|e| SamplesError::Malformed(e.to_string()))?;
        check_classes(&file.classes)?;
        let classes = file.classes.len();
        let samples =
            file.samples
                .into_iter()
                .enumerate()
                .map(|(index, s)| {
                    check_label(index, s.label, classes)?;
                    let pixels = STANDARD.decode(s.image.as_bytes()).map_err(|e| {
                        SamplesError::BadImage {
                            index,
                            message: e.to_string(),
                        }
                    })?;
                    let len = pixels.len();
                    let image = pixels
                        .try_into()
                        .map_err(|_| SamplesError::WrongImageSize { index, len })?;
                    Ok(Sample {
                        image,
                        label: s.label,
                    })
                })
                .collect::<Result<Vec<_>, SamplesError>>()?;
        Ok(SampleSet {
            classes: file.classes,
            samples,
        })
    }

    /// How many samples each class has.
    pub fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        for s in &self.samples {
            if let Some(c) = counts.get_mut(s.label) {
                *c += 1;
            }
        }
        counts
    }
}

/// Samples from flat buffers, as the page holds them: `images` is `n × 784` bytes, `labels`
/// `n` class indices below `classes`.
pub fn from_buffers(
    images: &[u8],
    labels: &[u8],
    classes: usize,
) -> Result<Vec<Sample>, SamplesError> {
    if images.len() != labels.len() * IMAGE_PIXELS {
        return Err(SamplesError::WrongImageSize {
            index: 0,
            len: images.len() / labels.len().max(1),
        });
    }
    images
        .chunks_exact(IMAGE_PIXELS)
        .zip(labels)
        .enumerate()
        .map(|(index, (image, &label))| {
            let label = check_label(index, usize::from(label), classes)?;
            let image = image.try_into().map_err(|_| SamplesError::WrongImageSize {
                index,
                len: image.len(),
            })?;
            Ok(Sample { image, label })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> SampleSet {
        let mut image = [0u8; IMAGE_PIXELS];
        image[100] = 255;
        image[783] = 7;
        SampleSet {
            classes: vec!["✓".into(), "<b>x</b>".into(), "A \"quoted\" one".into()],
            samples: vec![
                Sample { image, label: 2 },
                Sample {
                    image: [9; IMAGE_PIXELS],
                    label: 0,
                },
            ],
        }
    }

    #[test]
    fn round_trips() {
        let set = set();
        let json = set.to_json();
        assert_eq!(SampleSet::from_json(json.as_bytes()), Ok(set.clone()));
        assert_eq!(set.counts(), vec![1, 0, 1]);
        let empty = SampleSet {
            classes: set.classes.clone(),
            samples: vec![],
        };
        assert_eq!(
            SampleSet::from_json(empty.to_json().as_bytes()),
            Ok(empty.clone())
        );
    }

    #[test]
    fn refuses_bad_files_with_reasons() {
        let good = set().to_json();
        let err = |text: &str| SampleSet::from_json(text.as_bytes()).unwrap_err();
        assert_eq!(err(""), SamplesError::Empty);
        assert!(matches!(err("{\"format\": "), SamplesError::Malformed(_)));
        assert!(matches!(err("[1,2]"), SamplesError::Malformed(_)));
        assert_eq!(
            err(r#"{"format": "other"}"#),
            SamplesError::WrongFormat("other".into())
        );
        assert_eq!(
            err(&good.replace("\"version\": 1", "\"version\": 9")),
            SamplesError::UnsupportedVersion(9)
        );
        assert_eq!(
            err(&good.replace("\"label\": 2", "\"label\": 3")),
            SamplesError::LabelOutOfRange(LabelOutOfRange {
                index: 0,
                label: 3,
                classes: 3
            })
        );
        assert_eq!(
            err(&good.replace("\"A \\\"quoted\\\" one\"", "\"✓\"")),
            SamplesError::BadClassName("✓".into())
        );
        let short = format!(
            r#"{{"format":"{FORMAT}","version":1,"classes":["a","b"],"samples":[{{"label":0,"image":"AAAA"}}]}}"#
        );
        assert_eq!(
            err(&short),
            SamplesError::WrongImageSize { index: 0, len: 3 }
        );
        assert!(matches!(
            err(&short.replace("AAAA", "!!")),
            SamplesError::BadImage { index: 0, .. }
        ));
        assert_eq!(
            err(&short.replace(r#"["a","b"]"#, r#"["a"]"#)),
            SamplesError::TooFewClasses(1)
        );
        let huge = vec![b' '; MAX_BYTES + 1];
        assert_eq!(SampleSet::from_json(&huge), Err(SamplesError::Empty));
        let mut huge = vec![b'{'; 1];
        huge.resize(MAX_BYTES + 1, b' ');
        assert_eq!(
            SampleSet::from_json(&huge),
            Err(SamplesError::TooLarge(MAX_BYTES + 1))
        );
    }

    #[test]
    fn buffers_become_samples() {
        let images = vec![1u8; 2 * IMAGE_PIXELS];
        let samples = from_buffers(&images, &[1, 0], 2).unwrap();
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[0].label, 1);
        assert!(from_buffers(&images, &[1, 2], 2).is_err());
        assert!(from_buffers(&images[1..], &[1, 0], 2).is_err());
    }
}
