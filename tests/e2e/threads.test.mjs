// The threaded CPU build, in headless Chromium: a page served without the headers of
// cross-origin isolation (as a static host serves it) is isolated by its service worker from
// the second visit on, and its training worker then fine-tunes on a pool of threads, to the
// same validation accuracy as the single-threaded build; a page that cannot be isolated (no
// service worker) trains as before, on one thread; a thread of the pool that stops does not
// leave the worker waiting for ever.
// Run: node --test tests/e2e/  (after `trunk build --release --offline`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { stopPoolThreads } from "./faults.mjs";
import { fineTune, heldOutDigits, launch, open, serve, setSettings, summary, whenReady } from "./harness.mjs";

let server;
let digits;
before(async () => {
  server = await serve({ isolated: false });
  digits = await heldOutDigits();
});
after(() => server?.close());

/** A samples file (the page's own format) of the first `n` held-out digits. */
function samplesFile(n) {
  const samples = digits.slice(0, n).map((d) => ({ label: d.label, image: d.image.toString("base64") }));
  return { name: "digits.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify({ format: "digit-transfer-samples", version: 1, classes: [..."0123456789"], samples })) };
}

/** Every layer for 3 epochs, without early stopping or augmentation (the seed is the form's). */
const settings = { strategy: "full", epochs: 3, patience: 0, augment: false };

/** Import 500 held-out digits and fine-tune them with `settings`; the validation accuracy
 * after it (%). */
async function importAndFineTune(page) {
  await page.setInputFiles("#import-samples", samplesFile(500));
  await page.waitForFunction(() => /^Imported|Could not/.test(document.querySelector("#status").textContent), null, { timeout: 120_000 });
  assert.match(await page.textContent("#status"), /^Imported 500/);
  await setSettings(page, settings);
  return fineTuneAccuracy(page);
}

/** Fine-tune with the form as it is; the validation accuracy after it (%). */
async function fineTuneAccuracy(page) {
  await fineTune(page);
  assert.match(await page.textContent("#train-status"), /^Done in/);
  const accuracy = await summary(page, "Validation accuracy");
  const after = /→ ([\d.]+)% after/.exec(accuracy);
  assert.ok(after, accuracy);
  return Number(after[1]);
}

test("no isolation headers: the service worker isolates the next visit, which trains on every core as accurately as one", { timeout: 900_000 }, async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const { page, watch } = await open(context, server.origin, server.url);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    assert.ok(cores > 1, `this test needs more than one core (the browser reports ${cores})`);
    // First visit: not isolated, one thread; the page says what the next visit brings, once
    // the service worker has taken over.
    assert.equal(await page.evaluate(() => crossOriginIsolated), false);
    assert.match(await page.textContent("#badge"), /^CPU \(ndarray\)$/);
    await page.waitForFunction(() => /From your next visit, fine-tuning on the CPU uses \d+ threads/.test(document.querySelector("#status").textContent), null, { timeout: 120_000 });
    const single = await importAndFineTune(page);

    // Second visit: the service worker sent the headers, so the page is isolated and the
    // worker runs the threaded build, one thread per core (capped) in workers of its own.
    await page.reload();
    await whenReady(page);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    const threads = Math.min(cores, 8);
    assert.equal(await page.textContent("#badge"), `CPU (flex) · ${threads} threads`);
    assert.ok(watch.requests.some((url) => url.endsWith("/digit-transfer-threads_bg.wasm")), "the threaded build was loaded");
    assert.ok(watch.requests.filter((url) => url.endsWith("/www/pool-worker.js")).length >= threads, "a worker per thread");
    // The same samples (kept by the page) and settings: the same accuracy within a point.
    await setSettings(page, settings);
    const threaded = await fineTuneAccuracy(page);
    assert.ok(Math.abs(threaded - single) <= 1, `threaded ${threaded}% against single-threaded ${single}%`);
    assert.ok(threaded > 90, `it learnt: ${threaded}%`);
    assert.deepEqual(watch.errors, []);
    assert.deepEqual(watch.foreign, []);
  } finally {
    await browser.close();
  }
});

test("a page that cannot be isolated (no service worker) still trains, on one thread", { timeout: 600_000 }, async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, serviceWorkers: "block" });
    const { page, watch } = await open(context, server.origin, server.url);
    assert.equal(await page.evaluate(() => crossOriginIsolated), false);
    assert.equal(await page.textContent("#badge"), "CPU (ndarray)");
    const accuracy = await importAndFineTune(page);
    assert.ok(accuracy > 90, `it learnt: ${accuracy}%`);
    assert.ok(!watch.requests.some((url) => url.includes("digit-transfer-threads")), "the threaded build is not loaded");
    assert.deepEqual(watch.errors, []);
  } finally {
    await browser.close();
  }
});

test("a thread of the pool that stops (as a panic stops it) is reported, and the page trains on one thread", { timeout: 600_000 }, async () => {
  const isolated = await serve();
  isolated.prepend("www/pool-worker.js", stopPoolThreads);
  const browser = await launch();
  try {
    // Isolated by the server's own headers; no service worker to keep the faulty script.
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, serviceWorkers: "block" });
    const { page, watch } = await open(context, isolated.origin, isolated.url);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    // The worker waited on a pool whose threads had stopped; the page heard it from them,
    // started another worker on one thread, and said so.
    assert.equal(await page.textContent("#badge"), "CPU (ndarray)");
    assert.match(await page.textContent("#status"), /^The training worker stopped \(a thread of its CPU pool stopped: a simulated panic\); fine-tuning now runs on one thread\.$/);
    assert.ok(watch.requests.some((url) => url.endsWith("/www/pool-worker.js")), "the pool was started");
    const accuracy = await importAndFineTune(page);
    assert.ok(accuracy > 90, `it learnt: ${accuracy}%`);
    assert.deepEqual(watch.errors, []);
  } finally {
    await browser.close();
    isolated.close();
  }
});
