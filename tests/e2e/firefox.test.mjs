// The built page (dist/) in headless Firefox (no WebGPU on Linux: the CPU fallback), driven
// over W3C WebDriver by geckodriver like a person would: load, draw, label, fine-tune in the
// worker, export and import the samples, and learn as it labels. Playwright cannot drive a stock Firefox, so this
// talks to geckodriver itself (webdriver.mjs). GECKODRIVER and FIREFOX name the driver and the
// browser (default: geckodriver on PATH or in ~/.cargo/bin, /usr/bin/firefox-esr); both are
// installed by scripts/setup.sh --test, and the test fails when either is missing.
// Run: node --test tests/e2e/  (after `trunk build --release --offline`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { heldOutDigits, serve } from "./harness.mjs";
import { Session, elementOrigin, firefoxTools, mouse, startGeckodriver } from "./webdriver.mjs";

const root = new URL("../../", import.meta.url).pathname;

let server;
let digits;
let driver;
let session;
let downloads;

before(async () => {
  const { driver: geckodriver, firefox } = firefoxTools();
  server = await serve();
  digits = await heldOutDigits();
  downloads = await mkdtemp(join(tmpdir(), "digit-transfer-firefox-"));
  // The capabilities the wasm tests use (webdriver-firefox.json), with the binary, and
  // downloads kept out of the home folder.
  const committed = JSON.parse(await readFile(join(root, "webdriver-firefox.json"), "utf8"));
  const options = committed["moz:firefoxOptions"];
  driver = await startGeckodriver(geckodriver);
  session = await Session.create(driver.url, {
    browserName: "firefox",
    ...committed,
    "moz:firefoxOptions": {
      ...options,
      binary: firefox,
      prefs: {
        ...options.prefs,
        "browser.download.folderList": 2,
        "browser.download.dir": downloads,
        "browser.download.useDownloadDir": true,
      },
    },
  });
  await session.setWindowRect({ width: 1400, height: 1000 });
  await session.setTimeouts({ script: 120_000 });
});

after(async () => {
  await session?.delete().catch(() => {});
  await driver?.stop();
  server?.close();
  if (downloads) await rm(downloads, { recursive: true, force: true });
});

const byClass = (label, n, skip = 0) => digits.filter((d) => d.label === label).slice(skip, skip + n);
const textOf = (css) => session.execute((s) => document.querySelector(s)?.textContent ?? null, css);
const sampleCount = () => textOf("#sample-count");

/**
 * Trace a 28×28 image's ink on the pad with the mouse, as harness.mjs `drawImage` does: one
 * stroke along each run of inked pixels in each row (moves relative to the pad's centre), then
 * wait until the prediction of the last stroke is shown.
 */
async function drawImage(image) {
  const pad = await session.find("#pad");
  // How many strokes have ended, and how many predictions were shown, so far.
  const marks = () => ["stroke-end", "prediction-shown"].map((name) => performance.getEntriesByName(name).length);
  const before = await session.execute(marks);
  const { width, height } = await session.execute((e) => {
    e.scrollIntoView({ block: "center" });
    return e.getBoundingClientRect().toJSON();
  }, pad);
  const at = (x, y) => ({
    origin: elementOrigin(pad),
    x: Math.round(((x + 0.5) / 28 - 0.5) * width),
    y: Math.round(((y + 0.5) / 28 - 0.5) * height),
  });
  const ink = (x, y) => image[y * 28 + x] > 100;
  const actions = [];
  let drawn = 0;
  for (let y = 0; y < 28; y += 1) {
    let x = 0;
    while (x < 28) {
      if (!ink(x, y)) { x += 1; continue; }
      const start = x;
      while (x < 28 && ink(x, y)) x += 1;
      actions.push(
        { type: "pointerMove", duration: 0, ...at(start, y) },
        { type: "pointerDown", button: 0 },
        { type: "pointerMove", duration: 0, ...at((start + x - 1) / 2, y) },
        { type: "pointerMove", duration: 0, ...at(x - 1, y) },
        { type: "pointerUp", button: 0 },
      );
      drawn += 1;
    }
  }
  await session.actions([mouse(actions)]);
  // Each stroke's end queues one prediction: wait for the last one.
  const end = Date.now() + 60_000;
  for (;;) {
    const [ends, shown] = await session.execute(marks);
    if (ends - before[0] === drawn && shown - before[1] >= drawn) break;
    assert.ok(Date.now() < end, `after ${drawn} strokes: ${ends - before[0]} ended, ${shown - before[1]} predictions shown`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The class the page predicts now (the highlighted bar's name). */
const predicted = async () => {
  // The answer to the whole drawing, not to a stroke of it still queued.
  await session.waitFor(() => document.querySelector("#bars[aria-busy=false] li.top") !== null, { message: "the prediction" });
  return textOf("#bars li.top .name");
};

/** Set fields of the settings form as a person would (then `change`, which the page saves). */
function setSettings(values) {
  return session.execute((values) => {
    for (const [name, value] of Object.entries(values)) {
      const field = document.querySelector(`#settings [name=${name}]`);
      if (typeof value === "boolean") field.checked = value;
      else field.value = String(value);
      field.dispatchEvent(new Event("input", { bubbles: true }));
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }, values);
}

test("Firefox: the page loads on the CPU and says why", { timeout: 600_000 }, async () => {
  await session.navigate(server.origin);
  await session.waitFor(() => document.body.dataset.ready === "true", { timeout: 120_000, message: "body[data-ready=true]" });
  // From here on, uncaught errors and rejections (and console errors) are kept for the end.
  await session.execute(() => {
    window.__errors = [];
    window.addEventListener("error", (e) => window.__errors.push(`error: ${e.message}`));
    window.addEventListener("unhandledrejection", (e) => window.__errors.push(`unhandled rejection: ${e.reason}`));
    const consoleError = console.error;
    console.error = (...args) => {
      window.__errors.push(`console.error: ${args.join(" ")}`);
      consoleError.apply(console, args);
    };
  });
  await session.waitFor(() => !["none", "measuring"].includes(document.querySelector("#badge")?.dataset.device), { timeout: 300_000, message: "the training device" });
  assert.equal(await session.execute(() => document.querySelector("#status").dataset.kind ?? "info"), "info", await textOf("#status"));
  assert.match(await textOf("#badge"), /CPU \(ndarray\)/);
  assert.match(await textOf("#device-reason"), /this browser has no WebGPU|no WebGPU adapter/);
});

test("Firefox: held-out digits traced with the mouse are recognised", { timeout: 300_000 }, async () => {
  for (const label of [1, 7, 0]) {
    await drawImage(byClass(label, 1)[0].image);
    assert.equal(await predicted(), String(label), `a traced held-out ${label}`);
    await session.click("#clear");
    await session.waitFor(() => document.querySelector("#bars li.top") === null, { message: "the cleared pad" });
  }
});

test("Firefox: labelled drawings fine-tune in the worker", { timeout: 900_000 }, async () => {
  for (const label of [1, 7]) {
    for (const digit of byClass(label, 3, 1)) {
      await drawImage(digit.image);
      await session.click(`#label-buttons button[data-label="${label}"]`);
    }
  }
  assert.match(await sampleCount(), /^6 samples in 10 classes/);
  await setSettings({ strategy: "head", epochs: 3, batch_size: "", validation_split: 0.34, patience: 0, augment: false });
  const trained = await session.execute(() => Number(document.body.dataset.trained ?? 0));
  await session.click("#train");
  await session.waitFor((n) => Number(document.body.dataset.trained ?? 0) > n, { timeout: 600_000, interval: 500, message: "the fine-tune to finish" }, trained);
  assert.match(await textOf("#train-status"), /^Done in .* on CPU/);
  assert.match(await textOf('#summary dd[data-key="Validation accuracy"]'), /%/);
  assert.match(await textOf("#weights-info"), /fine-tuned/);
});

test("Firefox: samples exported, deleted and imported again", { timeout: 300_000 }, async () => {
  // The download's Blob, kept as it is handed to the link.
  await session.execute(() => {
    const createObjectURL = URL.createObjectURL;
    URL.createObjectURL = (blob) => {
      window.__lastBlob = blob;
      return createObjectURL.call(URL, blob);
    };
  });
  await session.click("#export-samples");
  const text = await session.executeAsync(() => window.__lastBlob.text());
  const file = JSON.parse(text);
  assert.equal(file.format, "digit-transfer-samples");
  assert.equal(file.samples.length, 6);

  await session.click("#clear-samples");
  await session.waitFor(() => /^0 samples/.test(document.querySelector("#sample-count").textContent), { message: "0 samples" });

  await session.execute((text) => {
    const input = document.querySelector("#import-samples");
    const transfer = new DataTransfer();
    transfer.items.add(new File([text], "samples.json", { type: "application/json" }));
    input.files = transfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }, text);
  await session.waitFor(() => /^6 samples in 10 classes/.test(document.querySelector("#sample-count").textContent), { message: "6 samples again" });
  assert.match(await textOf("#status"), /Imported 6 samples of 10 classes from samples\.json/);
});

test("Firefox: learn as I label: a 1 labelled 7 a few times is predicted 7, without Fine-tune", { timeout: 600_000 }, async () => {
  assert.equal(await session.execute(() => document.querySelector("#live").checked), true);
  const trained = await session.execute(() => Number(document.body.dataset.trained ?? 0));
  const one = byClass(1, 1)[0].image;
  for (let i = 0; i < 4; i += 1) {
    await drawImage(one);
    const learned = await session.execute(() => Number(document.body.dataset.learned ?? 0));
    await session.click('#label-buttons button[data-label="7"]');
    await session.waitFor((n) => Number(document.body.dataset.learned ?? 0) > n, { timeout: 120_000, message: "the update after a label" }, learned);
  }
  assert.match(await textOf("#live-status"), /^Learned from 10 samples · \d+ ms/);
  await drawImage(one);
  assert.equal(await predicted(), "7", "the next 1 is a 7");
  assert.equal(await session.execute(() => Number(document.body.dataset.trained ?? 0)), trained, "no fine-tune ran");
});

test("Firefox: no uncaught errors in the page", async () => {
  assert.deepEqual(await session.execute(() => window.__errors), []);
});
