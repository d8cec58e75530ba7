#!/usr/bin/env bash
# The evidence for the fine-tuning defaults: fetches real handwriting (the UCI optical digits,
# 13 writers, inside scikit-learn's wheel on PyPI, pinned by hash: scripts/optical-digits.sh),
# builds the CLI and runs `digit-transfer sweep`, which writes docs/TRANSFER.md and
# docs/transfer.json, and keeps every run in docs/transfer-runs.jsonl as it finishes: started
# again, it takes the runs kept there instead of repeating them, so a sweep cut off goes on where
# it stopped. After a change to how runs train, delete that file first. Extra arguments go to the
# sweep (e.g. --weights FILE, --rounds N, or --out/--json to write elsewhere). Not part of the
# tests; several hours on 2 cores (one run a core at a time: more cores, less time).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
step() { printf '\n== %s\n' "$*" >&2; }

digits=$(scripts/optical-digits.sh)

step "native build"
cargo build --release

step "sweep (progress on stderr)"
# The committed report unless the arguments name another.
out=(--out docs/TRANSFER.md --json docs/transfer.json --journal docs/transfer-runs.jsonl)
for arg in "$@"; do [[ "$arg" == --out ]] && out=(); done
"$CARGO_TARGET_DIR/release/digit-transfer" sweep --optical-digits "$digits" "${out[@]}" "$@"
