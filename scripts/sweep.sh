#!/usr/bin/env bash
# The evidence for the fine-tuning defaults: fetches real handwriting (the UCI optical digits,
# 13 writers, inside scikit-learn's wheel on PyPI, pinned by hash: scripts/optical-digits.sh),
# builds the CLI and runs `digit-transfer sweep`, which writes docs/TRANSFER.md and
# docs/transfer.json. Extra arguments go to the sweep (e.g. --weights FILE, or --out/--json to
# write elsewhere). Not part of the tests; about an hour here.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
step() { printf '\n== %s\n' "$*" >&2; }

digits=$(scripts/optical-digits.sh)

step "native build"
cargo build --release

step "sweep (progress on stderr)"
# The committed report unless the arguments name another.
out=(--out docs/TRANSFER.md --json docs/transfer.json)
for arg in "$@"; do [[ "$arg" == --out ]] && out=(); done
"$CARGO_TARGET_DIR/release/digit-transfer" sweep --optical-digits "$digits" "${out[@]}" "$@"
