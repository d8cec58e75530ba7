mod common;

use common::{Drawing, read_pgm, write_pgm};
use digit_transfer::data::{IMAGE_PIXELS, IMAGE_SIDE};
use digit_transfer::preprocess::{
    Augmentation, Canvas, PixelFormat, Polarity, PreprocessError, centre_of_mass, to_mnist,
};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn rgba(d: &Drawing) -> Canvas<'_> {
    Canvas::rgba(&d.rgba, d.width, d.height)
}

fn ink_box(image: &[u8; IMAGE_PIXELS]) -> (usize, usize) {
    let ink: Vec<(usize, usize)> = (0..IMAGE_PIXELS)
        .filter(|&i| image[i] > 0)
        .map(|i| (i % IMAGE_SIDE, i / IMAGE_SIDE))
        .collect();
    let w = ink.iter().map(|p| p.0).max().unwrap() - ink.iter().map(|p| p.0).min().unwrap() + 1;
    let h = ink.iter().map(|p| p.1).max().unwrap() - ink.iter().map(|p| p.1).min().unwrap() + 1;
    (w, h)
}

fn assert_mnist_like(image: &[u8; IMAGE_PIXELS]) {
    let (cx, cy) = centre_of_mass(image, IMAGE_SIDE).expect("ink");
    assert!(
        (cx - 14.0).abs() <= 0.5 && (cy - 14.0).abs() <= 0.5,
        "centre of mass ({cx}, {cy})"
    );
    let (w, h) = ink_box(image);
    assert!(w <= 20 && h <= 20, "ink box {w}×{h}");
    assert!(
        w == 20 || h == 20,
        "the longer side fills the 20-pixel box: {w}×{h}"
    );
}

#[test]
fn seven_matches_golden_image() {
    let drawing = Drawing::seven(300, 220);
    let image = to_mnist(&rgba(&drawing)).unwrap();
    assert_mnist_like(&image);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/seven.pgm");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, write_pgm(IMAGE_SIDE, &image)).unwrap();
    }
    let golden = std::fs::read_to_string(path).expect("golden image (UPDATE_GOLDEN=1 writes it)");
    let (w, h, pixels) = read_pgm(&golden);
    assert_eq!((w, h), (IMAGE_SIDE, IMAGE_SIDE));
    let worst = pixels
        .iter()
        .zip(image.iter())
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    assert!(worst <= 1, "differs from the golden image by up to {worst}");
}

#[test]
fn polarity_and_format_do_not_change_the_result() {
    let drawing = Drawing::seven(150, 150);
    let reference = to_mnist(&rgba(&drawing)).unwrap();

    // The same strokes, light on dark.
    let inverted: Vec<u8> = drawing
        .rgba
        .chunks(4)
        .flat_map(|p| [255 - p[0], 255 - p[1], 255 - p[2], 255])
        .collect();
    let canvas = Canvas {
        pixels: &inverted,
        ..rgba(&drawing)
    };
    assert_eq!(to_mnist(&canvas).unwrap(), reference);

    // As a one-byte grey picture, polarity given explicitly.
    let grey: Vec<u8> = drawing.rgba.chunks(4).map(|p| p[0]).collect();
    let canvas = Canvas {
        format: PixelFormat::Grey,
        polarity: Polarity::DarkOnLight,
        pixels: &grey,
        ..rgba(&drawing)
    };
    assert_eq!(to_mnist(&canvas).unwrap(), reference);

    // Black strokes on a transparent surface (what an untouched HTML canvas holds).
    let transparent: Vec<u8> = drawing
        .rgba
        .chunks(4)
        .flat_map(|p| [0, 0, 0, 255 - p[0]])
        .collect();
    let canvas = Canvas {
        pixels: &transparent,
        ..rgba(&drawing)
    };
    assert_eq!(to_mnist(&canvas).unwrap(), reference);
}

#[test]
fn tall_thin_stroke_keeps_its_aspect_ratio() {
    let mut d = Drawing::new(200, 400);
    d.stroke((100.0, 40.0), (100.0, 360.0), 12.0, [20, 20, 20]);
    let image = to_mnist(&rgba(&d)).unwrap();
    assert_mnist_like(&image);
    let (w, h) = ink_box(&image);
    assert_eq!(h, 20);
    assert!(
        w <= 3,
        "a 24-pixel-wide, 344-pixel-tall stroke scales to {w} pixels wide"
    );
}

#[test]
fn drawing_in_a_corner_is_centred() {
    let mut d = Drawing::new(400, 400);
    d.stroke((10.0, 10.0), (60.0, 80.0), 6.0, [0, 0, 0]);
    let image = to_mnist(&rgba(&d)).unwrap();
    assert_mnist_like(&image);
}

#[test]
fn empty_and_malformed_canvases_are_errors() {
    let blank = Drawing::new(120, 80);
    assert_eq!(to_mnist(&rgba(&blank)), Err(PreprocessError::Empty));
    let transparent = vec![0u8; 120 * 80 * 4];
    assert_eq!(
        to_mnist(&Canvas {
            pixels: &transparent,
            ..rgba(&blank)
        }),
        Err(PreprocessError::Empty)
    );
    let short = Canvas {
        pixels: &blank.rgba[..100],
        ..rgba(&blank)
    };
    assert!(matches!(
        to_mnist(&short),
        Err(PreprocessError::WrongLength {
            expected: 38400,
            found: 100,
            ..
        })
    ));
    let none = Canvas {
        width: 0,
        height: 0,
        pixels: &[],
        ..rgba(&blank)
    };
    assert!(matches!(
        to_mnist(&none),
        Err(PreprocessError::NoPixels { .. })
    ));
    let message = PreprocessError::Empty.to_string();
    assert!(message.contains("empty"), "{message}");
}

#[test]
fn augmentation_is_reproducible_from_its_seed() {
    let image = to_mnist(&rgba(&Drawing::seven(100, 100))).unwrap();
    let aug = Augmentation::default();
    let run = |seed| {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..5)
            .map(|_| aug.apply(&image, &mut rng))
            .collect::<Vec<_>>()
    };
    let (a, b, c) = (run(7), run(7), run(8));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(
        a.iter().all(|x| x != &image),
        "every augmented copy differs from the original"
    );
    // Distortions are mild: the ink mass stays within -50% … +80% and near the centre.
    let mass = |img: &[u8; IMAGE_PIXELS]| img.iter().map(|&v| u32::from(v)).sum::<u32>() as f32;
    for x in &a {
        let ratio = mass(x) / mass(&image);
        assert!((0.5..1.8).contains(&ratio), "ink mass ratio {ratio}");
        let (cx, cy) = centre_of_mass(x, IMAGE_SIDE).unwrap();
        assert!((cx - 14.0).abs() < 4.0 && (cy - 14.0).abs() < 4.0);
    }
    // No distortion at all leaves the image as it was.
    let none = Augmentation {
        max_shift: 0.0,
        max_rotation_deg: 0.0,
        max_scale: 0.0,
        max_thickness: 0.0,
    };
    // (Bilinear sampling has no neighbour past the last row and column, so compare inside them.)
    let same = none.apply(&image, &mut StdRng::seed_from_u64(1));
    for i in (0..IMAGE_PIXELS)
        .filter(|i| i % IMAGE_SIDE < IMAGE_SIDE - 1 && i / IMAGE_SIDE < IMAGE_SIDE - 1)
    {
        assert_eq!(same[i], image[i], "pixel {i}");
    }
}

#[test]
fn a_huge_canvas_gives_the_same_image_as_a_small_one() {
    let small = to_mnist(&rgba(&Drawing::seven_of(280, 280, 0.03))).unwrap();
    let huge = to_mnist(&rgba(&Drawing::seven_of(4000, 4000, 0.03))).unwrap();
    assert_mnist_like(&huge);
    let differ: u64 = small
        .iter()
        .zip(&huge)
        .map(|(a, b)| u64::from(a.abs_diff(*b)))
        .sum();
    let ink: u64 = small.iter().map(|&p| u64::from(p)).sum();
    assert!(
        differ * 10 < ink,
        "the 4000×4000 and 280×280 drawings differ by {differ} of {ink} ink"
    );
    // Past the largest surface accepted: refused before any pixel is read.
    let too_big = Canvas {
        width: 9000,
        height: 9000,
        pixels: &[],
        ..rgba(&Drawing::new(4, 4))
    };
    assert_eq!(
        to_mnist(&too_big),
        Err(PreprocessError::TooLarge {
            width: 9000,
            height: 9000
        })
    );
}

#[test]
fn a_single_dot_and_a_stroke_off_the_edge_become_centred_images() {
    // A dot is scaled up like any drawing: a round blob filling the 20-pixel box.
    let mut dot = Drawing::new(280, 280);
    dot.stroke((100.0, 60.0), (100.0, 60.0), 8.0, [0, 0, 0]);
    let image = to_mnist(&rgba(&dot)).unwrap();
    assert_mnist_like(&image);
    let (w, h) = ink_box(&image);
    assert!(w.abs_diff(h) <= 1, "a dot stays round: {w}×{h}");
    // A single pixel is still a drawing, not a division by zero.
    let mut pixel = Drawing::new(50, 50);
    pixel.rgba[(20 * 50 + 30) * 4..(20 * 50 + 30) * 4 + 3].fill(0);
    assert_mnist_like(&to_mnist(&rgba(&pixel)).unwrap());

    // A stroke that leaves the canvas is cut at the edge; what is left is centred.
    let mut off = Drawing::new(280, 280);
    off.stroke((140.0, 40.0), (400.0, 40.0), 10.0, [0, 0, 0]);
    off.stroke((140.0, 40.0), (140.0, 260.0), 10.0, [0, 0, 0]);
    assert_mnist_like(&to_mnist(&rgba(&off)).unwrap());
}
