# shellcheck shell=bash
# Sourced by the other scripts: one build folder for every checkout, tools from npm on PATH.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/digit-transfer/target}"
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# The nightly that builds the training worker's threaded wasm (scripts/threads-build.sh: std
# rebuilt with atomics needs -Z build-std); setup installs it with rust-src and the wasm target.
export DIGIT_TRANSFER_NIGHTLY="${DIGIT_TRANSFER_NIGHTLY:-nightly-2026-10-30}"
