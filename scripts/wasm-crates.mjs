// Where a wasm file's code bytes come from: each function's body size, attributed to the crate
// its name (from the name section: use the build before wasm-bindgen and wasm-opt, which keeps
// it) starts with. Usage: node scripts/wasm-crates.mjs $CARGO_TARGET_DIR/wasm32-unknown-unknown/web/digit_transfer.wasm
import { readFileSync } from "node:fs";
const buf = readFileSync(process.argv[2]);
let p = 8;
const leb = () => { let r = 0, s = 0, b; do { b = buf[p++]; r += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80); return r; };
let imports = 0; const bodies = []; const names = new Map();
while (p < buf.length) {
  const id = buf[p++]; const size = leb(); const end = p + size;
  if (id === 2) { const n = leb(); for (let i = 0; i < n; i++) { const ml = leb(); p += ml; const fl = leb(); p += fl; const kind = buf[p++];
      if (kind === 0) { leb(); imports++; } else if (kind === 1) { p++; const f = leb(); leb(); if (f & 1) leb(); } else if (kind === 2) { const f = leb(); leb(); if (f & 1) leb(); } else if (kind === 3) { p += 2; } else if (kind === 4) { p++; leb(); } } }
  if (id === 10) { const n = leb(); for (let i = 0; i < n; i++) { const s = leb(); bodies.push(s); p += s; } }
  if (id === 0) { const nl = leb(); const name = buf.subarray(p, p + nl).toString(); p += nl;
    if (name === "name") { while (p < end) { const sub = buf[p++]; const ss = leb(); const se = p + ss;
        if (sub === 1) { const n = leb(); for (let i = 0; i < n; i++) { const idx = leb(); const l = leb(); names.set(idx, buf.subarray(p, p + l).toString()); p += l; } }
        p = se; } } }
  p = end;
}
const byCrate = new Map(); let total = 0;
bodies.forEach((s, i) => { total += s; let n = names.get(i + imports) ?? "?";
  n = n.replace(/^_ZN\d+/, "").replace(/^_?\$LT\$/, "").replace(/^&/, "").replace(/^\$RF\$/, "").replace(/^<+/, "");
  // Legacy mangling starts with the crate's name; v0 (`_R…`, the nightly's threaded build)
  // names the first crate root as `C`, an optional `s<hash>_`, then the name's length.
  const v0 = n.startsWith("_R") && n.match(/C(?:s[0-9a-zA-Z]*_)?(\d+)/);
  const m = v0 ? [null, n.substr(v0.index + v0[0].length, Number(v0[1]))] : n.match(/^([a-z_][a-z0-9_]*?)(?:\.\.|::|\d|\$|$)/i); const c = m ? m[1] : "?";
  byCrate.set(c, (byCrate.get(c) ?? 0) + s); });
console.log(`code ${total} bytes, ${bodies.length} functions, ${names.size} names`);
for (const [c, s] of [...byCrate].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(s / total * 100).toFixed(1).padStart(5)}%  ${s.toString().padStart(9)}  ${c}`);
