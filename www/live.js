// "Learn as I label": after every change of the samples (a label, a deletion, a relabel) the
// worker's live learner learns from all of them — a few steps of the head on features it
// computed once a sample (src/web/live.rs) — and its weights become the model in use, so the
// next drawing is predicted by what was just taught. Updates never queue up: while one runs,
// every later change waits as one, with the samples as they are then. Fine-tune, Compare and
// loading weights come first; the next update goes on from their result.
import { can_learn_live } from "../digit-transfer.js";
import * as store from "./store.js";
import { $, busy, errorText, state, task } from "./page.js";
import { currentWeights, pretrainedBytes, useModel } from "./prediction.js";
import { flatten, importInProgress, saveWeights } from "./files.js";
import { readSettings } from "./settings.js";

/** An update is running, and changes came while it ran. */
let running = false;
let again = false;
/** Per mode, each update that learnt a new sample: was it recognised before it was learnt. */
const history = { adapt: [], new: [] };
/** How many of the latest new samples the running accuracy covers. */
const WINDOW = 10;

export const liveOn = () => $("live").checked;

/** The switch, as this browser left it (on unless turned off). */
export async function restoreLive() {
  try {
    $("live").checked = (await store.get("live")) !== false;
  } catch {
    $("live").checked = true;
  }
  showLive();
}

export function saveLive() {
  store.put("live", liveOn()).catch(() => {});
  showLive();
  if (liveOn()) learnLive();
}

/** The model in use before the last update that learnt one new sample, and that sample:
 * deleting it again (an undone label) puts that model back instead of learning on. */
let undo = null;

/** Learn from the samples as they are now.
 * @param {Event} [event] a samples-changed event: `detail.deleted`, the ids just deleted */
export function learnLive(event) {
  if (!liveOn()) return;
  const deleted = event instanceof CustomEvent ? event.detail?.deleted ?? [] : [];
  if (!running && undo && undo.mode === state.mode && deleted.length === 1 && deleted[0] === undo.id) {
    undoLast(undo);
    return;
  }
  if (running) {
    again = true;
    return;
  }
  running = true;
  burst();
}

/** Updates until no change is waiting; then the weights are stored, once for the burst. */
async function burst() {
  let learnt = null;
  try {
    do {
      again = false;
      // A run or an import in progress comes first: the samples and the model change with it.
      if (busy() || importInProgress() || !state.trainer) break;
      learnt = (await once()) ?? learnt;
    } while (again && liveOn());
  } catch (error) {
    showError(`Could not learn from the label: ${errorText(error)}.`);
  } finally {
    // Free before the weights are stored: a deletion right after an update finds it so.
    running = false;
  }
  // A failure is told under the switch, so that it does not hide what the status line says of
  // the samples.
  if (learnt && state.weights[learnt]) await saveWeights(learnt, showError);
}

function showError(text) {
  $("live-status").textContent = text;
  $("live-status").dataset.kind = "error";
}

/** One update; the mode it learnt in, or null when there was nothing to learn. */
async function once() {
  const mode = state.mode;
  const arch = state.arch;
  const base = state.modelBase;
  const t = task();
  const samples = t.samples.slice();
  const { images, labels } = flatten(samples);
  if (!can_learn_live(t.classes, labels)) {
    $("live-status").textContent = mode === "adapt"
      ? "Label a drawing and the network learns from it."
      : "Label a sample of two classes and the network starts learning.";
    return null;
  }
  const own = currentWeights();
  const previous = state.weights[mode];
  const start = { weights: own ? own.bytes : await pretrainedBytes(arch), classes: t.classes, settings: readSettings() };
  // The learner goes on while the model in use is its own; anything else starts it afresh.
  const key = JSON.stringify([mode, arch, base, t.classes]);
  const started = performance.now();
  let m;
  try {
    const trainer = state.trainer;
    await trainer.ready;
    m = await trainer.request({ type: "learn", key, start, ids: samples.map((s) => s.id), images, labels }).answer;
  } catch (error) {
    showError(`Could not learn from the label: ${errorText(error)}.`);
    return null;
  }
  // The page moved on meanwhile (another mode or network, a fine-tune's or loaded weights).
  if (state.mode !== mode || state.arch !== arch || state.modelBase !== base || busy()) return null;
  undo = m.learned.new === 1 ? { mode, id: samples.at(-1).id, weights: previous } : null;
  state.weights[mode] = { arch, classes: t.classes, bytes: m.weights, origin: "learnt as you labelled" };
  await useModel({ live: true });
  const ms = performance.now() - started;
  performance.mark("live-learned");
  show(mode, m.learned, ms);
  return mode;
}

/** The label just learnt was deleted: the model from before it is in use again (the learner
 * starts afresh from it at the next label). */
async function undoLast({ mode, weights }) {
  undo = null;
  state.weights[mode] = weights;
  history[mode].pop();
  await useModel();
  await saveWeights(mode, showError);
  $("live-status").textContent = "Undid the last label: the network is as it was before it.";
  delete $("live-status").dataset.kind;
  drawCurve(history[mode]);
}

/** "Learned from 23 samples · 40 ms", the running accuracy, and its curve. */
function show(mode, learned, ms) {
  const seen = history[mode];
  if (learned.new === 1) seen.push(learned.recognised === 1);
  else if (learned.new > 1) seen.length = 0; // learning began over many: no sample-by-sample record
  const recent = seen.slice(-WINDOW);
  const recognised = recent.filter(Boolean).length;
  const running = recent.length ? ` · ${recognised} of the last ${recent.length} recognised before you labelled them` : "";
  const status = $("live-status");
  status.textContent = `Learned from ${learned.samples.toLocaleString("en")} samples · ${Math.round(ms)} ms${running}.`;
  delete status.dataset.kind;
  document.body.dataset.learned = String(Number(document.body.dataset.learned ?? 0) + 1);
  drawCurve(seen);
}

/** The running accuracy over the samples added (each point: the last `WINDOW` new samples). */
function drawCurve(seen) {
  const canvas = $("live-curve");
  canvas.hidden = seen.length < 2;
  if (canvas.hidden) return;
  const g = canvas.getContext("2d");
  const { width, height } = canvas;
  g.clearRect(0, 0, width, height);
  g.strokeStyle = "#2f6fde";
  g.lineWidth = 2;
  g.beginPath();
  seen.forEach((_, i) => {
    const window = seen.slice(Math.max(0, i + 1 - WINDOW), i + 1);
    const share = window.filter(Boolean).length / window.length;
    const x = seen.length === 1 ? 0 : (i / (seen.length - 1)) * (width - 4) + 2;
    const y = height - 2 - share * (height - 4);
    if (i === 0) g.moveTo(x, y);
    else g.lineTo(x, y);
  });
  g.stroke();
  canvas.setAttribute("aria-label", `Recognised before labelling: ${Math.round((seen.slice(-WINDOW).filter(Boolean).length / Math.min(WINDOW, seen.length)) * 100)}% of the last ${Math.min(WINDOW, seen.length)}`);
}

/** The switch's hint, and the status line when it is off. */
function showLive() {
  if (!liveOn()) {
    $("live-status").textContent = "Off: the network learns when you press Fine-tune.";
    $("live-curve").hidden = true;
  } else if (!$("live-status").textContent || /^Off/.test($("live-status").textContent)) {
    $("live-status").textContent = "On: the network learns from every label.";
  }
}
