// The benchmark's three engines side by side, on the CPU (neither Firefox nor WebKit offers
// WebGPU on Linux): headless Chromium (Playwright), headless Firefox (geckodriver) and WebKit
// (WebKitWebDriver's MiniBrowser under Xvfb, LANG=C.UTF-8), each on the built page: the time to
// a ready model (median of three loads in one session), *Fine-tune* with the defaults on the
// page's thread (the bench export page.mjs uses), and the same in a worker of its own with that
// worker's wasm memory after it (bench/worker.js, served from the page's origin as its CSP
// asks; should a worker still fail, the figure says so). Prints a JSON object on stdout for
// bench/report.mjs.
// Run: node bench/engines.mjs  (after `trunk build --release --offline`).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { launch, serve } from "../tests/e2e/harness.mjs";
import { Session, firefoxTools, startGeckodriver, startWebKitDriver, startXvfb, webkitTools } from "../tests/e2e/webdriver.mjs";
import { callExport, callExportInWorker } from "./in-page.mjs";

const root = new URL("../", import.meta.url).pathname;
const log = (...a) => console.error(...a);
const defaults = { name: "bench_default_fine_tune", args: ["cpu", "file:www/weights/pretrained-cnn.bpk", "file:www/data/rehearsal.json", "file:www/data/heldout.json"] };

/** The figures of one engine, through `driver`: { open(url), evaluate(fn, arg), version }. */
async function figures(engine, driver, url) {
  const ready = [];
  for (let i = 0; i < 3; i += 1) {
    await driver.open(url);
    ready.push(await driver.evaluate(async () => performance.getEntriesByName("model-ready").at(-1)?.startTime ?? null));
  }
  const page = await driver.evaluate(callExport, defaults);
  // Should the worker fail, there is no worker figure, and the report says why.
  const worker = await driver.evaluate(callExportInWorker, defaults).catch((e) => ({ error: String(e.message ?? e).split("\n")[0] }));
  const out = { engine, version: driver.version, ready_ms: ready, fine_tune: page, worker: worker.error ? { error: worker.error } : { ...worker.result, memory_bytes: worker.memory } };
  log(`  ${engine} ${driver.version}: ready ${ready.map(Math.round).join(", ")} ms; defaults ${page.seconds.toFixed(2)} s here; worker: ${worker.error ?? `${worker.result.seconds.toFixed(2)} s (${(worker.memory / 2 ** 20).toFixed(1)} MiB)`}`);
  return out;
}

async function chromium(url) {
  const browser = await launch({ webgpu: false });
  try {
    const page = await browser.newPage();
    const driver = {
      version: browser.version(),
      open: async (u) => {
        await page.goto(u);
        await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
      },
      evaluate: (fn, arg) => page.evaluate(fn, arg),
    };
    return await figures("Chromium", driver, url);
  } finally {
    await browser.close();
  }
}

/** A WebDriver session as a driver for `figures`. */
function overWebDriver(session) {
  return {
    version: session.capabilities.browserVersion ?? "?",
    open: async (u) => {
      await session.navigate(u);
      await session.waitFor(() => document.body.dataset.ready === "true", { timeout: 120_000, message: "body[data-ready=true]" });
    },
    evaluate: (fn, arg) => session.executeAsync(fn, arg),
  };
}

async function firefox(url) {
  const { driver: path, firefox: binary } = firefoxTools();
  const committed = JSON.parse(await readFile(join(root, "webdriver-firefox.json"), "utf8"));
  const driver = await startGeckodriver(path);
  let session;
  try {
    session = await Session.create(driver.url, { browserName: "firefox", ...committed, "moz:firefoxOptions": { ...committed["moz:firefoxOptions"], binary } });
    await session.setTimeouts({ script: 600_000 });
    return await figures("Firefox", overWebDriver(session), url);
  } finally {
    await session?.delete().catch(() => {});
    await driver.stop();
  }
}

async function webkit(url) {
  const tools = webkitTools();
  const xvfb = await startXvfb(tools.xvfb);
  const driver = await startWebKitDriver(tools.driver, { DISPLAY: xvfb.display, LANG: "C.UTF-8" });
  let session;
  try {
    session = await Session.create(driver.url, { browserName: "MiniBrowser", "webkitgtk:browserOptions": { binary: tools.browser, args: ["--automation"] } });
    await session.setTimeouts({ script: 600_000 });
    return await figures("WebKit", overWebDriver(session), url);
  } finally {
    await session?.delete().catch(() => {});
    await driver.stop();
    await xvfb.stop();
  }
}

const server = await serve({ base: "/digit-transfer/", files: { "bench-worker.js": await readFile(new URL("./worker.js", import.meta.url)) } });
try {
  const engines = [];
  for (const measure of [chromium, firefox, webkit]) engines.push(await measure(server.url));
  console.log(JSON.stringify({ date: new Date().toISOString(), engines }));
} finally {
  server.close();
}
