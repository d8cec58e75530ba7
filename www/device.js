// Where fine-tuning runs: the training worker, its device badge, and Auto's measurements
// kept in this browser. Messages to and from the worker are listed in protocol.js.
import { auto_batch_size } from "../digit-transfer.js";
import * as store from "./store.js";
import { $, errorText, say, state } from "./page.js";
import { readSettings } from "./settings.js";

/** How a device is named in the badge and the results. */
export function deviceName(ready) {
  if (!ready) return "CPU";
  return ready.kind === "webgpu" ? `WebGPU${ready.adapter ? ` · ${ready.adapter}` : ""}` : ready.label;
}

function showBadge(ready) {
  const badge = $("badge");
  $("remeasure").hidden = !ready?.choice;
  $("device-reason")?.remove();
  if (!ready) {
    badge.textContent = "Starting the device…";
    badge.dataset.device = "none";
    return;
  }
  badge.dataset.device = ready.kind;
  const name = deviceName(ready);
  // Auto's measured choice says why, with its numbers (the sentences are made in Rust).
  const why = ready.choice ? `Auto measured ${ready.choice.figures}` : ready.reason;
  badge.textContent = ready.choice ? `${name} — ${ready.choice.summary}` : name;
  badge.title = why ? `Fine-tuning runs on ${name}: ${ready.choice ? `${ready.choice.summary} (${ready.choice.figures})` : ready.detail}` : `Fine-tuning runs on ${name}`;
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

/** The batch size Auto measures at: the form's, or the automatic one when it is empty. */
function measuredBatch() {
  const batch = readSettings().batch_size;
  return Number.isInteger(batch) && batch >= 1 ? batch : auto_batch_size();
}

/** The training worker: `ready` settles with its ReadyMessage; `listen` sees every message. */
class Trainer {
  /** `choices`: a promise of Auto's kept measurements; `options.remeasure` measures again. */
  constructor(device, choices, options = {}) {
    this.device = device;
    this.measuredFor = { arch: state.arch, batch: measuredBatch() };
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
    choices.then((kept) => {
      this.send({ type: "open", device, arch, batch, choices: kept, remeasure: Boolean(options.remeasure) });
    });
  }
  /** @param {import("./protocol.js").WorkerInput} message */
  send(message, transfer = []) {
    this.worker.postMessage(message, transfer);
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

/** Start a worker on `device` ("auto", "webgpu", "cpu"); one that fails falls back to the CPU. */
export async function startTrainer(device, options = {}) {
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

/** The worker for a run: Auto measured for another network or batch size measures again. */
export async function trainerForThisRun() {
  await state.trainer.ready.catch(() => {});
  const trainer = state.trainer;
  const { arch, batch } = trainer.measuredFor;
  if (trainer.device === "auto" && trainer.info?.choice && (arch !== state.arch || batch !== measuredBatch())) {
    await startTrainer("auto");
  }
  await state.trainer.ready;
  return state.trainer;
}
