// The page at scale and under misuse, in headless Chromium: a samples file at the size limit
// (30,000 samples) imported without freezing the tab, shown lazily, exported, deleted and
// cancelled; settings past their limits refused with the reason (typed, and sent to the worker
// past the page's own check); a double click; storage that is full; a worker that cannot
// start; and on WebGPU, Stop while Auto measures and an error that is not the device's.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  artifacts, drawImage, fineTune, heldOutDigits, launch, longTasksSince, open, predicted,
  serve, setSettings,
} from "./harness.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
let server;
let digits;
before(async () => {
  server = await serve();
  digits = await heldOutDigits();
});
after(() => server?.close());

const status = (page) => page.textContent("#status");
const count = (page) => page.textContent("#sample-count");
const waitForStatus = (page, pattern, timeout = 120_000) =>
  page.waitForFunction((source) => new RegExp(source).test(document.querySelector("#status").textContent), pattern.source, { timeout });

/** A samples file (the page's own format) of `n` held-out digits, repeated. */
function samplesFile(n, classes = [..."0123456789"]) {
  const samples = Array.from({ length: n }, (_, i) => {
    const digit = digits[i % digits.length];
    return { label: digit.label % classes.length, image: digit.image.toString("base64") };
  });
  return Buffer.from(JSON.stringify({ format: "digit-transfer-samples", version: 1, classes, samples }));
}

/** Training code put before the worker's own: the first train request is changed by `change`
 * (a body over `settings`), past the page's checks, as a message could be. */
const changeFirstRun = (change) => `
let __changed = false;
self.addEventListener("message", (event) => {
  if (!__changed && event.data?.type === "train") { __changed = true; ((settings) => { ${change} })(event.data.settings); }
});
`;

/** IndexedDB's put throws what a full origin gets, until `window.__restorePut()`. */
const fillStorage = (page) => page.evaluate(() => {
  const put = IDBObjectStore.prototype.put;
  window.__restorePut = () => { IDBObjectStore.prototype.put = put; };
  IDBObjectStore.prototype.put = function () {
    throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
  };
});

test("CPU: 30,000 samples import without freezing the tab, scroll lazily, export, cancel and delete", { timeout: 900_000 }, async () => {
  const browser = await launch();
  const scratch = await mkdtemp(join(tmpdir(), "digit-transfer-scale-"));
  try {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
    const { page, watch } = await open(context, server.origin);
    const file = samplesFile(30_000);
    assert.ok(file.length > 25 * 1024 * 1024 && file.length <= 32 * 1024 * 1024, `${file.length} bytes`);

    // From a file on disk, as a person chooses one: a file given as a buffer is made by the
    // test driver's script in the page itself, which would be a long task of its own.
    const path = join(scratch, "thirty-thousand.json");
    await writeFile(path, file);
    const since = await page.evaluate(() => performance.now());
    const started = Date.now();
    await page.setInputFiles("#import-samples", path);
    await waitForStatus(page, /Imported 30,000 samples of 10 classes from thirty-thousand\.json\./, 300_000);
    const seconds = (Date.now() - started) / 1000;
    const longest = Math.max(0, ...(await longTasksSince(page, since)));
    await mkdir(artifacts, { recursive: true });
    await writeFile(join(artifacts, "import.json"), JSON.stringify({ samples: 30_000, seconds, longest_task_ms: longest }));
    assert.ok(longest <= 200, `the longest main-thread task while importing took ${longest} ms`);
    assert.match(await count(page), /^30000 samples in 10 classes\.$/);

    // The gallery holds only what is in view, wherever it is scrolled: at the top the first
    // class, at the bottom the last one's end (its heading pinned above it), never more than
    // a few hundred thumbnails.
    const inView = () => page.evaluate(() => ({
      thumbs: document.querySelectorAll("#gallery .thumb").length,
      heads: [...document.querySelectorAll("#gallery .sheet-head")].map((h) => h.textContent),
      pinned: document.querySelector("#gallery .sheet-pinned")?.textContent,
    }));
    const top = await inView();
    assert.ok(top.thumbs > 0 && top.thumbs <= 600, `${top.thumbs} thumbnails in the page at the top`);
    assert.equal(top.heads[0], "0 · 3,000");
    assert.equal(top.pinned, "0 · 3,000");
    await page.evaluate(() => { const g = document.querySelector("#gallery"); g.scrollTop = g.scrollHeight; });
    await page.waitForFunction(() => document.querySelector("#gallery .sheet-pinned")?.textContent === "9 · 3,000");
    const bottom = await inView();
    assert.ok(bottom.thumbs > 0 && bottom.thumbs <= 600, `${bottom.thumbs} thumbnails in the page at the bottom`);
    assert.ok(!bottom.heads.includes("0 · 3,000"), `still drawn at the bottom: ${bottom.heads}`);
    // The last thumbnail is the last sample: a click deletes one of 30,000.
    await page.locator("#gallery .thumb").last().click();
    await page.waitForFunction(() => /^29999 samples/.test(document.querySelector("#sample-count").textContent));
    assert.equal((await inView()).pinned, "9 · 2,999");

    // Kept: all of them after a reload, and exported whole.
    await page.reload();
    await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
    await page.waitForFunction(() => /^29999 samples/.test(document.querySelector("#sample-count").textContent), null, { timeout: 120_000 });
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-samples")]);
    const exported = JSON.parse(await readFile(await download.path(), "utf8"));
    assert.equal(exported.samples.length, 29_999);
    assert.deepEqual(exported.samples.slice(0, 3).map((s) => s.image), JSON.parse(file.toString()).samples.slice(0, 3).map((s) => s.image));

    // Delete all, then an import cancelled half-way: nothing of it stays, even after a reload.
    await page.click("#clear-samples");
    await page.waitForFunction(() => /^0 samples/.test(document.querySelector("#sample-count").textContent));
    await page.setInputFiles("#import-samples", path);
    await waitForStatus(page, /Importing [1-9][\d,]* of 30,000 samples/, 300_000);
    await page.click("#cancel-import");
    await waitForStatus(page, /Import cancelled/);
    assert.match(await count(page), /^0 samples/);
    await page.reload();
    await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
    assert.match(await count(page), /^0 samples/);
    assert.deepEqual(watch.errors, []);
  } finally {
    await browser.close();
    await rm(scratch, { recursive: true, force: true });
  }
});

test("CPU: settings past their limits, a double click, full storage and a worker that cannot start", { timeout: 900_000 }, async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
    server.prepend("www/worker.js", changeFirstRun("settings.epochs = 100000000;"));
    const { page, watch } = await open(context, server.origin);
    // What is kept here is the samples and the runs' weights: live learning (live.test.mjs),
    // which would save its own weights after each label, is off in this context's tabs.
    await page.uncheck("#live");
    // The form shows Rust's limits.
    assert.equal(await page.getAttribute("#settings [name=epochs]", "max"), "10000");
    assert.match(await page.getAttribute("#settings [name=rehearsal]", "title"), /At most 256: /);

    await page.setInputFiles("#import-samples", { name: "forty.json", mimeType: "application/json", buffer: samplesFile(40) });
    await waitForStatus(page, /Imported 40 samples/);

    // Typed: each refused before anything runs, with its reason.
    const refusals = [
      [{ epochs: 100000000 }, /Epochs must be at most 10000, not 100000000: /],
      [{ epochs: 5, rehearsal: 9999999 }, /Rehearsal must be at most 256, not 9999999: /],
      [{ rehearsal: 8, batch_size: 5000000 }, /The batch size must be at most 1024, not 5000000: /],
      [{ batch_size: "", learning_rate: 5 }, /The learning rate must be at most 1, not 5: /],
      [{ learning_rate: 0.003, patience: 100000 }, /Patience must be at most 500, not 100000: /],
    ];
    for (const [values, reason] of refusals) {
      await setSettings(page, values);
      await page.click("#train");
      assert.match(await status(page), reason);
    }
    await setSettings(page, { strategy: "head", epochs: 3, patience: 0, validation_split: 0.25 });

    // Sent to the worker past the page's checks (the prepended code): the worker refuses it
    // in the same words, and is alive for the next run.
    await page.click("#train");
    await waitForStatus(page, /Fine-tuning failed/);
    assert.match(await status(page), /epochs must be at most 10000, not 100000000: .*Your samples and the model in use are unchanged/);
    await fineTune(page);

    // A double click starts one run.
    const trained = Number(await page.getAttribute("body", "data-trained"));
    await page.dblclick("#train");
    await page.waitForFunction((n) => Number(document.body.dataset.trained) > n, trained, { timeout: 300_000 });
    await page.waitForTimeout(1500);
    assert.equal(Number(await page.getAttribute("body", "data-trained")), trained + 1);
    assert.doesNotMatch(await status(page), /failed|recursive/i);

    // Weights of the other network are kept with it: after a reload the page uses them.
    await page.setInputFiles("#load-weights", join(root, "www", "weights", "pretrained-mlp.bpk"));
    await waitForStatus(page, /Loaded mlp weights with 10 classes from pretrained-mlp\.bpk/);
    await page.reload();
    await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
    assert.equal(await page.inputValue("#arch"), "mlp");
    assert.match(await page.textContent("#weights-info"), /loaded from pretrained-mlp\.bpk: mlp/);

    // A new task's classes stay within the limit across imports: a second file that would pass
    // it is refused whole.
    const letters = (from) => Array.from({ length: 40 }, (_, i) => `${from}${i}`);
    await page.setInputFiles("#import-samples", { name: "forty-a.json", mimeType: "application/json", buffer: samplesFile(40, letters("a")) });
    await waitForStatus(page, /Imported 40 samples of 40 classes/);
    await page.setInputFiles("#import-samples", { name: "forty-b.json", mimeType: "application/json", buffer: samplesFile(40, letters("b")) });
    await waitForStatus(page, /Could not import/);
    assert.match(await status(page), /Could not import: a task has at most 64 classes\. Nothing was changed\./);
    assert.match(await count(page), /^40 samples in 40 classes/);
    await page.click("#mode-adapt");

    // Full storage on import: the import says so and stays an error; the samples stay in the
    // tab, marked unsaved, through another tab's change, and are saved once storage works.
    await fillStorage(page);
    await page.setInputFiles("#import-samples", { name: "twelve.json", mimeType: "application/json", buffer: samplesFile(12) });
    await waitForStatus(page, /could not be saved/);
    assert.match(await status(page), /Imported 12 samples of 10 classes from twelve\.json, but 12 could not be saved: this browser's storage for the page is full\. They stay in this tab, marked unsaved/);
    assert.match(await count(page), /^52 samples in 10 classes\. 12 not saved yet\.$/);
    assert.equal(await page.locator("#gallery .thumb.unsaved").count(), 12);
    const other = await context.newPage();
    await other.goto(server.origin);
    await other.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
    await drawImage(other, digits[3].image);
    await other.click(`#label-buttons button[data-label="${digits[3].label}"]`);
    await page.waitForFunction(() => /^53 samples/.test(document.querySelector("#sample-count").textContent));
    assert.match(await count(page), /12 not saved yet/);
    await other.close();

    // Full storage on loading weights: the error is the last word, and a reload has the model
    // saved before.
    const saved = await page.textContent("#weights-info");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-bpk")]);
    const weights = await readFile(await download.path());
    await page.setInputFiles("#load-weights", { name: "again.bpk", mimeType: "application/octet-stream", buffer: weights });
    await waitForStatus(page, /Could not save the weights/);
    await page.waitForTimeout(500);
    assert.match(await status(page), /Could not save the weights: this browser's storage for the page is full\. They are in use in this tab only/);

    await page.evaluate(() => window.__restorePut());
    await drawImage(page, digits[5].image);
    await page.click(`#label-buttons button[data-label="${digits[5].label}"]`);
    await page.waitForFunction(() => /^54 samples in 10 classes\.$/.test(document.querySelector("#sample-count").textContent));
    await page.reload();
    await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
    assert.match(await count(page), /^54 samples in 10 classes\.$/);
    assert.equal(await page.textContent("#weights-info"), saved);
    assert.deepEqual(watch.errors.filter((e) => !/QuotaExceeded|quota/i.test(e)), []);
    await context.close();

    // A worker that fails as it loads: the badge says fine-tuning is unavailable and why, and
    // drawing still predicts.
    server.prepend("www/worker.js", 'throw new Error("a broken worker");');
    const broken = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const { page: page2 } = await open(broken, server.origin);
    await page2.waitForFunction(() => document.querySelector("#badge").dataset.device === "unavailable", null, { timeout: 60_000 });
    assert.match(await page2.textContent("#device-reason"), /the training worker could not start: .*a broken worker/);
    await drawImage(page2, digits.find((d) => d.label === 1).image);
    assert.match(await predicted(page2), /^\d$/);
  } finally {
    server.prepend("www/worker.js", null);
    await browser.close();
  }
});

test("WebGPU: Stop while Auto measures starts nothing, and an error that is not the device's is shown, not moved to the CPU", { timeout: 900_000 }, async () => {
  const browser = await launch({ webgpu: true });
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    server.prepend("www/worker.js", changeFirstRun("settings.learning_rate = 1e30;"));
    const { page } = await open(context, server.origin);
    await page.setInputFiles("#import-samples", { name: "twenty.json", mimeType: "application/json", buffer: samplesFile(20) });
    await waitForStatus(page, /Imported 20 samples/);
    await setSettings(page, { strategy: "head", epochs: 2, patience: 0, validation_split: 0.25 });

    // A batch size Auto has not measured: Fine-tune measures again first; Stop then.
    if ((await page.getAttribute("#badge", "data-device")) !== "cpu" || !(await page.isVisible("#remeasure"))) {
      throw new Error(`Auto did not choose by measurement: ${await page.textContent("#badge")}`);
    }
    await setSettings(page, { batch_size: 3 });
    const trained = Number((await page.getAttribute("body", "data-trained")) ?? 0);
    await page.click("#train");
    await page.waitForFunction(() => document.querySelector("#badge").dataset.device === "measuring", null, { timeout: 60_000 });
    await page.click("#stop");
    await page.waitForFunction(() => /Stopped before it started/.test(document.querySelector("#train-status").textContent), null, { timeout: 300_000 });
    assert.equal(Number((await page.getAttribute("body", "data-trained")) ?? 0), trained);

    // Forced WebGPU, and a run the worker refuses (its settings changed past the page's check):
    // shown as it is, and not rerun on the CPU.
    await page.selectOption("#device", "webgpu");
    await page.waitForFunction(() => document.querySelector("#badge").dataset.device === "webgpu", null, { timeout: 300_000 });
    await page.click("#train");
    await waitForStatus(page, /Fine-tuning failed/, 300_000);
    assert.match(await status(page), /the learning rate must be at most 1, not 1e30/);
    assert.doesNotMatch(await status(page), /WebGPU failed/);
    assert.equal(await page.getAttribute("#badge", "data-device"), "webgpu");
    assert.equal(await page.inputValue("#device"), "webgpu");
  } finally {
    server.prepend("www/worker.js", null);
    await browser.close();
  }
});
