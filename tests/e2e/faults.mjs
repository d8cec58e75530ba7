// Faults the end-to-end tests cause in the training worker, from outside the product: the
// harness's server puts one of these before www/worker.js (`server.prepend`). Each keeps the
// GPU devices the worker asks for, and destroys them (GPUDevice.destroy(), exactly as a lost
// device behaves) when the worker posts a given message.
const keepDevices = `
const __faultDevices = [];
if (self.GPUAdapter) {
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (...args) {
    const device = await requestDevice.apply(this, args);
    __faultDevices.push(device);
    return device;
  };
}
const __faultPost = self.postMessage.bind(self);
`;

/** The GPU is lost once the first checkpoint of a WebGPU run is out. */
export const loseDeviceAfterCheckpoint = `${keepDevices}
let __faultDone = false;
self.postMessage = (message, transfer) => {
  __faultPost(message, transfer);
  if (!__faultDone && message?.type === "checkpoint") {
    __faultDone = true;
    __faultDevices.forEach((d) => d.destroy());
  }
};
`;

/** The GPU is lost while nothing trains, 1.5 s after the worker is ready. */
export const loseIdleDevice = `${keepDevices}
self.postMessage = (message, transfer) => {
  __faultPost(message, transfer);
  if (message?.type === "ready") setTimeout(() => __faultDevices.forEach((d) => d.destroy()), 1500);
};
`;

/** Every thread of the CPU pool stops just after it has started, as a panic in it would stop
 * it (put before www/pool-worker.js). */
export const stopPoolThreads = `
const __faultPost = self.postMessage.bind(self);
self.postMessage = (message, transfer) => {
  __faultPost(message, transfer);
  if (message?.type === "ready") throw new Error("a simulated panic");
};
`;
