// "Learn as I label" in headless Chromium (the CPU worker): in adapt mode a drawn "1" labelled
// 7 a few times makes the next "1" a 7, without pressing anything; a reload keeps the live
// head; deleting the sample just labelled undoes its update; the switch off gives the batch behaviour (nothing learnt until Fine-tune) and is
// remembered; a new task of two classes predicts after one sample of each.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { drawImage, heldOutDigits, launch, open, predicted, screenshot, serve } from "./harness.mjs";

let server;
let digits;
before(async () => {
  server = await serve();
  digits = await heldOutDigits();
});
after(() => server?.close());

const learned = (page) => page.evaluate(() => Number(document.body.dataset.learned ?? 0));
const waitLearned = (page, n) => page.waitForFunction((n) => Number(document.body.dataset.learned ?? 0) > n, n, { timeout: 120_000 });

/** Draw `image`, label it `label`, and wait for the update the label starts. */
async function labelAndLearn(page, image, label) {
  await drawImage(page, image);
  const before = await learned(page);
  await page.click(`#label-buttons button[data-label="${label}"]`);
  await waitLearned(page, before);
}

test("live: a 1 labelled 7 a few times is predicted 7 without pressing anything, and kept", { timeout: 600_000 }, async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const { page, watch } = await open(context, server.origin);
    assert.equal(await page.isChecked("#live"), true, "on by default");
    const one = digits.find((d) => d.label === 1).image;
    await drawImage(page, one);
    assert.equal(await predicted(page), "1");
    await page.click("#clear");

    for (let i = 0; i < 4; i += 1) await labelAndLearn(page, one, 7);
    assert.match(await page.textContent("#live-status"), /^Learned from 4 samples · \d+ ms · [0-4] of the last 4 recognised before you labelled them\.$/);
    assert.equal(await page.isVisible("#live-curve"), true);
    assert.match(await page.textContent("#weights-info"), /^In use: learnt as you labelled cnn/);
    await drawImage(page, one);
    assert.equal(await predicted(page), "7", "the next 1 is a 7");
    assert.equal(Number((await page.getAttribute("body", "data-trained")) ?? 0), 0, "no fine-tune ran");
    await screenshot(page, "live-adapt");
    await page.click("#clear");

    // Deleting the sample just labelled undoes its update.
    await labelAndLearn(page, one, 7);
    const updates = await learned(page);
    await page.locator("#gallery .thumb").last().click();
    await page.waitForFunction(() => /^Undid the last label: the network is as it was before it\.$/.test(document.querySelector("#live-status").textContent));
    assert.equal(await learned(page), updates, "the deletion was not learnt as an update");
    assert.match(await page.textContent("#sample-count"), /^4 samples/);

    // Kept: after a reload the live head predicts.
    await page.reload();
    await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
    assert.match(await page.textContent("#weights-info"), /^In use: learnt as you labelled cnn/);
    await drawImage(page, one);
    assert.equal(await predicted(page), "7", "the live head survived the reload");

    // Reset to pretrained resets it.
    await page.click("#reset");
    await page.waitForFunction(() => /pretrained/.test(document.querySelector("#weights-info").textContent));
    await drawImage(page, one);
    assert.equal(await predicted(page), "1");
    assert.deepEqual(watch.errors, []);
  } finally {
    await browser.close();
  }
});

test("live: switched off, labels wait for Fine-tune, and the switch is remembered", { timeout: 600_000 }, async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const { page, watch } = await open(context, server.origin);
    await page.uncheck("#live");
    assert.match(await page.textContent("#live-status"), /^Off: the network learns when you press Fine-tune\.$/);
    const one = digits.find((d) => d.label === 1).image;
    for (let i = 0; i < 3; i += 1) {
      await drawImage(page, one);
      await page.click('#label-buttons button[data-label="7"]');
    }
    await page.waitForTimeout(1500);
    assert.equal(await learned(page), 0, "nothing learnt");
    assert.match(await page.textContent("#weights-info"), /pretrained/);
    await drawImage(page, one);
    assert.equal(await predicted(page), "1");

    await page.reload();
    await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
    assert.equal(await page.isChecked("#live"), false, "off after a reload");
    // Turned on again: it learns from the samples there are at once.
    await page.check("#live");
    await waitLearned(page, 0);
    assert.match(await page.textContent("#live-status"), /^Learned from 3 samples/);
    assert.deepEqual(watch.errors, []);
  } finally {
    await browser.close();
  }
});

test("live: a new task of two classes predicts after one sample of each", { timeout: 600_000 }, async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const { page, watch } = await open(context, server.origin);
    await page.click("#mode-new");
    await page.click('[data-preset="✓|✗"]');
    const round = digits.find((d) => d.label === 0).image;
    const straight = digits.find((d) => d.label === 1).image;
    await drawImage(page, round);
    await page.click('#label-buttons button[data-label="0"]');
    await page.waitForFunction(() => /two classes/.test(document.querySelector("#live-status").textContent));
    assert.equal(await learned(page), 0);
    await labelAndLearn(page, straight, 1);
    assert.match(await page.textContent("#live-status"), /^Learned from 2 samples/);
    await drawImage(page, round);
    assert.equal(await predicted(page), "✓");
    await page.click("#clear");
    await drawImage(page, straight);
    assert.equal(await predicted(page), "✗");
    assert.deepEqual(watch.errors, []);
  } finally {
    await browser.close();
  }
});
