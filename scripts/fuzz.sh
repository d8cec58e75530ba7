#!/usr/bin/env bash
# Fuzzes every decoder of outside bytes for a bounded time each (default 60 s):
#   scripts/fuzz.sh [SECONDS] [TARGET ...]      targets: idx weights samples canvas
# Each target starts from its kept inputs in tests/fuzz/<target>/ (which the ordinary tests
# replay) and grows a scratch corpus in fuzz/corpus/<target>/. A crash is copied into
# tests/fuzz/<target>/ as a regression input, and the script fails; inputs that add coverage
# (under 64 KiB) are kept there too. Figures per target go to fuzz/report.tsv: seconds,
# executions, corpus size, crashes (or to $FUZZ_REPORT).
# Needs the nightly toolchain and cargo-fuzz (installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
seconds="${1:-60}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(idx weights samples canvas)

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
# Its own build folder: the instrumented nightly build must not lock or evict the main one.
export CARGO_TARGET_DIR="$HOME/.cache/digit-transfer/fuzz-target"
# Safe Rust needs no address sanitizer; without it the targets build and run faster.
cargo +nightly fuzz build -s none

report="${FUZZ_REPORT:-fuzz/report.tsv}"
printf 'target\tseconds\texecutions\tcorpus\tcrashes\n' > "$report"
failed=0
for target in "${targets[@]}"; do
  corpus="fuzz/corpus/$target"
  artifacts="fuzz/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  log="fuzz/$target.log"
  echo "== $target: ${seconds}s"
  status=0
  cargo +nightly fuzz run -s none "$target" "$corpus" "tests/fuzz/$target" -- \
    -max_total_time="$seconds" -max_len=1048576 -rss_limit_mb=4096 -timeout=20 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
  crashes=0
  for crash in "$artifacts"/*; do
    [[ -f "$crash" ]] || continue
    crashes=$((crashes + 1))
    cp "$crash" "tests/fuzz/$target/"
    echo "   crash kept as tests/fuzz/$target/$(basename "$crash")"
  done
  # Keep what adds coverage: merge the scratch corpus into the kept inputs (files under
  # 64 KiB only; the big ones are mutated whole weights files, covered by their seed).
  merged=$(mktemp -d)
  cargo +nightly fuzz run -s none "$target" "$merged" "tests/fuzz/$target" "$corpus" -- \
    -merge=1 -max_len=1048576 -rss_limit_mb=4096 -timeout=20 >"fuzz/$target.merge.log" 2>&1 || true
  kept=0
  for input in "$merged"/*; do
    [[ -f "$input" && $(stat -c %s "$input") -lt 65536 && ! -e "tests/fuzz/$target/$(basename "$input")" ]] || continue
    if ! find "tests/fuzz/$target" -type f -size "$(stat -c %s "$input")c" -exec cmp -s "$input" {} \; -print -quit | grep -q .; then
      cp "$input" "tests/fuzz/$target/"
      kept=$((kept + 1))
    fi
  done
  rm -rf "$merged"
  echo "   $kept new inputs kept in tests/fuzz/$target/"
  printf '%s\t%s\t%s\t%s\t%s\n' "$target" "$seconds" "${runs:-0}" "$(ls "$corpus" | wc -l)" "$crashes" >> "$report"
  echo "   ${runs:-0} executions, $(ls "$corpus" | wc -l) inputs in the corpus, $crashes crashes (log: $log)"
  if ((status != 0 || crashes > 0)); then failed=1; fi
done
column -t "$report"
exit "$failed"
