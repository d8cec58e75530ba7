// One thread of the threaded CPU build's pool (src/web/threads.rs): pool.js starts one of these
// per thread and sends it the wasm module and its shared memory; it instantiates
// them, says so, and then waits for one of the pool's threads and runs it until the page closes.
import { initSync, run_thread } from "../digit-transfer-threads.js";

onmessage = ({ data }) => {
  try {
    initSync({ module: data.module, memory: data.memory });
  } catch (error) {
    postMessage({ type: "failed", message: String(error?.message ?? error) });
    return;
  }
  postMessage({ type: "ready" });
  run_thread();
};
