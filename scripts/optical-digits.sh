#!/usr/bin/env bash
# Prints the path of the UCI optical digits (real handwriting by 13 writers MNIST never saw,
# scikit-learn's digits.csv.gz), fetched once into the cache from scikit-learn 1.7.2's wheel on
# PyPI, pinned by hash. Used by scripts/sweep.sh and scripts/bench.sh.
set -euo pipefail
cache="${XDG_CACHE_HOME:-$HOME/.cache}/digit-transfer/optical-digits"
digits="$cache/digits.csv.gz"
if [[ ! -f "$digits" ]]; then
  printf '\n== %s\n' "the UCI optical digits (scikit-learn 1.7.2 from PyPI)" >&2
  mkdir -p "$cache"
  wheels=$(mktemp -d)
  trap 'rm -rf "$wheels"' EXIT
  echo "scikit-learn==1.7.2 --hash=sha256:89877e19a80c7b11a2891a27c21c4894fb18e2c2e077815bcade10d34287b20d" \
    > "$wheels/requirements.txt"
  python3 -m pip download --quiet --no-deps --require-hashes --only-binary :all: \
    --python-version 3.11 --platform manylinux_2_17_x86_64 \
    -r "$wheels/requirements.txt" -d "$wheels" >&2
  python3 - "$wheels"/scikit_learn-1.7.2-*.whl "$digits.partial" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    data = wheel.read("sklearn/datasets/data/digits.csv.gz")
with open(sys.argv[2], "wb") as out:
    out.write(data)
PY
  mv "$digits.partial" "$digits"
fi
echo "$digits"
