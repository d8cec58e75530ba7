// The threaded CPU build's pool of threads, started from a worker (never the page's main thread,
// which may not block): the build is instantiated here on a shared memory, rayon's pool is
// built in Rust (src/web/threads.rs), and each of its threads then runs in a worker of its own
// (pool-worker.js) on the same module and memory. Used by the training worker (worker.js).
/** How long a thread of the pool may take to start before the CPU build goes on without
 * threads (a worker that cannot start never says so). */
const THREAD_START_MS = 20_000;

/** A thread of the threaded build's pool (www/pool-worker.js), started on `parts` (the module and
 * its shared memory); settles once it runs, or fails. `channel`: where it tells the page if it
 * stops later. */
function startThread(parts, channel) {
  const thread = new Worker(new URL("./pool-worker.js", import.meta.url), { type: "module" });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`a thread did not start in ${THREAD_START_MS / 1000} s`)), THREAD_START_MS);
    thread.onmessage = ({ data }) => {
      clearTimeout(timer);
      if (data.type === "ready") resolve(thread);
      else reject(new Error(`a thread did not start: ${data.message}`));
    };
    thread.onerror = (event) => {
      clearTimeout(timer);
      reject(new Error(`a thread did not start: ${event.message || "its script failed"}`));
    };
    thread.postMessage({ module: parts[0], memory: parts[1], channel });
  }).catch((error) => {
    thread.terminate();
    throw error;
  });
}

/** The threaded CPU build (src/web/threads.rs), initialised, with its pool of threads
 * running: { module, gpu: false, threads }; `cores`, the cores to use (default: all the
 * browser reports; the pool takes as many threads, capped); `channel`, the name of the
 * BroadcastChannel on which a thread that stops tells the page (none: it stops unheard).
 * Throws when a thread does not start. */
export async function loadThreadedBuild(cores = navigator.hardwareConcurrency, channel = "") {
  const module = await import("../digit-transfer-threads.js");
  await module.default();
  const threads = module.cpu_thread_count(cores);
  const parts = module.thread_start_parts();
  // The workers first: rayon builds the pool only once every thread of it runs.
  const started = await Promise.allSettled(Array.from({ length: threads }, () => startThread(parts, channel)));
  const failed = started.find((s) => s.status === "rejected");
  if (failed) {
    for (const s of started) if (s.status === "fulfilled") s.value.terminate();
    throw failed.reason;
  }
  module.build_thread_pool(threads);
  return { module, gpu: false, threads };
}
