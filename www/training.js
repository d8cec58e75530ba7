// Fine-tuning: a run (or Compare's three) sent to the worker, its progress shown live, the
// best result kept and put to use; a WebGPU device fault mid-run finishes on the CPU.
import { best_run, strategies as allStrategies } from "../digit-transfer.js";
import { $, busy, errorText, say, sentence, state, task } from "./page.js";
import { pretrainedBytes, useModel } from "./prediction.js";
import { flatten, importInProgress, saveWeights } from "./files.js";
import { plot } from "./charts.js";
import { clearResults, percent, showComparison, showReport } from "./results.js";
import { showFeatureMap, showMistakes } from "./insight.js";
import { settingsFor } from "./settings.js";
import { WorkerError, deviceName, startTrainer, trainerForThisRun } from "./device.js";

function setTraining(on) {
  for (const id of /** @type {const} */ (["train", "compare", "device", "arch", "mode-adapt", "mode-new", "reset", "clear-samples"])) $(id).disabled = on;
  $("stop").disabled = !on;
  $("settings").inert = on;
  document.body.dataset.training = String(on);
}

/** Fine-tune with the form's strategy, or compare every strategy (`compare`). */
export async function fineTune({ compare = false } = {}) {
  if (busy()) return;
  if (importInProgress()) return say("Wait for the import to finish before fine-tuning.", "error");
  // The page is busy from the click on, before anything is awaited: a second click (or any
  // other change of the samples) finds it so. `stopRequested` and `id` let Stop reach this run
  // whichever worker ends up running it.
  /** @type {import("./page.js").Run} */
  const training = { stopRequested: false, trainer: null, id: null, history: [], checkpoint: null };
  state.training = training;
  setTraining(true);
  const t = task();
  const mode = state.mode;
  // The samples as this run sees them, in its order: the feature map and the mistakes
  // point into it.
  const run = { classes: t.classes, samples: t.samples.slice() };
  const results = [];
  try {
    const { images, labels } = flatten(run.samples);
    let settings;
    try {
      settings = settingsFor(t, labels);
    } catch (error) {
      say(sentence(errorText(error)), "error");
      return;
    }
    const job = {
      type: "train",
      pretrained: await pretrainedBytes(state.arch),
      classes: t.classes,
      images,
      labels,
      settings,
      strategies: compare ? allStrategies() : [settings.strategy],
      adapt: mode === "adapt",
    };
    clearResults();
    // A new run: what an earlier action said no longer holds (a warning during this run will).
    say(compare ? "Comparing the strategies…" : "Fine-tuning…");
    await runJob(job, results);
  } catch (error) {
    say(`Fine-tuning failed: ${errorText(error)}. Your samples and the model in use are unchanged.`, "error");
    $("train-status").textContent = "Fine-tuning failed.";
  } finally {
    state.training = null;
    setTraining(false);
  }
  if (results.length) await keepBest(results, mode, run);
}

/** Show and use the best of a job's results (the only one, or Compare's best). */
async function keepBest(results, mode, run) {
  if (results.length > 1) showComparison(results);
  const best = results[best_run(results.map((r) => r.report))];
  showReport(best.report, best.device);
  showFeatureMap(best.report, run);
  showMistakes(best.report, run);
  state.weights[mode] = { arch: state.arch, classes: run.classes, bytes: best.weights, origin: `fine-tuned (${best.strategy})` };
  const saved = await saveWeights(mode);
  await useModel();
  // A failure to save stays the last word, and so does a warning during the run (WebGPU
  // failed, and the CPU finished).
  if (saved && results.length > 1) say(`Compared ${results.length} strategies; using ${best.strategy}, the best on the validation split.`);
  else if (saved && $("status").dataset.kind !== "error") say(`Fine-tuned (${best.strategy}) on ${run.samples.length} samples; the new weights are in use.`);
  document.body.dataset.trained = String(Number(document.body.dataset.trained ?? 0) + 1);
}

function showBatch(m, overall) {
  const p = m.progress;
  $("progress").value = overall((p.epoch - 1 + p.batch / p.batches) / p.epochs);
  // On WebGPU a batch has no loss to show: the figures are read once per epoch.
  const loss = p.loss == null ? "" : ` · loss ${p.loss.toFixed(3)}`;
  $("train-status").textContent = `${m.strategy}: epoch ${p.epoch}/${p.epochs}, batch ${p.batch}/${p.batches}${loss} · ${Math.round(p.samples_per_sec).toLocaleString("en")} samples/s`;
}

function showEpoch(m, overall, epochs) {
  const p = m.progress;
  const history = (state.training.history ??= []);
  history.push(p);
  plot(history);
  $("progress").value = overall(p.epoch / epochs);
  const validation = p.val_accuracy == null ? "" : ` · validation accuracy ${percent(p.val_accuracy)}`;
  $("train-status").textContent = `${m.strategy}: epoch ${p.epoch}/${epochs} done · loss ${p.loss.toFixed(3)}${validation} · ${Math.round(p.samples_per_sec).toLocaleString("en")} samples/s`;
}

/** A result as the page keeps it; a resumed run's curves start from the epochs before. */
function takeResult(m, job, device) {
  const report = m.report;
  if (report.resumed_after_epoch != null) {
    const earlier = (job.earlier ?? []).filter((h) => h.epoch <= report.resumed_after_epoch);
    report.history = [...earlier, ...report.history];
  }
  const after = job.resume ? `, after ${job.resume.epoch} epoch${job.resume.epoch === 1 ? "" : "s"} on WebGPU` : "";
  return { strategy: m.strategy, report, weights: m.weights, device: `${device}${after}` };
}

/** What the worker says about a run while it goes: progress, checkpoints and results. */
function onRunMessage(m, job, results, device) {
  const overall = (fraction) => (job.strategies.indexOf(m.strategy) + fraction) / job.strategies.length;
  if (m.type === "progress" && m.progress.kind === "batch") showBatch(m, overall);
  else if (m.type === "progress") showEpoch(m, overall, job.settings.epochs);
  else if (m.type === "checkpoint") {
    // The weights after an epoch on WebGPU, with the curves so far: what a CPU run goes
    // on from if the GPU is lost.
    state.training.checkpoint = { strategy: m.strategy, epoch: m.epoch, weights: m.weights, history: [...state.training.history] };
  } else if (m.type === "result") {
    results.push(takeResult(m, job, device));
    state.training.history = [];
    state.training.checkpoint = null;
  }
}

/** Run a job on the worker. Only a device fault on WebGPU (lost, out of memory) finishes it
 * on the CPU; any other error is the run's own and is shown as it is. A worker that crashed
 * (or whose wasm panicked) is started again. */
async function runJob(job, results) {
  const trainer = await trainerForThisRun();
  const training = state.training;
  // Stop pressed while Auto measured again: the run never starts.
  if (training.stopRequested) {
    $("train-status").textContent = "Stopped before it started; nothing changed.";
    return;
  }
  const device = deviceName(trainer.info);
  training.history = [...(job.earlier ?? [])];
  training.checkpoint = null;
  $("train-status").textContent = trainer.info?.kind === "webgpu"
    ? "Starting on WebGPU: the first step compiles its shaders, which can take several seconds…"
    : "Starting…";
  const { earlier, ...message } = job;
  const started = performance.now();
  const request = trainer.request(message, (m) => onRunMessage(m, job, results, device));
  training.trainer = trainer;
  training.id = request.id;
  try {
    const done = await request.answer;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    $("train-status").textContent = done.stopped ? `Stopped after ${seconds} s; the best weights so far are kept.` : `Done in ${seconds} s on ${device}.`;
    $("progress").value = 1;
  } catch (error) {
    if (error instanceof WorkerError && error.restart) startTrainer(trainer.device);
    if (!(error instanceof WorkerError && error.fault && trainer.info?.kind === "webgpu")) throw error;
    await finishOnCpu(job, results, error);
  }
}

/** The GPU failed (device lost, out of memory): finish on the CPU, from the last epoch's
 * weights when there are some. */
async function finishOnCpu(job, results, error) {
  const checkpoint = state.training?.checkpoint;
  const remaining = job.strategies.filter((s) => !results.some((r) => r.strategy === s));
  const resume = checkpoint && remaining.includes(checkpoint.strategy) ? checkpoint : null;
  const from = resume ? ` from the weights after epoch ${resume.epoch}` : "";
  say(`WebGPU failed during fine-tuning (${errorText(error)}); finishing on the CPU${from}. Your samples are unchanged.`, "error");
  $("device").value = "cpu";
  await startTrainer("cpu");
  await runJob({
    ...job,
    strategies: remaining,
    resume: resume && { strategy: resume.strategy, epoch: resume.epoch, weights: resume.weights },
    earlier: resume?.history ?? [],
  }, results);
}

/** Stop the run in progress after its current batch: sent to the worker running it, or kept
 * for the moment it starts. */
export function stopTraining() {
  const training = state.training;
  if (!training) return;
  training.stopRequested = true;
  if (training.id != null) training.trainer.stop(training.id);
  $("train-status").textContent = "Stopping after this batch…";
}
