// The built page's files (dist/): every script and wasm has precompressed .gz and .br copies
// that decompress to the file itself, for static hosts that serve them as they are.
// Run: node --test tests/e2e/  (after `trunk build --release --offline`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { dist } from "./harness.mjs";

async function* files(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

test("every script and wasm in dist/ has .gz and .br copies of the same bytes", async () => {
  const checked = [];
  for await (const path of files(dist)) {
    if (![".js", ".wasm"].includes(extname(path))) continue;
    const bytes = await readFile(path);
    const gz = gunzipSync(await readFile(`${path}.gz`));
    const br = brotliDecompressSync(await readFile(`${path}.br`));
    assert.ok(gz.equals(bytes), `${path}.gz`);
    assert.ok(br.equals(bytes), `${path}.br`);
    checked.push(path);
  }
  // Both wasm builds and their bindings, and the page's own scripts.
  for (const name of ["digit-transfer_bg.wasm", "digit-transfer-gpu_bg.wasm", "digit-transfer.js", "digit-transfer-gpu.js", join("www", "app.js"), join("www", "worker.js")]) {
    assert.ok(checked.includes(join(dist, name)), `${name} is checked`);
  }
});
