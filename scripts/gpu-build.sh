#!/usr/bin/env bash
# Trunk's post-build hook: the page's second wasm, with the WebGPU device, which the training
# worker loads only when the browser offers a WebGPU adapter. Trunk builds the first (CPU) one.
# A release build uses the `web` cargo profile, like Trunk's (index.html), and then writes
# precompressed .gz and .br copies of every script and wasm for static hosts.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
out=${TRUNK_STAGING_DIR:?run by Trunk (or set TRUNK_STAGING_DIR)}
profile=${TRUNK_PROFILE:-release}
# GPU_CARGO_PROFILE=release (scripts/dev-dist.sh) skips the slow link-time optimisation.
if [[ $profile == release ]]; then cargo_profile=${GPU_CARGO_PROFILE:-web}; else cargo_profile=dev; fi
cargo build --target wasm32-unknown-unknown --lib --features webgpu --profile "$cargo_profile"
[[ $cargo_profile == dev ]] && dir=debug || dir=$cargo_profile
wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/$dir/digit_transfer.wasm"
wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name digit-transfer-gpu "$wasm"
if [[ $profile == release && ${WASM_OPT:-1} != 0 ]]; then
  # The same passes and features as Trunk's wasm-opt run on the CPU build (index.html).
  wasm-opt -Os --enable-bulk-memory --enable-bulk-memory-opt --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-multivalue --enable-reference-types \
    --enable-call-indirect-overlong --enable-simd \
    -o "$out/digit-transfer-gpu_bg.wasm" "$out/digit-transfer-gpu_bg.wasm"
fi
if [[ $profile == release ]]; then
  node scripts/compress.mjs "$out"
fi
