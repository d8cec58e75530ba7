// The browser half of the benchmark: the built page (dist/) in headless Chromium, on the CPU
// and on WebGPU. Prints a JSON object on stdout; scripts/bench.sh turns it into the report.
// Run: node bench/page.mjs  (after `trunk build --release --offline`).
import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { dist, drawImage, heldOutDigits, launch, serve } from "../tests/e2e/harness.mjs";
import { callExport, callExportInWorker } from "./in-page.mjs";

const quick = process.env.BENCH_QUICK === "1";
const log = (...a) => console.error(...a);

/** Sizes of the page's own files (the precompressed copies beside them are not counted). */
async function fileSizes() {
  const sizes = {};
  for (const name of await readdir(dist)) {
    if (!/\.(wasm|js|css|html)$/.test(name)) continue;
    const bytes = await readFile(join(dist, name));
    const brotli = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } });
    sizes[name] = { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, brotli: brotli.length };
  }
  return sizes;
}

/** The WebGPU adapter the browser offers: its name and whether it is a fallback (software). */
async function adapterInfo(page) {
  return page.evaluate(async () => {
    const adapter = await navigator.gpu?.requestAdapter();
    if (!adapter) return null;
    const info = adapter.info ?? {};
    return {
      name: info.description || [info.vendor, info.architecture].filter(Boolean).join(" "),
      vendor: info.vendor ?? "",
      architecture: info.architecture ?? "",
      fallback: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter),
    };
  });
}

/** What the page's Auto chooses for `architecture` at the page's default batch size. */
async function autoChoice(page, architecture, adapter) {
  return page.evaluate(async ({ architecture, adapter }) => {
    const cpu = await import(new URL("digit-transfer.js", document.baseURI).href);
    await cpu.default();
    const gpu = await import(new URL("digit-transfer-gpu.js", document.baseURI).href);
    await gpu.default();
    const cpuTiming = await cpu.time_training("cpu", architecture, 16);
    const gpuTiming = await gpu.time_training("webgpu", architecture, 16);
    return cpu.choose_device(cpuTiming, gpuTiming, adapter.name, adapter.fallback);
  }, { architecture, adapter });
}

async function openPage(browser, origin) {
  const page = await browser.newPage();
  await page.goto(origin);
  await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
  return page;
}

/** Call a benchmark export of the page's wasm (the module the page already initialised). */
function inPage(page, name, args) {
  return page.evaluate(callExport, { name, args });
}

async function pageLoad(browser, origin, digit) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(origin);
  await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
  await page.waitForFunction(() => document.querySelector("#badge")?.dataset.device !== "none", null, { timeout: 120_000 });
  await drawImage(page, digit);
  await page.waitForFunction(() => performance.getEntriesByName("prediction-shown").length > 0);
  const figures = await page.evaluate(() => {
    const mark = (name) => performance.getEntriesByName(name).at(-1)?.startTime ?? null;
    const resources = performance.getEntriesByType("resource");
    const ready = mark("model-ready");
    const before = resources.filter((r) => r.responseEnd <= ready);
    return {
      model_ready_ms: ready,
      stroke_to_prediction_ms: mark("prediction-shown") - mark("stroke-end"),
      resources_before_ready: before.map((r) => ({ name: new URL(r.name).pathname, bytes: r.encodedBodySize })),
      resources_all: resources.map((r) => ({ name: new URL(r.name).pathname, bytes: r.encodedBodySize })),
    };
  });
  await context.close();
  return figures;
}

/** The training worker's CPU build's memory (bytes): the threaded build's, shared with its
 * threads, where it trains on that (isolated, more than one core), else the single-threaded
 * build's. Asked of the training worker itself: its pool's threads never answer (they run
 * rayon). */
function trainingWorkerMemory(page) {
  const worker = page.workers().findLast((w) => w.url().endsWith("/www/worker.js"));
  if (!worker) throw new Error("no training worker");
  return worker.evaluate(async () => {
    if (self.crossOriginIsolated && (navigator.hardwareConcurrency ?? 1) > 1) {
      return (await import("../digit-transfer-threads.js")).thread_start_parts()[1].buffer.byteLength;
    }
    return (await (await import("../digit-transfer.js")).default()).memory.buffer.byteLength;
  });
}

async function memoryAfterFineTunes(browser, origin, runs) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(origin);
  await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
  await page.waitForFunction(() => document.querySelector("#badge")?.dataset.device !== "none", null, { timeout: 120_000 });
  // 13 held-out digits per class, as a samples file, imported like a person would.
  const file = JSON.parse(await readFile(join(dist, "www", "data", "heldout.json"), "utf8"));
  const taken = new Array(10).fill(0);
  file.samples = file.samples.filter((s) => taken[s.label]++ < 13);
  const path = join(tmpdir(), "digit-transfer-bench-samples.json");
  await writeFile(path, JSON.stringify(file));
  await page.setInputFiles("#import-samples", path);
  await page.waitForFunction(() => /^130 samples/.test(document.querySelector("#sample-count").textContent));
  await page.fill("#settings [name=epochs]", "20");
  const pageMemory = () => page.evaluate(async () => ({
    // A collection first, so that the heap figure is what is still referenced.
    gc: globalThis.gc?.(),
    wasm: (await (await import(new URL("digit-transfer.js", document.baseURI).href)).default()).memory.buffer.byteLength,
    js_heap: performance.memory?.usedJSHeapSize ?? null,
  }));
  const samples = [];
  for (let i = 1; i <= runs; i += 1) {
    const trained = Number((await page.getAttribute("body", "data-trained")) ?? 0);
    const started = Date.now();
    await page.click("#train");
    await page.waitForFunction((n) => Number(document.body.dataset.trained ?? 0) > n, trained, { timeout: 600_000 });
    samples.push({ run: i, seconds: (Date.now() - started) / 1000, worker_wasm: await trainingWorkerMemory(page), ...(await pageMemory()) });
    log(`  fine-tune ${i}: ${JSON.stringify(samples.at(-1))}`);
  }
  await context.close();
  return samples;
}

/** A samples file of `n` held-out digits, repeated (the page's own format). */
function samplesFile(digits, n) {
  const samples = Array.from({ length: n }, (_, i) => ({ label: digits[i % digits.length].label, image: digits[i % digits.length].image.toString("base64") }));
  return Buffer.from(JSON.stringify({ format: "digit-transfer-samples", version: 1, classes: [..."0123456789"], samples }));
}

/** Frames a second while the gallery is scrolled down, 40 px a frame for two seconds (its
 * thumbnails drawn as they come into view). */
function galleryScroll(page) {
  return page.evaluate(async () => {
    const gallery = document.querySelector("#gallery");
    gallery.scrollIntoView();
    const scroller = gallery.scrollHeight > gallery.clientHeight + 1 ? gallery : document.scrollingElement;
    let frames = 0;
    const start = performance.now();
    await new Promise((resolve) => {
      const step = () => {
        frames += 1;
        scroller.scrollTop += 40;
        if (performance.now() - start < 2000) requestAnimationFrame(step);
        else resolve(null);
      };
      requestAnimationFrame(step);
    });
    return frames / ((performance.now() - start) / 1000);
  });
}

/**
 * Samples files of 3,000, 10,000 and 30,000 digits (the last near the 32 MiB limit) imported
 * like a person would, each into a fresh page: the time to "Imported …", the longest
 * main-thread task meanwhile, and *Fine-tune* with the defaults on them (CPU), with the
 * worker's wasm memory after it.
 */
async function importAtScale(browser, origin, digits) {
  const out = [];
  for (const n of quick ? [3_000] : [3_000, 10_000, 30_000]) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.addInitScript(() => {
      window.__longest = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
      }).observe({ type: "longtask" });
    });
    await page.goto(origin);
    await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
    await page.waitForFunction(() => !["none", "measuring"].includes(document.querySelector("#badge")?.dataset.device), null, { timeout: 300_000 });
    const buffer = samplesFile(digits, n);
    // From a file on disk, as a person chooses one: a buffer would be made into a file by the
    // driver's own script in the page, a long task that is not the page's.
    const path = join(tmpdir(), `digit-transfer-bench-${n}.json`);
    await writeFile(path, buffer);
    await page.evaluate(() => { window.__longest = 0; });
    const started = Date.now();
    await page.setInputFiles("#import-samples", path);
    await page.waitForFunction(() => /^Imported|Could not/.test(document.querySelector("#status").textContent), null, { timeout: 600_000 });
    const seconds = (Date.now() - started) / 1000;
    const longest = await page.evaluate(() => window.__longest);
    await rm(path, { force: true });
    const result = { samples: n, bytes: buffer.length, import_seconds: seconds, longest_task_ms: longest, status: await page.textContent("#status") };
    result.scroll_fps = await galleryScroll(page);
    if (n !== 10_000) {
      const trained = Number((await page.getAttribute("body", "data-trained")) ?? 0);
      const tuned = Date.now();
      await page.click("#train");
      await page.waitForFunction((t) => Number(document.body.dataset.trained ?? 0) > t || /failed/.test(document.querySelector("#status").textContent), trained, { timeout: 900_000 });
      result.fine_tune_seconds = (Date.now() - tuned) / 1000;
      result.fine_tune_status = await page.textContent("#train-status");
      result.worker_wasm = await trainingWorkerMemory(page).catch(() => null);
    }
    log(`  import ${n}: ${JSON.stringify(result)}`);
    out.push(result);
    await context.close();
  }
  return out;
}

/**
 * "Learn as I label": a fresh page holding `n` imported digits, then a drawing labelled and
 * learnt again and again; each figure is the time from the label's click to the updated model
 * in use (the worker's update, its weights loaded in the page: the `live-learned` mark).
 */
async function liveLatency(browser, origin, digits) {
  const out = [];
  for (const n of quick ? [100] : [100, 1_000]) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(origin);
    await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
    await page.waitForFunction(() => !["none", "measuring"].includes(document.querySelector("#badge")?.dataset.device), null, { timeout: 300_000 });
    await page.setInputFiles("#import-samples", { name: "samples.json", mimeType: "application/json", buffer: samplesFile(digits, n) });
    await page.waitForFunction(() => /^Imported|Could not/.test(document.querySelector("#status").textContent), null, { timeout: 600_000 });
    const ms = [];
    for (let i = 0; i < 11; i += 1) {
      const digit = digits[(i * 7) % digits.length];
      await drawImage(page, digit.image);
      const before = await page.evaluate(() => performance.getEntriesByName("live-learned").length);
      const clicked = await page.evaluate(() => performance.now());
      await page.click(`#label-buttons button[data-label="${digit.label}"]`);
      await page.waitForFunction((k) => performance.getEntriesByName("live-learned").length > k, before, { timeout: 120_000 });
      const done = await page.evaluate(() => performance.getEntriesByName("live-learned").at(-1).startTime);
      // The first update computes the features of every imported sample once: reported apart.
      ms.push(done - clicked);
    }
    const [first, ...rest] = ms;
    rest.sort((a, b) => a - b);
    const result = { samples: n, first_ms: first, median_ms: rest[Math.floor(rest.length / 2)], max_ms: rest.at(-1) };
    log(`  live ${n}: ${JSON.stringify(result)}`);
    out.push(result);
    await context.close();
  }
  return out;
}

async function measure(webgpu, origin, digits) {
  const device = webgpu ? "webgpu" : "cpu";
  const browser = await launch({ webgpu, realGpu: true, extraArgs: ["--enable-precise-memory-info", "--js-flags=--expose-gc"] });
  try {
    const page = await openPage(browser, origin);
    const version = browser.version();
    const out = { device, browser: version, throughput: [], fine_tune: [], prediction: [] };
    if (webgpu) {
      out.adapter = await adapterInfo(page);
      log(`  adapter: ${JSON.stringify(out.adapter)}`);
      out.auto = [];
      for (const architecture of ["cnn", "mlp"]) {
        const choice = await autoChoice(page, architecture, out.adapter ?? { name: "", fallback: false });
        log(`  Auto, ${architecture} at the automatic batch: ${choice.device} — ${choice.summary}`);
        out.auto.push({ architecture, batch_size: 16, ...choice });
      }
    }
    // Software WebGPU (SwiftShader) is slow: fewer digits and runs, same figures.
    const limit = webgpu ? 64 : 512;
    const runs = webgpu || quick ? 3 : 5;
    // A warm-up of every kernel first: V8 runs new wasm code in its baseline tier and swaps in
    // optimised code once it is hot, which otherwise lands in the middle of the first figures.
    if (!webgpu) {
      for (const architecture of ["mlp", "cnn"]) {
        await inPage(page, "bench_training", [device, architecture, 32, 3, limit, "file:www/data/rehearsal.json"]);
      }
    }
    for (const architecture of ["mlp", "cnn"]) {
      for (const batch of [32, 64]) {
        const t = await inPage(page, "bench_training", [device, architecture, batch, runs, limit, "file:www/data/rehearsal.json"]);
        log(`  ${device} ${architecture} batch ${batch}: ${Math.round(t.samples_per_sec)} samples/s`);
        out.throughput.push(t);
      }
    }
    for (const architecture of ["cnn", "mlp"]) {
      // SwiftShader trains at 10 (cnn) to 150 (mlp) samples/s: fewer epochs there, reported
      // as such, so that the benchmark stays within its time.
      const epochs = webgpu ? (architecture === "cnn" ? 2 : 5) : 20;
      for (const strategy of ["head", "full", "scratch"]) {
        const f = await inPage(page, "bench_fine_tune", [device, `file:www/weights/pretrained-${architecture}.bpk`, strategy, epochs, "file:www/data/rehearsal.json"]);
        log(`  ${device} fine-tune ${architecture} ${strategy}: ${f.seconds.toFixed(2)} s (${f.epochs} epochs)`);
        out.fine_tune.push({ architecture, ...f });
      }
      if (!webgpu) {
        const f = await inPage(page, "bench_default_fine_tune", [device, `file:www/weights/pretrained-${architecture}.bpk`, "file:www/data/rehearsal.json", "file:www/data/heldout.json"]);
        log(`  ${device} fine-tune ${architecture} with the defaults: ${f.seconds.toFixed(2)} s (${f.epochs} epochs)`);
        (out.default_fine_tune ??= []).push({ architecture, ...f });
      }
      const p = await inPage(page, "bench_prediction", [device, `file:www/weights/pretrained-${architecture}.bpk`, webgpu ? 20 : 200, "file:www/data/heldout.json"]);
      log(`  ${device} prediction ${architecture}: median ${p.median_ms.toFixed(2)} ms`);
      out.prediction.push({ architecture, ...p });
      if (!webgpu) {
        const s = await inPage(page, "bench_saliency", [device, `file:www/weights/pretrained-${architecture}.bpk`, 100, "file:www/data/heldout.json"]);
        log(`  ${device} saliency ${architecture}: median ${s.median_ms.toFixed(2)} ms`);
        (out.saliency ??= []).push({ architecture, ...s });
      }
    }
    await page.close();
    out.page_load = [];
    for (let i = 0; i < (quick ? 1 : 3); i += 1) out.page_load.push(await pageLoad(browser, origin, digits[0].image));
    log(`  ${device} page load: ${out.page_load.map((p) => Math.round(p.model_ready_ms)).join(", ")} ms`);
    if (!webgpu) out.memory = await memoryAfterFineTunes(browser, origin, 5);
    if (!webgpu) out.import = await importAtScale(browser, origin, digits);
    if (!webgpu) out.live = await liveLatency(browser, origin, digits);
    return out;
  } finally {
    await browser.close();
  }
}

/**
 * The CPU as the training worker runs it, in a worker of the benchmark's own (bench/worker.js)
 * on the isolated page: the single-threaded build, and the threaded build on 1 thread and on
 * every core (capped). Training throughput, the fine-tuning times and *Fine-tune* with the
 * defaults, as `measure` takes them on the page's thread.
 */
async function measureWorkers(origin) {
  const browser = await launch();
  try {
    const page = await openPage(browser, origin);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const out = [];
    const runs = quick ? 3 : 5;
    const builds = [{ build: "digit-transfer", threads: 1 }, { build: "threads", threads: 1 }, { build: "threads", threads: Math.min(cores, 8) }];
    for (const { build, threads } of quick ? builds.filter((b) => b.threads > 1) : builds) {
      const call = (name, args) => page.evaluate(callExportInWorker, { name, args, build, threads });
      const d = { device: "cpu-worker", build, threads, isolated: await page.evaluate(() => crossOriginIsolated), throughput: [], fine_tune: [], default_fine_tune: [] };
      for (const architecture of ["mlp", "cnn"]) {
        for (const batch of [32, 64]) {
          const t = (await call("bench_training", ["cpu", architecture, batch, runs, 512, "file:www/data/rehearsal.json"])).result;
          log(`  worker ${build} ×${threads} ${architecture} batch ${batch}: ${Math.round(t.samples_per_sec)} samples/s`);
          d.throughput.push(t);
        }
        for (const strategy of ["head", "full", "scratch"]) {
          const f = (await call("bench_fine_tune", ["cpu", `file:www/weights/pretrained-${architecture}.bpk`, strategy, 20, "file:www/data/rehearsal.json"])).result;
          log(`  worker ${build} ×${threads} fine-tune ${architecture} ${strategy}: ${f.seconds.toFixed(2)} s`);
          d.fine_tune.push({ architecture, ...f });
        }
        const f = (await call("bench_default_fine_tune", ["cpu", `file:www/weights/pretrained-${architecture}.bpk`, "file:www/data/rehearsal.json", "file:www/data/heldout.json"])).result;
        log(`  worker ${build} ×${threads} fine-tune ${architecture} with the defaults: ${f.seconds.toFixed(2)} s`);
        d.default_fine_tune.push({ architecture, ...f });
      }
      out.push(d);
    }
    return out;
  } finally {
    await browser.close();
  }
}

// Under a sub-path, as a project page is served: every URL the page and this script use is relative.
const server = await serve({ base: "/digit-transfer/", files: { "bench-worker.js": await readFile(new URL("./worker.js", import.meta.url)) } });
try {
  const digits = await heldOutDigits();
  const result = { date: new Date().toISOString(), files: await fileSizes(), devices: [] };
  const devices = (process.env.BENCH_DEVICES ?? "cpu,webgpu").split(",");
  for (const webgpu of devices.map((d) => d === "webgpu")) {
    log(webgpu ? "WebGPU" : "CPU (ndarray)");
    result.devices.push(await measure(webgpu, server.url, digits));
  }
  if (devices.includes("cpu")) {
    log("CPU in a worker: one thread, and the threaded build");
    result.devices.push(...(await measureWorkers(server.url)));
  }
  console.log(JSON.stringify(result));
} finally {
  server.close();
}
