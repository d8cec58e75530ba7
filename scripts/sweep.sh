#!/usr/bin/env bash
# The evidence for the fine-tuning defaults: fetches real handwriting (the UCI optical digits,
# 13 writers, inside scikit-learn's wheel on PyPI, pinned by hash), builds the CLI and runs
# `digit-transfer sweep`, which writes docs/TRANSFER.md and docs/transfer.json. Extra
# arguments go to the sweep (e.g. --weights FILE, or --out/--json to write elsewhere). Not part of the tests; about an hour here.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
step() { printf '\n== %s\n' "$*" >&2; }

cache="${XDG_CACHE_HOME:-$HOME/.cache}/digit-transfer/optical-digits"
digits="$cache/digits.csv.gz"
if [[ ! -f "$digits" ]]; then
  step "the UCI optical digits (scikit-learn 1.7.2 from PyPI)"
  mkdir -p "$cache"
  wheels=$(mktemp -d)
  trap 'rm -rf "$wheels"' EXIT
  echo "scikit-learn==1.7.2 --hash=sha256:89877e19a80c7b11a2891a27c21c4894fb18e2c2e077815bcade10d34287b20d" \
    > "$wheels/requirements.txt"
  python3 -m pip download --quiet --no-deps --require-hashes --only-binary :all: \
    --python-version 3.11 --platform manylinux_2_17_x86_64 \
    -r "$wheels/requirements.txt" -d "$wheels"
  python3 - "$wheels"/scikit_learn-1.7.2-*.whl "$digits.partial" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    data = wheel.read("sklearn/datasets/data/digits.csv.gz")
with open(sys.argv[2], "wb") as out:
    out.write(data)
PY
  mv "$digits.partial" "$digits"
fi

step "native build"
cargo build --release

step "sweep (progress on stderr)"
# The committed report unless the arguments name another.
out=(--out docs/TRANSFER.md --json docs/transfer.json)
for arg in "$@"; do [[ "$arg" == --out ]] && out=(); done
"$CARGO_TARGET_DIR/release/digit-transfer" sweep --optical-digits "$digits" "${out[@]}" "$@"
