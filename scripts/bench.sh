#!/usr/bin/env bash
# The benchmark: builds what it needs, measures natively (digit-transfer bench) and in
# headless Chromium (the built page, CPU and WebGPU) and in Firefox and WebKit (the CPU),
# prints a table and writes docs/BENCHMARKS.md and docs/benchmarks.json. Not part of the
# tests; about 10 minutes here.
# CHROMIUM names the browser (default /usr/bin/chromium, see tests/e2e/harness.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
source scripts/env.sh
step() { printf '\n== %s\n' "$*" >&2; }

step "native build (with the flex CPU device)"
cargo build --release --features flex
native=$(mktemp)
browser=$(mktemp)
engines=$(mktemp)
trap 'rm -f "$native" "$browser" "$engines"' EXIT

step "native: training throughput, fine-tuning, prediction, pretraining (ndarray, flex, wgpu)"
devices=ndarray,flex,wgpu
[[ -n "${DIGIT_TRANSFER_SKIP_WGPU:-}" ]] && devices=ndarray,flex
# With learning one label at a time against one Fine-tune, on real handwriting too.
"$CARGO_TARGET_DIR/release/digit-transfer" bench --devices "$devices" --pretrain --json \
  --online --optical-digits "$(scripts/optical-digits.sh)" > "$native"

# Rebuild the page only when something it is built from is newer than the built wasm (the
# native-only files are not: the CLI, the sweep, the synthetic domains).
if [[ ! -f dist/digit-transfer-gpu_bg.wasm ]] ||
   [[ -n "$(find src www index.html sw.js Cargo.toml Cargo.lock Trunk.toml -newer dist/digit-transfer-gpu_bg.wasm \
            -not -path 'src/cli/*' -not -path 'src/sweep/*' -not -name main.rs -not -name synthetic.rs -print -quit)" ]]; then
  step "page release build"
  trunk build --release --offline >&2
fi

step "browser: headless Chromium on the built page (CPU, then WebGPU)"
node bench/page.mjs > "$browser"

step "browser: the three engines on the CPU (Chromium, Firefox, WebKit)"
node bench/engines.mjs > "$engines"

node bench/report.mjs "$native" "$browser" "$engines"
