// What every part of the page shares: its state, element lookup, and the status line.

export const $ = (id) => document.getElementById(id);

export const state = {
  arch: "cnn",
  mode: "adapt",
  // Per task: class names and samples ({ id, label, image: Uint8Array }); adapt mode's classes
  // (the digits) are filled in from the wasm at start.
  tasks: { adapt: { classes: [], samples: [] }, new: { classes: [], samples: [] } },
  pretrained: new Map(), // arch → burnpack bytes
  weights: { adapt: null, new: null }, // fine-tuned or loaded: { arch, classes, bytes, origin }
  model: null, // DigitModel on the CPU, for live predictions
  trainer: null, // the training worker (device.js)
  training: null, // the run in progress (training.js)
};

export const task = () => state.tasks[state.mode];
export const busy = () => state.training !== null;

export function say(text, kind = "info") {
  const status = $("status");
  status.textContent = text;
  status.dataset.kind = kind;
}

/** A message from Rust ("epochs must be …") as a sentence. */
export const sentence = (text) => `${text[0].toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? "" : "."}`;

export function errorText(error) {
  // A panic in the wasm surfaces as "unreachable"; its hook kept the real message.
  if (error instanceof WebAssembly.RuntimeError && globalThis.digitTransferPanic) return globalThis.digitTransferPanic;
  return String(error?.message ?? error);
}

/** A 28×28 grey image drawn into `canvas`'s 2-D context (black where `image` is null). */
export function paintImage(canvas, image) {
  const g = canvas.getContext("2d");
  const data = g.createImageData(28, 28);
  if (image) image.forEach((v, i) => data.data.set([v, v, v, 255], i * 4));
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
