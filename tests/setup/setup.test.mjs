// scripts/setup.sh's cargo installs against a crate registry that has moved on, offline: a stub
// `cargo` first on PATH stands for the registry. It refuses `--locked` the way cargo does when a
// lock file names a crate version the registry no longer has, and, in the second case, refuses
// the unlocked install too. The other tools setup calls (rustup, npm, cc) are stubs that say
// everything is there, and HOME is a fresh folder, so no tool of this machine is seen or touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bindgen = /name = "wasm-bindgen"\nversion = "([^"]+)"/.exec(readFileSync(join(root, 'Cargo.lock'), 'utf8'))[1];

const LOCK_ERROR = `error: failed to select a version for the requirement \`webpki-roots = "^1.0.10"\` (locked to 1.0.11)
candidate versions found which didn't match: 1.0.10, 1.0.9, 1.0.8, ...`;

/** A copy of the repository's setup inputs, with stubs for every tool it calls. */
function sandbox(refuse) {
  const dir = mkdtempSync(join(tmpdir(), 'setup-test-'));
  const bin = join(dir, 'bin');
  mkdirSync(join(dir, 'repo', 'scripts'), { recursive: true });
  mkdirSync(join(dir, 'home', '.cargo', 'bin'), { recursive: true });
  mkdirSync(bin);
  writeFileSync(join(dir, 'lock-error'), `${LOCK_ERROR}\n`);
  for (const script of ['setup.sh', 'env.sh']) copyFileSync(join(root, 'scripts', script), join(dir, 'repo', 'scripts', script));
  for (const file of ['Cargo.lock', 'package.json', 'package-lock.json']) {
    copyFileSync(join(root, file), join(dir, 'repo', file));
  }
  const stub = (name, body) => {
    writeFileSync(join(bin, name), `#!/bin/bash\necho "${name} $*" >> "${dir}/calls"\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  // cargo install CRATE --version =V [--locked]: fails as asked, else "installs" a binary that
  // reports the version it was installed at.
  stub('cargo', `
    [[ $1 == install ]] || exit 0
    crate=$2 version=\${4#=}
    if [[ " $* " == *" --locked "* ]]; then
      [[ ${refuse.locked} == true ]] && { cat "${dir}/lock-error" >&2; exit 101; }
    else
      [[ ${refuse.unlocked} == true ]] && { echo "error: could not compile \\\`$crate\\\` (bin) due to 3 previous errors" >&2; exit 101; }
    fi
    case $crate in wasm-bindgen-cli) tool=wasm-bindgen ;; *) tool=$crate ;; esac
    printf '#!/bin/bash\\necho "%s %s"\\n' "$tool" "$version" > "$HOME/.cargo/bin/$tool"
    chmod +x "$HOME/.cargo/bin/$tool"`);
  stub('rustup', `
    case "$1 $2" in
      "target list") echo wasm32-unknown-unknown ;;
      "component list") [[ " $* " == *" --toolchain "* && ! -e "${dir}/nightly" ]] ||
        printf 'rustfmt-x86_64-unknown-linux-gnu\\nclippy-x86_64-unknown-linux-gnu\\nrust-src\\n' ;;
      "toolchain install") touch "${dir}/nightly" ;;
    esac`);
  stub('npm', 'exit 0');
  stub('cc', 'exit 0');
  return { dir, bin };
}

function setup(box, ...args) {
  const { dir, bin } = box;
  const node = dirname(process.execPath);
  const result = spawnSync('bash', [join(dir, 'repo', 'scripts', 'setup.sh'), ...args], {
    encoding: 'utf8',
    env: { PATH: `${bin}:${node}:/usr/bin:/bin`, HOME: join(dir, 'home'), LANG: 'C.UTF-8' },
  });
  let calls = '';
  try { calls = readFileSync(join(dir, 'calls'), 'utf8'); } catch { /* no tool was called */ }
  return { ...result, calls, output: result.stdout + result.stderr };
}

test('a lock file the registry cannot resolve: the same version is installed without the lock', (t) => {
  const box = sandbox({ locked: true, unlocked: false });
  t.after(() => rmSync(box.dir, { recursive: true, force: true }));
  const run = setup(box);
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, new RegExp(`wasm-bindgen-cli ${bindgen.replaceAll('.', '\\.')}: its lock file names a crate version this registry no longer has; installing without the lock`));
  assert.match(run.calls, new RegExp(`^cargo install wasm-bindgen-cli --version =${bindgen} --locked$`, 'm'));
  assert.match(run.calls, new RegExp(`^cargo install wasm-bindgen-cli --version =${bindgen}$`, 'm'), 'the retry keeps the exact version');
  assert.match(run.calls, /^cargo install trunk --version =0\.21\.\d+$/m);
  // The threaded build's pinned nightly, with std's source and the wasm target.
  assert.match(run.calls, /^rustup toolchain install nightly-\d{4}-\d\d-\d\d --profile minimal --component rust-src --target wasm32-unknown-unknown$/m);
  // Installed now: a second run installs nothing.
  const again = setup(box);
  assert.equal(again.status, 0, again.output);
  assert.equal(again.calls.split('cargo install').length, run.calls.split('cargo install').length, again.output);
  assert.equal(again.calls.split('toolchain install').length, run.calls.split('toolchain install').length, again.output);
});

test('both installs fail: setup stops, naming the tool and both causes', (t) => {
  const box = sandbox({ locked: true, unlocked: true });
  t.after(() => rmSync(box.dir, { recursive: true, force: true }));
  const run = setup(box);
  assert.notEqual(run.status, 0, run.output);
  assert.match(run.stderr, new RegExp(`setup: could not install wasm-bindgen-cli ${bindgen.replaceAll('.', '\\.')}`));
  assert.match(run.stderr, /with its lock file \(--locked\): error: failed to select a version for the requirement `webpki-roots/);
  assert.match(run.stderr, /without it: error: could not compile `wasm-bindgen-cli`/);
  assert.doesNotMatch(run.calls, /cargo install trunk/, 'setup stopped at the first tool that failed');
});

test('--check lists each tool with the version found and wanted, and installs nothing', (t) => {
  const box = sandbox({ locked: false, unlocked: false });
  t.after(() => rmSync(box.dir, { recursive: true, force: true }));
  const check = setup(box, '--check');
  assert.equal(check.status, 1, `something is missing, so --check exits 1\n${check.output}`);
  assert.match(check.stdout, new RegExp(`^wasm-bindgen-cli \\(cargo\\) +missing +wasm-bindgen ${bindgen.replaceAll('.', '\\.')} +would install$`, 'm'));
  assert.match(check.stdout, /^trunk \(cargo\) +missing +trunk 0\.21\.\d+ +would install$/m);
  assert.match(check.stdout, /^geckodriver \(cargo, tests\) +missing +geckodriver 0\.37\.1 +would install$/m);
  assert.match(check.stdout, /^chromium \(Debian, tests\) /m);
  assert.match(check.stdout, /^rust nightly-\S+ \(threaded build\) +missing +with rust-src, wasm32 +would install$/m);
  assert.match(check.stdout, /^uplot \(npm\) +missing +1\.6\.32 +would install$/m);
  assert.doesNotMatch(check.calls, /cargo install|toolchain install|npm ci|apt-get/, 'nothing installed');
  // After an install the cargo tools read as found, at the wanted version.
  assert.equal(setup(box).status, 0);
  const after = setup(box, '--check');
  assert.match(after.stdout, new RegExp(`^wasm-bindgen-cli \\(cargo\\) +wasm-bindgen ${bindgen.replaceAll('.', '\\.')} +wasm-bindgen \\S+ +ok$`, 'm'));
});
