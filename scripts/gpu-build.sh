#!/usr/bin/env bash
# Trunk's post-build hook: the page's second wasm, with the WebGPU device, which the training
# worker loads only when the browser offers a WebGPU adapter, and (release) the third, the
# threaded CPU build (scripts/threads-build.sh). Trunk builds the first (CPU) one.
# A release build uses the `web` cargo profile, like Trunk's (index.html), and then stamps the
# service worker with the build's version (scripts/stamp-sw.mjs) and writes precompressed .gz
# and .br copies of every script and wasm for static hosts.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
out=${TRUNK_STAGING_DIR:?run by Trunk (or set TRUNK_STAGING_DIR)}
profile=${TRUNK_PROFILE:-release}
# GPU_CARGO_PROFILE=release (scripts/dev-dist.sh) skips the slow link-time optimisation.
if [[ $profile == release ]]; then cargo_profile=${GPU_CARGO_PROFILE:-web}; else cargo_profile=dev; fi
# Without ndarray (no default features): this build trains only on the GPU, and the worker
# loads a CPU build for whatever runs on the CPU.
cargo build --target wasm32-unknown-unknown --lib --no-default-features --features webgpu \
  --profile "$cargo_profile"
[[ $cargo_profile == dev ]] && dir=debug || dir=$cargo_profile
wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/$dir/digit_transfer.wasm"
# With its TypeScript declarations, like the CPU build's (data-typescript in index.html): tsc
# checks the worker's calls into this build against them (tsconfig.worker.json).
wasm-bindgen --target web --out-dir "$out" --out-name digit-transfer-gpu "$wasm"
# wasm-opt's level and features for this build are Trunk's for the CPU build, written once:
# the data-wasm-opt and data-wasm-opt-params attributes of the rust link in index.html (Trunk
# reads its flags only from there). Like Trunk, level "0" skips wasm-opt.
html_attr() { # NAME: the value of the one NAME="…" attribute in index.html
  local values
  values=$(sed -n "s/\(^\|.*[[:space:]]\)$1=\"\([^\"]*\)\".*/\2/p" index.html)
  if [[ $(grep -c '' <<< "$values") -ne 1 || -z $values ]]; then
    echo "gpu-build: index.html must have exactly one non-empty $1=\"…\"" >&2
    return 1
  fi
  printf '%s\n' "$values"
}
# The training worker's threaded CPU build (scripts/threads-build.sh), in a release build only:
# a debug page (trunk serve without --release) trains on one thread.
if [[ $profile == release ]]; then
  scripts/threads-build.sh "$out" "$cargo_profile"
fi
if [[ $profile == release && ${WASM_OPT:-1} != 0 ]]; then
  level=$(html_attr data-wasm-opt)
  params_text=$(html_attr data-wasm-opt-params)
  read -ra params <<< "$params_text"
  if [[ $level != 0 ]]; then
    wasm-opt "-O$level" "${params[@]}" \
      -o "$out/digit-transfer-gpu_bg.wasm" "$out/digit-transfer-gpu_bg.wasm"
    # The threaded build's shared memory and atomics need the threads feature as well.
    wasm-opt "-O$level" "${params[@]}" --enable-threads \
      -o "$out/digit-transfer-threads_bg.wasm" "$out/digit-transfer-threads_bg.wasm"
  fi
fi
if [[ $profile == release ]]; then
  # The service worker's version and file list, then the compressed copies (of sw.js too).
  # Under scripts/serve.sh (trunk serve, which rebuilds as files change) it stays unstamped
  # and caches nothing, so a rebuild shows at the next reload.
  [[ ${DIGIT_TRANSFER_DEV_SERVER:-} == 1 ]] || node scripts/stamp-sw.mjs "$out"
  node scripts/compress.mjs "$out"
fi
