// The built page (dist/) in headless Chromium, driven like a person would: draw with the
// mouse, label, fine-tune, read the results, reload, export and import.
// Run: node --test tests/e2e/  (after `trunk build --release --offline`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  artifacts, drawImage, drawStroke, heldOutDigits, launch, longTasksSince, open, predicted,
  screenshot, serve,
} from "./harness.mjs";

let server;
let digits;
before(async () => {
  server = await serve();
  digits = await heldOutDigits();
});
after(() => server?.close());

const byClass = (label, n, skip = 0) => digits.filter((d) => d.label === label).slice(skip, skip + n);

async function setSettings(page, values) {
  for (const [name, value] of Object.entries(values)) {
    const field = page.locator(`#settings [name=${name}]`);
    if (typeof value === "boolean") await field.setChecked(value);
    else if ((await field.evaluate((e) => e.tagName)) === "SELECT") await field.selectOption(String(value));
    else await field.fill(String(value));
  }
}

async function fineTune(page, button = "#train") {
  const trained = Number((await page.getAttribute("body", "data-trained")) ?? 0);
  const since = await page.evaluate(() => performance.now());
  await page.click(button);
  await page.waitForFunction((n) => Number(document.body.dataset.trained ?? 0) > n, trained, { timeout: 600_000 });
  return longTasksSince(page, since);
}

const summary = (page, key) => page.textContent(`#summary dd[data-key="${key}"]`);
const percents = (text) => [...text.matchAll(/([\d.]+)%/g)].map((m) => Number(m[1]));

test("CPU: predict drawn digits, adapt to a new handwriting, keep and move the samples", { timeout: 900_000 }, async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
    const { page, watch } = await open(context, server.origin);
    assert.match(await page.textContent("#badge"), /CPU \(ndarray\)/);
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
    const cli = join(process.env.CARGO_TARGET_DIR ?? join(process.env.HOME, ".cache/digit-transfer/target"), "release", "digit-transfer");
    if (existsSync(cli)) {
      const out = JSON.parse(execFileSync(cli, [
        "finetune", "--weights", "www/weights/pretrained-mlp.bpk", "--samples", exported,
        "--epochs", "1", "--out", join(artifacts, "cli-from-page.bpk"), "--json",
      ], { encoding: "utf8" }));
      assert.equal(out.train_samples + out.validation_samples, 40);
    }

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
    assert.match(await page.textContent("#status"), /Draw at least one sample of “✓”, “✗”/);

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

test("WebGPU: the badge names the adapter, and fine-tuning runs on it", { timeout: 600_000 }, async () => {
  const browser = await launch({ webgpu: true });
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const { page, watch } = await open(context, server.origin);
    assert.match(await page.textContent("#badge"), /^WebGPU/);
    await drawImage(page, byClass(7, 1)[0].image);
    assert.equal(await predicted(page), "7");
    for (let label = 0; label < 10; label += 1) {
      await page.click("#clear");
      await drawImage(page, byClass(label, 1, 5)[0].image);
      await page.click(`#label-buttons button[data-label="${label}"]`);
      await drawImage(page, byClass(label, 1, 6)[0].image);
      await page.click(`#label-buttons button[data-label="${label}"]`);
    }
    await setSettings(page, { strategy: "head", epochs: 2, batch_size: 16, validation_split: 0.5, patience: 0, augment: false });
    await fineTune(page);
    assert.match(await page.textContent("#train-status"), /Done in .* on WebGPU/);
    assert.match(await summary(page, "Device"), /^WebGPU/);
    await screenshot(page, "6-webgpu");

    // The GPU device is lost in the middle of fine-tuning: the run finishes on the CPU, the
    // badge says so, and the samples are all there.
    await page.goto(`${server.origin}/?fault=lose-device`);
    await page.waitForSelector("body[data-ready=true]");
    await page.waitForFunction(() => document.querySelector("#badge").dataset.device === "webgpu", null, { timeout: 120_000 });
    await setSettings(page, { strategy: "head", epochs: 3, validation_split: 0.5, patience: 0, augment: false });
    await fineTune(page);
    assert.match(await page.textContent("#status"), /WebGPU failed during fine-tuning \(.*device was lost.*\); finishing on the CPU/);
    assert.match(await page.textContent("#badge"), /CPU \(ndarray\)/);
    assert.match(await summary(page, "Device"), /CPU/);
    assert.match(await page.textContent("#sample-count"), /^20 samples/);
    watch.errors = watch.errors.filter((e) => !/device was lost \(simulated\)/.test(e));
    assert.deepEqual(watch.foreign, []);
    assert.deepEqual(watch.errors, []);
  } finally {
    await browser.close();
  }
});
