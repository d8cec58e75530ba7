// Drawing and live prediction: the pad, the 28×28 image the network saw, the probability
// bars, and the CPU model that predicts (fine-tuned weights when there are some).
import { DigitModel } from "../digit-transfer.js";
import { Pad } from "./pad.js";
import { $, barRow, errorText, paintImage, state } from "./page.js";

export const pad = new Pad($("pad"), () => predict());

function showBars(names, probabilities, best) {
  $("bars").replaceChildren(...Array.from(probabilities, (p, i) => {
    const li = barRow(names[i], p);
    if (i === best) li.className = "top";
    return li;
  }));
}

/** The 28×28 image the network saw, with where it looks (saliency) in red when asked for. */
async function showSeen(image, best) {
  if (!$("saliency").checked) {
    paintImage($("seen"), image);
    delete $("seen").dataset.saliency;
    return;
  }
  const saliency = await state.model.saliency(image, best);
  const g = $("seen").getContext("2d");
  const data = g.createImageData(28, 28);
  image.forEach((v, i) => {
    const grey = v * 0.55;
    const heat = saliency[i] * 255;
    data.data.set([Math.min(255, grey + heat), Math.min(255, grey + heat * 0.25), grey, 255], i * 4);
  });
  g.putImageData(data, 0, 0);
  $("seen").dataset.saliency = "on";
  performance.mark("saliency-shown");
}

let predicting = Promise.resolve();
let queued = 0;
/** Predict the drawing (queued: one prediction at a time, in stroke order). The bars are
 * `aria-busy` until the last queued prediction is shown, so nobody reads a stale answer. */
export function predict() {
  queued += 1;
  $("bars").setAttribute("aria-busy", "true");
  predicting = predicting.then(async () => {
    if (pad.isEmpty()) {
      paintImage($("seen"), null);
      $("bars").replaceChildren();
      $("guess").textContent = state.mode === "adapt" ? "Draw a digit." : "Draw a sample.";
      return;
    }
    if (!state.model) return;
    const { data, width, height } = pad.pixels();
    try {
      const p = await state.model.predict_canvas(new Uint8Array(data.buffer), width, height);
      await showSeen(p.image, p.best);
      const names = state.model.class_names;
      $("guess").textContent = `It looks like ${names[p.best]}.`;
      showBars(names, p.probabilities, p.best);
      performance.mark("prediction-shown");
      p.free();
    } catch (error) {
      $("guess").textContent = errorText(error);
    }
  }).finally(() => {
    queued -= 1;
    if (queued === 0) $("bars").setAttribute("aria-busy", "false");
  });
  return predicting;
}

/** The shipped pretrained weights of `arch` (fetched once). */
export async function pretrainedBytes(arch) {
  if (!state.pretrained.has(arch)) {
    const response = await fetch(`www/weights/pretrained-${arch}.bpk`);
    if (!response.ok) throw new Error(`the pretrained ${arch} weights: HTTP ${response.status}`);
    state.pretrained.set(arch, new Uint8Array(await response.arrayBuffer()));
  }
  return state.pretrained.get(arch);
}

/** The weights that predict in the current mode: fine-tuned ones if any, else pretrained. */
export function currentWeights() {
  const own = state.weights[state.mode];
  return own && own.arch === state.arch ? own : null;
}

/** Load the weights of the current mode and network as the live model, and predict again.
 * `live`: they are live learning's own update, which goes on from them (else it starts afresh). */
export async function useModel({ live = false } = {}) {
  if (!live) state.modelBase += 1;
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
