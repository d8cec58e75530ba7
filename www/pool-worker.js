// One thread of the threaded CPU build's pool (src/web/threads.rs): pool.js starts one of these
// per thread and sends it the wasm module, its shared memory and the name of the page's
// channel for this pool; it instantiates them, says so, and then waits for one of the pool's
// threads and runs it until the page closes.
import { initSync, run_thread } from "../digit-transfer-threads.js";

onmessage = ({ data }) => {
  try {
    initSync({ module: data.module, memory: data.memory });
  } catch (error) {
    postMessage({ type: "failed", message: String(error?.message ?? error) });
    return;
  }
  try {
    postMessage({ type: "ready" });
    run_thread();
  } catch (error) {
    // A panic here (a trap: the build aborts on panic) stops this thread, and the training
    // worker, waiting on the pool, would wait for ever without a word: the page hears it on
    // its channel instead (www/device.js), and starts a worker that trains on one thread.
    const message = globalThis.digitTransferPanic || String(error?.message ?? error);
    if (data.channel) new BroadcastChannel(data.channel).postMessage({ type: "thread-stopped", message });
  }
};
