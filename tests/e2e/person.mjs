// What a person does on the built page, over W3C WebDriver, in the browsers Playwright cannot
// drive (a stock Firefox, WebKit): load, draw, label, fine-tune in the worker, export and import
// the samples, reload, learn as it labels. `personTests` registers the same tests for each.
import { test } from "node:test";
import assert from "node:assert/strict";
import { inkRuns } from "./harness.mjs";
import { mouse } from "./webdriver.mjs";

/** The page's helpers for one WebDriver session and the held-out digits. */
export class Person {
  constructor(session, digits) {
    this.session = session;
    this.digits = digits;
  }

  byClass(label, n, skip = 0) {
    return this.digits.filter((d) => d.label === label).slice(skip, skip + n);
  }

  textOf(css) {
    return this.session.execute((s) => document.querySelector(s)?.textContent ?? null, css);
  }

  sampleCount() {
    return this.textOf("#sample-count");
  }

  /** Open the page, wait until it is ready, and keep its uncaught errors for `errors()`. */
  async open(url, { timeout = 60_000 } = {}) {
    await this.session.navigate(url);
    await this.session.waitFor(() => document.body.dataset.ready === "true", { timeout, message: "body[data-ready=true]" });
    await this.session.execute(() => {
      window.__errors = [];
      window.addEventListener("error", (e) => window.__errors.push(`error: ${e.message}`));
      window.addEventListener("unhandledrejection", (e) => window.__errors.push(`unhandled rejection: ${e.reason}`));
      const consoleError = console.error;
      console.error = (...args) => {
        window.__errors.push(`console.error: ${args.join(" ")}`);
        consoleError.apply(console, args);
      };
    });
  }

  /** Uncaught errors, unhandled rejections and console errors since the page was opened. */
  errors() {
    return this.session.execute(() => window.__errors);
  }

  /**
   * Trace a 28×28 image's ink on the pad with the mouse, as harness.mjs `drawImage` does: one
   * stroke along each run of inked pixels in each row (viewport coordinates, which every
   * driver takes), then wait until the prediction of the last stroke is shown.
   */
  async drawImage(image) {
    const { session } = this;
    const pad = await session.find("#pad");
    // How many strokes have ended, and how many predictions were shown, so far.
    const marks = () => ["stroke-end", "prediction-shown"].map((name) => performance.getEntriesByName(name).length);
    const before = await session.execute(marks);
    const box = await session.execute((e) => {
      e.scrollIntoView({ block: "center" });
      return e.getBoundingClientRect().toJSON();
    }, pad);
    const at = (x, y) => ({
      origin: "viewport",
      x: Math.round(box.left + ((x + 0.5) / 28) * box.width),
      y: Math.round(box.top + ((y + 0.5) / 28) * box.height),
    });
    const runs = inkRuns(image);
    const actions = runs.flatMap(({ y, from, to }) => [
      { type: "pointerMove", duration: 0, ...at(from, y) },
      { type: "pointerDown", button: 0 },
      { type: "pointerMove", duration: 0, ...at((from + to) / 2, y) },
      { type: "pointerMove", duration: 0, ...at(to, y) },
      { type: "pointerUp", button: 0 },
    ]);
    const drawn = runs.length;
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
  async predicted() {
    // The answer to the whole drawing, not to a stroke of it still queued.
    await this.session.waitFor(() => document.querySelector("#bars[aria-busy=false] li.top") !== null, { message: "the prediction" });
    return this.textOf("#bars li.top .name");
  }

  /** Set fields of the settings form as a person would (then `change`, which the page saves). */
  setSettings(values) {
    return this.session.execute((values) => {
      for (const [name, value] of Object.entries(values)) {
        const field = document.querySelector(`#settings [name=${name}]`);
        if (typeof value === "boolean") field.checked = value;
        else field.value = String(value);
        field.dispatchEvent(new Event("input", { bubbles: true }));
        field.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }, values);
  }

  counter(name) {
    return this.session.execute((name) => Number(document.body.dataset[name] ?? 0), name);
  }
}

/**
 * The tests every WebDriver browser passes, named `${name}: …`. `context()` gives the Person
 * and the page's URL once the suite's `before` has run; `isolates`: whether the engine makes a
 * page served with COOP and COEP cross-origin isolated; `threads`: whether the threaded build
 * then starts there (where it does not, the worker trains on one thread).
 */
export function personTests(name, context, { isolates = true, threads = true } = {}) {
  // Each test goes on from the last; once the page has not loaded, the rest fail at once.
  let loaded = false;
  const opened = () => {
    assert.ok(loaded, "the page never became ready (see the first test)");
    return context();
  };
  test(`${name}: the page loads on the CPU and says why`, { timeout: 300_000 }, async () => {
    const { person, url } = context();
    await person.open(url);
    loaded = true;
    await person.session.waitFor(() => !["none", "measuring"].includes(document.querySelector("#badge")?.dataset.device), { timeout: 300_000, message: "the training device" });
    assert.equal(await person.session.execute(() => document.querySelector("#status").dataset.kind ?? "info"), "info", await person.textOf("#status"));
    // Served cross-origin isolated: where the engine isolates the page, has more than one core
    // and starts the threaded build, the worker trains on threads; otherwise on one, as before.
    const here = await person.session.execute(() => ({ isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency }));
    const badge = await person.textOf("#badge");
    assert.equal(here.isolated, isolates, `${name} isolates a page served with COOP and COEP: ${JSON.stringify(here)}`);
    if (here.isolated && here.cores > 1 && threads) assert.match(badge, /^CPU \(flex\) · \d+ threads$/, JSON.stringify(here));
    else assert.equal(badge, "CPU (ndarray)", JSON.stringify(here));
    assert.match(await person.textOf("#device-reason"), /this browser has no WebGPU|no WebGPU adapter/);
  });

  test(`${name}: held-out digits traced with the mouse are recognised`, { timeout: 300_000 }, async () => {
    const { person } = opened();
    for (const label of [1, 7, 0]) {
      await person.drawImage(person.byClass(label, 1)[0].image);
      assert.equal(await person.predicted(), String(label), `a traced held-out ${label}`);
      await person.session.click("#clear");
      await person.session.waitFor(() => document.querySelector("#bars li.top") === null, { message: "the cleared pad" });
    }
  });

  test(`${name}: labelled drawings fine-tune in the worker`, { timeout: 900_000 }, async () => {
    const { person } = opened();
    for (const label of [1, 7]) {
      for (const digit of person.byClass(label, 3, 1)) {
        await person.drawImage(digit.image);
        await person.session.click(`#label-buttons button[data-label="${label}"]`);
      }
    }
    assert.match(await person.sampleCount(), /^6 samples in 10 classes/);
    await person.setSettings({ strategy: "head", epochs: 3, batch_size: "", validation_split: 0.34, patience: 0, augment: false });
    const trained = await person.counter("trained");
    await person.session.click("#train");
    await person.session.waitFor((n) => Number(document.body.dataset.trained ?? 0) > n, { timeout: 600_000, interval: 500, message: "the fine-tune to finish" }, trained);
    assert.match(await person.textOf("#train-status"), /^Done in .* on CPU/);
    assert.match(await person.textOf('#summary dd[data-key="Validation accuracy"]'), /%/);
    assert.match(await person.textOf("#weights-info"), /fine-tuned/);
  });

  test(`${name}: samples exported, deleted and imported again`, { timeout: 300_000 }, async () => {
    const { person } = opened();
    const { session } = person;
    // The download's Blob, kept as it is handed to the link.
    await session.execute(() => {
      const createObjectURL = URL.createObjectURL;
      URL.createObjectURL = (blob) => {
        window.__lastBlob = blob;
        return createObjectURL.call(URL, blob);
      };
    });
    await session.execute(() => delete window.__lastBlob);
    await session.click("#export-samples");
    // The file is made after the samples are read from storage: wait for it.
    await session.waitFor(() => window.__lastBlob !== undefined, { message: "the exported file" });
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
    assert.match(await person.textOf("#status"), /Imported 6 samples of 10 classes from samples\.json/);
  });

  test(`${name}: a reload keeps the samples and the fine-tuned weights`, { timeout: 300_000 }, async () => {
    const { person, url } = opened();
    assert.deepEqual(await person.errors(), [], "no error before the reload");
    await person.open(url);
    await person.session.waitFor(() => /^6 samples in 10 classes/.test(document.querySelector("#sample-count").textContent), { message: "6 samples after the reload" });
    assert.match(await person.textOf("#weights-info"), /fine-tuned/);
  });

  test(`${name}: learn as I label: a 1 labelled 7 a few times is predicted 7, without Fine-tune`, { timeout: 600_000 }, async () => {
    const { person } = opened();
    const { session } = person;
    assert.equal(await session.execute(() => document.querySelector("#live").checked), true);
    const trained = await person.counter("trained");
    const one = person.byClass(1, 1)[0].image;
    for (let i = 0; i < 4; i += 1) {
      await person.drawImage(one);
      const learned = await person.counter("learned");
      await session.click('#label-buttons button[data-label="7"]');
      await session.waitFor((n) => Number(document.body.dataset.learned ?? 0) > n, { timeout: 120_000, message: "the update after a label" }, learned);
    }
    assert.match(await person.textOf("#live-status"), /^Learned from 10 samples · \d+ ms/);
    await person.drawImage(one);
    assert.equal(await person.predicted(), "7", "the next 1 is a 7");
    assert.equal(await person.counter("trained"), trained, "no fine-tune ran");
  });

  test(`${name}: no uncaught errors in the page`, async () => {
    assert.deepEqual(await opened().person.errors(), []);
  });
}
