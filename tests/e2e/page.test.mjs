// The built page (dist/) in headless Chromium, driven like a person would: draw with the
// mouse, label, fine-tune, read the results, reload, export and import.
// Run: node --test tests/e2e/  (after `trunk build --release --offline`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  artifacts, drawImage, drawStroke, fineTune, heldOutDigits, launch, open, predicted,
  screenshot, serve, setSettings, summary,
} from "./harness.mjs";
import { loseDeviceAfterCheckpoint, loseIdleDevice } from "./faults.mjs";

let server;
let digits;
before(async () => {
  server = await serve();
  digits = await heldOutDigits();
});
after(() => server?.close());

const byClass = (label, n, skip = 0) => digits.filter((d) => d.label === label).slice(skip, skip + n);

const percents = (text) => [...text.matchAll(/([\d.]+)%/g)].map((m) => Number(m[1]));

test("CPU: predict drawn digits, adapt to a new handwriting, keep and move the samples", { timeout: 900_000 }, async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
    const { page, watch } = await open(context, server.origin);
    // Served cross-origin isolated: the worker trains on the threaded build, a thread a core.
    assert.match(await page.textContent("#badge"), /^CPU \(flex\) · \d+ threads$/);
    assert.match(await page.textContent("#device-reason"), /no WebGPU adapter|this browser has no WebGPU/);

    // Held-out MNIST digits, traced with the mouse, are recognised.
    let right = 0;
    for (let label = 0; label < 10; label += 1) {
      await drawImage(page, byClass(label, 1)[0].image);
      if ((await predicted(page)) === String(label)) right += 1;
      if (label === 3) await screenshot(page, "1-prediction");
      await page.click("#clear");
    }
    assert.ok(right >= 8, `only ${right} of 10 traced held-out digits were recognised`);

    // An unusual handwriting: digits drawn transposed. Four of each class, labelled.
    for (let label = 0; label < 10; label += 1) {
      for (const digit of byClass(label, 4, 1)) {
        await drawImage(page, digit.image, { transpose: true });
        await page.click(`#label-buttons button[data-label="${label}"]`);
      }
    }
    assert.match(await page.textContent("#sample-count"), /^40 samples in 10 classes/);
    assert.equal(await page.locator("#gallery .thumb").count(), 40);
    await screenshot(page, "2-samples");

    await setSettings(page, { strategy: "full", epochs: 25, validation_split: 0.5, patience: 0, augment: false });
    const longTasks = await fineTune(page);
    const [before, afterwards] = percents(await summary(page, "Validation accuracy"));
    assert.ok(afterwards > before, `validation accuracy ${before}% → ${afterwards}%`);
    assert.equal(await page.locator("#confusion tr").count(), 11);
    assert.equal(await page.locator("#per-class tr").count(), 11);
    assert.match(await summary(page, "Forgetting (held-out MNIST)"), /before → .* after/);
    const maxLongTask = Math.max(0, ...longTasks);
    assert.ok(maxLongTask < 100, `a main-thread task took ${maxLongTask} ms during fine-tuning`);
    await screenshot(page, "3-fine-tuned");

    // Compare: the three strategies on the same samples.
    await setSettings(page, { epochs: 8 });
    await fineTune(page, "#compare");
    assert.deepEqual(await page.locator("#comparison li").evaluateAll((l) => l.map((e) => e.dataset.strategy)), ["head", "full", "scratch"]);
    await screenshot(page, "4-compare");

    // A reload keeps the samples and the fine-tuned model.
    await page.reload();
    await page.waitForSelector("body[data-ready=true]");
    assert.match(await page.textContent("#sample-count"), /^40 samples/);
    assert.match(await page.textContent("#weights-info"), /fine-tuned/);

    // Export → delete → import gives the same samples back; the CLI reads the file too.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-samples")]);
    const exported = join(artifacts, "exported-samples.json");
    await download.saveAs(exported);
    await page.click("#clear-samples");
    assert.match(await page.textContent("#sample-count"), /^0 samples/);
    await page.setInputFiles("#import-samples", exported);
    await page.waitForFunction(() => /^40 samples/.test(document.querySelector("#sample-count").textContent));
    const file = JSON.parse(await readFile(exported, "utf8"));
    assert.equal(file.format, "digit-transfer-samples");
    assert.equal(file.samples.length, 40);
    // The CLI reads the page's file (scripts/test.sh builds it with the native tests).
    const cli = join(process.env.CARGO_TARGET_DIR ?? join(process.env.HOME, ".cache/digit-transfer/target"), "release", "digit-transfer");
    assert.ok(existsSync(cli), `${cli} is missing: build it with cargo build --release`);
    const out = JSON.parse(execFileSync(cli, [
      "finetune", "--weights", "www/weights/pretrained-mlp.bpk", "--samples", exported,
      "--epochs", "1", "--out", join(artifacts, "cli-from-page.bpk"), "--json",
    ], { encoding: "utf8" }));
    assert.equal(out.train_samples + out.validation_samples, 40);

    // A bad file changes nothing and says why.
    await page.setInputFiles("#import-samples", { name: "bad.json", mimeType: "application/json", buffer: Buffer.from("{\"format\": \"other\"}") });
    await page.waitForFunction(() => /Could not import/.test(document.querySelector("#status").textContent));
    assert.match(await page.textContent("#status"), /bad\.json: not a digit-transfer samples file/);
    assert.match(await page.textContent("#sample-count"), /^40 samples/);

    assert.deepEqual(watch.foreign, []);
    assert.deepEqual(watch.errors, []);
  } finally {
    await browser.close();
  }
});

/** A tick or a cross, with some jitter so that no two are alike. */
function symbol(kind, k) {
  const j = (v) => v + (((k * 37 + v * 1000) % 7) - 3) * 0.012;
  return kind === "tick"
    ? [[[j(0.25), j(0.55)], [j(0.42), j(0.75)], [j(0.78), j(0.25)]]]
    : [[[j(0.28), j(0.28)], [j(0.72), j(0.72)]], [[j(0.72), j(0.28)], [j(0.28), j(0.72)]]];
}

test("CPU: a new task with two classes of my own trains a two-class head", { timeout: 600_000 }, async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 420, height: 900 }, colorScheme: "dark", acceptDownloads: true });
    const { page, watch } = await open(context, server.origin);
    await page.click("#mode-new");
    // Class names are text, never markup.
    await page.fill("#class-name", "<img src=x onerror=\"window.__xss=1\">");
    await page.click("#class-form button[type=submit]");
    assert.equal(await page.locator("#class-list img, #label-buttons img").count(), 0);
    assert.match(await page.textContent("#class-list"), /<img src=x/);
    await page.click("#class-list li button");
    await page.click("[data-preset='✓|✗']");
    assert.deepEqual(await page.locator("#label-buttons button").evaluateAll((b) => b.map((e) => e.firstChild.textContent)), ["✓", "✗"]);

    // Training with an empty class is refused with the reason.
    await page.click("#train");
    assert.match(await page.textContent("#status"), /“✓” and “✗” have no samples: label at least one sample of each class/);

    for (let k = 0; k < 6; k += 1) {
      for (const [label, kind] of [[0, "tick"], [1, "cross"]]) {
        for (const stroke of symbol(kind, k)) await drawStroke(page, stroke);
        await page.click(`#label-buttons button[data-label="${label}"]`);
      }
    }
    assert.match(await page.textContent("#sample-count"), /^12 samples in 2 classes/);
    await setSettings(page, { strategy: "head", epochs: 30, batch_size: 8, validation_split: 0.34, patience: 0 });
    await fineTune(page);
    assert.equal(await page.locator("#confusion tr").count(), 3);
    for (const stroke of symbol("tick", 11)) await drawStroke(page, stroke);
    assert.equal(await page.locator("#bars li").count(), 2);
    assert.equal(await predicted(page), "✓");
    await page.click("#clear");
    for (const stroke of symbol("cross", 12)) await drawStroke(page, stroke);
    assert.equal(await predicted(page), "✗");
    await screenshot(page, "5-new-task-phone-dark");

    // The two-class weights leave as safetensors and come back: after a reset to the
    // pretrained digits, loading the file brings the ✓ / ✗ head back.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-safetensors")]);
    const weightsFile = join(artifacts, "two-class.safetensors");
    await download.saveAs(weightsFile);
    await page.click("#reset");
    await page.waitForFunction(() => /pretrained/.test(document.querySelector("#weights-info").textContent));
    await page.setInputFiles("#load-weights", weightsFile);
    await page.waitForFunction(() => /loaded from two-class\.safetensors/.test(document.querySelector("#weights-info").textContent));
    assert.equal(await predicted(page), "✗");
    // A file that is not weights is refused, and the model in use stays.
    await page.setInputFiles("#load-weights", { name: "junk.bpk", mimeType: "application/octet-stream", buffer: Buffer.from("not weights at all") });
    await page.waitForFunction(() => /Could not load the weights/.test(document.querySelector("#status").textContent));
    assert.match(await page.textContent("#weights-info"), /loaded from two-class\.safetensors/);
    // Weights of another task's classes, over this task's samples: refused, nothing changes.
    const other = editSafetensors(await readFile(weightsFile), (header) => {
      header.__metadata__["digit_transfer.classes"] = JSON.stringify(["A", "B"]);
    });
    await page.setInputFiles("#load-weights", { name: "other.safetensors", mimeType: "application/octet-stream", buffer: other });
    await page.waitForFunction(() => /differ from your task/.test(document.querySelector("#status").textContent));
    assert.match(await page.textContent("#status"), /its classes \(A, B\) differ from your task's \(✓, ✗\); delete the task's samples or load matching weights\. The model in use is unchanged\./);
    assert.match(await page.textContent("#weights-info"), /loaded from two-class\.safetensors/);

    // Stop ends a long run early and keeps what it has.
    await setSettings(page, { strategy: "full", epochs: 5000 });
    const trained = Number(await page.getAttribute("body", "data-trained"));
    await page.click("#train");
    await page.waitForFunction(() => /epoch [2-9]\d*\/5000/.test(document.querySelector("#train-status").textContent), null, { timeout: 120_000 });
    await page.click("#stop");
    await page.waitForFunction((n) => Number(document.body.dataset.trained) > n, trained, { timeout: 120_000 });
    assert.match(await page.textContent("#train-status"), /^Stopped after/);
    assert.match(await summary(page, "Epochs"), /\(stopped\)/);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.deepEqual(watch.foreign, []);
    assert.deepEqual(watch.errors, []);
  } finally {
    await browser.close();
  }
});

test("WebGPU on Auto: the page measures, trains on the faster CPU and says why; Measure again reruns it", { timeout: 900_000 }, async () => {
  const browser = await launch({ webgpu: true });
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(server.origin);
    // The page is usable while Auto measures: the first prediction does not wait for it.
    await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
    // One stroke (a traced image is many, and while Auto measures the busy page may coalesce
    // their pointer events into another shape).
    await drawStroke(page, [[0.5, 0.15], [0.5, 0.85]]);
    assert.equal(await predicted(page), "1");
    await page.waitForFunction(() => document.querySelector("#badge").dataset.device === "cpu", null, { timeout: 300_000 });
    const badge = await page.textContent("#badge");
    assert.match(badge, /^CPU \(flex\) · \d+ threads — \d+(\.\d)?× faster here than WebGPU \(.*swiftshader.*, a software adapter\)$/i, badge);
    assert.match(await page.textContent("#device-reason"), /^Auto measured \d+ vs \d+ samples\/s$/);
    assert.equal(await page.isVisible("#remeasure"), true);
    const ratio = Number(badge.match(/(\d+(?:\.\d)?)×/)[1]);
    assert.ok(ratio > 1, `ratio ${ratio}`);
    await screenshot(page, "7-auto");

    // Kept per browser: a reload does not measure again (the badge never says "Measuring").
    await page.addInitScript(() => {
      window.__measured = false;
      new MutationObserver(() => {
        if (document.querySelector("#badge")?.dataset.device === "measuring") window.__measured = true;
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-device"] });
    });
    const requested = [];
    context.on("request", (r) => requested.push(new URL(r.url()).pathname));
    await page.reload();
    await page.waitForFunction(() => document.querySelector("#badge")?.dataset.device === "cpu", null, { timeout: 120_000 });
    assert.equal(await page.evaluate(() => window.__measured), false);
    assert.equal(await page.textContent("#badge"), badge);
    // With the CPU chosen, the worker does not download the WebGPU build at all.
    assert.ok(requested.includes("/digit-transfer_bg.wasm"), requested.join(", "));
    assert.ok(!requested.some((p) => p.startsWith("/digit-transfer-gpu")), requested.join(", "));
    // Measure again does.
    await page.click("#remeasure");
    await page.waitForFunction(() => window.__measured === true, null, { timeout: 60_000 });
    await page.waitForFunction(() => document.querySelector("#badge").dataset.device === "cpu", null, { timeout: 300_000 });
    assert.match(await page.textContent("#badge"), /faster here than WebGPU/);

    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("WebGPU forced: the badge names the adapter, and fine-tuning runs on it", { timeout: 600_000 }, async () => {
  const browser = await launch({ webgpu: true });
  try {
    // The faults are put into worker.js by the test server: the service worker, which would
    // serve the copy it kept, stays out of this test.
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, serviceWorkers: "block" });
    const { page, watch } = await open(context, server.origin);
    await page.selectOption("#device", "webgpu");
    await page.waitForFunction(() => document.querySelector("#badge").dataset.device === "webgpu", null, { timeout: 120_000 });
    assert.match(await page.textContent("#badge"), /^WebGPU/);
    assert.equal(await page.isVisible("#remeasure"), false);
    await drawImage(page, byClass(7, 1)[0].image);
    assert.equal(await predicted(page), "7");
    for (let label = 0; label < 10; label += 1) {
      await page.click("#clear");
      await drawImage(page, byClass(label, 1, 5)[0].image);
      await page.click(`#label-buttons button[data-label="${label}"]`);
      await drawImage(page, byClass(label, 1, 6)[0].image);
      await page.click(`#label-buttons button[data-label="${label}"]`);
    }
    await setSettings(page, { strategy: "head", epochs: 2, batch_size: 8, validation_split: 0.5, patience: 0, augment: false });
    await fineTune(page);
    assert.match(await page.textContent("#train-status"), /Done in .* on WebGPU/);
    assert.match(await summary(page, "Device"), /^WebGPU/);
    await screenshot(page, "6-webgpu");

    // The GPU device is destroyed after the first epoch (GPUDevice.destroy(), as a lost
    // device behaves): the run finishes on the CPU from the epoch-1 weights, the badge says
    // so, the curves cover all the epochs, and the samples are all there.
    server.prepend("www/worker.js", loseDeviceAfterCheckpoint);
    await page.goto(server.origin);
    await page.waitForSelector("body[data-ready=true]");
    await page.waitForFunction(() => document.querySelector("#badge").dataset.device === "webgpu", null, { timeout: 120_000 });
    await setSettings(page, { strategy: "full", epochs: 3, validation_split: 0.5, patience: 0, augment: false });
    await fineTune(page);
    assert.match(await page.textContent("#status"), /WebGPU failed during fine-tuning \(.*device was lost.*\); finishing on the CPU from the weights after epoch 1\./);
    assert.match(await page.textContent("#badge"), /^CPU \(flex\) · \d+ threads$/);
    assert.match(await summary(page, "Device"), /CPU.*after 1 epoch on WebGPU/);
    assert.match(await summary(page, "Epochs"), /^3\b/);
    assert.match(await page.textContent("#sample-count"), /^20 samples/);
    // A GPU lost while nothing trains: the page moves fine-tuning to the CPU at once.
    server.prepend("www/worker.js", loseIdleDevice);
    await page.goto(server.origin);
    await page.waitForSelector("body[data-ready=true]");
    await page.waitForFunction(() => /fine-tuning now runs on the CPU/.test(document.querySelector("#status").textContent), null, { timeout: 120_000 });
    assert.match(await page.textContent("#status"), /^The GPU device was lost \(.*\); fine-tuning now runs on the CPU\.$/);
    await page.waitForFunction(() => document.querySelector("#badge").dataset.device === "cpu");
    assert.match(await page.textContent("#sample-count"), /^20 samples/);
    // Nothing is filtered: a destroyed device logs no error and nothing panics (the panic hook
    // would log "digit-transfer panicked: …").
    assert.deepEqual(watch.foreign, []);
    assert.deepEqual(watch.errors, []);
  } finally {
    server.prepend("www/worker.js", null);
    await browser.close();
  }
});

/** A safetensors file with its JSON header changed by `edit` (offsets stay valid). */
function editSafetensors(bytes, edit) {
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString("utf8"));
  const data = Buffer.from(bytes.subarray(8 + length));
  edit(header, data);
  const json = Buffer.from(JSON.stringify(header));
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([size, json, data]);
}

test("CPU: bad input and faults are refused with a reason and lose nothing", { timeout: 900_000 }, async () => {
  const browser = await launch();
  const scratch = await mkdtemp(join(tmpdir(), "digit-transfer-e2e-"));
  try {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
    const { page, watch } = await open(context, server.origin);
    const status = () => page.textContent("#status");

    // Drawing: an empty canvas, a single dot, a stroke off the edge, a resize mid-stroke.
    await page.click("#clear");
    await page.click('#label-buttons button[data-label="3"]');
    assert.match(await status(), /Draw something first/);
    await drawStroke(page, [[0.5, 0.5], [0.5, 0.5]]);
    assert.match(await predicted(page), /^\d$/);
    await page.click("#clear");
    await drawStroke(page, [[0.5, 0.3], [1.6, 0.3], [1.6, 1.4]]);
    assert.match(await predicted(page), /^\d$/);
    await page.click("#clear");
    const box = await page.locator("#pad").boundingBox();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5, { steps: 4 });
    await page.setViewportSize({ width: 420, height: 900 });
    const resized = await page.locator("#pad").boundingBox();
    await page.mouse.move(resized.x + resized.width * 0.5, resized.y + resized.height * 0.8, { steps: 4 });
    await page.mouse.up();
    assert.equal(await predicted(page), "1");
    await page.setViewportSize({ width: 1400, height: 1000 });

    // Twenty labelled digits, fine-tuned once: the saved model to come back to.
    for (let label = 0; label < 10; label += 1) {
      for (const digit of byClass(label, 2, 7)) {
        await drawImage(page, digit.image);
        await page.click(`#label-buttons button[data-label="${label}"]`);
      }
    }
    assert.match(await page.textContent("#sample-count"), /^20 samples/);

    // Training settings that cannot work are refused before anything runs.
    await setSettings(page, { strategy: "head", epochs: 0, batch_size: 8, validation_split: 0.5, patience: 0, augment: false });
    await page.click("#train");
    assert.match(await status(), /Epochs must be a whole number of at least 1/);
    await setSettings(page, { epochs: 2, batch_size: 11 });
    await page.click("#train");
    await page.waitForFunction(() => /Fine-tuning failed/.test(document.querySelector("#status").textContent), null, { timeout: 120_000 });
    assert.match(await status(), /the batch size \(11\) is larger than the 10 training samples left after the validation split: choose a batch size of at most 10.*Your samples and the model in use are unchanged/);
    await setSettings(page, { batch_size: 8 });
    await fineTune(page);
    const saved = await page.textContent("#weights-info");
    assert.match(saved, /In use: fine-tuned \(head\) cnn/);

    // A learning rate past its limit (one that would make the loss infinite) is refused with
    // the reason, and the model in use stays. (A run whose loss still turns NaN is stopped with
    // a message: tests/training.rs, tests/reads.rs.)
    await setSettings(page, { strategy: "full", learning_rate: 1e30 });
    await page.click("#train");
    assert.match(await status(), /The learning rate must be at most 1, not 1e30: Adam's steps/);
    assert.equal(await page.textContent("#weights-info"), saved);
    await setSettings(page, { strategy: "head", learning_rate: 0.003 });

    // Weights files: truncated, NaN, and another task's classes over the samples of this one.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-safetensors")]);
    const good = await readFile(await download.path());
    const attempts = [
      ["cut.safetensors", good.subarray(0, good.length >> 1), /not a safetensors file/],
      ["nan.safetensors", editSafetensors(good, (header, data) => data.writeFloatLE(NaN, header["fc2.bias"].data_offsets[0])), /tensor `fc2.bias` holds NaN at index 0: the weights are damaged/],
    ];
    for (const [name, buffer, reason] of attempts) {
      await page.setInputFiles("#load-weights", { name, mimeType: "application/octet-stream", buffer });
      await page.waitForFunction((n) => document.querySelector("#status").textContent.includes(n), name);
      assert.match(await status(), reason);
      assert.match(await status(), /The model in use is unchanged/);
      assert.equal(await page.textContent("#weights-info"), saved);
    }

    // Imports: an empty file, and one of 100 MB, refused before they are read.
    const huge = join(scratch, "huge.json");
    await writeFile(huge, Buffer.alloc(100 * 1024 * 1024, 32));
    await page.setInputFiles("#import-samples", huge);
    await page.waitForFunction(() => /huge\.json/.test(document.querySelector("#status").textContent));
    assert.match(await status(), /Could not import: huge\.json is 100 MB; the limit is 32 MB\. Nothing was changed\./);
    await page.setInputFiles("#import-samples", { name: "empty.json", mimeType: "application/json", buffer: Buffer.alloc(0) });
    await page.waitForFunction(() => /empty\.json/.test(document.querySelector("#status").textContent));
    assert.match(await status(), /empty\.json is empty/);
    assert.match(await page.textContent("#sample-count"), /^20 samples/);

    // A reload in the middle of fine-tuning: the samples are all there, and the model is the
    // one saved before, not a half-written one.
    await setSettings(page, { strategy: "full", epochs: 500 });
    await page.click("#train");
    await page.waitForFunction(() => /epoch \d+\/500/.test(document.querySelector("#train-status").textContent), null, { timeout: 120_000 });
    await page.reload();
    await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
    assert.match(await page.textContent("#sample-count"), /^20 samples/);
    assert.equal(await page.textContent("#weights-info"), saved);
    await drawImage(page, byClass(4, 1, 9)[0].image);
    assert.match(await predicted(page), /^\d$/);

    // Storage full: saving a sample fails with a message, the sample stays in the tab, and
    // the samples can still be exported. (Simulated: IndexedDB's put throws the
    // QuotaExceededError a full origin gets.)
    await page.evaluate(() => {
      const put = IDBObjectStore.prototype.put;
      window.__restorePut = () => { IDBObjectStore.prototype.put = put; };
      IDBObjectStore.prototype.put = function () {
        throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
      };
    });
    await page.click('#label-buttons button[data-label="4"]');
    await page.waitForFunction(() => /Could not save the samples/.test(document.querySelector("#status").textContent));
    assert.match(await status(), /Could not save the samples: this browser's storage for the page is full\. They stay in this tab, marked unsaved, and are saved when storage works again; use “Export samples” to keep them\./);
    assert.match(await page.textContent("#sample-count"), /^21 samples/);
    const [exported] = await Promise.all([page.waitForEvent("download"), page.click("#export-samples")]);
    const file = JSON.parse(await readFile(await exported.path(), "utf8"));
    assert.equal(file.samples.length, 21);
    await page.evaluate(() => window.__restorePut());
    await screenshot(page, "7-reliability");

    // A static page's security: the CSP allows no inline script and no eval (only wasm), an
    // injected inline script does not run, and no request of the page or its worker (which
    // fetched the rehearsal digits) left the origin.
    const csp = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', "content");
    const scripts = csp.match(/script-src ([^;]*)/)[1];
    assert.equal(scripts, "'self' 'wasm-unsafe-eval'");
    assert.doesNotMatch(csp, /'unsafe-inline'|'unsafe-eval'/);
    await page.addScriptTag({ content: "window.__inlineRan = true;" }).catch(() => {});
    assert.equal(await page.evaluate(() => window.__inlineRan), undefined);
    assert.ok(watch.requests.some((u) => u.endsWith("/www/data/rehearsal.json")), "the worker's requests are watched");
    assert.deepEqual(watch.foreign, []);
    assert.deepEqual(watch.errors.filter((e) => !/QuotaExceeded|quota|Content Security Policy/i.test(e)), []);
  } finally {
    await browser.close();
    await rm(scratch, { recursive: true, force: true });
  }
});
