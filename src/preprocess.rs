//! From what a person drew to what the model sees, the way MNIST itself was made: crop to the
//! ink, scale to fit 20×20 keeping the aspect ratio (anti-aliased), and place the result in a
//! 28×28 frame with its centre of mass at (14, 14). Also the training-time augmentation:
//! random shift, rotation, scale and stroke thickness, reproducible from a seed.

use image::{GrayImage, Luma, imageops};
use imageproc::geometric_transformations::{Interpolation, Projection, warp};
use imageproc::morphology::{Mask, grayscale_dilate, grayscale_erode};
use rand::{Rng, RngExt};
use thiserror::Error;

use crate::data::{IMAGE_PIXELS, IMAGE_SIDE};

/// Side of the box the ink is scaled to fit, as in MNIST.
pub const FIT_SIDE: u32 = 20;
/// Ink at or below this level (0..=255) does not count when finding the drawing's extent, so
/// faint noise cannot stretch the bounding box.
const INK_THRESHOLD: u8 = 16;
/// Largest canvas accepted, in pixels (a 8192×8192 drawing surface).
const MAX_CANVAS_PIXELS: usize = 8192 * 8192;

/// How the canvas encodes its pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelFormat {
    /// One byte a pixel.
    Grey,
    /// Four bytes a pixel, as `CanvasRenderingContext2D.getImageData` returns.
    Rgba,
}

/// Which way round ink and background are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Polarity {
    /// Decide from the border: a light border means dark ink. A transparent RGBA border means
    /// the opaque pixels are the ink, whatever their colour.
    #[default]
    Auto,
    /// Dark ink on a light background.
    DarkOnLight,
    /// Light ink on a dark background (the MNIST convention).
    LightOnDark,
}

/// A drawing to turn into a sample: `width × height` pixels, row-major.
#[derive(Clone, Copy, Debug)]
pub struct Canvas<'a> {
    pub width: usize,
    pub height: usize,
    pub format: PixelFormat,
    pub polarity: Polarity,
    pub pixels: &'a [u8],
}

impl<'a> Canvas<'a> {
    /// A browser canvas's pixels (`getImageData().data`: RGBA), ink told from paper by
    /// [`Polarity::Auto`].
    pub fn rgba(pixels: &'a [u8], width: usize, height: usize) -> Self {
        Canvas {
            width,
            height,
            format: PixelFormat::Rgba,
            polarity: Polarity::Auto,
            pixels,
        }
    }
}

/// Why a drawing cannot become a sample.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PreprocessError {
    #[error("the canvas is empty: draw something first")]
    Empty,
    #[error("the canvas has no pixels ({width}×{height})")]
    NoPixels { width: usize, height: usize },
    #[error("the canvas is {width}×{height}, larger than digit-transfer accepts")]
    TooLarge { width: usize, height: usize },
    #[error("a {width}×{height} {format:?} canvas needs {expected} bytes, got {found}")]
    WrongLength {
        width: usize,
        height: usize,
        format: PixelFormat,
        expected: usize,
        found: usize,
    },
}

/// Ink intensity (0 = none, 255 = full) of every canvas pixel.
fn ink_levels(canvas: &Canvas) -> Result<GrayImage, PreprocessError> {
    let (width, height) = (canvas.width, canvas.height);
    if width == 0 || height == 0 {
        return Err(PreprocessError::NoPixels { width, height });
    }
    let pixels = width
        .checked_mul(height)
        .filter(|&n| n <= MAX_CANVAS_PIXELS)
        .ok_or(PreprocessError::TooLarge { width, height })?;
    let channels = match canvas.format {
        PixelFormat::Grey => 1,
        PixelFormat::Rgba => 4,
    };
    let expected = pixels * channels;
    if canvas.pixels.len() != expected {
        return Err(PreprocessError::WrongLength {
            width,
            height,
            format: canvas.format,
            expected,
            found: canvas.pixels.len(),
        });
    }
    let on_border = |i: usize| {
        let (x, y) = (i % width, i / width);
        x == 0 || y == 0 || x + 1 == width || y + 1 == height
    };
    let mean_border = |values: &mut dyn Iterator<Item = u8>| {
        let (sum, count) = values
            .enumerate()
            .filter(|(i, _)| on_border(*i))
            .fold((0u64, 0u64), |(s, c), (_, v)| (s + u64::from(v), c + 1));
        sum / count.max(1)
    };

    let levels: Vec<u8> = match canvas.format {
        PixelFormat::Grey => canvas.pixels.to_vec(),
        PixelFormat::Rgba => {
            let rgba = canvas.pixels.chunks_exact(4);
            if canvas.polarity == Polarity::Auto
                && mean_border(&mut rgba.clone().map(|p| p[3])) < 128
            {
                // Strokes on a transparent surface: coverage is the ink, whatever its colour.
                let ink = rgba.map(|p| p[3]).collect();
                return GrayImage::from_raw(width as u32, height as u32, ink)
                    .ok_or(PreprocessError::TooLarge { width, height });
            }
            // Composite onto white, then take the luminance (Rec. 601).
            rgba.map(|p| {
                let a = f32::from(p[3]) / 255.0;
                let luma =
                    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]);
                (luma * a + 255.0 * (1.0 - a)).round().clamp(0.0, 255.0) as u8
            })
            .collect()
        }
    };
    let dark_on_light = match canvas.polarity {
        Polarity::DarkOnLight => true,
        Polarity::LightOnDark => false,
        Polarity::Auto => mean_border(&mut levels.iter().copied()) >= 128,
    };
    let ink: Vec<u8> = if dark_on_light {
        levels.into_iter().map(|v| 255 - v).collect()
    } else {
        levels
    };
    GrayImage::from_raw(width as u32, height as u32, ink)
        .ok_or(PreprocessError::TooLarge { width, height })
}

/// Bounding box `(x, y, width, height)` of the pixels above the ink threshold.
fn ink_bounds(image: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in image.enumerate_pixels() {
        if p.0[0] > INK_THRESHOLD {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
    }
    (x0 != u32::MAX).then(|| (x0, y0, x1 - x0 + 1, y1 - y0 + 1))
}

/// Centre of mass `(x, y)` of an image's ink, in pixel-index coordinates.
pub fn centre_of_mass(image: &[u8], width: usize) -> Option<(f32, f32)> {
    let (mut total, mut sx, mut sy) = (0f64, 0f64, 0f64);
    for (i, &v) in image.iter().enumerate() {
        let v = f64::from(v);
        total += v;
        sx += v * (i % width) as f64;
        sy += v * (i / width) as f64;
    }
    (total > 0.0).then(|| ((sx / total) as f32, (sy / total) as f32))
}

/// Turn a drawing into an MNIST-style 28×28 image (bright ink on black).
pub fn to_mnist(canvas: &Canvas) -> Result<[u8; IMAGE_PIXELS], PreprocessError> {
    let ink = ink_levels(canvas)?;
    let (x, y, w, h) = ink_bounds(&ink).ok_or(PreprocessError::Empty)?;
    let cropped = imageops::crop_imm(&ink, x, y, w, h).to_image();
    let scale = FIT_SIDE as f32 / w.max(h) as f32;
    let fit = |side: u32| ((side as f32 * scale).round() as u32).clamp(1, FIT_SIDE);
    let (fw, fh) = (fit(w), fit(h));
    // Triangle filtering widens with the reduction ratio: a true area-weighted, anti-aliased
    // reduction rather than point sampling.
    let glyph = imageops::resize(&cropped, fw, fh, imageops::FilterType::Triangle);
    let (cx, cy) = centre_of_mass(glyph.as_raw(), fw as usize).ok_or(PreprocessError::Empty)?;
    let centre = IMAGE_SIDE as f32 / 2.0;
    // Whole-pixel placement keeps the glyph crisp; the centre of mass lands within half a
    // pixel of the centre. Clamping keeps every bit of ink inside the frame.
    let place = |c: f32, side: u32| {
        ((centre - c).round() as i64).clamp(0, (IMAGE_SIDE as u32 - side) as i64)
    };
    let (ox, oy) = (place(cx, fw), place(cy, fh));
    let mut out = GrayImage::new(IMAGE_SIDE as u32, IMAGE_SIDE as u32);
    imageops::overlay(&mut out, &glyph, ox, oy);
    let mut image = [0u8; IMAGE_PIXELS];
    image.copy_from_slice(out.as_raw());
    Ok(image)
}

/// Random distortions for training, each drawn uniformly from `[-max, max]` (scale from
/// `[1 - max_scale, 1 + max_scale]`, thickness blends toward a dilated or eroded stroke).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Augmentation {
    /// Largest shift, in pixels.
    pub max_shift: f32,
    /// Largest rotation, in degrees.
    pub max_rotation_deg: f32,
    /// Largest relative change of size.
    pub max_scale: f32,
    /// Largest change of stroke thickness, as a blend factor in 0..=1.
    pub max_thickness: f32,
}

impl Default for Augmentation {
    fn default() -> Self {
        Self {
            max_shift: 2.0,
            max_rotation_deg: 10.0,
            max_scale: 0.1,
            max_thickness: 0.3,
        }
    }
}

impl Augmentation {
    /// A distorted copy of `image`; the same image and generator state give the same result.
    pub fn apply(&self, image: &[u8; IMAGE_PIXELS], rng: &mut impl Rng) -> [u8; IMAGE_PIXELS] {
        let mut draw = |max: f32| {
            if max > 0.0 {
                rng.random_range(-max..=max)
            } else {
                0.0
            }
        };
        let (dx, dy) = (draw(self.max_shift), draw(self.max_shift));
        let angle = draw(self.max_rotation_deg).to_radians();
        let scale = 1.0 + draw(self.max_scale);
        let thickness = draw(self.max_thickness);

        let side = IMAGE_SIDE as u32;
        let Some(source) = GrayImage::from_raw(side, side, image.to_vec()) else {
            return *image;
        };
        let c = IMAGE_SIDE as f32 / 2.0;
        let projection = Projection::translate(-c, -c)
            .and_then(Projection::scale(scale, scale))
            .and_then(Projection::rotate(angle))
            .and_then(Projection::translate(c + dx, c + dy));
        let moved = warp(&source, &projection, Interpolation::Bilinear, Luma([0]));
        let toward = if thickness >= 0.0 {
            grayscale_dilate(&moved, &Mask::diamond(1))
        } else {
            grayscale_erode(&moved, &Mask::diamond(1))
        };
        let t = thickness.abs();
        let mut out = [0u8; IMAGE_PIXELS];
        for ((o, &a), &b) in out.iter_mut().zip(moved.as_raw()).zip(toward.as_raw()) {
            *o = (f32::from(a) * (1.0 - t) + f32::from(b) * t).round() as u8;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey(width: usize, height: usize, fill: u8) -> Vec<u8> {
        vec![fill; width * height]
    }

    #[test]
    fn empty_canvas_is_an_error() {
        let pixels = grey(50, 40, 255);
        let canvas = Canvas {
            width: 50,
            height: 40,
            format: PixelFormat::Grey,
            polarity: Polarity::Auto,
            pixels: &pixels,
        };
        assert_eq!(to_mnist(&canvas), Err(PreprocessError::Empty));
        let wrong = Canvas {
            pixels: &pixels[1..],
            ..canvas
        };
        assert!(matches!(
            to_mnist(&wrong),
            Err(PreprocessError::WrongLength { .. })
        ));
    }
}
