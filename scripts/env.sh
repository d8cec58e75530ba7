# shellcheck shell=bash
# Sourced by the other scripts: one build folder for every checkout, tools from npm on PATH.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/digit-transfer/target}"
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
