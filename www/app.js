// The page's DOM glue: drawing, samples, storage, charts and the worker's messages. Every
// number about the network (preprocessing, predictions, training, metrics, file formats) comes
// from the wasm library.
import init, { DigitModel, canvas_to_image, decode_samples, encode_samples } from "../digit-transfer.js";
import uPlot from "../uPlot.esm.js";
import * as store from "./store.js";
import { Pad } from "./pad.js";

const $ = (id) => document.getElementById(id);
const DIGITS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
const PIXELS = 784;
const MAX_IMPORT_BYTES = 32 * 1024 * 1024;
// Fault injection for the end-to-end tests (`?fault=…`), handed to the worker (see worker.js).
const FAULT = new URLSearchParams(location.search).get("fault");

const state = {
  arch: "cnn",
  mode: "adapt",
  // Per task: class names and samples ({ id, label, image: Uint8Array(784) }).
  tasks: { adapt: { classes: DIGITS, samples: [] }, new: { classes: [], samples: [] } },
  pretrained: new Map(), // arch → burnpack bytes
  weights: { adapt: null, new: null }, // fine-tuned or loaded: { arch, classes, bytes, origin }
  model: null, // DigitModel on the CPU, for live predictions
  trainer: null,
  training: null,
};

const task = () => state.tasks[state.mode];
const busy = () => state.training !== null;

function say(text, kind = "info") {
  const status = $("status");
  status.textContent = text;
  status.dataset.kind = kind;
}

function errorText(error) {
  // A panic in the wasm surfaces as "unreachable"; its hook kept the real message.
  if (error instanceof WebAssembly.RuntimeError && globalThis.digitTransferPanic) return globalThis.digitTransferPanic;
  return String(error?.message ?? error);
}

// ---------------------------------------------------------------- drawing and prediction

const pad = new Pad($("pad"), () => predict());
$("undo").addEventListener("click", () => pad.undo());
$("clear").addEventListener("click", () => pad.clear());

function showSeen(image) {
  const seen = $("seen").getContext("2d");
  const data = seen.createImageData(28, 28);
  if (image) image.forEach((v, i) => data.data.set([v, v, v, 255], i * 4));
  seen.putImageData(data, 0, 0);
}

/** One labelled bar: a name, a track filled to `fraction`, and the percentage. */
function barRow(name, fraction) {
  const li = document.createElement("li");
  const label = document.createElement("span");
  label.className = "name";
  label.textContent = name;
  const track = document.createElement("span");
  track.className = "track";
  const bar = document.createElement("span");
  bar.className = "bar";
  bar.style.width = `${(fraction * 100).toFixed(1)}%`;
  track.append(bar);
  const value = document.createElement("span");
  value.className = "value";
  value.textContent = `${(fraction * 100).toFixed(1)}%`;
  li.append(label, track, value);
  return li;
}

function showBars(names, probabilities, best) {
  $("bars").replaceChildren(...Array.from(probabilities, (p, i) => {
    const li = barRow(names[i], p);
    if (i === best) li.className = "top";
    return li;
  }));
}

let predicting = Promise.resolve();
function predict() {
  predicting = predicting.then(async () => {
    if (pad.isEmpty()) {
      showSeen(null);
      $("bars").replaceChildren();
      $("guess").textContent = state.mode === "adapt" ? "Draw a digit." : "Draw a sample.";
      return;
    }
    if (!state.model) return;
    const { data, width, height } = pad.pixels();
    try {
      const p = await state.model.predict_canvas(new Uint8Array(data.buffer), width, height);
      showSeen(p.image);
      const names = state.model.class_names;
      $("guess").textContent = `It looks like ${names[p.best]}.`;
      showBars(names, p.probabilities, p.best);
      performance.mark("prediction-shown");
      p.free();
    } catch (error) {
      $("guess").textContent = errorText(error);
    }
  });
  return predicting;
}

// ---------------------------------------------------------------- the live model

async function pretrainedBytes(arch) {
  if (!state.pretrained.has(arch)) {
    const response = await fetch(`www/weights/pretrained-${arch}.bpk`);
    if (!response.ok) throw new Error(`the pretrained ${arch} weights: HTTP ${response.status}`);
    state.pretrained.set(arch, new Uint8Array(await response.arrayBuffer()));
  }
  return state.pretrained.get(arch);
}

/** The weights that predict in the current mode: fine-tuned ones if any, else pretrained. */
function currentWeights() {
  const own = state.weights[state.mode];
  return own && own.arch === state.arch ? own : null;
}

async function useModel() {
  const own = currentWeights();
  const bytes = own ? own.bytes : await pretrainedBytes(state.arch);
  const model = await DigitModel.load(bytes, "cpu");
  state.model?.free();
  state.model = model;
  const info = $("weights-info");
  if (own) {
    info.textContent = `In use: ${own.origin} ${own.arch} with classes ${own.classes.join(", ")}.`;
  } else {
    info.textContent = `In use: the pretrained ${state.arch} (MNIST digits).`;
    if (state.mode === "new") info.textContent += " Fine-tune to get a head for your classes.";
  }
  await predict();
}

// ---------------------------------------------------------------- samples

function counts(t = task()) {
  const c = new Array(t.classes.length).fill(0);
  for (const s of t.samples) c[s.label] += 1;
  return c;
}

function thumbnail(image) {
  const canvas = document.createElement("canvas");
  canvas.width = 28;
  canvas.height = 28;
  const g = canvas.getContext("2d");
  const data = g.createImageData(28, 28);
  image.forEach((v, i) => data.data.set([v, v, v, 255], i * 4));
  g.putImageData(data, 0, 0);
  return canvas;
}

function renderSamples() {
  const t = task();
  const n = counts();
  $("label-buttons").replaceChildren(...t.classes.map((name, i) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "label";
    b.dataset.label = String(i);
    b.textContent = name;
    const badge = document.createElement("small");
    badge.textContent = String(n[i]);
    b.append(badge);
    b.title = `Label the drawing as ${name}` + (i < 9 ? ` (key ${state.mode === "adapt" ? name : i + 1})` : "");
    b.addEventListener("click", () => addSample(i));
    return b;
  }));
  $("sample-count").textContent = t.classes.length
    ? `${t.samples.length} sample${t.samples.length === 1 ? "" : "s"} in ${t.classes.length} classes.`
    : "Add at least two classes.";
  $("gallery").replaceChildren(...t.classes.map((name, label) => {
    const group = document.createElement("div");
    group.className = "group";
    const title = document.createElement("h4");
    title.textContent = `${name} · ${n[label]}`;
    const items = document.createElement("div");
    items.className = "thumbs";
    for (const s of t.samples.filter((s) => s.label === label)) {
      const item = document.createElement("button");
      item.type = "button";
      item.className = "thumb";
      item.title = `Delete this ${name}`;
      item.setAttribute("aria-label", `Delete sample of ${name}`);
      item.append(thumbnail(s.image));
      item.addEventListener("click", () => deleteSample(s.id));
      items.append(item);
    }
    group.append(title, items);
    return group;
  }));
  $("class-list").replaceChildren(...state.tasks.new.classes.map((name, i) => {
    const li = document.createElement("li");
    li.textContent = name;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "×";
    remove.setAttribute("aria-label", `Remove class ${name}`);
    remove.addEventListener("click", () => removeClass(i));
    li.append(remove);
    return li;
  }));
  $("rehearsal-field").hidden = state.mode !== "adapt";
}

/** Tell the person once, gently, that this window keeps nothing (no usable IndexedDB). */
let warnedMemoryOnly = false;
function warnIfMemoryOnly() {
  if (store.persistent || warnedMemoryOnly) return;
  warnedMemoryOnly = true;
  $("storage-note").hidden = false;
  $("storage-note").textContent = "This browser window does not let the page store anything: your samples and fine-tuned weights live in this tab only and are gone when it closes. Use “Export samples” and the weights export to keep them.";
}

function storageFailed(error) {
  say(`Could not save the samples: ${store.describe(error)}. They stay in this tab; use “Export samples” to keep them.`, "error");
}

/** Store new samples of `mode` (each its own record, so other tabs' samples are untouched). */
async function storeSamples(mode, samples) {
  const classes = state.tasks[mode].classes;
  try {
    await store.addSamples(samples.map((s) => ({ id: s.id, mode, cls: classes[s.label], image: s.image })), mode);
  } catch (error) {
    storageFailed(error);
  }
  warnIfMemoryOnly();
}

async function unstoreSamples(mode, ids) {
  try {
    await store.deleteSamples(ids, mode);
  } catch (error) {
    say(`Could not delete the stored samples: ${store.describe(error)}.`, "error");
  }
}

/** A new task's class names (adapt mode's are the digits). */
async function storeClasses() {
  try {
    await store.put("classes:new", state.tasks.new.classes, ["classes", "new"]);
  } catch (error) {
    storageFailed(error);
  }
}

/**
 * The samples of `mode` as stored, this tab's and every other tab's: labels follow the class
 * names, and a sample of a class this tab does not list brings its class back (never lost).
 */
async function loadTask(mode) {
  const t = state.tasks[mode];
  const classes = mode === "adapt" ? DIGITS : [...((await store.get("classes:new")) ?? t.classes)];
  const samples = [];
  for (const record of await store.samples(mode)) {
    let label = classes.indexOf(record.cls);
    if (label < 0) {
      if (mode === "adapt" || classes.length >= 64) continue;
      classes.push(record.cls);
      label = classes.length - 1;
    }
    samples.push({ id: record.id, label, image: new Uint8Array(record.image) });
  }
  state.tasks[mode] = { classes, samples };
}

// Another tab changed the samples or the class names: show what is stored now.
store.onChange(async ({ what, mode }) => {
  if ((what !== "samples" && what !== "classes") || !state.tasks[mode]) return;
  try {
    await loadTask(mode);
    if (mode === state.mode) renderSamples();
  } catch (error) {
    console.warn(`could not reload the samples another tab changed: ${store.describe(error)}`);
  }
});

function addSample(label) {
  if (busy()) return say("Wait for fine-tuning to finish before changing the samples.", "error");
  if (pad.isEmpty()) return say("Draw something first, then label it.", "error");
  let image;
  try {
    // The drawing as it is now, preprocessed exactly as for a prediction.
    const { data, width, height } = pad.pixels();
    image = canvas_to_image(new Uint8Array(data.buffer), width, height);
  } catch (error) {
    return say(`This drawing cannot be used: ${errorText(error)}`, "error");
  }
  const t = task();
  const sample = { id: store.newId(), label, image };
  t.samples.push(sample);
  say(`Added a sample of ${t.classes[label]}.`);
  pad.clear();
  renderSamples();
  storeSamples(state.mode, [sample]);
}

function deleteSample(id) {
  if (busy()) return say("Wait for fine-tuning to finish before changing the samples.", "error");
  const t = task();
  t.samples = t.samples.filter((s) => s.id !== id);
  renderSamples();
  unstoreSamples(state.mode, [id]);
}

$("clear-samples").addEventListener("click", () => {
  if (busy()) return;
  const t = task();
  if (!t.samples.length) return;
  const kept = t.samples;
  t.samples = [];
  renderSamples();
  unstoreSamples(state.mode, kept.map((s) => s.id));
  say(`Deleted ${kept.length} samples.`);
});

function addClass(name) {
  const t = state.tasks.new;
  name = name.trim();
  if (!name) return say("A class needs a name.", "error");
  if ([...name].length > 40) return say("Class names are at most 40 characters.", "error");
  if (t.classes.includes(name)) return say(`There is already a class “${name}”.`, "error");
  if (t.classes.length >= 64) return say("At most 64 classes.", "error");
  t.classes = [...t.classes, name];
  renderSamples();
  storeClasses();
}

function removeClass(index) {
  const t = state.tasks.new;
  if (busy()) return;
  if (t.samples.some((s) => s.label === index)) {
    return say(`Class “${t.classes[index]}” has samples: delete them first.`, "error");
  }
  t.classes = t.classes.filter((_, i) => i !== index);
  for (const s of t.samples) if (s.label > index) s.label -= 1;
  renderSamples();
  storeClasses();
}

$("class-form").addEventListener("submit", (e) => {
  e.preventDefault();
  addClass($("class-name").value);
  $("class-name").value = "";
});
for (const b of document.querySelectorAll("[data-preset]")) {
  b.addEventListener("click", () => {
    for (const name of b.dataset.preset.split("|")) {
      if (!state.tasks.new.classes.includes(name)) addClass(name);
    }
  });
}

async function setMode(mode) {
  if (busy() || mode === state.mode) return;
  state.mode = mode;
  $("mode-adapt").setAttribute("aria-pressed", String(mode === "adapt"));
  $("mode-new").setAttribute("aria-pressed", String(mode === "new"));
  $("class-editor").hidden = mode !== "new";
  document.body.dataset.mode = mode;
  renderSamples();
  clearResults();
  await useModel();
}
$("mode-adapt").addEventListener("click", () => setMode("adapt"));
$("mode-new").addEventListener("click", () => setMode("new"));

document.addEventListener("keydown", (e) => {
  if (e.target.closest("input, select, textarea")) return;
  if ((e.ctrlKey || e.metaKey) && e.key === "z") {
    e.preventDefault();
    pad.undo();
  } else if (e.key === "Backspace" || e.key === "Escape") {
    e.preventDefault();
    pad.clear();
  } else if (/^[0-9]$/.test(e.key) && !e.ctrlKey && !e.metaKey && !e.altKey) {
    const classes = task().classes;
    const index = state.mode === "adapt" ? classes.indexOf(e.key) : Number(e.key) - 1;
    if (index >= 0 && index < classes.length) addSample(index);
  }
});

// ---------------------------------------------------------------- files

function download(bytes, name, type) {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function flatten(samples) {
  const images = new Uint8Array(samples.length * PIXELS);
  const labels = new Uint8Array(samples.length);
  samples.forEach((s, i) => {
    images.set(s.image, i * PIXELS);
    labels[i] = s.label;
  });
  return { images, labels };
}

$("export-samples").addEventListener("click", () => {
  const t = task();
  try {
    const { images, labels } = flatten(t.samples);
    const json = encode_samples(t.classes, images, labels);
    download(json, `digit-transfer-${state.mode === "adapt" ? "digits" : "task"}-samples.json`, "application/json");
    say(`Exported ${t.samples.length} samples.`);
  } catch (error) {
    say(`Could not export: ${errorText(error)}`, "error");
  }
});

async function readFile(input) {
  const file = input.files?.[0];
  input.value = "";
  if (!file) return null;
  if (file.size === 0) throw new Error(`${file.name} is empty`);
  if (file.size > MAX_IMPORT_BYTES) {
    throw new Error(`${file.name} is ${(file.size / 1e6).toFixed(0)} MB; the limit is ${MAX_IMPORT_BYTES / 1024 / 1024} MB`);
  }
  return { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
}

$("import-samples").addEventListener("change", async (e) => {
  if (busy()) return say("Wait for fine-tuning to finish before importing.", "error");
  try {
    const file = await readFile(e.target);
    if (!file) return;
    let decoded;
    try {
      decoded = decode_samples(file.bytes);
    } catch (error) {
      throw new Error(`${file.name}: ${errorText(error)}`);
    }
    const classes = decoded.classes;
    const mode = classes.join("\u0000") === DIGITS.join("\u0000") ? "adapt" : "new";
    const t = state.tasks[mode];
    // Merge by class name, so that nothing already collected is lost.
    const map = classes.map((name) => {
      let i = t.classes.indexOf(name);
      if (i < 0) {
        t.classes = [...t.classes, name];
        i = t.classes.length - 1;
      }
      return i;
    });
    const n = decoded.labels.length;
    const added = [];
    for (let i = 0; i < n; i++) {
      added.push({
        id: store.newId(),
        label: map[decoded.labels[i]],
        image: decoded.images.slice(i * PIXELS, (i + 1) * PIXELS),
      });
    }
    t.samples.push(...added);
    decoded.free();
    await setMode(mode);
    renderSamples();
    if (mode === "new") await storeClasses();
    await storeSamples(mode, added);
    say(`Imported ${n} samples of ${classes.length} classes from ${file.name}.`);
  } catch (error) {
    say(`Could not import: ${errorText(error)}. Nothing was changed.`, "error");
  }
});

for (const [id, format, extension] of [["export-bpk", "burnpack", "bpk"], ["export-safetensors", "safetensors", "safetensors"]]) {
  $(id).addEventListener("click", async () => {
    try {
      const bytes = await state.model.export(format);
      const own = currentWeights();
      download(bytes, `digit-transfer-${state.arch}${own ? "-finetuned" : "-pretrained"}.${extension}`, "application/octet-stream");
    } catch (error) {
      say(`Could not export the weights: ${errorText(error)}`, "error");
    }
  });
}

async function saveWeights(mode) {
  try {
    if (state.weights[mode]) await store.put(`weights:${mode}`, state.weights[mode]);
    else await store.remove(`weights:${mode}`);
  } catch (error) {
    say(`Could not save the weights: ${store.describe(error)}. Export them to keep them.`, "error");
  }
}

$("load-weights").addEventListener("change", async (e) => {
  if (busy()) return say("Wait for fine-tuning to finish before loading weights.", "error");
  try {
    const file = await readFile(e.target);
    if (!file) return;
    let model;
    try {
      model = await DigitModel.load(file.bytes, "cpu");
    } catch (error) {
      throw new Error(`${file.name}: ${errorText(error)}`);
    }
    const classes = model.class_names;
    const arch = model.architecture;
    const burnpack = await model.export("burnpack");
    model.free();
    const mode = classes.join("\u0000") === DIGITS.join("\u0000") ? "adapt" : "new";
    const t = state.tasks[mode];
    if (mode === "new" && t.samples.length && t.classes.join("\u0000") !== classes.join("\u0000")) {
      throw new Error(`its classes (${classes.join(", ")}) differ from your task's (${t.classes.join(", ")}); delete the task's samples or load matching weights`);
    }
    if (mode === "new") t.classes = classes;
    state.weights[mode] = { arch, classes, bytes: burnpack, origin: `loaded from ${file.name}:` };
    if (arch !== state.arch) {
      state.arch = arch;
      $("arch").value = arch;
    }
    await saveWeights(mode);
    if (mode === "new") await storeClasses();
    await setMode(mode);
    renderSamples();
    await useModel();
    say(`Loaded ${arch} weights with ${classes.length} classes from ${file.name}.`);
  } catch (error) {
    say(`Could not load the weights: ${errorText(error)}. The model in use is unchanged.`, "error");
  }
});

$("reset").addEventListener("click", async () => {
  if (busy()) return;
  state.weights[state.mode] = null;
  await saveWeights(state.mode);
  clearResults();
  await useModel();
  say(`Back to the pretrained ${state.arch}.`);
});

$("arch").addEventListener("change", async () => {
  if (busy()) {
    $("arch").value = state.arch;
    return;
  }
  state.arch = $("arch").value;
  await store.put("arch", state.arch).catch(() => {});
  clearResults();
  try {
    await useModel();
    say(`Using the pretrained ${state.arch}.`);
  } catch (error) {
    say(`Could not load the ${state.arch}: ${errorText(error)}`, "error");
  }
});

// ---------------------------------------------------------------- the training worker

function showBadge(ready) {
  const badge = $("badge");
  $("remeasure").hidden = !ready?.choice;
  if (!ready) {
    badge.textContent = "Starting the device…";
    badge.dataset.device = "none";
    $("device-reason")?.remove();
    return;
  }
  badge.dataset.device = ready.kind;
  const name = ready.kind === "webgpu" ? `WebGPU${ready.adapter ? ` · ${ready.adapter}` : ""}` : ready.label;
  // Auto's measured choice says why, with its numbers (the sentences are made in Rust).
  const why = ready.choice ? `Auto measured ${ready.choice.figures}` : ready.reason;
  badge.textContent = ready.choice ? `${name} — ${ready.choice.summary}` : name;
  badge.title = why ? `Fine-tuning runs on ${name}: ${ready.choice ? `${ready.choice.summary} (${ready.choice.figures})` : ready.detail}` : `Fine-tuning runs on ${name}`;
  $("device-reason")?.remove();
  if (why) {
    const span = document.createElement("span");
    span.id = "device-reason";
    span.className = "why";
    span.textContent = why;
    span.title = ready.detail || why;
    badge.after(span);
  }
}

function showMeasuring(adapter) {
  const badge = $("badge");
  badge.dataset.device = "measuring";
  badge.textContent = `Measuring WebGPU${adapter ? ` (${adapter})` : ""} against the CPU…`;
  badge.title = "Auto times a few training steps on each device and trains on the faster; drawing and predictions work meanwhile.";
}

class Trainer {
  /** `choices`: a promise of Auto's kept measurements; `options.remeasure` measures again. */
  constructor(device, choices, options = {}) {
    this.device = device;
    this.measuredFor = { arch: state.arch, batch: settings().batch_size };
    this.worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
    this.listeners = new Set();
    this.ready = new Promise((resolve, reject) => {
      this.listen((m) => {
        if (m.type === "ready") resolve(m);
        else if (m.type === "error" && m.during === "open") reject(new Error(m.message));
      });
    });
    this.worker.onmessage = ({ data }) => this.listeners.forEach((l) => l(data));
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.listeners.forEach((l) => l({ type: "crash", message: e.message || "the training worker stopped" }));
    };
    const { arch, batch } = this.measuredFor;
    const valid = Number.isInteger(batch) && batch >= 1 ? batch : 16;
    choices.then((kept) => {
      this.worker.postMessage({ type: "open", device, fault: FAULT, arch, batch: valid, choices: kept, remeasure: Boolean(options.remeasure) });
    });
  }
  listen(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  close() {
    this.worker.terminate();
  }
}

/** Auto's measurements kept in this browser: { key → choice } (see the worker). */
async function savedChoices() {
  try {
    return (await store.get("device-choices")) ?? {};
  } catch {
    return {};
  }
}

async function startTrainer(device, options = {}) {
  state.trainer?.close();
  showBadge(null);
  const trainer = new Trainer(device, savedChoices(), options);
  state.trainer = trainer;
  trainer.listen((m) => {
    if (state.trainer !== trainer) return;
    if (m.type === "measuring") showMeasuring(m.adapter);
    if (m.type === "measured") {
      savedChoices().then((choices) => store.put("device-choices", { ...choices, [m.key]: m.choice })).catch(() => {});
    }
  });
  try {
    const ready = await trainer.ready;
    if (state.trainer !== trainer) return;
    trainer.info = ready;
    showBadge(ready);
    document.body.dataset.device = ready.kind;
    // A GPU lost between runs: move to the CPU now rather than fail the next run.
    trainer.listen((m) => {
      if (m.type !== "device-lost" || state.training || state.trainer !== trainer) return;
      say(`${m.message[0].toUpperCase()}${m.message.slice(1)}; fine-tuning now runs on the CPU.`, "error");
      $("device").value = "cpu";
      startTrainer("cpu");
    });
  } catch (error) {
    if (state.trainer !== trainer) return;
    say(`${device === "webgpu" ? "WebGPU" : "The device"} is not available: ${errorText(error)}. Using the CPU.`, "error");
    $("device").value = "cpu";
    await startTrainer("cpu");
  }
}

/** Auto measured for another network or batch size: measure (or recall) for this one. */
async function trainerForThisRun() {
  const trainer = state.trainer;
  const { arch, batch } = trainer.measuredFor;
  if (trainer.device === "auto" && trainer.info?.choice && (arch !== state.arch || batch !== settings().batch_size)) {
    await startTrainer("auto");
  }
  return state.trainer;
}

$("remeasure").addEventListener("click", async () => {
  if (busy()) return;
  await startTrainer($("device").value, { remeasure: true });
});

$("device").addEventListener("change", async () => {
  if (busy()) return;
  await startTrainer($("device").value);
  store.put("device", $("device").value).catch(() => {});
});

// ---------------------------------------------------------------- charts

const css = getComputedStyle(document.documentElement);
const colour = (name) => css.getPropertyValue(name).trim() || "#888";
function makeChart(target, title, yLabel, range) {
  const width = Math.max(240, target.clientWidth || 320);
  return new uPlot({
    title,
    width,
    height: 180,
    legend: { live: false },
    scales: { x: { time: false }, y: range ? { range } : {} },
    axes: [
      { label: "epoch", stroke: colour("--ink"), grid: { stroke: colour("--grid") }, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500] },
      { label: yLabel, stroke: colour("--ink"), grid: { stroke: colour("--grid") } },
    ],
    series: [
      { label: "epoch" },
      { label: "train", stroke: colour("--accent"), width: 2 },
      { label: "validation", stroke: colour("--accent-2"), width: 2, dash: [6, 3] },
    ],
  }, [[], [], []], target);
}
const charts = {
  loss: makeChart($("chart-loss"), "Loss", "cross-entropy"),
  accuracy: makeChart($("chart-accuracy"), "Accuracy", "fraction", [0, 1]),
};
new ResizeObserver(() => {
  for (const [key, chart] of Object.entries(charts)) {
    const width = Math.max(240, $(`chart-${key}`).clientWidth);
    if (Math.abs(chart.width - width) > 4) chart.setSize({ width, height: 180 });
  }
}).observe($("chart-loss").parentElement);

function plot(history) {
  const epochs = history.map((h) => h.epoch);
  charts.loss.setData([epochs, history.map((h) => h.loss), history.map((h) => h.val_loss ?? null)]);
  charts.accuracy.setData([epochs, history.map((h) => h.accuracy), history.map((h) => h.val_accuracy ?? null)]);
}

// ---------------------------------------------------------------- fine-tuning

function settings() {
  const form = new FormData($("settings"));
  const number = (name) => Number(form.get(name));
  return {
    strategy: form.get("strategy"),
    epochs: number("epochs"),
    // Empty: auto (16, or all the training samples when there are fewer).
    batch_size: form.get("batch_size") === "" ? null : number("batch_size"),
    learning_rate: number("learning_rate"),
    weight_decay: number("weight_decay"),
    augment: form.get("augment") === "on",
    validation_split: number("validation_split"),
    patience: number("patience"),
    rehearsal: state.mode === "adapt" ? number("rehearsal") : 0,
    seed: 1,
  };
}

$("settings").addEventListener("change", () => {
  const { rehearsal, ...rest } = settings();
  store.put("settings", { ...rest, rehearsal: Number(new FormData($("settings")).get("rehearsal")) }).catch(() => {});
});

function restoreSettings(saved) {
  const form = $("settings");
  for (const [name, value] of Object.entries(saved ?? {})) {
    const field = form.elements.namedItem(name);
    if (!field || name === "seed") continue;
    if (field.type === "checkbox") field.checked = Boolean(value);
    else field.value = value == null ? "" : String(value);
  }
}

/** Refuse what cannot train before a worker is bothered with it. */
function checkSettings(s) {
  const whole = (v) => Number.isInteger(v) && v >= 1;
  if (!whole(s.epochs)) return "Epochs must be a whole number of at least 1.";
  if (s.batch_size !== null && !whole(s.batch_size)) return "Batch size must be a whole number of at least 1 (or empty: auto).";
  if (!(s.learning_rate > 0)) return "The learning rate must be above 0.";
  if (!(s.weight_decay >= 0)) return "Weight decay must be 0 or more.";
  if (!(s.validation_split >= 0 && s.validation_split < 1)) return "The validation split must be from 0 to below 1.";
  if (!(Number.isInteger(s.patience) && s.patience >= 0)) return "Patience must be a whole number (0 turns early stopping off).";
  if (!(Number.isInteger(s.rehearsal) && s.rehearsal >= 0)) return "Rehearsal must be a whole number, 0 or more.";
  const t = task();
  if (t.classes.length < 2) return "Add at least two classes first.";
  const n = counts();
  // Adapt mode trains on any digits a person labelled; the others are kept by rehearsal.
  if (state.mode === "adapt") return t.samples.length ? null : "Draw and label at least one digit first.";
  const empty = t.classes.filter((_, i) => n[i] === 0);
  if (empty.length) return `Draw at least one sample of ${empty.map((c) => `“${c}”`).join(", ")} first.`;
  return null;
}

function setTraining(on) {
  for (const id of ["train", "compare", "device", "arch", "mode-adapt", "mode-new", "reset", "clear-samples"]) $(id).disabled = on;
  $("stop").disabled = !on;
  $("settings").inert = on;
  document.body.dataset.training = String(on);
}

function clearResults() {
  $("results-empty").hidden = false;
  $("summary").replaceChildren();
  $("comparison").hidden = true;
  $("comparison").replaceChildren();
  $("per-class").replaceChildren();
  $("confusion").replaceChildren();
  $("per-class-title").hidden = true;
  $("confusion-title").hidden = true;
  plot([]);
}

const percent = (x) => (x == null ? "–" : `${(x * 100).toFixed(1)}%`);

function row(cells, header = false) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const cell = document.createElement(header ? "th" : "td");
    cell.textContent = c;
    tr.append(cell);
  }
  return tr;
}

/** A digit the person did not label: kept by MNIST digits, so it has no figures of its own. */
function keptRow(name) {
  const tr = row([name, "kept by rehearsal (no samples of yours)"]);
  tr.lastChild.colSpan = 4;
  tr.lastChild.className = "kept";
  return tr;
}

function showReport(report, device) {
  $("results-empty").hidden = true;
  const v = report.validation;
  const last = report.history.at(-1);
  const items = [
    ["Strategy", `${{ head: "head only", full: "full", scratch: "from scratch" }[report.strategy]} · ${report.strategy === "scratch" ? "fresh weights" : report.new_head ? "new head on the pretrained backbone" : "pretrained head"}`],
    ["Device", device],
    ["Samples", `${report.train_samples} train · ${report.validation_samples} validation${report.kept_samples ? ` · ${report.kept_samples} MNIST digits keeping the others` : ""}`],
    ["Epochs", `${report.history.length}${report.early_stopped ? " (stopped early)" : ""}${report.stopped ? " (stopped)" : ""}${report.best_epoch ? `, kept epoch ${report.best_epoch}` : ""}`],
    ["Speed", last ? `${Math.round(last.samples_per_sec).toLocaleString("en")} samples/s · ${report.seconds.toFixed(1)} s in all` : "–"],
    ["Validation accuracy", v ? `${percent(report.validation_accuracy_before)} before → ${percent(v.accuracy)} after` : "no validation split"],
  ];
  if (report.notes?.length) items.push(["Notes", report.notes.join("; ")]);
  if (report.source_accuracy_before != null) {
    items.push(["Forgetting (held-out MNIST)", `${percent(report.source_accuracy_before)} before → ${percent(report.source_accuracy_after)} after (${(report.forgetting * 100).toFixed(1)} points)`]);
  }
  $("summary").replaceChildren(...items.flatMap(([k, val]) => {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = val;
    dd.dataset.key = k;
    return [dt, dd];
  }));
  const names = report.class_names;
  if (v) {
    $("per-class-title").hidden = false;
    $("confusion-title").hidden = false;
    $("per-class").replaceChildren(
      row(["class", "precision", "recall", "F1", "samples"], true),
      ...v.per_class.map((m, i) => (report.kept_by_rehearsal?.includes(names[i])
        ? keptRow(names[i])
        : row([names[i], m.precision.toFixed(2), m.recall.toFixed(2), m.f1.toFixed(2), String(m.support)]))),
    );
    const max = Math.max(1, ...v.confusion.flat());
    $("confusion").replaceChildren(
      row(["", ...names], true),
      ...v.confusion.map((counts, truth) => {
        const tr = row([names[truth], ...counts.map(String)]);
        tr.firstChild.className = "rowhead";
        [...tr.children].slice(1).forEach((td, predicted) => {
          td.className = predicted === truth ? "hit" : counts[predicted] ? "miss" : "";
          td.style.setProperty("--level", String(counts[predicted] / max));
        });
        return tr;
      }),
    );
  }
}

function showComparison(results) {
  const box = $("comparison");
  box.hidden = false;
  const title = document.createElement("h3");
  title.textContent = "Validation accuracy by strategy";
  const list = document.createElement("ul");
  list.className = "bars compare";
  for (const { strategy, report } of results) {
    const accuracy = report.validation?.accuracy ?? report.history.at(-1)?.accuracy ?? 0;
    const li = barRow({ head: "head only", full: "full", scratch: "scratch" }[strategy], accuracy);
    li.dataset.strategy = strategy;
    list.append(li);
  }
  box.replaceChildren(title, list);
}

async function fineTune(strategies) {
  if (busy()) return;
  const s = settings();
  const problem = checkSettings(s);
  if (problem) return say(problem, "error");
  const t = task();
  const mode = state.mode;
  const { images, labels } = flatten(t.samples);
  const job = {
    type: "train",
    pretrained: await pretrainedBytes(state.arch),
    classes: t.classes,
    images,
    labels,
    settings: s,
    strategies: strategies ?? [s.strategy],
    adapt: mode === "adapt",
  };
  clearResults();
  setTraining(true);
  const results = [];
  try {
    await runJob(job, results);
  } catch (error) {
    say(`Fine-tuning failed: ${errorText(error)}. Your samples and the model in use are unchanged.`, "error");
    $("train-status").textContent = "Fine-tuning failed.";
  } finally {
    state.training = null;
    setTraining(false);
  }
  if (!results.length) return;
  if (results.length > 1) showComparison(results);
  const best = results.reduce((a, b) => ((b.report.validation?.accuracy ?? 0) > (a.report.validation?.accuracy ?? 0) ? b : a));
  showReport(best.report, best.device);
  plot(best.report.history);
  state.weights[mode] = { arch: state.arch, classes: t.classes, bytes: best.weights, origin: `fine-tuned (${best.strategy})` };
  await saveWeights(mode);
  await useModel();
  if (results.length > 1) say(`Compared ${results.length} strategies; using ${best.strategy}, the best on the validation split.`);
  document.body.dataset.trained = String(Number(document.body.dataset.trained ?? 0) + 1);
}

/** Run a job on the worker; if WebGPU fails mid-way, finish it on the CPU and say so. */
async function runJob(job, results) {
  await state.trainer.ready.catch(() => {});
  const trainer = await trainerForThisRun();
  await trainer.ready;
  const device = trainer.info?.kind === "webgpu" ? `WebGPU${trainer.info.adapter ? ` · ${trainer.info.adapter}` : ""}` : trainer.info?.label ?? "CPU";
  const started = performance.now();
  let firstBatch = true;
  const done = new Promise((resolve, reject) => {
    const stopListening = trainer.listen((m) => {
      if (m.type === "progress") {
        const p = m.progress;
        if (firstBatch) firstBatch = false;
        const strategies = job.strategies;
        const overall = (fraction) => (strategies.indexOf(m.strategy) + fraction) / strategies.length;
        if (p.kind === "batch") {
          $("progress").value = overall((p.epoch - 1 + p.batch / p.batches) / p.epochs);
          // On WebGPU a batch has no loss to show: the figures are read once per epoch.
          const loss = p.loss == null ? "" : ` · loss ${p.loss.toFixed(3)}`;
          $("train-status").textContent = `${m.strategy}: epoch ${p.epoch}/${p.epochs}, batch ${p.batch}/${p.batches}${loss} · ${Math.round(p.samples_per_sec).toLocaleString("en")} samples/s`;
        } else {
          const history = (state.training.history ??= []);
          history.push(p);
          plot(history);
          $("progress").value = overall(p.epoch / job.settings.epochs);
          const validation = p.val_accuracy == null ? "" : ` · validation accuracy ${percent(p.val_accuracy)}`;
          $("train-status").textContent = `${m.strategy}: epoch ${p.epoch}/${job.settings.epochs} done · loss ${p.loss.toFixed(3)}${validation} · ${Math.round(p.samples_per_sec).toLocaleString("en")} samples/s`;
        }
      } else if (m.type === "checkpoint") {
        // The weights after an epoch on WebGPU, with the curves so far: what a CPU run
        // goes on from if the GPU is lost.
        state.training.checkpoint = { strategy: m.strategy, epoch: m.epoch, weights: m.weights, history: [...state.training.history] };
      } else if (m.type === "result") {
        const report = m.report;
        if (report.resumed_after_epoch != null) {
          const earlier = (job.earlier ?? []).filter((h) => h.epoch <= report.resumed_after_epoch);
          report.history = [...earlier, ...report.history];
        }
        results.push({ strategy: m.strategy, report, weights: m.weights, device: job.resume ? `${device}, after ${job.resume.epoch} epoch${job.resume.epoch === 1 ? "" : "s"} on WebGPU` : device });
        state.training.history = [];
        state.training.checkpoint = null;
      } else if (m.type === "done") {
        stopListening();
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        $("train-status").textContent = m.stopped ? `Stopped after ${seconds} s; the best weights so far are kept.` : `Done in ${seconds} s on ${device}.`;
        $("progress").value = 1;
        resolve();
      } else if (m.type === "error" || m.type === "crash" || m.type === "device-lost") {
        stopListening();
        reject(new Error(m.message));
      }
    });
  });
  state.training = { job, history: [...(job.earlier ?? [])], checkpoint: null };
  if (trainer.info?.kind === "webgpu") {
    $("train-status").textContent = "Starting on WebGPU: the first step compiles its shaders, which can take several seconds…";
  } else {
    $("train-status").textContent = "Starting…";
  }
  const { earlier, ...message } = job;
  trainer.worker.postMessage(message);
  try {
    await done;
  } catch (error) {
    if (trainer.info?.kind !== "webgpu") throw error;
    // The GPU failed (device lost, out of memory, driver error): finish on the CPU, from the
    // last epoch's weights when there are some.
    const checkpoint = state.training?.checkpoint;
    const remaining = job.strategies.filter((s) => !results.some((r) => r.strategy === s));
    const resume = checkpoint && remaining.includes(checkpoint.strategy) ? checkpoint : null;
    const from = resume ? ` from the weights after epoch ${resume.epoch}` : "";
    say(`WebGPU failed during fine-tuning (${errorText(error)}); finishing on the CPU${from}. Your samples are unchanged.`, "error");
    $("device").value = "cpu";
    await startTrainer("cpu");
    await runJob({
      ...job,
      strategies: remaining,
      resume: resume && { strategy: resume.strategy, epoch: resume.epoch, weights: resume.weights },
      earlier: resume?.history ?? [],
    }, results);
  }
}

$("train").addEventListener("click", () => fineTune(null));
$("compare").addEventListener("click", () => fineTune(["head", "full", "scratch"]));
$("stop").addEventListener("click", () => {
  state.trainer?.worker.postMessage({ type: "stop" });
  $("train-status").textContent = "Stopping after this batch…";
});

// ---------------------------------------------------------------- start-up

async function restore() {
  try {
    for (const mode of ["adapt", "new"]) {
      await loadTask(mode);
      const weights = await store.get(`weights:${mode}`);
      if (weights?.bytes) state.weights[mode] = weights;
    }
    const arch = await store.get("arch");
    if (arch === "cnn" || arch === "mlp") state.arch = arch;
    restoreSettings(await store.get("settings"));
    const device = await store.get("device");
    if (["auto", "webgpu", "cpu"].includes(device)) $("device").value = device;
  } catch (error) {
    say(`Saved samples could not be read (${store.describe(error)}); starting empty.`, "error");
  }
}

async function start() {
  const t0 = performance.now();
  await Promise.all([init(), restore()]);
  $("arch").value = state.arch;
  renderSamples();
  clearResults();
  warnIfMemoryOnly();
  const trainer = startTrainer($("device").value);
  try {
    await useModel();
    performance.mark("model-ready");
    const ms = Math.round(performance.now() - t0);
    say(`Pretrained ${state.arch} ready in ${ms} ms. Draw a digit; predictions run on the CPU in this tab, fine-tuning in a background worker.`);
    document.body.dataset.ready = "true";
  } catch (error) {
    say(`Could not load the model: ${errorText(error)}`, "error");
  }
  await trainer;
}

start();
