// Files in and out: samples files (export, import), weights (.bpk / .safetensors export, load,
// reset to pretrained), and the fine-tuned weights kept in IndexedDB.
import { DigitModel, check_file_size, check_new_class, image_pixels, is_digit_task } from "../digit-transfer.js";
import * as store from "./store.js";
import { $, busy, errorText, say, state, task } from "./page.js";
import { currentWeights, useModel } from "./prediction.js";
import { renderSamples, setMode, storeClasses, storeSamples, unstoreSamples } from "./gallery.js";
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

/** Decode or encode a samples file in a worker of its own (samples-worker.js), so that a file
 * of any size leaves the page responsive. */
function inSamplesWorker(message, transfer = []) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./samples-worker.js", import.meta.url), { type: "module" });
    const end = () => worker.terminate();
    worker.onmessage = ({ data }) => {
      end();
      if (data.error) reject(new Error(data.error));
      else resolve(data);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      end();
      reject(new Error(event.message || "the samples worker stopped"));
    };
    worker.postMessage(message, transfer);
  });
}

export async function exportSamples() {
  const t = task();
  const count = t.samples.length;
  try {
    const { images, labels } = flatten(t.samples);
    const { json } = await inSamplesWorker({ encode: { classes: t.classes, images, labels } }, [images.buffer, labels.buffer]);
    download(json, `digit-transfer-${state.mode === "adapt" ? "digits" : "task"}-samples.json`, "application/json");
    say(`Exported ${count.toLocaleString("en")} samples.`);
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

/**
 * Where decoded samples go: the task their classes belong to, and each file class's index
 * there (classes the task lacks are added, within the task's limits), or an Error saying why
 * they cannot be added. Nothing is changed yet.
 */
function placeSamples(decoded) {
  const mode = is_digit_task(decoded.classes) ? "adapt" : "new";
  const classes = [...state.tasks[mode].classes];
  const map = decoded.classes.map((name) => {
    let i = classes.indexOf(name);
    if (i < 0) {
      classes.push(check_new_class(classes, name));
      i = classes.length - 1;
    }
    return i;
  });
  return { mode, classes, map };
}

/** The import in progress, which Cancel ends: { cancelled }. */
let importing = null;

export const importInProgress = () => importing !== null;

export function cancelImport() {
  if (importing) importing.cancelled = true;
}

export async function importSamples(input) {
  if (busy()) return say("Wait for fine-tuning to finish before importing.", "error");
  if (importing) return say("An import is already under way.", "error");
  const run = { cancelled: false };
  importing = run;
  let file = null;
  try {
    file = await readFile(input);
    if (!file) return;
    say(`Reading ${file.name}…`);
    let decoded;
    try {
      decoded = await inSamplesWorker({ decode: file.bytes }, [file.bytes.buffer]);
    } catch (error) {
      throw new Error(`${file.name}: ${errorText(error)}`);
    }
    const { mode, classes, map } = placeSamples(decoded);
    await setMode(mode);
    if (state.mode !== mode) throw new Error("the task cannot change now");
    const t = state.tasks[mode];
    const newClasses = classes.length > t.classes.length;
    t.classes = classes;
    if (newClasses) await storeClasses();
    const result = await storeImported(mode, decoded, map, file.name, run);
    renderSamples();
    const from = `${decoded.classes.length} classes from ${file.name}`;
    if (result.cancelled) {
      say(`Import cancelled; the ${result.added.toLocaleString("en")} samples read so far were taken out again. Nothing was changed.`);
    } else if (result.error) {
      say(`Imported ${result.added.toLocaleString("en")} samples of ${from}, but ${result.unsaved.toLocaleString("en")} could not be saved: ${result.error}. They stay in this tab, marked unsaved, and are saved when storage works again; use “Export samples” to keep them.`, "error");
    } else {
      say(`Imported ${result.added.toLocaleString("en")} samples of ${from}.`);
    }
  } catch (error) {
    say(`Could not import: ${errorText(error)}. Nothing was changed.`, "error");
  } finally {
    importing = null;
    $("cancel-import").hidden = true;
  }
}

/**
 * Put decoded samples into the task `mode` and storage in slices of a few hundred, so that no
 * main-thread task is long and the person sees the progress and can cancel. Cancelling takes
 * the slices already added out again. Returns { added, unsaved, error, cancelled }.
 */
async function storeImported(mode, decoded, map, name, run) {
  const SLICE = 500;
  const pixels = image_pixels();
  const total = decoded.labels.length;
  const t = state.tasks[mode];
  const added = [];
  let unsaved = 0;
  let error = null;
  $("cancel-import").hidden = false;
  for (let start = 0; start < total; start += SLICE) {
    if (run.cancelled) break;
    say(`Importing ${start.toLocaleString("en")} of ${total.toLocaleString("en")} samples from ${name}…`);
    const slice = [];
    for (let i = start; i < Math.min(total, start + SLICE); i++) {
      slice.push({ id: store.newId(), label: map[decoded.labels[i]], image: decoded.images.slice(i * pixels, (i + 1) * pixels) });
    }
    for (const s of slice) t.samples.push(s);
    added.push(...slice);
    const saved = await storeSamples(mode, slice, { quiet: true });
    if (!saved.ok) {
      unsaved += slice.length;
      error ??= saved.error;
    }
    // Back to the event loop between slices: the progress shows, and a click on Cancel is seen.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  if (run.cancelled) {
    const ids = new Set(added.map((s) => s.id));
    state.tasks[mode].samples = state.tasks[mode].samples.filter((s) => !ids.has(s.id));
    await unstoreSamples(mode, [...ids]);
    return { added: added.length, unsaved: 0, error: null, cancelled: true };
  }
  return { added: added.length, unsaved, error, cancelled: false };
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

/** Keep (or forget) the weights of `mode` in IndexedDB, in one transaction, with the network
 * they are for. False (and the status line says why) when storage failed. */
/** Keep `mode`'s weights (or their absence); false, with the reason told to `report` (the
 * status line unless given), when storage refused. */
export async function saveWeights(mode, report = (/** @type {string} */ text) => say(text, "error")) {
  try {
    if (state.weights[mode]) {
      await store.put(`weights:${mode}`, state.weights[mode]);
      await store.put("arch", state.arch);
    } else await store.remove(`weights:${mode}`);
    return true;
  } catch (error) {
    report(`Could not save the weights: ${store.describe(error)}. They are in use in this tab only; export them to keep them.`);
    return false;
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
    const saved = await saveWeights(mode);
    if (mode === "new") await storeClasses();
    await setMode(mode);
    renderSamples();
    await useModel();
    // A failure to save stays the last word: the weights are in use, but not kept.
    if (saved) say(`Loaded ${arch} weights with ${classes.length} classes from ${file.name}.`);
  } catch (error) {
    say(`Could not load the weights: ${errorText(error)}. The model in use is unchanged.`, "error");
  }
}

export async function resetWeights() {
  if (busy()) return;
  state.weights[state.mode] = null;
  const saved = await saveWeights(state.mode);
  clearResults();
  await useModel();
  if (saved) say(`Back to the pretrained ${state.arch}.`);
}
