// The built page as a static host serves it: under a sub-path (a project page lives at
// https://<user>.github.io/<repo>/), and with the network off after one visit.
// Run: node --test tests/e2e/  (after `trunk build --release --offline`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { drawImage, fineTune, heldOutDigits, launch, open, predicted, serve, setSettings, summary } from "./harness.mjs";

let server;
let digits;
before(async () => {
  server = await serve({ base: "/digit-transfer/" });
  digits = await heldOutDigits();
});
after(() => server?.close());

const byClass = (label, n, skip = 0) => digits.filter((d) => d.label === label).slice(skip, skip + n);

/** Label drawings of two digits, then fine-tune a few epochs: the result must come back. */
async function drawLabelAndFineTune(page, skip) {
  for (const label of [4, 9]) {
    for (const digit of byClass(label, 3, skip)) {
      await drawImage(page, digit.image);
      await page.click(`#label-buttons button[data-label="${label}"]`);
    }
  }
  await setSettings(page, { epochs: 3 });
  await fineTune(page);
  assert.match(await page.textContent("#train-status"), /^Done in/);
  assert.match(await summary(page, "Validation accuracy"), /before → .* after/);
}

test("under a sub-path: nothing is missing, and after one visit it opens, predicts and fine-tunes offline", { timeout: 900_000 }, async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const { page, watch } = await open(context, server.origin, server.url);
    await drawImage(page, byClass(7, 1)[0].image);
    assert.equal(await predicted(page), "7");
    await drawLabelAndFineTune(page, 0);
    assert.deepEqual(server.missing, [], "every file is found under the sub-path");

    // The service worker has kept this build (installed means its files are all in the cache),
    // and it controls the page.
    const kept = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      const keys = await caches.keys();
      const cache = await caches.open(keys.find((k) => k.startsWith("digit-transfer-")));
      return { scope: registration.scope, keys, files: (await cache.keys()).map((r) => new URL(r.url).pathname) };
    });
    assert.equal(kept.scope, server.url);
    assert.equal(kept.keys.filter((k) => k.startsWith("digit-transfer-")).length, 1, kept.keys.join(", "));
    for (const file of ["", "digit-transfer_bg.wasm", "www/app.js", "www/worker.js", "www/weights/pretrained-cnn.bpk", "www/data/rehearsal.json"]) {
      assert.ok(kept.files.includes(`/digit-transfer/${file}`), `${file || "the page"} is kept`);
    }

    await context.setOffline(true);
    await page.reload();
    await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
    await page.waitForFunction(() => !["none", "measuring"].includes(document.querySelector("#badge")?.dataset.device), null, { timeout: 120_000 });
    await page.click("#clear");
    await drawImage(page, byClass(3, 1)[0].image);
    assert.equal(await predicted(page), "3");
    assert.match(await page.textContent("#sample-count"), /^6 samples/);
    await drawLabelAndFineTune(page, 3);
    assert.deepEqual(watch.foreign, []);
    assert.deepEqual(watch.errors, []);
  } finally {
    await browser.close();
  }
});

test("accessibility: axe finds no WCAG 2 A or AA violation on the page", { timeout: 300_000 }, async () => {
  const browser = await launch();
  try {
    // axe is put into the page as a script of its own, which the page's CSP would refuse.
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, bypassCSP: true });
    const { page } = await open(context, server.origin, server.url);
    await page.addScriptTag({ path: createRequire(import.meta.url).resolve("axe-core/axe.min.js") });
    const violations = await page.evaluate(async () => {
      const result = await globalThis.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
      return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
    });
    assert.deepEqual(violations, []);
  } finally {
    await browser.close();
  }
});
