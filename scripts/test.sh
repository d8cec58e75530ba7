#!/usr/bin/env bash
# Sets up (first run only) and runs every check: formatting, lints, native tests (CPU and
# wgpu on Mesa lavapipe), the wasm tests in headless Chromium (WebGPU and the CPU fallback),
# the release build of the page, and its end-to-end tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
source scripts/env.sh
wasm=wasm32-unknown-unknown
step() { printf '\n== %s\n' "$*"; }

step "format"
cargo fmt --check

step "lints (native and wasm32)"
cargo clippy --release --all-targets -- -D warnings
cargo clippy --release --target $wasm --lib --bins --test web -- -D warnings
cargo clippy --release --target $wasm --features webgpu --lib --bins --test web -- -D warnings

step "native tests"
cargo test --release

step "wasm tests in headless Chromium, WebGPU enabled"
export CHROMEDRIVER=/usr/bin/chromedriver
# WebGPU in headless Chromium is SwiftShader (software): compiling shaders takes a while.
export WASM_BINDGEN_TEST_TIMEOUT=600
# DIGIT_TRANSFER_GPU_FLAGS (see the README) adds Chromium's flags for a real GPU on Linux.
webgpu_json=webdriver-webgpu.json
if [[ -n "${DIGIT_TRANSFER_GPU_FLAGS:-}" ]]; then
  webgpu_json=$(mktemp --suffix=.json)
  node -e 'const [file, flags] = process.argv.slice(1); const j = JSON.parse(require("fs").readFileSync(file, "utf8"));
    j["goog:chromeOptions"].args.push(...flags.split(/\s+/).filter(Boolean)); console.log(JSON.stringify(j));' \
    webdriver-webgpu.json "$DIGIT_TRANSFER_GPU_FLAGS" > "$webgpu_json"
fi
WASM_BINDGEN_TEST_WEBDRIVER_JSON=$webgpu_json DIGIT_TRANSFER_WEBGPU=required \
  cargo test --release --target $wasm --features webgpu --test web

step "wasm tests in headless Chromium, no WebGPU (CPU fallback)"
WASM_BINDGEN_TEST_WEBDRIVER_JSON=webdriver.json DIGIT_TRANSFER_WEBGPU=absent \
  cargo test --release --target $wasm --features webgpu --test web

step "page release build (the CPU wasm, and the WebGPU wasm beside it)"
trunk build --release --offline

step "page end-to-end in headless Chromium (CPU fallback and WebGPU)"
node --test tests/e2e/
