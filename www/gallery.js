// The person's samples and classes: label buttons, the gallery by class, a new task's class
// names, switching task, and keeping all of it in IndexedDB (in step with other tabs).
import { canvas_to_image, check_new_class, digit_classes } from "../digit-transfer.js";
import * as store from "./store.js";
import { $, busy, errorText, samplesChanged, say, sentence, state, task } from "./page.js";
import { pad, useModel } from "./prediction.js";
import { clearResults } from "./results.js";
import { showSettings } from "./settings.js";
import { ThumbnailSheet } from "./thumbnails.js";

/** Samples per class of task `t`. */
export function counts(t = task()) {
  const c = new Array(t.classes.length).fill(0);
  for (const s of t.samples) c[s.label] += 1;
  return c;
}

function labelButton(name, i, n) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "label";
  b.dataset.label = String(i);
  b.textContent = name;
  const badge = document.createElement("small");
  badge.textContent = String(n);
  b.append(badge);
  b.title = `Label the drawing as ${name}` + (i < 9 ? ` (key ${state.mode === "adapt" ? name : i + 1})` : "");
  b.addEventListener("click", () => addSample(i));
  return b;
}

/** A thumbnail's button (its image is the sheet's): a click deletes the sample. */
function thumbButton(/** @type {import("./thumbnails.js").Group} */ group, /** @type {import("./thumbnails.js").Thumb} */ s) {
  const item = document.createElement("button");
  item.type = "button";
  item.className = s.unsaved ? "thumb unsaved" : "thumb";
  item.title = s.unsaved ? `Not saved yet (storage failed); click to delete this ${group.name}` : `Delete this ${group.name}`;
  item.setAttribute("aria-label", `Delete sample of ${group.name}${s.unsaved ? " (not saved)" : ""}`);
  item.addEventListener("click", () => deleteSample(s.id));
  return item;
}

/** The samples by class, however many: only what is in view is drawn. */
const sheet = new ThumbnailSheet($("gallery"), thumbButton);

function classChip(name, i) {
  const li = document.createElement("li");
  li.textContent = name;
  const remove = document.createElement("button");
  remove.type = "button";
  remove.textContent = "×";
  remove.setAttribute("aria-label", `Remove class ${name}`);
  remove.addEventListener("click", () => removeClass(i));
  li.append(remove);
  return li;
}

export function renderSamples() {
  const t = task();
  const n = counts();
  $("label-buttons").replaceChildren(...t.classes.map((name, i) => labelButton(name, i, n[i])));
  const unsaved = t.samples.filter((s) => s.unsaved).length;
  $("sample-count").textContent = t.classes.length
    ? `${t.samples.length} sample${t.samples.length === 1 ? "" : "s"} in ${t.classes.length} classes.${unsaved ? ` ${unsaved} not saved yet.` : ""}`
    : "Add at least two classes.";
  /** @type {import("./thumbnails.js").Group[]} */
  const groups = t.classes.map((name) => ({ name, samples: [] }));
  for (const s of t.samples) groups[s.label]?.samples.push(s);
  sheet.show(groups);
  $("class-list").replaceChildren(...state.tasks.new.classes.map(classChip));
  $("rehearsal-field").hidden = state.mode !== "adapt";
}

/** Tell the person once, gently, that this window keeps nothing (no usable IndexedDB). */
let warnedMemoryOnly = false;
export function warnIfMemoryOnly() {
  if (store.persistent || warnedMemoryOnly) return;
  warnedMemoryOnly = true;
  $("storage-note").hidden = false;
  $("storage-note").textContent = "This browser window does not let the page store anything: your samples and fine-tuned weights live in this tab only and are gone when it closes. Use “Export samples” and the weights export to keep them.";
}

function storageFailed(error) {
  say(`Could not save the samples: ${store.describe(error)}. They stay in this tab, marked unsaved, and are saved when storage works again; use “Export samples” to keep them.`, "error");
}

/**
 * Store samples of `mode` (each its own record, so other tabs' samples are untouched), with
 * any of the task's samples that failed to save before. Returns { ok, error }: on failure the
 * samples are marked unsaved (shown so, kept through another tab's changes, and tried again
 * with the next save), and unless `quiet` the status line says so.
 */
export async function storeSamples(mode, samples, { quiet = false } = {}) {
  const classes = state.tasks[mode].classes;
  const ids = new Set(samples.map((s) => s.id));
  // An import (quiet) stores its slices alone: retrying every earlier failure with each slice
  // would make a full storage quadratic.
  const retried = quiet ? [] : state.tasks[mode].samples.filter((s) => s.unsaved && !ids.has(s.id));
  const all = [...retried, ...samples];
  try {
    await store.addSamples(all.map((s) => ({ id: s.id, mode, cls: classes[s.label], image: s.image })), mode);
    const wereUnsaved = all.some((s) => s.unsaved);
    for (const s of all) delete s.unsaved;
    if (wereUnsaved && !quiet && mode === state.mode) renderSamples();
    return { ok: true, error: null };
  } catch (error) {
    for (const s of samples) s.unsaved = true;
    if (!quiet && mode === state.mode) renderSamples();
    if (!quiet) storageFailed(error);
    return { ok: false, error: store.describe(error) };
  } finally {
    warnIfMemoryOnly();
  }
}

export async function unstoreSamples(mode, ids) {
  try {
    await store.deleteSamples(ids, mode);
  } catch (error) {
    say(`Could not delete the stored samples: ${store.describe(error)}.`, "error");
  }
}

/** A new task's class names (adapt mode's are the digits). */
export async function storeClasses() {
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
export async function loadTask(mode) {
  const t = state.tasks[mode];
  const classes = mode === "adapt" ? digit_classes() : [...((await store.get("classes:new")) ?? t.classes)];
  const samples = [];
  for (const record of await store.samples(mode)) {
    let label = classes.indexOf(record.cls);
    if (label < 0) {
      if (mode === "adapt") continue;
      try {
        classes.push(check_new_class(classes, record.cls));
      } catch {
        continue;
      }
      label = classes.length - 1;
    }
    samples.push({ id: record.id, label, image: record.image instanceof Uint8Array ? record.image : new Uint8Array(record.image) });
  }
  // This tab's samples that failed to save are not in storage, and must not be lost.
  const stored = new Set(samples.map((s) => s.id));
  for (const s of t.samples) {
    if (!s.unsaved || stored.has(s.id)) continue;
    let label = classes.indexOf(t.classes[s.label]);
    if (label < 0) {
      classes.push(t.classes[s.label]);
      label = classes.length - 1;
    }
    samples.push({ ...s, label });
  }
  state.tasks[mode] = { classes, samples };
}

store.onBlocked(() => say("Another tab has an older version of this page open, and storage waits for it: reload or close that tab. Nothing is lost meanwhile.", "error"));

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

export function addSample(label) {
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
  samplesChanged();
}

/** Delete one sample of the current task; false when it cannot be now. */
export function deleteSample(id) {
  if (busy()) {
    say("Wait for fine-tuning to finish before changing the samples.", "error");
    return false;
  }
  const t = task();
  t.samples = t.samples.filter((s) => s.id !== id);
  renderSamples();
  unstoreSamples(state.mode, [id]);
  samplesChanged([id]);
  return true;
}

/** Give a sample of the current task another class; false when it cannot be now. */
export function relabelSample(id, label) {
  const t = task();
  const sample = t.samples.find((s) => s.id === id);
  if (busy() || !sample || !(label >= 0 && label < t.classes.length)) {
    if (busy()) say("Wait for fine-tuning to finish before changing the samples.", "error");
    return false;
  }
  sample.label = label;
  renderSamples();
  storeSamples(state.mode, [sample]);
  say(`Relabelled a sample as ${t.classes[label]}.`);
  samplesChanged();
  return true;
}

export function deleteAllSamples() {
  if (busy()) return;
  const t = task();
  if (!t.samples.length) return;
  const kept = t.samples;
  t.samples = [];
  renderSamples();
  unstoreSamples(state.mode, kept.map((s) => s.id));
  say(`Deleted ${kept.length} samples.`);
}

export function addClass(name) {
  const t = state.tasks.new;
  try {
    name = check_new_class(t.classes, name);
  } catch (error) {
    return say(sentence(errorText(error)), "error");
  }
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

/** Switch between adapting the digits ("adapt") and a task of one's own classes ("new"). */
export async function setMode(mode) {
  if (busy() || mode === state.mode) return;
  state.mode = mode;
  $("mode-adapt").setAttribute("aria-pressed", String(mode === "adapt"));
  $("mode-new").setAttribute("aria-pressed", String(mode === "new"));
  $("class-editor").hidden = mode !== "new";
  document.body.dataset.mode = mode;
  showSettings();
  renderSamples();
  clearResults();
  await useModel();
}

/** A digit key labels the drawing: the digit itself in adapt mode, the n-th class otherwise. */
export function labelByKey(key) {
  const classes = task().classes;
  const index = state.mode === "adapt" ? classes.indexOf(key) : Number(key) - 1;
  if (index >= 0 && index < classes.length) addSample(index);
}
