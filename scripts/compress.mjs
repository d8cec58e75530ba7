// Writes FILE.gz (gzip -9) and FILE.br (brotli, quality 11) beside every script, wasm,
// stylesheet, page and JSON file under a folder, so a static host can serve them precompressed.
// Usage: node scripts/compress.mjs DIR
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join, extname } from "node:path";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

const kinds = new Set([".js", ".wasm", ".css", ".html", ".json", ".svg"]);

async function* files(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (kinds.has(extname(entry.name))) yield path;
  }
}

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node scripts/compress.mjs DIR");
  process.exit(2);
}
for await (const path of files(dir)) {
  const bytes = await readFile(path);
  await writeFile(`${path}.gz`, gzipSync(bytes, { level: 9 }));
  await writeFile(`${path}.br`, brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      [constants.BROTLI_PARAM_MODE]: extname(path) === ".wasm" ? constants.BROTLI_MODE_GENERIC : constants.BROTLI_MODE_TEXT,
    },
  }));
}
