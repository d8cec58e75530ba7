// Nothing lost, nothing refused that a person would expect to work: the page open in two tabs,
// adapting only some digits, the default settings (the sweep's choice) on the smallest set, and
// a window where the page may store nothing. Run: node --test tests/e2e/  (after `trunk build --release --offline`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import {
  drawImage, drawStroke, fineTune, heldOutDigits, launch, open, predicted, screenshot, serve, setSettings, summary,
} from "./harness.mjs";

let server;
let digits;
before(async () => {
  server = await serve();
  digits = await heldOutDigits();
});
after(() => server?.close());

const byClass = (label, n, skip = 0) => digits.filter((d) => d.label === label).slice(skip, skip + n);
const count = (page) => page.textContent("#sample-count");

async function label(page, digit, cls) {
  await drawImage(page, digit.image);
  await page.click(`#label-buttons button[data-label="${cls}"]`);
}


test("two tabs: samples labelled in both are all kept, and a deletion shows in the other", { timeout: 600_000 }, async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const { page: first, watch } = await open(context, server.origin);
    const { page: second } = await open(context, server.origin);
    await label(first, byClass(3, 1)[0], 3);
    await label(second, byClass(5, 1)[0], 5);
    // Each tab hears the other's sample at once.
    await first.waitForFunction(() => /^2 samples/.test(document.querySelector("#sample-count").textContent));
    await second.waitForFunction(() => /^2 samples/.test(document.querySelector("#sample-count").textContent));
    await first.reload();
    await first.waitForSelector("body[data-ready=true]");
    assert.match(await count(first), /^2 samples/);
    await second.reload();
    await second.waitForSelector("body[data-ready=true]");
    assert.match(await count(second), /^2 samples/);

    // An import in one tab and a label in the other, at once: all of them stay.
    await Promise.all([label(first, byClass(7, 1)[0], 7), label(second, byClass(1, 1)[0], 1)]);
    for (const page of [first, second]) {
      await page.waitForFunction(() => /^4 samples/.test(document.querySelector("#sample-count").textContent));
    }
    // Deleting in one tab (a click on the thumbnail) shows in the other.
    await first.locator("#gallery .thumb").first().click();
    await second.waitForFunction(() => /^3 samples/.test(document.querySelector("#sample-count").textContent));
    await second.reload();
    await second.waitForSelector("body[data-ready=true]");
    assert.match(await count(second), /^3 samples/);
    assert.deepEqual(watch.errors, []);
  } finally {
    await browser.close();
  }
});

/** The settings form as the page would hand it to a run (numbers, batch size null for auto). */
const form = (page) => page.evaluate(() => {
  const data = new FormData(document.querySelector("#settings"));
  const number = (name) => (data.get(name) === "" ? null : Number(data.get(name)));
  return {
    strategy: data.get("strategy"), epochs: number("epochs"), batch_size: number("batch_size"),
    learning_rate: number("learning_rate"), weight_decay: number("weight_decay"), augment: data.get("augment") === "on",
    validation_split: number("validation_split"), patience: number("patience"), rehearsal: number("rehearsal"),
  };
});
const kept = (page) => page.evaluate(async () => (await import(new URL("www/store.js", document.baseURI))).get("settings"));

test("the form starts from the settings the sweep chose for each mode, keeps only what a person changed, and Defaults goes back", { timeout: 600_000 }, async () => {
  const sweep = JSON.parse(await readFile(new URL("../../docs/transfer.json", import.meta.url), "utf8"));
  const { seed, ...expected } = sweep.adapt.chosen;
  const { seed: _, ...newTask } = sweep.new_task.chosen;
  assert.notDeepEqual(newTask, expected);
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const { page, watch } = await open(context, server.origin);
    assert.deepEqual(await form(page), expected);
    await page.fill("#settings [name=epochs]", String(expected.epochs + 7));
    await page.locator("#settings [name=epochs]").blur();
    await page.waitForFunction(async () => (await (await import(new URL("www/store.js", document.baseURI))).get("settings"))?.epochs !== undefined);
    assert.deepEqual(await kept(page), { epochs: expected.epochs + 7 });
    await page.reload();
    await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
    assert.deepEqual(await form(page), { ...expected, epochs: expected.epochs + 7 });
    // A new task starts from its own defaults; what a person changed holds in both modes.
    await page.click("#mode-new");
    assert.deepEqual(await form(page), { ...newTask, epochs: expected.epochs + 7 });
    await page.click("#mode-adapt");
    assert.deepEqual(await form(page), { ...expected, epochs: expected.epochs + 7 });
    await page.click("#default-settings");
    assert.deepEqual(await form(page), expected);
    await page.waitForFunction(async () => Object.keys((await (await import(new URL("www/store.js", document.baseURI))).get("settings")) ?? {}).length === 0);
    assert.deepEqual(watch.errors, []);
  } finally {
    await browser.close();
  }
});

test("adapt mode on only the 4s and 9s: it trains, keeps the other digits by rehearsal and says so", { timeout: 900_000 }, async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const { page, watch } = await open(context, server.origin);
    for (const cls of [4, 9]) {
      for (const digit of byClass(cls, 4, 2)) await label(page, digit, cls);
    }
    assert.match(await count(page), /^8 samples/);
    // The default settings, untouched.
    await fineTune(page);
    assert.match(await page.textContent("#train-status"), /^Done in/);
    assert.match(await summary(page, "Notes"), /“0”, “1”, “2”, “3”, “5”, “6”, “7” and “8” were kept by rehearsal: \d+ MNIST digits of them joined training/);
    assert.match(await summary(page, "Samples"), /MNIST digits keeping the others/);
    const [before, afterwards] = [...(await summary(page, "Forgetting (held-out MNIST)")).matchAll(/([\d.]+)%/g)].map((m) => Number(m[1]));
    assert.ok(before - afterwards <= 2, `held-out MNIST ${before}% → ${afterwards}%`);
    const kept = await page.locator("#per-class tr").evaluateAll((rows) => rows.filter((r) => /kept by rehearsal/.test(r.textContent)).map((r) => r.firstChild.textContent));
    assert.deepEqual(kept, ["0", "1", "2", "3", "5", "6", "7", "8"]);
    await screenshot(page, "8-some-digits");
    assert.deepEqual(watch.errors, []);
  } finally {
    await browser.close();
  }
});

test("a new task of two classes with three drawings each trains with the default settings", { timeout: 600_000 }, async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const { page, watch } = await open(context, server.origin);
    await page.click("#mode-new");
    await page.click("[data-preset='✓|✗']");
    const tick = [[0.25, 0.55], [0.42, 0.75], [0.78, 0.25]];
    const cross = [[[0.28, 0.28], [0.72, 0.72]], [[0.72, 0.28], [0.28, 0.72]]];
    for (let k = 0; k < 3; k += 1) {
      const j = (p) => p.map(([x, y]) => [x + k * 0.02, y - k * 0.01]);
      await drawStroke(page, j(tick));
      await page.click('#label-buttons button[data-label="0"]');
      for (const stroke of cross) await drawStroke(page, j(stroke));
      await page.click('#label-buttons button[data-label="1"]');
    }
    assert.match(await count(page), /^6 samples in 2 classes/);
    assert.equal(await page.inputValue("#settings [name=batch_size]"), "");
    await fineTune(page);
    assert.match(await page.textContent("#train-status"), /^Done in/);
    assert.match(await summary(page, "Notes"), /batch 4: only 4 training samples/);
    // An explicit batch size that cannot work is still refused with the reason.
    await page.fill("#settings [name=batch_size]", "9");
    await page.click("#train");
    await page.waitForFunction(() => /Fine-tuning failed/.test(document.querySelector("#status").textContent), null, { timeout: 120_000 });
    assert.match(await page.textContent("#status"), /the batch size \(9\) is larger than the 4 training samples/);
    assert.deepEqual(watch.errors, []);
  } finally {
    await browser.close();
  }
});

test("no IndexedDB: the page works in memory and says once that nothing is kept", { timeout: 600_000 }, async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    await context.addInitScript(() => {
      // As in a window whose storage is disabled: opening the database throws.
      IDBFactory.prototype.open = () => {
        throw new DOMException("The user denied permission to access the database.", "SecurityError");
      };
    });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(server.origin);
    await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
    await page.waitForFunction(() => document.querySelector("#badge")?.dataset.device === "cpu", null, { timeout: 120_000 });
    assert.equal(await page.isVisible("#storage-note"), true);
    assert.match(await page.textContent("#storage-note"), /does not let the page store anything: your samples and fine-tuned weights live in this tab only/);
    await drawImage(page, byClass(2, 1)[0].image);
    assert.equal(await predicted(page), "2");
    await page.click('#label-buttons button[data-label="2"]');
    assert.match(await count(page), /^1 sample/);
    assert.doesNotMatch(await page.textContent("#status"), /Could not/);
    assert.equal(await page.locator("#storage-note").count(), 1);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("samples kept by an older version of the page (one record a task) are moved to one record a sample", { timeout: 600_000 }, async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    // Version 1's database, written from a page of the same origin before the page opens.
    const seed = await context.newPage();
    await seed.goto(`${server.origin}/www/data/heldout.json`);
    const sevens = byClass(7, 2).map((d) => [...d.image]);
    await seed.evaluate((images) => new Promise((resolve, reject) => {
      const request = indexedDB.open("digit-transfer", 1);
      request.onupgradeneeded = () => request.result.createObjectStore("kv");
      request.onsuccess = () => {
        const db = request.result;
        const tx = db.transaction("kv", "readwrite");
        const kv = tx.objectStore("kv");
        kv.put({ classes: [..."0123456789"], samples: images.map((image) => ({ label: 7, image })) }, "task:adapt");
        kv.put({ classes: ["✓", "✗"], samples: [{ label: 1, image: images[0] }] }, "task:new");
        tx.oncomplete = () => { db.close(); resolve(); };
        tx.onerror = () => reject(tx.error);
      };
      request.onerror = () => reject(request.error);
    }), sevens);
    await seed.close();

    const { page, watch } = await open(context, server.origin);
    assert.match(await count(page), /^2 samples in 10 classes/);
    assert.match(await page.textContent("#gallery"), /7 · 2/);
    await page.click("#mode-new");
    assert.match(await count(page), /^1 sample in 2 classes/);
    assert.match(await page.textContent("#gallery"), /✗ · 1/);
    // Moved, not copied: the old records are gone, and a reload shows the same.
    await page.reload();
    await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
    assert.match(await count(page), /^2 samples in 10 classes/);
    const old = await page.evaluate(() => new Promise((resolve) => {
      const request = indexedDB.open("digit-transfer");
      request.onsuccess = () => {
        const get = request.result.transaction("kv").objectStore("kv").get("task:adapt");
        get.onsuccess = () => resolve(get.result ?? null);
      };
    }));
    assert.equal(old, null);
    assert.deepEqual(watch.errors, []);
  } finally {
    await browser.close();
  }
});
