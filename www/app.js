// The page's start-up and wiring: each part lives in the module of its name (prediction,
// gallery, live, files, settings, device, training, results, charts). Every number and rule about
// the network (preprocessing, predictions, training, metrics, file formats, what may be
// trained) comes from the wasm library; JavaScript keeps the DOM, the canvas, storage and charts.
import "./locale.js";
import init, { architectures, cpu_thread_count, digit_classes } from "../digit-transfer.js";
import * as store from "./store.js";
import { $, busy, errorText, say, state } from "./page.js";
import { pad, predict, useModel } from "./prediction.js";
import { addClass, deleteAllSamples, labelByKey, loadTask, renderSamples, setMode, warnIfMemoryOnly } from "./gallery.js";
import { cancelImport, exportSamples, exportWeights, importSamples, loadWeights, resetWeights } from "./files.js";
import { resetSettings, restoreSettings, saveSettings } from "./settings.js";
import { startTrainer } from "./device.js";
import { fineTune, stopTraining } from "./training.js";
import { clearResults } from "./results.js";
import { showCard } from "./card.js";
import { learnLive, restoreLive, saveLive } from "./live.js";

function wireDrawing() {
  $("saliency").addEventListener("change", () => predict());
  $("undo").addEventListener("click", () => pad.undo());
  $("clear").addEventListener("click", () => pad.clear());
  document.addEventListener("keydown", (e) => {
    if (e.target instanceof Element && e.target.closest("input, select, textarea")) return;
    if ((e.ctrlKey || e.metaKey) && e.key === "z") {
      e.preventDefault();
      pad.undo();
    } else if (e.key === "Backspace" || e.key === "Escape") {
      e.preventDefault();
      pad.clear();
    } else if (/^[0-9]$/.test(e.key) && !e.ctrlKey && !e.metaKey && !e.altKey) {
      labelByKey(e.key);
    }
  });
}

function wireSamples() {
  $("clear-samples").addEventListener("click", deleteAllSamples);
  $("live").addEventListener("change", saveLive);
  document.addEventListener("samples-changed", learnLive);
  $("class-form").addEventListener("submit", (e) => {
    e.preventDefault();
    addClass($("class-name").value);
    $("class-name").value = "";
  });
  for (const b of /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll("[data-preset]"))) {
    b.addEventListener("click", () => {
      for (const name of b.dataset.preset.split("|")) {
        if (!state.tasks.new.classes.includes(name)) addClass(name);
      }
    });
  }
  $("mode-adapt").addEventListener("click", () => setMode("adapt"));
  $("mode-new").addEventListener("click", () => setMode("new"));
  $("export-samples").addEventListener("click", exportSamples);
  $("import-samples").addEventListener("change", (e) => importSamples(e.target));
  $("cancel-import").addEventListener("click", cancelImport);
}

function wireWeights() {
  $("export-bpk").addEventListener("click", () => exportWeights("burnpack", "bpk"));
  $("export-safetensors").addEventListener("click", () => exportWeights("safetensors", "safetensors"));
  $("load-weights").addEventListener("change", (e) => loadWeights(e.target));
  $("reset").addEventListener("click", resetWeights);
  $("arch").addEventListener("change", async () => {
    if (busy()) {
      $("arch").value = state.arch;
      return;
    }
    state.arch = $("arch").value;
    await store.put("arch", state.arch).catch(() => {});
    clearResults();
    try {
      await useModel();
      say(`Using the pretrained ${state.arch}.`);
    } catch (error) {
      say(`Could not load the ${state.arch}: ${errorText(error)}`, "error");
    }
  });
}

function wireTraining() {
  $("remeasure").addEventListener("click", async () => {
    if (busy()) return;
    await startTrainer($("device").value, { remeasure: true });
  });
  $("device").addEventListener("change", async () => {
    if (busy()) return;
    await startTrainer($("device").value);
    store.put("device", $("device").value).catch(() => {});
  });
  $("settings").addEventListener("change", saveSettings);
  $("default-settings").addEventListener("click", resetSettings);
  $("train").addEventListener("click", () => fineTune());
  $("compare").addEventListener("click", () => fineTune({ compare: true }));
  $("stop").addEventListener("click", stopTraining);
  // The card measures speeds the first time it is opened (and again after a device change).
  $("network-card").addEventListener("toggle", () => {
    if ($("network-card").open && !busy()) showCard();
  });
}

/** After this visit the page opens and fine-tunes offline (sw.js). */
function keepForOffline() {
  if (!("serviceWorker" in navigator)) return;
  // Served without the headers of cross-origin isolation (a static host), the page is isolated
  // from the next visit on, when the service worker serves it with them: said once, when it
  // first takes over.
  const cores = navigator.hardwareConcurrency ?? 1;
  if (!crossOriginIsolated && cores > 1) {
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      say(`Kept for offline use. From your next visit, fine-tuning on the CPU uses ${cpu_thread_count(cores)} threads.`);
    }, { once: true });
  }
  navigator.serviceWorker.register("sw.js", { updateViaCache: "none" })
    .catch((error) => console.warn(`the page will not open offline: ${error}`));
}

/** What this browser kept: samples, weights, the network, settings and device. */
async function restore() {
  try {
    for (const mode of ["adapt", "new"]) {
      await loadTask(mode);
      const weights = await store.get(`weights:${mode}`);
      if (weights?.bytes) state.weights[mode] = weights;
    }
    const arch = await store.get("arch");
    if (architectures().includes(arch)) state.arch = arch;
    restoreSettings(await store.get("settings"));
    const device = await store.get("device");
    if (["auto", "webgpu", "cpu"].includes(device)) $("device").value = device;
    await restoreLive();
  } catch (error) {
    say(`Saved samples could not be read (${store.describe(error)}); starting empty.`, "error");
  }
}

async function start() {
  const t0 = performance.now();
  wireDrawing();
  wireSamples();
  wireWeights();
  wireTraining();
  await init();
  state.tasks.adapt.classes = digit_classes();
  // The form has the defaults even when what this browser kept cannot be read.
  restoreSettings();
  await restore();
  $("arch").value = state.arch;
  renderSamples();
  clearResults();
  warnIfMemoryOnly();
  const trainer = startTrainer($("device").value);
  try {
    await useModel();
    performance.mark("model-ready");
    const ms = Math.round(performance.now() - t0);
    say(`Pretrained ${state.arch} ready in ${ms} ms. Draw a digit; predictions run on the CPU in this tab, fine-tuning in a background worker.`);
    document.body.dataset.ready = "true";
    keepForOffline();
  } catch (error) {
    say(`Could not load the model: ${errorText(error)}`, "error");
  }
  await trainer;
}

start();
