#!/usr/bin/env bash
# A quick, unoptimised copy of the page in $1 (default /tmp/digit-transfer-dist) for
# iterating on it: the release wasm builds (CPU and WebGPU) without wasm-opt (minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
out=${1:-/tmp/digit-transfer-dist}
cargo build --release --target wasm32-unknown-unknown --lib
mkdir -p "$out"
wasm-bindgen --target web --out-dir "$out" --out-name digit-transfer \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/digit_transfer.wasm"
cp -r index.html sw.js www node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css "$out/"
TRUNK_STAGING_DIR="$out" TRUNK_PROFILE=release GPU_CARGO_PROFILE=release WASM_OPT=0 scripts/gpu-build.sh
echo "$out"
