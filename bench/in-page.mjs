// The benchmark's calls into the page's wasm, as functions any browser driver can run in the
// page (Playwright's evaluate, WebDriver's execute/async): each takes one JSON-able argument.

/**
 * Call the benchmark export `name` of the page's wasm with `args` (strings "file:PATH" are
 * fetched from beside the page and passed as bytes); its JSON answer, parsed.
 */
export async function callExport({ name, args }) {
  // The page itself runs the CPU build; WebGPU figures come from the GPU build.
  const m = await import(new URL(args[0] === "webgpu" ? "digit-transfer-gpu.js" : "digit-transfer.js", document.baseURI).href);
  await m.default();
  const file = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
  const resolved = [];
  for (const a of args) resolved.push(typeof a === "string" && a.startsWith("file:") ? await file(a.slice(5)) : a);
  return JSON.parse(await m[name](...resolved));
}

/**
 * The same call in a dedicated worker of its own (as fine-tuning runs in the page), on
 * `build`: "digit-transfer" (one thread, the default) or "threads" (the threaded build, its pool
 * started on `threads` threads, default one a core; the page must be cross-origin isolated).
 * Its answer and the worker's wasm memory
 * after it, in bytes. The worker is bench/worker.js, which the benchmark's server serves as
 * bench-worker.js.
 */
export async function callExportInWorker({ name, args, build = "digit-transfer", threads = undefined }) {
  const worker = new Worker(new URL("bench-worker.js", document.baseURI), { type: "module" });
  try {
    return await new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => (data.error ? reject(new Error(data.error)) : resolve(data));
      worker.onerror = (e) => reject(new Error(`the worker failed: ${e.message}`));
      worker.postMessage({ build, name, args, threads });
    });
  } finally {
    worker.terminate();
  }
}
