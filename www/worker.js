// Fine-tuning off the main thread: this worker runs the page's wasm and reports progress by
// message (each listed in protocol.js: in, open / train / stop; out, measuring, measured,
// ready, progress, checkpoint, result, done, error, device-lost).
// It loads the WebGPU build (digit-transfer-gpu.js) only when WebGPU is wanted and the browser
// has an adapter; otherwise the small CPU build the page itself uses. With "auto" and an
// adapter it times training on both and trains on the faster (the choice is made in Rust; the
// page keeps it, so each network, batch size and adapter is measured once).
let wasm = null;
let bench = null;
let stopRequested = false;
let sourceLoaded = false;

// The GPU devices the WebGPU build asks for, so that their loss can be reported at once: after
// a loss the wasm's pending GPU reads may never settle, and the page must not wait for them.
const devices = [];
if (self.GPUAdapter) {
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (...args) {
    const device = await requestDevice.apply(this, args);
    devices.push(device);
    device.lost.then((info) => {
      // A GPU that was only measured, and lost while the CPU trains, changes nothing.
      if (bench && bench.device_kind !== "webgpu") return;
      postMessage({ type: "device-lost", message: `the GPU device was lost (${info.message || info.reason || "no reason given"})` });
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

/** A wasm build, initialised: { module, gpu }. */
async function loadBuild(gpu) {
  const module = gpu ? await import("../digit-transfer-gpu.js") : await import("../digit-transfer.js");
  await module.default();
  return { module, gpu };
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
  return gpu ?? loadBuild(false);
}

/**
 * Auto with an adapter: the kept choice for this network, batch size and adapter, or a new
 * measurement of both devices. Returns { wasm, device, choice } for Workbench.open. The WebGPU
 * build is downloaded only to measure it or to train on it.
 */
async function measureOrRecall({ arch, batch, choices, remeasure }) {
  const cpu = await loadBuild(false);
  const info = (await adapter())?.info ?? {};
  const name = adapterNameOf(info);
  const key = cpu.module.choice_key(arch, batch, name);
  let choice = remeasure ? null : choices?.[key] ?? null;
  if (choice?.device === "ndarray") return { wasm: cpu, device: "cpu", choice };
  const gpu = await loadGpuBuild();
  if (!gpu) return { wasm: cpu, device: "auto", choice: null };
  if (!choice) {
    postMessage({ type: "measuring", adapter: name });
    const cpuTiming = await cpu.module.time_training("cpu", arch, batch);
    let gpuTiming;
    try {
      gpuTiming = await gpu.module.time_training("webgpu", arch, batch);
    } catch (error) {
      console.warn(`WebGPU failed while being measured (${error}); using the CPU`);
      return { wasm: cpu, device: "cpu", choice: null, failed: String(error?.message ?? error) };
    }
    choice = cpu.module.choose_device(cpuTiming, gpuTiming, name, Boolean(info.isFallbackAdapter));
    postMessage({ type: "measured", key, choice });
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

async function loadSourceDigits() {
  if (sourceLoaded) return;
  const fetchBytes = async (name) => {
    const response = await fetch(new URL(`data/${name}`, import.meta.url));
    if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  };
  const [rehearsal, heldOut] = await Promise.all([fetchBytes("rehearsal.json"), fetchBytes("heldout.json")]);
  bench.set_source_digits(rehearsal, heldOut);
  sourceLoaded = true;
}

/** Fine-tune once per strategy of a TrainMessage (protocol.js), posting progress and results. */
async function train({ pretrained, classes, images, labels, settings, strategies, adapt, resume }) {
  if (adapt) await loadSourceDigits();
  for (const strategy of strategies) {
    if (stopRequested) break;
    let lastPost = 0;
    const onProgress = (progress) => {
      const now = performance.now();
      // Every epoch, but batches at most ten times a second: the page only needs a live figure.
      const due = progress.kind === "epoch" || now - lastPost > 100;
      if (due) postMessage({ type: "progress", strategy, progress });
      if (due && progress.kind === "batch") lastPost = now;
      return !stopRequested;
    };
    // On WebGPU the weights go to the page after every epoch: if the GPU is lost, the run
    // goes on from them on the CPU. The CPU has nothing to fall back to, so it skips the copy.
    const onCheckpoint = bench.device_kind === "webgpu"
      ? (epoch, weights) => postMessage({ type: "checkpoint", strategy, epoch, weights }, [weights.buffer])
      : undefined;
    const from = resume?.strategy === strategy ? { weights: resume.weights, epoch: resume.epoch } : null;
    const job = { pretrained, classes, images, labels, settings: { ...settings, strategy }, resume: from };
    const result = await bench.fine_tune(job, onProgress, onCheckpoint);
    const weights = result.weights;
    postMessage({ type: "result", strategy, report: result.report, weights }, [weights.buffer]);
    result.free();
  }
}

onmessage = async ({ data }) => {
  if (data.type === "stop") {
    stopRequested = true;
    return;
  }
  try {
    if (data.type === "open") {
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
      const kind = bench.device_kind;
      const reason = failed ? `WebGPU failed while being measured: ${failed}` : bench.device_reason ? await whyNoWebGpu(bench.device_reason) : "";
      postMessage({
        type: "ready",
        kind,
        label: bench.device_label,
        reason,
        detail: failed || bench.device_reason,
        adapter: kind === "webgpu" ? await adapterName() : "",
        choice,
      });
    } else if (data.type === "time") {
      // The network card: a few timed training steps of a network on this worker's device.
      const timing = await wasm.module.time_training(bench.device_kind, data.arch, wasm.module.auto_batch_size());
      postMessage({ type: "timed", arch: data.arch, timing });
    } else if (data.type === "train") {
      stopRequested = false;
      await train(data);
      postMessage({ type: "done", stopped: stopRequested });
    }
  } catch (error) {
    // A panic in the wasm surfaces as "unreachable"; its hook kept the real message.
    const panic = error instanceof WebAssembly.RuntimeError ? globalThis.digitTransferPanic : null;
    postMessage({ type: "error", during: data.type, message: panic ?? String(error?.message ?? error) });
  }
};
