// Writes the build's version and the files to keep offline into DIR/sw.js (see sw.js): the
// version is a hash of every file the page can load, so any change to any of them is a new
// version. The WebGPU build is left to be kept when it is used (most visitors never load it);
// the threaded one is kept at once: isolated by this service worker, nearly every visit after
// the first trains on it, offline too.
// Usage: node scripts/stamp-sw.mjs DIR
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node scripts/stamp-sw.mjs DIR");
  process.exit(2);
}

async function* files(folder) {
  for (const entry of (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

const hash = createHash("sha256");
const precache = ["./"];
for await (const path of files(dir)) {
  const name = relative(dir, path).split(sep).join("/");
  // The bindings' TypeScript declarations (.d.ts, for tsc) are never loaded by the page.
  if (name === "sw.js" || /\.(gz|br)$/.test(name) || name.endsWith(".d.ts")) continue;
  hash.update(name).update("\0").update(await readFile(path));
  if (!name.startsWith("digit-transfer-gpu")) precache.push(name);
}
const version = hash.digest("hex").slice(0, 16);
const sw = join(dir, "sw.js");
const source = await readFile(sw, "utf8");
if (!source.includes('"__BUILD_VERSION__"') || !source.includes('["__PRECACHE__"]')) {
  console.error(`stamp-sw: ${sw} has no placeholders to fill (stamped twice?)`);
  process.exit(1);
}
const stamped = source
  .replace('"__BUILD_VERSION__"', JSON.stringify(version))
  .replace('["__PRECACHE__"]', JSON.stringify(precache));
await writeFile(sw, stamped);
console.log(`stamp-sw: version ${version}, ${precache.length} files kept at install`);
