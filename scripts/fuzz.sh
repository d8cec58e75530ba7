#!/usr/bin/env bash
# Fuzzes every decoder of outside bytes for a bounded time each (default 60 s):
#   scripts/fuzz.sh [SECONDS] [TARGET ...]      targets: idx weights samples canvas
#   (0 seconds: only re-minimise the kept inputs with the scratch corpus)
# Each target starts from its kept inputs in tests/fuzz/<target>/ (which the ordinary tests
# replay) and grows a scratch corpus in fuzz/corpus/<target>/. A crash is copied into
# tests/fuzz/<target>/ as a regression input, and the script fails; a minimal set of inputs
# covering what the run reached (under 64 KiB) is kept there too. Figures per target go to fuzz/report.tsv: seconds,
# executions, corpus size, crashes (or to $FUZZ_REPORT).
# Needs the nightly toolchain and cargo-fuzz (installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
seconds="${1:-60}"
if (($#)); then shift; fi
targets=("$@")
((${#targets[@]})) || targets=(idx weights samples canvas)

if ! command -v rustup >/dev/null; then
  echo "fuzz: rustup is missing — install it from https://rustup.rs" >&2
  exit 1
fi
toolchains=$(rustup toolchain list)
grep -q '^nightly' <<< "$toolchains" || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# Its own build folder: the instrumented nightly build must not lock or evict the main one.
export CARGO_TARGET_DIR="$HOME/.cache/digit-transfer/fuzz-target"
# Safe Rust needs no address sanitizer; without it the targets build and run faster. The
# targets call digit_transfer::fuzz, which fuzz/Cargo.toml turns on (the `fuzzing` feature).
cargo +nightly fuzz build -s none

# Keep a minimal set that covers what the kept inputs and the run's corpus cover: a libFuzzer
# merge on edge coverage into an empty folder. Named seeds stay; hash-named inputs are replaced
# by the merge's (under 64 KiB: the big ones are mutated whole weights files, which their seed
# covers).
count_files() { find "$1" -type f | wc -l; }

keep_corpus() {
  local target=$1 corpus=$2 kept="tests/fuzz/$1" merged input
  merged=$(mktemp -d)
  cargo +nightly fuzz run -s none "$target" "$merged" "$kept" "$corpus" -- \
    -merge=1 -use_counters=0 -max_len=1048576 -rss_limit_mb=4096 -timeout=20 \
    >"fuzz/$target.merge.log" 2>&1
  find "$kept" -type f -regextype posix-extended -regex '.*/[0-9a-f]{40}' -delete
  for input in "$merged"/*; do
    [[ -f "$input" && $(stat -c %s "$input") -lt 65536 ]] || continue
    find "$kept" -type f -size "$(stat -c %s "$input")c" -exec cmp -s "$input" {} \; -print -quit |
      grep -q . || cp "$input" "$kept/"
  done
  rm -rf "$merged"
  echo "   tests/fuzz/$target/ keeps $(count_files "$kept") inputs"
}

report="${FUZZ_REPORT:-fuzz/report.tsv}"
printf 'target\tseconds\texecutions\tcorpus\tcrashes\n' > "$report"
failed=0
for target in "${targets[@]}"; do
  corpus="fuzz/corpus/$target"
  artifacts="fuzz/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  log="fuzz/$target.log"
  if ((seconds == 0)); then keep_corpus "$target" "$corpus"; continue; fi
  echo "== $target: ${seconds}s"
  status=0
  cargo +nightly fuzz run -s none "$target" "$corpus" "tests/fuzz/$target" -- \
    -max_total_time="$seconds" -max_len=1048576 -rss_limit_mb=4096 -timeout=20 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
  # (none when the target did not run: sed, unlike grep, does not fail on no match)
  runs=$(sed -n 's/.*stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
  crashes=0
  for crash in "$artifacts"/*; do
    [[ -f "$crash" ]] || continue
    crashes=$((crashes + 1))
    cp "$crash" "tests/fuzz/$target/"
    echo "   crash kept as tests/fuzz/$target/$(basename "$crash")"
  done
  keep_corpus "$target" "$corpus"
  printf '%s\t%s\t%s\t%s\t%s\n' "$target" "$seconds" "${runs:-0}" "$(count_files "$corpus")" "$crashes" >> "$report"
  echo "   ${runs:-0} executions, $(count_files "$corpus") inputs in the corpus, $crashes crashes (log: $log)"
  if ((status != 0 || crashes > 0)); then failed=1; fi
done
column -t "$report"
exit "$failed"
