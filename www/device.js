// Where fine-tuning runs: the training worker (one owner of its messages: each request tagged
// and answered, see protocol.js), its device badge, and Auto's measurements kept in this
// browser.
import { measured_batch_size } from "../digit-transfer.js";
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

/** The batch size Auto measures at: the form's, or the automatic one when it is empty or not
 * a batch a run would take. */
const measuredBatch = () => measured_batch_size(readSettings().batch_size);

/** A request the worker could not answer. `fault`: the device failed (lost, out of memory),
 * so a run may go on on the CPU; `restart`: the worker (or the wasm in it) is broken — it
 * crashed, or a bug panicked — and must be started again. */
export class WorkerError extends Error {
  constructor(message, { fault = false, restart = false } = {}) {
    super(message);
    this.fault = fault;
    this.restart = restart;
  }
}

/** Whether a thread of a threaded CPU build stopped in this page: later workers then train on
 * one thread. */
let threadStopped = false;

/**
 * The training worker, and the one owner of its messages: each request gets an id, and the
 * worker's answers go to the request they name. `ready` settles with the ReadyMessage.
 */
export class Trainer {
  /** `choices`: a promise of Auto's kept measurements; `options.remeasure` measures again;
   * `options.onEvent` sees the open request's messages (measuring, measured). */
  constructor(device, choices, options = {}) {
    this.device = device;
    this.measuredFor = { arch: state.arch, batch: measuredBatch() };
    /** Whether this worker may train on threads. */
    this.threads = !threadStopped;
    // A thread of the worker's CPU pool that stops cannot tell the worker, which waits on it:
    // it tells this channel, named as the worker is (www/pool-worker.js).
    const name = `digit-transfer-${store.newId()}`;
    this.worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module", name });
    this.pool = new BroadcastChannel(name);
    this.pool.onmessage = ({ data }) => {
      threadStopped = true;
      this.worker.terminate();
      this.crash(`a thread of its CPU pool stopped: ${data.message}`);
    };
    this.nextId = 1;
    /** @type {Map<number, { onEvent: (m: object) => void, resolve: (m: any) => void, reject: (e: Error) => void }>} */
    this.pending = new Map();
    /** Messages about no request: a GPU lost while idle, a crash. */
    this.idleListeners = new Set();
    /** Set once the worker has crashed: every later request fails with it. */
    this.crashed = null;
    /** @type {import("./protocol.js").ReadyMessage | null} the worker's answer to open, once ready */
    this.info = null;
    this.worker.onmessage = ({ data }) => this.receive(data);
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.crash(e.message || "no reason given");
    };
    const { arch, batch } = this.measuredFor;
    this.ready = choices.then((kept) => this.request(
      { type: "open", device, arch, batch, choices: kept, remeasure: Boolean(options.remeasure), threads: this.threads },
      options.onEvent,
    ).answer);
  }

  /** Send a request; `answer` settles with its final message (ready, done, learned, timed) or fails
   * with a WorkerError; `onEvent` sees the messages in between.
   * @param {Omit<import("./protocol.js").OpenMessage, "id"> | Omit<import("./protocol.js").TrainMessage, "id">
   *   | Omit<import("./protocol.js").TimeMessage, "id"> | Omit<import("./protocol.js").LearnMessage, "id">} message  the request, without its id (added here)
   * @param {(m: import("./protocol.js").WorkerOutput) => void} [onEvent]
   * @param {Transferable[]} [transfer] */
  request(message, onEvent = () => {}, transfer = []) {
    const id = this.nextId++;
    const answer = new Promise((resolve, reject) => {
      if (this.crashed) return reject(this.crashed);
      this.pending.set(id, { onEvent, resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
    return { id, answer };
  }

  /** Stop the run `id` after its current batch (or before it starts). */
  stop(id) {
    this.worker.postMessage({ type: "stop", id });
  }

  /** @param {import("./protocol.js").WorkerOutput} m */
  receive(m) {
    const pending = m.id == null ? undefined : this.pending.get(m.id);
    if (!pending) {
      if (m.type === "device-lost") this.idleListeners.forEach((l) => l(m));
      return;
    }
    if (m.type === "device-lost" || m.type === "error") {
      // After a loss the wasm's pending GPU reads may never settle: the request fails now.
      this.pending.delete(m.id);
      const error = m.type === "error" ? m : { message: m.message, fault: true, panicked: false };
      pending.reject(new WorkerError(error.message, { fault: error.fault, restart: error.panicked }));
    } else if (m.type === "ready" || m.type === "done" || m.type === "timed" || m.type === "learned") {
      this.pending.delete(m.id);
      pending.resolve(m);
    } else {
      pending.onEvent(m);
    }
  }

  crash(reason) {
    if (this.crashed) return;
    this.pool.close();
    this.crashed = new WorkerError(`the training worker stopped (${reason})`, { restart: true });
    for (const { reject } of this.pending.values()) reject(this.crashed);
    this.pending.clear();
    this.idleListeners.forEach((l) => l({ type: "crash", message: this.crashed.message }));
  }

  onIdleMessage(listener) {
    this.idleListeners.add(listener);
  }

  close() {
    this.pending.clear();
    this.pool.close();
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

const capital = (text) => `${text[0].toUpperCase()}${text.slice(1)}`;

/** The badge when no worker could start at all. */
function showUnavailable(reason) {
  const badge = $("badge");
  $("remeasure").hidden = true;
  $("device-reason")?.remove();
  badge.dataset.device = "unavailable";
  badge.textContent = "Fine-tuning unavailable";
  badge.title = `The training worker could not start: ${reason}`;
  const span = document.createElement("span");
  span.id = "device-reason";
  span.className = "why";
  span.textContent = `the training worker could not start: ${reason}`;
  badge.after(span);
}

/** Start a worker on `device` ("auto", "webgpu", "cpu"); one that fails falls back to the CPU,
 * and one that crashes later is started again. */
export async function startTrainer(device, options = {}) {
  state.trainer?.close();
  showBadge(null);
  /** @type {Trainer} */
  let trainer;
  const onEvent = (m) => {
    if (state.trainer !== trainer) return;
    if (m.type === "measuring") showMeasuring(m.adapter);
    if (m.type === "measured") {
      savedChoices().then((choices) => store.put("device-choices", { ...choices, [m.key]: m.choice })).catch(() => {});
    }
  };
  trainer = new Trainer(device, savedChoices(), { ...options, onEvent });
  state.trainer = trainer;
  try {
    const ready = await trainer.ready;
    if (state.trainer !== trainer) return;
    trainer.info = ready;
    showBadge(ready);
    document.body.dataset.device = ready.kind;
    trainer.onIdleMessage((m) => {
      if (state.trainer !== trainer || state.training) return;
      if (m.type === "device-lost") {
        // A GPU lost between runs: move to the CPU now rather than fail the next run.
        say(`${capital(m.message)}; fine-tuning now runs on the CPU.`, "error");
        $("device").value = "cpu";
        startTrainer("cpu");
      } else if (m.type === "crash") {
        say(`${capital(m.message)}; it was started again.`, "error");
        startTrainer(device);
      }
    });
  } catch (error) {
    if (state.trainer !== trainer) return;
    if (error instanceof WorkerError && error.restart && trainer.threads && threadStopped) {
      // A thread stopped while the worker opened: the same device, on one thread.
      say(`${capital(error.message)}; fine-tuning now runs on one thread.`, "error");
      await startTrainer(device, options);
      return;
    }
    if (device === "cpu") {
      showUnavailable(errorText(error));
      say(`Fine-tuning is not available: ${errorText(error)}. Drawing and predictions still work.`, "error");
      return;
    }
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
