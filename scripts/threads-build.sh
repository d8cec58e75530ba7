#!/usr/bin/env bash
# The training worker's threaded CPU wasm (the `threads` feature: burn's flex backend with
# SIMD, its kernels split over a pool of Web Workers, src/web/threads.rs), written by
# wasm-bindgen into OUT_DIR as digit-transfer-threads.js and _bg.wasm. Run by
# scripts/gpu-build.sh (Trunk's hook) for the page; by hand: scripts/threads-build.sh OUT_DIR
# [CARGO_PROFILE] (default web, the page's; release skips the slow link-time optimisation).
# Threads in wasm need std rebuilt with atomics (-Z build-std, on the pinned nightly that
# setup installs), a shared memory imported from JavaScript with a maximum (4 GiB: what wasm32
# can address), and the thread-local storage exports wasm-bindgen's thread start-up uses.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
out=${1:?usage: scripts/threads-build.sh OUT_DIR [CARGO_PROFILE]}
cargo_profile=${2:-web}
flags=(
  -C "target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128"
  -C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=4294967296
  -C link-arg=--export=__heap_base -C link-arg=--export=__wasm_init_tls
  -C link-arg=--export=__tls_size -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base
)
# Its own target folder: another toolchain and other flags would otherwise rebuild the
# single-threaded builds' dependencies each time.
target_dir="$CARGO_TARGET_DIR/threads"
RUSTFLAGS="${flags[*]}" cargo "+$DIGIT_TRANSFER_NIGHTLY" build --target wasm32-unknown-unknown --lib \
  --no-default-features --features threads --profile "$cargo_profile" -Z build-std=panic_abort,std --target-dir "$target_dir"
[[ $cargo_profile == dev ]] && dir=debug || dir=$cargo_profile
wasm-bindgen --target web --out-dir "$out" --out-name digit-transfer-threads \
  "$target_dir/wasm32-unknown-unknown/$dir/digit_transfer.wasm"
