// The network card: each pretrained network's size and accuracy (shipped measurements, made by
// `digit-transfer card`), and its speed in this browser on the device fine-tuning uses —
// measured the first time the card is opened, then kept.
import { DigitModel, image_pixels } from "../digit-transfer.js";
import * as store from "./store.js";
import { $, errorText, row, state } from "./page.js";
import { pretrainedBytes } from "./prediction.js";
import { deviceName } from "./device.js";

const measured = new Map(); // "arch|device's name" → { training, prediction_ms }

/** Median milliseconds of a live prediction of `arch` on this tab's CPU (as the page predicts). */
async function predictionMs(arch) {
  const model = await DigitModel.load(await pretrainedBytes(arch), "cpu");
  const image = new Uint8Array(image_pixels());
  for (let i = 0; i < image.length; i += 29) image[i] = 255;
  try {
    const times = [];
    for (let run = 0; run < 21; run += 1) {
      const started = performance.now();
      (await model.predict_image(image)).free();
      times.push(performance.now() - started);
    }
    return times.sort((a, b) => a - b)[10];
  } finally {
    model.free();
  }
}

/** Training samples/s of `arch` on the worker's device (its own timing of a few steps); the
 * worker answers one request at a time, so the timing never overlaps a run. */
async function trainingSpeed(arch) {
  const timed = await state.trainer.request({ type: "time", arch }).answer;
  return timed.timing.samples_per_sec;
}

async function speedOf(arch, device) {
  const key = `${arch}|${device}`;
  if (!measured.has(key)) {
    const kept = await store.get(`card:${key}`).catch(() => null);
    if (kept) measured.set(key, kept);
    else {
      const figures = { training: await trainingSpeed(arch), prediction_ms: await predictionMs(arch) };
      measured.set(key, figures);
      store.put(`card:${key}`, figures).catch(() => {});
    }
  }
  return measured.get(key);
}

let shipped = null;
/** Fill the card: the shipped figures at once, this browser's speeds as they are measured. */
export async function showCard() {
  const table = $("card-table");
  try {
    shipped ??= (await (await fetch("www/weights/networks.json")).json()).networks;
  } catch (error) {
    table.replaceChildren(row([`The networks' figures could not be read: ${errorText(error)}`]));
    return;
  }
  const trainer = await state.trainer?.ready.catch(() => null);
  // The device as the badge names it: "CPU (flex) · 4 threads" is measured apart from one thread.
  const device = deviceName(trainer);
  table.replaceChildren(
    row(["network", "parameters", "weights", "held-out MNIST", "classes apart", `training here (${device})`, "prediction here (CPU)"], true),
    ...shipped.map((n) => {
      const tr = row([
        n.architecture,
        n.parameters.toLocaleString("en"),
        `${Math.round(n.weights_bytes / 1024).toLocaleString("en")} KB`,
        `${(n.held_out_accuracy * 100).toFixed(2)}%`,
        n.separation == null ? "–" : `${(n.separation * 100).toFixed(1)}%`,
        "measuring…",
        "measuring…",
      ]);
      tr.dataset.arch = n.architecture;
      if (n.architecture === state.arch) tr.className = "current";
      return tr;
    }),
  );
  for (const n of shipped) {
    const tr = /** @type {HTMLTableRowElement} */ (table.querySelector(`tr[data-arch="${n.architecture}"]`));
    try {
      const speed = await speedOf(n.architecture, device);
      tr.children[5].textContent = `${Math.round(speed.training).toLocaleString("en")} samples/s`;
      tr.children[6].textContent = `${speed.prediction_ms.toFixed(1)} ms`;
      tr.dataset.measured = "true";
    } catch (error) {
      tr.children[5].textContent = tr.children[6].textContent = `not measured: ${errorText(error)}`;
    }
  }
}
