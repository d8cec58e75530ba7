#!/usr/bin/env bash
# Trunk's post-build hook: the page's second wasm, with the WebGPU device, which the training
# worker loads only when the browser offers a WebGPU adapter. Trunk builds the first (CPU) one.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
out=${TRUNK_STAGING_DIR:?run by Trunk (or set TRUNK_STAGING_DIR)}
profile=${TRUNK_PROFILE:-release}
flags=(--target wasm32-unknown-unknown --lib --features webgpu)
[[ $profile == release ]] && flags+=(--release)
cargo build "${flags[@]}"
wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile/digit_transfer.wasm"
wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name digit-transfer-gpu "$wasm"
if [[ $profile == release && ${WASM_OPT:-1} != 0 ]]; then
  # The same passes and features as Trunk's wasm-opt run on the CPU build (index.html).
  wasm-opt -Os --enable-bulk-memory --enable-bulk-memory-opt --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-multivalue --enable-reference-types \
    --enable-call-indirect-overlong --enable-simd \
    -o "$out/digit-transfer-gpu_bg.wasm" "$out/digit-transfer-gpu_bg.wasm"
fi
