// Files in and out: samples files (export, import), weights (.bpk / .safetensors export, load,
// reset to pretrained), and the fine-tuned weights kept in IndexedDB.
import { DigitModel, check_file_size, decode_samples, encode_samples, image_pixels, is_digit_task } from "../digit-transfer.js";
import * as store from "./store.js";
import { $, busy, errorText, say, state, task } from "./page.js";
import { currentWeights, useModel } from "./prediction.js";
import { renderSamples, setMode, storeClasses, storeSamples } from "./gallery.js";
import { clearResults } from "./results.js";

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

/** Samples as the wasm takes them: one buffer of images after another, and the labels. */
export function flatten(samples) {
  const pixels = image_pixels();
  const images = new Uint8Array(samples.length * pixels);
  const labels = new Uint8Array(samples.length);
  samples.forEach((s, i) => {
    images.set(s.image, i * pixels);
    labels[i] = s.label;
  });
  return { images, labels };
}

export function exportSamples() {
  const t = task();
  try {
    const { images, labels } = flatten(t.samples);
    const json = encode_samples(t.classes, images, labels);
    download(json, `digit-transfer-${state.mode === "adapt" ? "digits" : "task"}-samples.json`, "application/json");
    say(`Exported ${t.samples.length} samples.`);
  } catch (error) {
    say(`Could not export: ${errorText(error)}`, "error");
  }
}

/** The file chosen in `input` (cleared for the next choice), or null. */
async function readFile(input) {
  const file = input.files?.[0];
  input.value = "";
  if (!file) return null;
  check_file_size(file.name, file.size);
  return { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
}

/** Merge decoded samples into the task their classes belong to, by class name. */
function mergeSamples(decoded) {
  const classes = decoded.classes;
  const mode = is_digit_task(classes) ? "adapt" : "new";
  const t = state.tasks[mode];
  const map = classes.map((name) => {
    let i = t.classes.indexOf(name);
    if (i < 0) {
      t.classes = [...t.classes, name];
      i = t.classes.length - 1;
    }
    return i;
  });
  const pixels = image_pixels();
  const added = Array.from(decoded.labels, (label, i) => ({
    id: store.newId(),
    label: map[label],
    image: decoded.images.slice(i * pixels, (i + 1) * pixels),
  }));
  t.samples.push(...added);
  return { mode, added };
}

export async function importSamples(input) {
  if (busy()) return say("Wait for fine-tuning to finish before importing.", "error");
  try {
    const file = await readFile(input);
    if (!file) return;
    let decoded;
    try {
      decoded = decode_samples(file.bytes);
    } catch (error) {
      throw new Error(`${file.name}: ${errorText(error)}`);
    }
    const classes = decoded.classes.length;
    const { mode, added } = mergeSamples(decoded);
    decoded.free();
    await setMode(mode);
    renderSamples();
    if (mode === "new") await storeClasses();
    await storeSamples(mode, added);
    say(`Imported ${added.length} samples of ${classes} classes from ${file.name}.`);
  } catch (error) {
    say(`Could not import: ${errorText(error)}. Nothing was changed.`, "error");
  }
}

export async function exportWeights(format, extension) {
  try {
    const bytes = await state.model.export(format);
    const own = currentWeights();
    download(bytes, `digit-transfer-${state.arch}${own ? "-finetuned" : "-pretrained"}.${extension}`, "application/octet-stream");
  } catch (error) {
    say(`Could not export the weights: ${errorText(error)}`, "error");
  }
}

/** Keep (or forget) the weights of `mode` in IndexedDB, in one transaction. */
export async function saveWeights(mode) {
  try {
    if (state.weights[mode]) await store.put(`weights:${mode}`, state.weights[mode]);
    else await store.remove(`weights:${mode}`);
  } catch (error) {
    say(`Could not save the weights: ${store.describe(error)}. Export them to keep them.`, "error");
  }
}

/** A weights file as { arch, classes, burnpack }, or an error naming the file. */
async function readWeights(file) {
  let model;
  try {
    model = await DigitModel.load(file.bytes, "cpu");
  } catch (error) {
    throw new Error(`${file.name}: ${errorText(error)}`);
  }
  const weights = { arch: model.architecture, classes: model.class_names, burnpack: await model.export("burnpack") };
  model.free();
  return weights;
}

export async function loadWeights(input) {
  if (busy()) return say("Wait for fine-tuning to finish before loading weights.", "error");
  try {
    const file = await readFile(input);
    if (!file) return;
    const { arch, classes, burnpack } = await readWeights(file);
    const mode = is_digit_task(classes) ? "adapt" : "new";
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
}

export async function resetWeights() {
  if (busy()) return;
  state.weights[state.mode] = null;
  await saveWeights(state.mode);
  clearResults();
  await useModel();
  say(`Back to the pretrained ${state.arch}.`);
}
