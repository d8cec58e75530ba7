// Shared set-up of the end-to-end tests: a static server for the built page, headless
// Chromium with or without WebGPU, and a hand that draws digits with real mouse moves.
import { createServer } from "node:http";
import { mkdir, readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";

const root = new URL("../../", import.meta.url).pathname;
export const dist = process.env.DIGIT_TRANSFER_DIST ?? join(root, "dist");
export const artifacts = process.env.DIGIT_TRANSFER_ARTIFACTS ?? join(root, "target", "e2e");
const types = {
  ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm",
  ".css": "text/css", ".json": "application/json",
};

/**
 * Serve `dist` on 127.0.0.1 under `base` (default "/"; a static host's project page is under
 * "/<repo>/"), with the headers of cross-origin isolation unless `isolated` is false, and
 * `files` (path → contents) served as if they were in `dist` (the benchmark's worker); returns { origin, url, close, prepend, missing }: `url` is the page's address,
 * `missing` every path asked for that is not there (404). `prepend(path, code)` puts test code
 * before a script's own (until `prepend(path, null)`): how the tests cause faults from outside
 * the product (see faults.mjs).
 */
export async function serve({ base = "/", isolated = true, files = {} } = {}) {
  const prepended = new Map();
  const missing = [];
  const server = createServer(async (req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, "http://x").pathname);
    if (!pathname.startsWith(base)) {
      missing.push(pathname);
      return res.writeHead(404).end();
    }
    let path = normalize(pathname.slice(base.length)).replace(/^\/+/, "");
    if (path === "" || path === ".") path = "index.html";
    if (path.startsWith("..")) return res.writeHead(403).end();
    try {
      let body = path in files ? Buffer.from(files[path]) : await readFile(join(dist, path));
      if (prepended.has(path)) body = Buffer.concat([Buffer.from(prepended.get(path)), body]);
      // Cross-origin isolation, as scripts/serve.sh sends it: the training worker may then run
      // the threaded build. Without it (`isolated: false`, a static host) sw.js adds it.
      const isolation = isolated ? { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" } : {};
      res.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream", ...isolation });
      res.end(body);
    } catch {
      missing.push(pathname);
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    url: `${origin}${base}`,
    missing,
    close: () => server.close(),
    prepend: (path, code) => (code == null ? prepended.delete(path) : prepended.set(path, code)),
  };
}

const flags = [
  "--no-sandbox", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--disable-quic", "--no-first-run",
];

/**
 * Flags for a real GPU on Linux (`DIGIT_TRANSFER_GPU_FLAGS`, e.g. `--enable-features=Vulkan,
 * VulkanFromANGLE,DefaultANGLEVulkan`): without them Chromium offers only SwiftShader there.
 */
export const gpuFlags = (process.env.DIGIT_TRANSFER_GPU_FLAGS ?? "").split(/\s+/).filter(Boolean);

/**
 * Headless Chromium; `webgpu` adds the flag that exposes a WebGPU adapter: SwiftShader for
 * the tests, or the real GPU for the benchmark (`realGpu`, with `DIGIT_TRANSFER_GPU_FLAGS`).
 */
export function launch({ webgpu = false, realGpu = false, extraArgs = [] } = {}) {
  const gpu = webgpu ? ["--enable-unsafe-webgpu", ...(realGpu ? gpuFlags : [])] : [];
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [...flags, ...gpu, ...extraArgs],
  });
}

/**
 * A page at `url` (default: the root of `origin`) that records failures: requests leaving
 * `origin`, uncaught errors, console errors, and main-thread long tasks (`longtask`).
 */
export async function open(context, origin, url = origin) {
  const page = await context.newPage();
  const watch = { foreign: [], errors: [], requests: [] };
  // Every request of the context, the training worker's included, must stay on the origin.
  context.on("request", (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith("blob:") && !r.url().startsWith("data:")) watch.foreign.push(r.url()); });
  context.on("request", (r) => watch.requests.push(r.url()));
  page.on("pageerror", (e) => watch.errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") watch.errors.push(m.text()); });
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: "longtask", buffered: true });
  });
  await page.goto(url);
  await whenReady(page);
  return { page, watch };
}

/** Wait until a page (just opened or reloaded) has its model and its training device. */
export async function whenReady(page) {
  await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
  // Auto may first measure WebGPU against the CPU (SwiftShader compiles slowly).
  await page.waitForFunction(() => !["none", "measuring"].includes(document.querySelector("#badge")?.dataset.device), null, { timeout: 300_000 });
}

export async function screenshot(page, name) {
  await mkdir(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

/** The shipped held-out MNIST digits: { classes, samples: [{ label, image: Uint8Array }] }. */
export async function heldOutDigits() {
  const file = JSON.parse(await readFile(join(root, "www", "data", "heldout.json"), "utf8"));
  return file.samples.map((s) => ({ label: s.label, image: Buffer.from(s.image, "base64") }));
}

/**
 * The runs of inked pixels of a 28×28 image, row by row: [{ y, from, to }] (columns `from` to
 * `to`, both inked). `transpose` swaps rows and columns.
 */
export function inkRuns(image, { transpose = false } = {}) {
  const ink = (x, y) => (transpose ? image[x * 28 + y] : image[y * 28 + x]) > 100;
  const runs = [];
  for (let y = 0; y < 28; y += 1) {
    let x = 0;
    while (x < 28) {
      if (!ink(x, y)) { x += 1; continue; }
      const from = x;
      while (x < 28 && ink(x, y)) x += 1;
      runs.push({ y, from, to: x - 1 });
    }
  }
  return runs;
}

/**
 * Trace a 28×28 image's ink on the pad with the mouse: one stroke along each run of inked
 * pixels in each row. `transpose` swaps rows and columns (a "personal" style the pretrained
 * network has never seen).
 */
export async function drawImage(page, image, { transpose = false } = {}) {
  await page.locator("#pad").scrollIntoViewIfNeeded();
  const box = await page.locator("#pad").boundingBox();
  const at = (x, y) => [box.x + ((x + 0.5) / 28) * box.width, box.y + ((y + 0.5) / 28) * box.height];
  for (const { y, from, to } of inkRuns(image, { transpose })) {
    await page.mouse.move(...at(from, y));
    await page.mouse.down();
    await page.mouse.move(...at(to, y), { steps: 2 });
    await page.mouse.up();
  }
}

/** Draw a polyline given in 0..1 pad coordinates as one stroke. */
export async function drawStroke(page, points) {
  await page.locator("#pad").scrollIntoViewIfNeeded();
  const box = await page.locator("#pad").boundingBox();
  const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
  await page.mouse.move(...at(points[0]));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 4 });
  await page.mouse.up();
}

/** The class the page currently predicts (the highlighted bar's name). */
export async function predicted(page) {
  // The answer to the whole drawing, not to a stroke of it still queued.
  await page.waitForFunction(() => document.querySelector("#bars[aria-busy=false] li.top") !== null, null, { timeout: 60_000 });
  return page.textContent("#bars li.top .name");
}

/** Long tasks (ms) that started after `since` (a performance.now() value in the page). */
export async function longTasksSince(page, since) {
  return page.evaluate((t) => window.__longTasks.filter((e) => e.start >= t).map((e) => e.duration), since);
}

/** Set fields of the settings form: checkboxes from booleans, selects and inputs from values. */
export async function setSettings(page, values) {
  for (const [name, value] of Object.entries(values)) {
    const field = page.locator(`#settings [name=${name}]`);
    if (typeof value === "boolean") await field.setChecked(value);
    else if ((await field.evaluate((e) => e.tagName)) === "SELECT") await field.selectOption(String(value));
    else await field.fill(String(value));
  }
}

/** Press a fine-tuning button and wait for the result; returns the long tasks meanwhile. */
export async function fineTune(page, button = "#train") {
  const trained = Number((await page.getAttribute("body", "data-trained")) ?? 0);
  const since = await page.evaluate(() => performance.now());
  await page.click(button);
  await page.waitForFunction((n) => Number(document.body.dataset.trained ?? 0) > n, trained, { timeout: 600_000 });
  return longTasksSince(page, since);
}

/** The value of a line of the results' summary. */
export const summary = (page, key) => page.textContent(`#summary dd[data-key="${key}"]`);
