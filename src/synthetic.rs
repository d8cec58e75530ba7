//! Test domains of our own, for measuring transfer: digits typeset in the system's fonts (a
//! second digit domain, unlike handwriting), and simple drawn symbols (a new task). Both go
//! through the same preprocessing as a person's drawing, then through augmentation.

use std::path::{Path, PathBuf};

use ab_glyph::{FontVec, PxScale};
use image::{GrayImage, Luma};
use imageproc::geometric_transformations::{Interpolation, Projection, warp};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use thiserror::Error;

use crate::data::{DIGIT_CLASSES, Sample};
use crate::preprocess::{self, Augmentation, Canvas, PixelFormat, Polarity};

/// Font files tried, in order; the regular, bold, italic and condensed cuts of DejaVu (Debian's
/// `fonts-dejavu-core`) and Liberation (`fonts-liberation`).
const FONT_FILES: &[&str] = &[
    "dejavu/DejaVuSans.ttf",
    "dejavu/DejaVuSans-Bold.ttf",
    "dejavu/DejaVuSans-Oblique.ttf",
    "dejavu/DejaVuSansCondensed.ttf",
    "dejavu/DejaVuSansMono.ttf",
    "dejavu/DejaVuSansMono-Bold.ttf",
    "dejavu/DejaVuSerif.ttf",
    "dejavu/DejaVuSerif-Bold.ttf",
    "dejavu/DejaVuSerif-Italic.ttf",
    "liberation/LiberationSans-Regular.ttf",
    "liberation/LiberationSans-Bold.ttf",
    "liberation/LiberationSerif-Regular.ttf",
    "liberation/LiberationSerif-Italic.ttf",
    "liberation/LiberationMono-Regular.ttf",
    "liberation/LiberationSansNarrow-Regular.ttf",
];
const FONT_DIR: &str = "/usr/share/fonts/truetype";

/// The symbol classes of [`symbols`].
pub const SYMBOL_NAMES: [&str; 3] = ["circle", "cross", "triangle"];

/// Why a synthetic set could not be made.
#[derive(Debug, Error)]
pub enum SyntheticError {
    #[error("no usable font under {0} (install Debian's fonts-dejavu-core and fonts-liberation)")]
    NoFonts(PathBuf),
}

/// The fonts found under `dir` (normally `/usr/share/fonts/truetype`).
pub fn load_fonts(dir: &Path) -> Result<Vec<FontVec>, SyntheticError> {
    let fonts: Vec<FontVec> = FONT_FILES
        .iter()
        .filter_map(|file| std::fs::read(dir.join(file)).ok())
        .filter_map(|bytes| FontVec::try_from_vec(bytes).ok())
        .collect();
    if fonts.is_empty() {
        return Err(SyntheticError::NoFonts(dir.to_path_buf()));
    }
    Ok(fonts)
}

/// The system's fonts, from the standard folder.
pub fn system_fonts() -> Result<Vec<FontVec>, SyntheticError> {
    load_fonts(Path::new(FONT_DIR))
}

/// Slant a picture by `shear` (x moves by `shear × (y − middle)`), on white.
fn slant(canvas: &GrayImage, shear: f32) -> GrayImage {
    let middle = canvas.height() as f32 / 2.0;
    let matrix = [1.0, shear, -shear * middle, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
    match Projection::from_matrix(matrix) {
        Some(projection) => warp(canvas, &projection, Interpolation::Bilinear, Luma([255])),
        None => canvas.clone(),
    }
}

fn finish(
    canvas: &GrayImage,
    label: usize,
    augmentation: &Augmentation,
    rng: &mut StdRng,
) -> Option<Sample> {
    let drawing = Canvas {
        width: canvas.width() as usize,
        height: canvas.height() as usize,
        format: PixelFormat::Grey,
        polarity: Polarity::DarkOnLight,
        pixels: canvas.as_raw(),
    };
    let image = preprocess::to_mnist(&drawing).ok()?;
    Some(Sample {
        image: augmentation.apply(&image, rng),
        label,
    })
}

/// `per_class` typeset digits of each class: fonts in turn, each with a random slant
/// (±0.25) and the usual augmentation, reproducible from `seed`.
pub fn font_digits(fonts: &[FontVec], per_class: usize, seed: u64) -> Vec<Sample> {
    let digits: Vec<String> = (0..DIGIT_CLASSES).map(|d| d.to_string()).collect();
    font_glyphs(fonts, &digits, per_class, seed)
}

/// The Latin capitals A–Z, lower case a–z, and arithmetic and punctuation signs that no
/// font draws alike: the classes of the typeset new tasks.
pub const CAPITALS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
pub const LOWER_CASE: &str = "abcdefghijklmnopqrstuvwxyz";
pub const SIGNS: &str = "+−×÷=<>%#@&?";

/// `per_class` typeset samples of each of `glyphs` (class `i` is `glyphs[i]`), as
/// [`font_digits`] makes them.
pub fn font_glyphs(
    fonts: &[FontVec],
    glyphs: &[String],
    per_class: usize,
    seed: u64,
) -> Vec<Sample> {
    let mut rng = StdRng::seed_from_u64(seed);
    let augmentation = Augmentation::default();
    let mut samples = Vec::with_capacity(per_class * glyphs.len());
    for index in 0..per_class {
        for (label, text) in glyphs.iter().enumerate() {
            let font = &fonts[(index * glyphs.len() + label) % fonts.len().max(1)];
            let mut canvas = GrayImage::from_pixel(96, 96, Luma([255]));
            let scale = PxScale::from(rng.random_range(60.0..80.0));
            // 20 pixels in, as the digits always were; a glyph too wide for that, centred.
            let (width, _) = imageproc::drawing::text_size(scale, font, text);
            let x = match i32::try_from(width).unwrap_or(i32::MAX) {
                w if w <= 76 => 20,
                w => ((96 - w) / 2).max(0),
            };
            imageproc::drawing::draw_text_mut(&mut canvas, Luma([0]), x, 2, scale, font, text);
            let canvas = slant(&canvas, rng.random_range(-0.25..0.25));
            if let Some(sample) = finish(&canvas, label, &augmentation, &mut rng) {
                samples.push(sample);
            }
        }
    }
    samples
}

/// Paint a round-tipped stroke from `a` to `b`, black on white.
fn stroke(canvas: &mut GrayImage, a: (f32, f32), b: (f32, f32), radius: f32) {
    let steps = ((b.0 - a.0).hypot(b.1 - a.1) * 2.0).ceil().max(1.0) as usize;
    for s in 0..=steps {
        let t = s as f32 / steps as f32;
        let centre = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        imageproc::drawing::draw_filled_circle_mut(
            canvas,
            (centre.0.round() as i32, centre.1.round() as i32),
            radius.round() as i32,
            Luma([0]),
        );
    }
}

/// `per_class` hand-like drawings of each symbol of [`SYMBOL_NAMES`], with jittered points and
/// stroke widths and the usual augmentation, reproducible from `seed`.
pub fn symbols(per_class: usize, seed: u64) -> Vec<Sample> {
    let mut rng = StdRng::seed_from_u64(seed);
    let augmentation = Augmentation::default();
    let mut samples = Vec::with_capacity(per_class * SYMBOL_NAMES.len());
    for _ in 0..per_class {
        for label in 0..SYMBOL_NAMES.len() {
            let mut canvas = GrayImage::from_pixel(100, 100, Luma([255]));
            let radius = rng.random_range(3.0..7.0);
            let mut jitter = |x: f32, y: f32| {
                (
                    x + rng.random_range(-6.0..6.0),
                    y + rng.random_range(-6.0..6.0),
                )
            };
            match label {
                0 => {
                    let points: Vec<(f32, f32)> = (0..=24)
                        .map(|i| {
                            let angle = i as f32 / 24.0 * std::f32::consts::TAU;
                            (50.0 + 32.0 * angle.cos(), 50.0 + 32.0 * angle.sin())
                        })
                        .collect();
                    for pair in points.windows(2) {
                        stroke(&mut canvas, pair[0], pair[1], radius);
                    }
                }
                1 => {
                    let (a, b, c, d) = (
                        jitter(18.0, 18.0),
                        jitter(82.0, 82.0),
                        jitter(82.0, 18.0),
                        jitter(18.0, 82.0),
                    );
                    stroke(&mut canvas, a, b, radius);
                    stroke(&mut canvas, c, d, radius);
                }
                _ => {
                    let (a, b, c) = (jitter(50.0, 14.0), jitter(86.0, 84.0), jitter(14.0, 84.0));
                    stroke(&mut canvas, a, b, radius);
                    stroke(&mut canvas, b, c, radius);
                    stroke(&mut canvas, c, a, radius);
                }
            }
            if let Some(sample) = finish(&canvas, label, &augmentation, &mut rng) {
                samples.push(sample);
            }
        }
    }
    samples
}
