//! The `digit-transfer` command line: pretrain, evaluate, fine-tune, convert weights, write
//! synthetic and samples files, and benchmark the devices (see `cli`).
#![deny(clippy::unwrap_used, clippy::expect_used)]

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::run()
}

// The browser build uses the library's `web` module; this binary has nothing to do there.
#[cfg(target_arch = "wasm32")]
fn main() {}
