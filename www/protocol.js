// The training worker's messages, written down once: what the page sends (`WorkerInput`) and
// what the worker answers (`WorkerOutput`). Reports, progress and choices are the Rust types
// of the same names, as plain objects (serde-wasm-bindgen).
export {};

/**
 * @typedef {"auto" | "webgpu" | "cpu"} DeviceName
 *
 * @typedef {{ type: "open", device: DeviceName, arch: string, batch: number,
 *   choices: Record<string, object>, remeasure: boolean }} OpenMessage
 *   Load a wasm build and open a device; with "auto" and an adapter, measure (or recall
 *   from `choices`, kept per network, batch size and adapter) which trains faster.
 * @typedef {{ type: "train", pretrained: Uint8Array, classes: string[], images: Uint8Array,
 *   labels: Uint8Array, settings: object, strategies: string[], adapt: boolean,
 *   resume?: { strategy: string, epoch: number, weights: Uint8Array } | null }} TrainMessage
 *   Fine-tune once per strategy; `settings` are what `check_fine_tune` returned; `resume`
 *   goes on from a checkpoint of the first strategy.
 * @typedef {{ type: "stop" }} StopMessage   Stop after the current batch, keeping the best.
 * @typedef {{ type: "time", arch: string }} TimeMessage
 *   Time a few training steps of a network on this worker's device (the network card).
 * @typedef {OpenMessage | TrainMessage | StopMessage | TimeMessage} WorkerInput
 *
 * @typedef {{ type: "measuring", adapter: string }} MeasuringMessage
 * @typedef {{ type: "measured", key: string, choice: object }} MeasuredMessage
 *   A new measurement (a `Choice`), to keep under `key`.
 * @typedef {{ type: "ready", kind: "webgpu" | "cpu", label: string, reason: string,
 *   detail: string, adapter: string, choice: object | null }} ReadyMessage
 * @typedef {{ type: "progress", strategy: string, progress: object }} ProgressMessage
 *   A `BatchProgress` or `EpochSummary`, told apart by `progress.kind`.
 * @typedef {{ type: "checkpoint", strategy: string, epoch: number, weights: Uint8Array }} CheckpointMessage
 *   The weights after an epoch on WebGPU (burnpack), to go on from on the CPU.
 * @typedef {{ type: "result", strategy: string, report: object, weights: Uint8Array }} ResultMessage
 *   One strategy's `FineTuneReport` and fine-tuned weights (burnpack).
 * @typedef {{ type: "timed", arch: string, timing: object }} TimedMessage   A `StepTiming`.
 * @typedef {{ type: "done", stopped: boolean }} DoneMessage
 * @typedef {{ type: "error", during: string, message: string }} ErrorMessage
 * @typedef {{ type: "device-lost", message: string }} DeviceLostMessage
 * @typedef {MeasuringMessage | MeasuredMessage | ReadyMessage | ProgressMessage |
 *   CheckpointMessage | ResultMessage | TimedMessage | DoneMessage | ErrorMessage |
 *   DeviceLostMessage} WorkerOutput
 */
