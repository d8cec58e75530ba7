// Fine-tuning off the main thread: this worker runs the page's wasm and answers the page's
// requests (each listed in protocol.js), one at a time in the order they came: open, train,
// learn and time each carry an id, and every message about a request names it. A request ends in exactly
// one final answer: ready, done, learned or timed, or an error. Only stop is taken at once (it names
// the run to stop, which may still be waiting its turn).
// It loads the WebGPU build (digit-transfer-gpu.js) only when WebGPU is wanted and the browser
// has an adapter; otherwise a CPU build: the threaded one (digit-transfer-threads.js, its pool
// of threads in www/pool.js) where the page is cross-origin isolated and the machine has
// more than one core, else the small one the page itself uses. With "auto" and an
// adapter it times training on both and trains on the faster (the choice is made in Rust; the
// page keeps it, so each network, batch size and adapter is measured once).
import { loadThreadedBuild } from "./pool.js";
/** @typedef {import("./protocol.js").WorkerInput} WorkerInput */
/** @typedef {import("./protocol.js").WorkerOutput} WorkerOutput */
let wasm = null;
let bench = null;
let sourceLoaded = false;
/** The runs asked to stop (by request id). */
const stopped = new Set();
/** The request being answered, whose id a device loss names. */
let current = null;

/** @param {WorkerOutput} message */
function post(message, transfer = []) {
  postMessage(message, transfer);
}

// The GPU devices the WebGPU build asks for, so that their loss can be reported at once: after
// a loss the wasm's pending GPU reads may never settle, and the page must not wait for them.
const devices = [];
if (self.GPUAdapter) {
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (/** @type {[GPUDeviceDescriptor?]} */ ...args) {
    const device = await requestDevice.apply(this, args);
    devices.push(device);
    device.lost.then((info) => {
      // A GPU that was only measured, and lost while the CPU trains, changes nothing.
      if (bench && bench.device_kind !== "webgpu") return;
      post({ type: "device-lost", id: current, message: `the GPU device was lost (${info.message || info.reason || "no reason given"})` });
    });
    return device;
  };
}

/** Why there is no WebGPU, in a few words (the library's reason is long and technical). */
async function whyNoWebGpu(detail) {
  if (!navigator.gpu) return "this browser has no WebGPU";
  try {
    if (!(await navigator.gpu.requestAdapter())) return "no WebGPU adapter";
  } catch {
    return "no WebGPU adapter";
  }
  return detail;
}

async function adapter() {
  try {
    return (await navigator.gpu?.requestAdapter()) ?? null;
  } catch {
    return null;
  }
}

/** A wasm build, initialised: { module, gpu, threads }. */
async function loadBuild(gpu) {
  const module = gpu ? await import("../digit-transfer-gpu.js") : await import("../digit-transfer.js");
  await module.default();
  return { module, gpu, threads: 1 };
}

/** Whether the page lets this worker train on threads (OpenMessage.threads). */
let threadsAllowed = true;

/** The CPU build this worker trains on, loaded once: the threaded one where the page is
 * cross-origin isolated (shared memory), the machine has more than one core and the page
 * allows it; otherwise, or when it does not start, the single-threaded build the page itself
 * runs. A thread that stops later tells the page on the channel named after this worker. */
let cpuBuild = null;
function loadCpuBuild() {
  cpuBuild ??= (async () => {
    if (threadsAllowed && self.crossOriginIsolated && (navigator.hardwareConcurrency ?? 1) > 1) {
      try {
        return await loadThreadedBuild(navigator.hardwareConcurrency, self.name);
      } catch (error) {
        console.warn(`the threaded CPU build did not start (${error?.message ?? error}); training on one thread`);
      }
    }
    return loadBuild(false);
  })();
  return cpuBuild;
}

/** The WebGPU build, initialised, or null (with a warning) when it does not load. */
async function loadGpuBuild() {
  try {
    return await loadBuild(true);
  } catch (error) {
    console.warn(`the WebGPU build did not load (${error}); using the CPU build`);
    return null;
  }
}

/** The wasm build for `device`, initialised: { module, gpu }. */
async function load(device) {
  const gpu = device !== "cpu" && (await adapter()) ? await loadGpuBuild() : null;
  return gpu ?? loadCpuBuild();
}

/**
 * Auto with an adapter: the kept choice for this network, batch size and adapter, or a new
 * measurement of both devices. Returns { wasm, device, choice } for Workbench.open. The WebGPU
 * build is downloaded only to measure it or to train on it.
 * @returns {Promise<{ wasm: Awaited<ReturnType<typeof loadBuild>>,
 *   device: import("./protocol.js").DeviceName, choice: any, failed?: string }>}
 */
async function measureOrRecall({ id, arch, batch, choices, remeasure }) {
  const cpu = await loadCpuBuild();
  const info = (await adapter())?.info ?? /** @type {Partial<GPUAdapterInfo>} */ ({});
  const name = adapterNameOf(info);
  const key = cpu.module.choice_key(arch, batch, name);
  let choice = remeasure ? null : choices?.[key] ?? null;
  if (choice?.device === "ndarray") return { wasm: cpu, device: "cpu", choice };
  const gpu = await loadGpuBuild();
  if (!gpu) return { wasm: cpu, device: "auto", choice: null };
  if (!choice) {
    post({ type: "measuring", id, adapter: name });
    const cpuTiming = await cpu.module.time_training("cpu", arch, batch);
    let gpuTiming;
    try {
      gpuTiming = await gpu.module.time_training("webgpu", arch, batch);
    } catch (error) {
      console.warn(`WebGPU failed while being measured (${error}); using the CPU`);
      return { wasm: cpu, device: "cpu", choice: null, failed: String(error?.message ?? error) };
    }
    choice = cpu.module.choose_device(cpuTiming, gpuTiming, name, Boolean(info.isFallbackAdapter));
    post({ type: "measured", id, key, choice });
  }
  return choice.device === "wgpu" ? { wasm: gpu, device: "webgpu", choice } : { wasm: cpu, device: "cpu", choice };
}

function adapterNameOf(info) {
  return info.description || [info.vendor, info.architecture].filter(Boolean).join(" ");
}

async function adapterName() {
  try {
    const info = (await adapter())?.info;
    return info ? adapterNameOf(info) : "";
  } catch {
    return "";
  }
}

/** The MNIST digits rehearsed and measured for forgetting (samples files), fetched once. */
let sourceFiles = null;
async function sourceDigits() {
  const fetchBytes = async (name) => {
    const response = await fetch(new URL(`data/${name}`, import.meta.url));
    if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  };
  sourceFiles ??= Promise.all([fetchBytes("rehearsal.json"), fetchBytes("heldout.json")]);
  try {
    return await sourceFiles;
  } catch (error) {
    sourceFiles = null;
    throw error;
  }
}

async function loadSourceDigits() {
  if (sourceLoaded) return;
  const [rehearsal, heldOut] = await sourceDigits();
  bench.set_source_digits(rehearsal, heldOut);
  sourceLoaded = true;
}

/** "Learn as I label": the live learner of the model in use, under the key the page gave it. */
let live = null;

/**
 * Learn from every labelled sample; a new key starts a learner from `start`. It learns on the
 * CPU build whatever device fine-tunes: a few samples at a time, where the GPU's round trips
 * cost more than they save (and the WebGPU build has no CPU device).
 * @param {import("./protocol.js").LearnMessage} request
 */
async function learn({ id, key, start, ids, images, labels }) {
  if (live?.key !== key) {
    live?.learner.free();
    live = null;
    const cpu = (await loadCpuBuild()).module;
    const rehearsal = cpu.is_digit_task(start.classes) ? (await sourceDigits())[0] : undefined;
    live = { key, learner: cpu.LiveLearner.start(start, rehearsal) };
  }
  const result = await live.learner.learn({ ids, images, labels });
  const weights = result.weights;
  post({ type: "learned", id, key, learned: result.learned, weights }, [weights.buffer]);
  result.free();
}

/**
 * Fine-tune once per strategy of a TrainMessage (protocol.js), posting progress and results.
 * @param {import("./protocol.js").TrainMessage} request
 */
async function train({ id, pretrained, classes, images, labels, settings, strategies, adapt, resume }) {
  if (adapt) await loadSourceDigits();
  for (const strategy of strategies) {
    if (stopped.has(id)) break;
    let lastPost = 0;
    const onProgress = (progress) => {
      const now = performance.now();
      // Every epoch, but batches at most ten times a second: the page only needs a live figure.
      const due = progress.kind === "epoch" || now - lastPost > 100;
      if (due) post({ type: "progress", id, strategy, progress });
      if (due && progress.kind === "batch") lastPost = now;
      return !stopped.has(id);
    };
    // On WebGPU the weights go to the page after every epoch: if the GPU is lost, the run
    // goes on from them on the CPU. The CPU has nothing to fall back to, so it skips the copy.
    const onCheckpoint = bench.device_kind === "webgpu"
      ? (epoch, weights) => post({ type: "checkpoint", id, strategy, epoch, weights }, [weights.buffer])
      : undefined;
    const from = resume?.strategy === strategy ? { weights: resume.weights, epoch: resume.epoch } : null;
    const job = { pretrained, classes, images, labels, settings, strategy, adapt, resume: from };
    const result = await bench.fine_tune(job, onProgress, onCheckpoint);
    const weights = result.weights;
    post({ type: "result", id, strategy, report: result.report, weights }, [weights.buffer]);
    result.free();
  }
}

/** Open a device (a new worker's first request): the wasm build, Auto's choice, the badge.
 * @param {import("./protocol.js").OpenMessage} data */
async function open(data) {
  threadsAllowed = data.threads;
  let device = data.device;
  let choice = null;
  let failed = "";
  if (device === "auto" && (await adapter())) {
    ({ wasm, device, choice, failed = "" } = await measureOrRecall(data));
  } else {
    wasm = await load(device);
  }
  if (device === "webgpu" && !wasm.gpu) throw new Error(await whyNoWebGpu("the WebGPU build did not load"));
  bench = await wasm.module.Workbench.open(device);
  const kind = /** @type {"webgpu" | "cpu"} */ (bench.device_kind);
  const reason = failed ? `WebGPU failed while being measured: ${failed}` : bench.device_reason ? await whyNoWebGpu(bench.device_reason) : "";
  post({
    type: "ready",
    id: data.id,
    kind,
    label: bench.device_label,
    reason,
    detail: failed || bench.device_reason,
    adapter: kind === "webgpu" ? await adapterName() : "",
    choice,
  });
}

/** Answer one request; every failure becomes its error message. @param {WorkerInput} data */
async function answer(data) {
  current = data.id;
  // A panic's message is kept by the wasm's hook; a new request must not show an old one.
  globalThis.digitTransferPanic = null;
  try {
    if (!bench && data.type !== "open") throw new Error("the training worker has no device yet");
    if (data.type === "open") await open(data);
    else if (data.type === "time") {
      // The network card: a few timed training steps of a network on this worker's device.
      const timing = await wasm.module.time_training(bench.device_kind, data.arch, wasm.module.auto_batch_size());
      post({ type: "timed", id: data.id, arch: data.arch, timing });
    } else if (data.type === "train") {
      await train(data);
      post({ type: "done", id: data.id, stopped: stopped.has(data.id) });
    } else if (data.type === "learn") {
      await learn(data);
    } else {
      throw new Error(`the training worker does not know the request "${data.type}"`);
    }
  } catch (error) {
    // A panic (or a trap such as running out of memory) in the wasm surfaces as a RuntimeError
    // ("unreachable"); the panic hook kept the real message. That wasm is not used again.
    const trapped = error instanceof WebAssembly.RuntimeError;
    const message = (trapped && globalThis.digitTransferPanic) || String(error?.message ?? error);
    const fault = !trapped && (wasm?.module.is_device_fault(message, bench?.device_kind ?? "cpu") ?? false);
    post({ type: "error", id: data.id, during: data.type, message, fault, panicked: trapped });
  } finally {
    stopped.delete(data.id);
    current = null;
  }
}

let queue = Promise.resolve();
onmessage = (/** @type {MessageEvent<WorkerInput>} */ { data }) => {
  if (data.type === "stop") {
    stopped.add(data.id);
    return;
  }
  queue = queue.then(() => answer(data));
};
