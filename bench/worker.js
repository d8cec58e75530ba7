// The benchmark's calls into a wasm build in a dedicated worker of its own, as the training
// worker runs them: the single-threaded CPU build, or the threaded one with its pool started as
// the page starts it (www/pool.js), on every core or on `threads`. Served beside the page as bench-worker.js by the benchmark's
// server, from the page's own origin (its CSP allows workers from there only).
import { loadThreadedBuild } from "./www/pool.js";

let threaded = null;
onmessage = async ({ data: { build, name, args, threads } }) => {
  try {
    let m;
    let memory;
    if (build === "threads") {
      threaded ??= loadThreadedBuild(threads);
      m = (await threaded).module;
      memory = () => m.thread_start_parts()[1].buffer.byteLength;
    } else {
      m = await import(new URL(`${build}.js`, import.meta.url).href);
      const wasm = await m.default();
      memory = () => wasm.memory.buffer.byteLength;
    }
    const file = async (path) => new Uint8Array(await (await fetch(new URL(path, import.meta.url))).arrayBuffer());
    const resolved = [];
    for (const a of args) resolved.push(typeof a === "string" && a.startsWith("file:") ? await file(a.slice(5)) : a);
    const result = JSON.parse(await m[name](...resolved));
    postMessage({ result, memory: memory() });
  } catch (e) {
    postMessage({ error: String(e?.message ?? e) });
  }
};
