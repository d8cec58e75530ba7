//! What the fuzz targets (`fuzz/`) drive, and what `tests/fuzz_corpus.rs` replays on every
//! saved input: each decoder of bytes from outside, with the properties that must hold for any
//! input. Decoding may fail (with a typed error) but must not panic, and whatever decodes must
//! survive being written and read again. A broken property panics: that is a finding.

use crate::data::{self, Sample};
use crate::preprocess::{self, Canvas, PixelFormat, Polarity};
use crate::samples::{self, SampleSet};
use crate::weights;

/// MNIST IDX image and label files (plain or gzip).
pub fn idx(bytes: &[u8]) {
    if let Ok(images) = data::parse_idx_images(bytes) {
        let samples: Vec<Sample> = images
            .iter()
            .map(|image| Sample {
                image: *image,
                label: 0,
            })
            .collect();
        let again = data::parse_idx_images(&data::write_idx_images(&samples));
        assert_eq!(again.ok().as_ref(), Some(&images), "IDX images round trip");
    }
    if let Ok(labels) = data::parse_idx_labels(bytes) {
        let samples: Vec<Sample> = labels
            .iter()
            .map(|&label| Sample {
                image: [0; data::IMAGE_PIXELS],
                label: usize::from(label),
            })
            .collect();
        let again = data::parse_idx_labels(&data::write_idx_labels(&samples));
        assert_eq!(again.ok().as_ref(), Some(&labels), "IDX labels round trip");
    }
}

/// Weight files, burnpack or safetensors, decoded onto the CPU.
pub fn weights(bytes: &[u8]) {
    let device = crate::device::cpu();
    let Ok((model, info)) = weights::from_bytes(bytes, None, &device) else {
        return;
    };
    assert_eq!(model.classes(), info.class_names.len(), "head size");
    match weights::to_burnpack(&model, &info).map(|again| weights::read_info(&again)) {
        Ok(Ok(read)) => assert_eq!(read, info, "weights description round trip"),
        other => panic!("decoded weights could not be written again: {other:?}"),
    }
}

/// Samples files (the page's export, the CLI's `--samples`), and the page's flat buffers.
pub fn samples(bytes: &[u8]) {
    if let Ok(set) = SampleSet::from_json(bytes) {
        assert_eq!(
            SampleSet::from_json(set.to_json().as_bytes()).as_ref(),
            Ok(&set),
            "samples file round trip"
        );
        assert_eq!(set.counts().iter().sum::<usize>(), set.samples.len());
    }
    // The page hands images and labels over as two buffers: split the input into both.
    if let Some((&classes, rest)) = bytes.split_first() {
        let n = rest.len() / (data::IMAGE_PIXELS + 1);
        let (images, labels) = rest.split_at(n * data::IMAGE_PIXELS);
        if let Ok(samples) = samples::from_buffers(images, labels, usize::from(classes)) {
            assert!(samples.iter().all(|s| s.label < usize::from(classes)));
        }
    }
}

/// Preprocessing of a canvas of any size, format and contents. The first five bytes choose
/// width and height (up to 65535 each), pixel format and polarity; the rest are the pixels.
pub fn canvas(bytes: &[u8]) {
    let Some((head, pixels)) = bytes.split_first_chunk::<5>() else {
        return;
    };
    let width = usize::from(u16::from_le_bytes([head[0], head[1]]));
    let height = usize::from(u16::from_le_bytes([head[2], head[3]]));
    let format = if head[4] & 1 == 0 {
        PixelFormat::Grey
    } else {
        PixelFormat::Rgba
    };
    let polarity = match (head[4] >> 1) % 3 {
        0 => Polarity::Auto,
        1 => Polarity::DarkOnLight,
        _ => Polarity::LightOnDark,
    };
    let canvas = Canvas {
        width,
        height,
        format,
        polarity,
        pixels,
    };
    if let Ok(image) = preprocess::to_mnist(&canvas) {
        assert!(
            image.iter().any(|&p| p > 0),
            "a drawing with ink became blank"
        );
    }
}
