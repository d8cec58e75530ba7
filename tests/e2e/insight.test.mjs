// What the page shows of a run besides numbers: where the network looks (saliency), the
// feature map before and after, the mistakes (relabel one, and it moves), and the network card.
// Run: node --test tests/e2e/  (after `trunk build --release --offline`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { drawImage, fineTune, heldOutDigits, launch, open, predicted, screenshot, serve, setSettings } from "./harness.mjs";

let server;
let digits;
before(async () => {
  server = await serve();
  digits = await heldOutDigits();
});
after(() => server?.close());

const byClass = (label, n, skip = 0) => digits.filter((d) => d.label === label).slice(skip, skip + n);

/** How many pixels of the 28×28 image the network saw are drawn red (saliency). */
const redPixels = (page) => page.evaluate(() => {
  const { data } = document.querySelector("#seen").getContext("2d").getImageData(0, 0, 28, 28);
  let red = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i] > data[i + 1] + 60) red += 1;
  return red;
});

test("saliency, the feature map, the mistakes and the network card", { timeout: 900_000 }, async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1100 } });
    const { page, watch } = await open(context, server.origin);

    // Where it looks: off, the image is grey; on, the pixels that sway the answer turn red.
    await drawImage(page, byClass(7, 1)[0].image);
    assert.equal(await predicted(page), "7");
    assert.equal(await redPixels(page), 0);
    await page.check("#saliency");
    await page.waitForSelector("#seen[data-saliency=on]");
    assert.ok((await redPixels(page)) > 10, "saliency is drawn");
    await page.uncheck("#saliency");
    await page.waitForFunction(() => !document.querySelector("#seen").dataset.saliency);

    // Six 3s and four 8s, and three 7s labelled as 3 by mistake: the validation split keeps
    // some of them, and the network (which keeps the 7s by rehearsal) still calls those 7.
    for (const digit of byClass(8, 4, 1)) {
      await drawImage(page, digit.image);
      await page.click('#label-buttons button[data-label="8"]');
    }
    for (const digit of byClass(3, 6, 1)) {
      await drawImage(page, digit.image);
      await page.click('#label-buttons button[data-label="3"]');
    }
    for (const digit of byClass(7, 3, 1)) {
      await drawImage(page, digit.image);
      await page.click('#label-buttons button[data-label="3"]');
    }
    await setSettings(page, { strategy: "head", epochs: 4, validation_split: 0.5, patience: 0, augment: false });
    await fineTune(page);

    // The feature map: every sample before and after, and how far apart the classes are.
    await page.waitForSelector("#feature-map:not([hidden])");
    assert.equal(await page.getAttribute("#map-before", "data-points"), "13");
    assert.equal(await page.getAttribute("#map-after", "data-points"), "13");
    assert.match(await page.textContent("#separation"), /\d+\.\d% before → \d+\.\d% after/);
    assert.deepEqual(await page.locator("#map-legend li").allTextContents(), ["3", "8"]);
    // Pointing at a dot shows its drawing.
    await page.locator("#map-after").scrollIntoViewIfNeeded();
    const box = await page.locator("#map-after").boundingBox();
    let shown = false;
    for (let y = 6; y < box.height && !shown; y += 10) {
      for (let x = 6; x < box.width && !shown; x += 10) {
        await page.mouse.move(box.x + x, box.y + y);
        shown = await page.isVisible("#map-tip");
      }
    }
    assert.ok(shown, "a dot shows its drawing");
    assert.match(await page.textContent("#map-tip"), /^[38]/);
    assert.equal(await page.locator("#map-tip canvas").count(), 1);
    // From the keyboard: the arrow keys step through the dots, and say which one is shown.
    await page.mouse.move(0, 0);
    await page.focus("#map-before");
    await page.keyboard.press("ArrowRight");
    assert.ok(await page.isVisible("#map-tip"), "a key shows the first dot's drawing");
    assert.match(await page.textContent("#map-status"), /^Sample 1 of 13: [38]/);
    await page.keyboard.press("ArrowLeft");
    assert.match(await page.textContent("#map-status"), /^Sample 13 of 13: [38]/);
    await page.keyboard.press("Escape");
    assert.ok(!(await page.isVisible("#map-tip")), "Escape hides it");

    // The mistakes: the 7s in the validation split, seen as 7.
    await page.waitForSelector("#mistakes-box:not([hidden])");
    const mistakes = page.locator("#mistakes figure.mistake");
    assert.ok((await mistakes.count()) >= 1, "a 7 labelled 3 is a mistake");
    assert.match(await mistakes.first().locator("figcaption").textContent(), /^seen as 7 \(\d+\.\d%\)$/);
    await screenshot(page, "7-insight");
    // Relabelled as 7, it leaves the mistakes and moves to the 7s in the gallery.
    const before7 = await page.locator("#label-buttons button[data-label='7'] small").textContent();
    const count = await mistakes.count();
    await mistakes.first().locator("select").selectOption("7");
    await page.waitForFunction((n) => document.querySelectorAll("#mistakes figure.mistake").length === n - 1, count);
    assert.equal(await page.locator("#label-buttons button[data-label='7'] small").textContent(), String(Number(before7) + 1));
    assert.match(await page.textContent("#status"), /Relabelled a sample as 7/);

    // The network card: shipped figures, and this browser's speeds measured once opened.
    await page.click("#network-card summary");
    await page.waitForFunction(() => document.querySelectorAll("#card-table tr[data-measured=true]").length === 2, null, { timeout: 300_000 });
    // The shipped figures are what `digit-transfer card` measured (a native test pins the file).
    const { networks } = JSON.parse(await readFile(new URL("../../www/weights/networks.json", import.meta.url), "utf8"));
    const shipped = (arch) => `${(networks.find((n) => n.architecture === arch).held_out_accuracy * 100).toFixed(2)}%`;
    // Measured on the device as it trains: the threaded build, the page being isolated.
    assert.match(await page.textContent("#card-table tr:first-child"), /training here \(CPU \(flex\) · \d+ threads\)/);
    const cnn = await page.textContent('#card-table tr[data-arch="cnn"]');
    assert.match(cnn, /206,922/);
    assert.ok(cnn.includes(shipped("cnn")), `${cnn} lacks ${shipped("cnn")}`);
    assert.match(cnn, /\d[\d,]* samples\/s/);
    assert.match(cnn, /\d+\.\d ms/);
    const mlp = await page.textContent('#card-table tr[data-arch="mlp"]');
    assert.ok(/101,770/.test(mlp) && mlp.includes(shipped("mlp")), `${mlp} lacks ${shipped("mlp")}`);
    assert.deepEqual(watch.errors, []);
  } finally {
    await browser.close();
  }
});
