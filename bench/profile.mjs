// Where one `cnn` training step's time goes in the browser: Chromium's sampling profiler (CDP)
// over `bench_training` (batch 64, 512 digits, 5 timed epochs) on the page's thread, each wasm
// function's own time summed into the kinds of work a step does. Needs a build whose wasm keeps
// its function names (scripts/dev-dist.sh: no wasm-opt), in DIGIT_TRANSFER_DIST.
// Run: scripts/dev-dist.sh /tmp/dt && DIGIT_TRANSFER_DIST=/tmp/dt node bench/profile.mjs [cpu|flex]
import { launch, serve } from "../tests/e2e/harness.mjs";
import { callExport } from "./in-page.mjs";

const device = process.argv[2] ?? "cpu";
// The first kind whose pattern a function's name matches (names are Rust paths).
const kinds = [
  ["matrix multiply (matrixmultiply / gemm kernels)", /matrixmultiply|gemm|sgemm|dgemm|matmul/i],
  ["convolution: im2col, padding, unfold, the conv ops' copies", /conv|im2col|unfold|pad/i],
  ["pooling", /pool/i],
  ["ndarray's mapped copies (to_vec_mapped: unfolding and element-wise results)", /to_vec_mapped/i],
  ["filling new tensors (TensorData::full, zeros)", /TensorData::full|zeros|alloc_zeroed/i],
  ["element-wise loops (ndarray's Zip)", /Zip/],
  ["optimizer (Adam)", /adam|optim/i],
  ["activations and element-wise ops (relu, add, mul, exp, log, softmax)", /relu|activation|binary|unary|elemwise|zip|mapv|map_inplace|exp|log|softmax|clamp|mask/i],
  ["reductions (sum, mean, argmax)", /sum|mean|reduce|fold|argmax|max_dim/i],
  ["copies and layout (slice, reshape, transpose, into_owned, to contiguous)", /slice|reshape|swap|permute|transpose|into_owned|to_owned|as_standard_layout|copy|memcpy|memmove|clone|cat|narrow|expand|broadcast/i],
  ["allocation (malloc, free, dlmalloc)", /malloc|dlmalloc|alloc|free|realloc|memset|drop_in_place/i],
  ["autodiff bookkeeping (graph, nodes, checkpointing)", /autodiff|graph|backward|node|step|checkpoint/i],
  ["batch assembly and augmentation", /batch|augment|sample|shuffle|rand/i],
];

const server = await serve();
const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
  const args = [device, "cnn", 64, 5, 512, "file:www/data/rehearsal.json"];
  await page.evaluate(callExport, { name: "bench_training", args }); // warm-up: V8's optimised tier
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
  await cdp.send("Profiler.start");
  const timing = await page.evaluate(callExport, { name: "bench_training", args });
  const { profile } = await cdp.send("Profiler.stop");
  const dt = profile.timeDeltas.reduce((a, b) => a + b, 0) / profile.samples.length / 1000; // ms a sample
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (const id of profile.samples) {
    const name = byNode.get(id).callFrame.functionName || "(anonymous)";
    self.set(name, (self.get(name) ?? 0) + dt);
  }
  const wasm = [...self].filter(([name]) => !/^\((idle|program|garbage collector|root)\)$/.test(name));
  const total = wasm.reduce((a, [, ms]) => a + ms, 0);
  const sums = new Map();
  for (const [name, ms] of wasm) {
    const kind = kinds.find(([, re]) => re.test(name))?.[0] ?? "other";
    sums.set(kind, (sums.get(kind) ?? 0) + ms);
  }
  console.log(`${device}, cnn batch 64: ${Math.round(timing.samples_per_sec)} samples/s while profiled; ${total.toFixed(0)} ms of samples`);
  console.log("| kind of work | share of a step |\n| --- | --- |");
  for (const [kind, ms] of [...sums].sort((a, b) => b[1] - a[1])) console.log(`| ${kind} | ${((100 * ms) / total).toFixed(1)}% |`);
  console.log("\nThe 15 functions with the most own time:");
  for (const [name, ms] of wasm.sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${((100 * ms) / total).toFixed(1).padStart(5)}%  ${name.slice(0, 160)}`);
} finally {
  await browser.close();
  server.close();
}
