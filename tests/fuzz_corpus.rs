//! Replays every input kept from fuzzing (`tests/fuzz/<target>/`: the seed corpus, and each
//! input that once crashed a target) through the same entry points the fuzzers drive, so a
//! fixed finding stays fixed. `scripts/fuzz.sh` runs the fuzzers themselves.
//!
//! The entry points are behind the `fuzzing` feature, so this runs with
//! `cargo test --release --features fuzzing` (as `scripts/test.sh` does); without the feature
//! it is empty.

#![cfg(feature = "fuzzing")]

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 3, "{target}: only {} inputs", inputs.len());
    for path in inputs {
        let bytes = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&bytes));
        assert!(outcome.is_ok(), "{} panics", path.display());
    }
}

#[test]
fn idx_inputs() {
    replay("idx", digit_transfer::fuzz::idx);
}

#[test]
fn weights_inputs() {
    replay("weights", digit_transfer::fuzz::weights);
}

#[test]
fn samples_inputs() {
    replay("samples", digit_transfer::fuzz::samples);
}

#[test]
fn canvas_inputs() {
    replay("canvas", digit_transfer::fuzz::canvas);
}
