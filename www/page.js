// What every part of the page shares: its state, element lookup, and the status line.

/**
 * The page's elements by id, each as its element type: those of index.html (one `Record` per
 * type; tests/js/elements.test.mjs checks that the two agree) and `device-reason`, which
 * device.js adds beside the badge and removes.
 * @typedef {Record<"badge", HTMLSpanElement> & Record<"device-reason", HTMLSpanElement | null>
 *   & Record<"device" | "arch", HTMLSelectElement>
 *   & Record<"remeasure" | "undo" | "clear" | "mode-adapt" | "mode-new" | "export-samples"
 *     | "cancel-import" | "clear-samples" | "default-settings" | "train" | "compare" | "stop"
 *     | "export-bpk" | "export-safetensors" | "reset", HTMLButtonElement>
 *   & Record<"network-card", HTMLDetailsElement>
 *   & Record<"card-table" | "per-class" | "confusion", HTMLTableElement>
 *   & Record<"card-note" | "status" | "storage-note" | "guess" | "label-hint" | "live-status" | "sample-count"
 *     | "train-status" | "results-empty" | "weights-info" | "separation" | "map-status", HTMLParagraphElement>
 *   & Record<"draw-title" | "samples-title" | "train-title" | "results-title" | "per-class-title"
 *     | "confusion-title", HTMLHeadingElement>
 *   & Record<"pad" | "seen" | "map-before" | "map-after" | "live-curve", HTMLCanvasElement>
 *   & Record<"saliency" | "live" | "class-name" | "import-samples" | "load-weights", HTMLInputElement>
 *   & Record<"bars", HTMLOListElement>
 *   & Record<"class-editor" | "label-buttons" | "gallery" | "chart-loss" | "chart-accuracy"
 *     | "comparison" | "feature-map" | "map-tip" | "mistakes-box" | "mistakes", HTMLDivElement>
 *   & Record<"class-form" | "settings", HTMLFormElement>
 *   & Record<"class-list" | "map-legend", HTMLUListElement>
 *   & Record<"rehearsal-field", HTMLLabelElement>
 *   & Record<"progress", HTMLProgressElement>
 *   & Record<"summary", HTMLDListElement>} Elements
 */

/**
 * The page's element `id`, as its type (an id the page does not have is a type error).
 * @template {keyof Elements} K
 * @param {K} id
 * @returns {Elements[K]}
 */
export const $ = (id) => /** @type {Elements[K]} */ (document.getElementById(id));

/**
 * @typedef {"adapt" | "new"} Mode  Adapting the digits, or a task of one's own classes.
 * @typedef {{ id: string, label: number, image: Uint8Array, unsaved?: boolean }} Sample
 *   A labelled drawing (28×28); `label` indexes its task's classes; `unsaved` while storing
 *   it failed (gallery.js).
 * @typedef {{ classes: string[], samples: Sample[] }} Task
 * @typedef {{ arch: string, classes: string[], bytes: Uint8Array, origin: string }} Weights
 *   Fine-tuned or loaded weights (burnpack) and where they came from.
 */

export const state = {
  arch: "cnn",
  /** @type {Mode} */
  mode: "adapt",
  // Per task: class names and samples; adapt mode's classes (the digits) are filled in from
  // the wasm at start.
  /** @type {Record<Mode, Task>} */
  tasks: { adapt: { classes: [], samples: [] }, new: { classes: [], samples: [] } },
  /** @type {Map<string, Uint8Array>} */
  pretrained: new Map(), // arch → burnpack bytes
  /** @type {Record<Mode, Weights | null>} */
  weights: { adapt: null, new: null }, // fine-tuned or loaded
  /** @type {import("../digit-transfer.js").DigitModel | null} */
  model: null, // DigitModel on the CPU, for live predictions
  // Counts the models put in use other than by live learning (a fine-tune, loaded weights, a
  // reset, another mode or network): the live learner starts afresh from each (live.js).
  modelBase: 0,
  /** @type {import("./device.js").Trainer | null} */
  trainer: null, // the training worker (device.js)
  /** @type {Run | null} */
  training: null, // the run in progress (training.js)
};

/**
 * The fine-tuning run in progress: whether Stop was pressed, the worker request running it
 * (`trainer`, `id`: null until it is sent), its curves so far and its last WebGPU checkpoint.
 * @typedef {{ stopRequested: boolean, trainer: any, id: number | null, history: object[],
 *   checkpoint: object | null }} Run
 */

export const task = () => state.tasks[state.mode];
/** Tell the page the current task's samples changed by a person's hand (a label, a deletion,
 * a relabel; `deleted`: the ids taken out): live learning listens (app.js). */
export const samplesChanged = (deleted = []) => document.dispatchEvent(new CustomEvent("samples-changed", { detail: { deleted } }));
export const busy = () => state.training !== null;

export function say(text, kind = "info") {
  const status = $("status");
  status.textContent = text;
  status.dataset.kind = kind;
}

/** A message from Rust ("epochs must be …") as a sentence. */
export const sentence = (text) => `${text[0].toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? "" : "."}`;

export function errorText(error) {
  // A panic in the wasm surfaces as "unreachable"; its hook kept the real message, which is
  // taken once, so that a later failure never shows an old panic.
  if (error instanceof WebAssembly.RuntimeError && globalThis.digitTransferPanic) {
    const panic = globalThis.digitTransferPanic;
    globalThis.digitTransferPanic = null;
    return panic;
  }
  return String(error?.message ?? error);
}

/** A 28×28 grey image drawn into `canvas`'s 2-D context (black where `image` is null). */
export function paintImage(canvas, image) {
  const g = canvas.getContext("2d");
  const data = g.createImageData(28, 28);
  const rgba = data.data;
  if (image) {
    for (let i = 0; i < image.length; i++) {
      const v = image[i];
      rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = v;
      rgba[4 * i + 3] = 255;
    }
  }
  g.putImageData(data, 0, 0);
}

/** A table row of text cells (header cells with `header`). */
export function row(cells, header = false) {
  const tr = document.createElement("tr");
  for (const text of cells) {
    const cell = document.createElement(header ? "th" : "td");
    cell.textContent = text;
    tr.append(cell);
  }
  return tr;
}

/** One labelled bar: a name, a track filled to `fraction`, and the percentage. */
export function barRow(name, fraction) {
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
