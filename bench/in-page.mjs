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
 * The same call in a dedicated worker of its own (as fine-tuning runs in the page): its answer
 * and the worker's wasm memory after it, in bytes.
 */
export async function callExportInWorker({ name, args }) {
  const base = document.baseURI;
  const source = `
    import init, * as m from ${JSON.stringify(new URL("digit-transfer.js", base).href)};
    onmessage = async ({ data: { name, args } }) => {
      try {
        const wasm = await init();
        const file = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
        const resolved = [];
        for (const a of args) resolved.push(typeof a === "string" && a.startsWith("file:") ? await file(new URL(a.slice(5), ${JSON.stringify(base)}).href) : a);
        const result = JSON.parse(await m[name](...resolved));
        postMessage({ result, memory: wasm.memory.buffer.byteLength });
      } catch (e) {
        postMessage({ error: String(e) });
      }
    };`;
  const worker = new Worker(URL.createObjectURL(new Blob([source], { type: "text/javascript" })), { type: "module" });
  try {
    const answer = await new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => (data.error ? reject(new Error(data.error)) : resolve(data));
      worker.onerror = (e) => reject(new Error(`the worker failed: ${e.message}`));
      worker.postMessage({ name, args });
    });
    return answer;
  } finally {
    worker.terminate();
  }
}
