#!/usr/bin/env bash
# Sets up (first run only) and serves the page at http://127.0.0.1:8080 with the committed weights.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
# A page being worked on: its service worker caches nothing (scripts/gpu-build.sh).
export DIGIT_TRANSFER_DEV_SERVER=1
exec trunk serve --release --offline --address 127.0.0.1 --port "${PORT:-8080}"
