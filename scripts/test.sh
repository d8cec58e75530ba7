#!/usr/bin/env bash
# Sets up (scripts/setup.sh --test: installs only what is missing) and runs every check:
#   1. formatting (cargo fmt --check), and the GitHub workflows (scripts/lint-workflows.sh:
#      actionlint, with ShellCheck on their run: blocks);
#   2. setup's cargo installs against a crate registry that has moved on (tests/setup: stub
#      tools, offline);
#   3. the page's modules (www/) import one another without a circle, and page.js types
#      index.html's elements as they are (tests/js);
#   4. lints: clippy, native (all targets, with the `fuzzing` feature) and wasm32 (without and
#      with the WebGPU device, and the threaded CPU build's `threads`);
#   5. native tests (CPU and wgpu on Mesa lavapipe), with the `fuzzing` feature, so that
#      tests/fuzz_corpus.rs replays the kept fuzzing inputs (the fuzzers: scripts/fuzz.sh);
#   6. the wasm tests in headless Chromium with WebGPU, then
#   7. without it (the CPU fallback), then
#   8. in headless Firefox (no WebGPU on Linux: the CPU fallback; the same test build as 7),
#      and in WebKit (WebKitGTK's MiniBrowser under Xvfb; no WebGPU either; the same build);
#   9. the release build of the page (Trunk; its hook scripts/gpu-build.sh adds the WebGPU wasm
#      and the threaded CPU wasm, scripts/threads-build.sh, on the pinned nightly);
#  10. the page's JavaScript type-checked (tsc --checkJs: tsconfig.json for the page,
#      tsconfig.worker.json for its workers), against the declarations wasm-bindgen wrote for
#      both wasm builds in that build (dist/*.d.ts);
#  11. the page's end-to-end tests in headless Chromium, Firefox and WebKit, WebKit under two
#      locales (node --test tests/e2e/), served cross-origin isolated (the worker trains on
#      threads) but for tests/e2e/threads.test.mjs, where the service worker isolates the page.
# CHROMIUM and CHROMEDRIVER name the browser and its driver (default /usr/bin/chromium and
# /usr/bin/chromedriver); DIGIT_TRANSFER_GPU_FLAGS adds Chromium flags for a real GPU (README).
# FIREFOX and GECKODRIVER name Firefox and its driver (default /usr/bin/firefox-esr and the
# geckodriver on PATH, which setup installs in ~/.cargo/bin); WEBKIT_WEBDRIVER and XVFB
# WebKit's driver and the X server it draws on (default Debian's WebKitWebDriver and Xvfb;
# WEBKIT_BROWSER names the browser for the end-to-end tests, default Debian's MiniBrowser).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
source scripts/env.sh
wasm=wasm32-unknown-unknown
step() { printf '\n== %s\n' "$*"; }

step "format"
cargo fmt --check

step "workflows (actionlint, with ShellCheck on their run: blocks)"
scripts/lint-workflows.sh

step "setup's installs when the registry has moved on (stub tools, offline)"
node --test tests/setup/

step "the page's modules: no import circle, element types as in index.html (tests/js)"
node --test tests/js/

# The native steps share one feature set, so clippy and the tests build the crate once each.
native_features=(--features fuzzing)

step "lints (native and wasm32)"
cargo clippy --release --all-targets "${native_features[@]}" -- -D warnings
cargo clippy --release --target $wasm --lib --bins --test web -- -D warnings
cargo clippy --release --target $wasm --features webgpu --lib --bins --test web -- -D warnings
# The page's WebGPU and threaded builds as shipped, without ndarray (scripts/gpu-build.sh,
# scripts/threads-build.sh), checked with this toolchain: only building the threaded one with
# atomics needs the nightly.
cargo clippy --release --target $wasm --no-default-features --features webgpu --lib -- -D warnings
cargo clippy --release --target $wasm --no-default-features --features threads --lib -- -D warnings

step "native tests (and the kept fuzzing inputs)"
cargo test --release "${native_features[@]}"

# The browsers: Debian's unless CHROMIUM / CHROMEDRIVER / FIREFOX / GECKODRIVER say otherwise
# (tests/e2e reads CHROMIUM, FIREFOX and GECKODRIVER).
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export FIREFOX="${FIREFOX:-/usr/bin/firefox-esr}"
[[ -n "${GECKODRIVER:-}" ]] || GECKODRIVER=$(command -v geckodriver)
export GECKODRIVER
export WEBKIT_WEBDRIVER="${WEBKIT_WEBDRIVER:-/usr/bin/WebKitWebDriver}"
export XVFB="${XVFB:-/usr/bin/Xvfb}"
# wasm-bindgen-test-runner drives the first of GECKODRIVER, SAFARIDRIVER and CHROMEDRIVER that
# is set, so each wasm run below unsets the other browsers' drivers (env -u).
# WebGPU in headless Chromium is SwiftShader (software): compiling shaders takes a while.
export WASM_BINDGEN_TEST_TIMEOUT=600
# The capabilities for chromedriver / geckodriver: the committed file with the browser's binary
# ($CHROMIUM, or $FIREFOX for moz:firefoxOptions) and any extra flags written in, as a
# temporary copy (removed on exit).
webdriver_dir=$(mktemp -d)
xvfb_pid=
trap '[[ -z $xvfb_pid ]] || kill "$xvfb_pid" 2>/dev/null; rm -rf "$webdriver_dir"' EXIT
webdriver_json() { # FILE [FLAGS]: writes $webdriver_dir/FILE, for its browser and with FLAGS added
  node -e 'const [file, chromium, firefox, flags] = process.argv.slice(1);
    const j = JSON.parse(require("fs").readFileSync(file, "utf8"));
    const [key, binary] = j["moz:firefoxOptions"] ? ["moz:firefoxOptions", firefox] : ["goog:chromeOptions", chromium];
    const options = j[key];
    options.binary = binary; options.args.push(...flags.split(/\s+/).filter(Boolean));
    console.log(JSON.stringify(j, null, 2));' "$1" "$CHROMIUM" "$FIREFOX" "${2:-}" > "$webdriver_dir/$1"
}

step "wasm tests in headless Chromium, WebGPU enabled"
# DIGIT_TRANSFER_GPU_FLAGS (see the README) adds Chromium's flags for a real GPU on Linux.
webdriver_json webdriver-webgpu.json "${DIGIT_TRANSFER_GPU_FLAGS:-}"
env -u GECKODRIVER WASM_BINDGEN_TEST_WEBDRIVER_JSON="$webdriver_dir/webdriver-webgpu.json" \
  DIGIT_TRANSFER_WEBGPU=required cargo test --release --target $wasm --features webgpu --test web

step "wasm tests in headless Chromium, no WebGPU (CPU fallback)"
webdriver_json webdriver.json
env -u GECKODRIVER WASM_BINDGEN_TEST_WEBDRIVER_JSON="$webdriver_dir/webdriver.json" \
  DIGIT_TRANSFER_WEBGPU=absent cargo test --release --target $wasm --features webgpu --test web

step "wasm tests in headless Firefox (no WebGPU on Linux: the CPU fallback)"
# DIGIT_TRANSFER_WEBGPU is read when the tests are compiled: with the same value and features
# as the run before, the same test binary runs, nothing is rebuilt.
webdriver_json webdriver-firefox.json
env -u CHROMEDRIVER WASM_BINDGEN_TEST_WEBDRIVER_JSON="$webdriver_dir/webdriver-firefox.json" \
  DIGIT_TRANSFER_WEBGPU=absent cargo test --release --target $wasm --features webgpu --test web

step "wasm tests in WebKit (WebKitGTK's MiniBrowser under Xvfb; no WebGPU: the CPU fallback)"
# wasm-bindgen-test-runner drives WebKitWebDriver as it drives Safari's driver (SAFARIDRIVER):
# it asks for no capabilities, and WebKitWebDriver then starts MiniBrowser (so WEBKIT_BROWSER
# is for the end-to-end tests only). MiniBrowser has no headless mode: an X server of its own,
# which takes a free display number and writes it to file descriptor 3 (-displayfd).
"$XVFB" -displayfd 3 -screen 0 1400x1000x24 -nolisten tcp 3>"$webdriver_dir/display" >/dev/null 2>&1 &
xvfb_pid=$!
for _ in $(seq 300); do [[ -s $webdriver_dir/display ]] && break; sleep 0.1; done
[[ -s $webdriver_dir/display ]] || { echo "test: $XVFB did not start in 30 s" >&2; exit 1; }
env -u CHROMEDRIVER -u GECKODRIVER DISPLAY=":$(cat "$webdriver_dir/display")" SAFARIDRIVER="$WEBKIT_WEBDRIVER" \
  DIGIT_TRANSFER_WEBGPU=absent cargo test --release --target $wasm --features webgpu --test web
kill "$xvfb_pid"
xvfb_pid=

step "page release build (the CPU wasm, and the WebGPU wasm beside it)"
trunk build --release --offline

step "JavaScript types (tsc --checkJs)"
# After the page build: the wasm bindings' types are the .d.ts files it wrote into dist/, which
# tsconfig's rootDirs put beside www/ (www/../digit-transfer.js is dist/digit-transfer.d.ts).
tsc -p tsconfig.json
tsc -p tsconfig.worker.json

step "page end-to-end in headless Chromium (CPU fallback and WebGPU), Firefox and WebKit (CPU fallback)"
node --test tests/e2e/
