// The training worker's messages, written down once: what the page sends (`WorkerInput`) and
// what the worker answers (`WorkerOutput`). Reports, progress and choices are the Rust types
// of the same names, as plain objects (serde-wasm-bindgen).
//
// Every request (open, train, learn, time) carries an `id` the page chose, and every message
// about it names that id. The worker answers requests one at a time, in the order they came,
// and each ends in exactly one final message: `ready` (open), `done` (train), `learned`
// (learn), `timed` (time), or `error`.
// `stop` is taken at once; its `id` is the run to stop (which may still be waiting its turn).
export {};

/**
 * @typedef {"auto" | "webgpu" | "cpu"} DeviceName
 *
 * @typedef {{ type: "open", id: number, device: DeviceName, arch: string, batch: number,
 *   choices: Record<string, object>, remeasure: boolean, threads: boolean }} OpenMessage
 *   Load a wasm build and open a device; with "auto" and an adapter, measure (or recall
 *   from `choices`, kept per network, batch size and adapter) which trains faster.
 *   `threads`: whether the CPU may train on the threaded build (false once a thread of a
 *   pool stopped in this page). A thread that stops cannot answer through the worker, which
 *   waits on it: it says `{ type: "thread-stopped", message }` on the BroadcastChannel named
 *   as the worker is (`new Worker(…, { name })`).
 * @typedef {{ type: "train", id: number, pretrained: Uint8Array, classes: string[],
 *   images: Uint8Array, labels: Uint8Array, settings: object, strategies: string[],
 *   adapt: boolean, resume?: { strategy: string, epoch: number, weights: Uint8Array } | null }} TrainMessage
 *   Fine-tune once per strategy; `settings` are what `check_fine_tune` returned; `resume`
 *   goes on from a checkpoint of the first strategy.
 * @typedef {{ type: "stop", id: number }} StopMessage
 *   Stop the run `id` after the current batch, keeping the best.
 * @typedef {{ type: "time", id: number, arch: string }} TimeMessage
 *   Time a few training steps of a network on this worker's device (the network card).
 * @typedef {{ type: "learn", id: number, key: string, start: { weights: Uint8Array,
 *   classes: string[], settings: object }, ids: string[], images: Uint8Array,
 *   labels: Uint8Array }} LearnMessage
 *   "Learn as I label": learn from every labelled sample (`ids` name them, so features are
 *   computed once a sample). A `key` the worker has not seen starts a learner from `start`
 *   (a `LiveStart`: the weights in use, the classes, the settings form); the same key goes on.
 * @typedef {OpenMessage | TrainMessage | StopMessage | TimeMessage | LearnMessage} WorkerInput
 *
 * @typedef {{ type: "measuring", id: number, adapter: string }} MeasuringMessage
 * @typedef {{ type: "measured", id: number, key: string, choice: object }} MeasuredMessage
 *   A new measurement (a `Choice`), to keep under `key`.
 * @typedef {{ type: "ready", id: number, kind: "webgpu" | "cpu", label: string, reason: string,
 *   detail: string, adapter: string, choice: object | null }} ReadyMessage
 * @typedef {{ type: "progress", id: number, strategy: string, progress: object }} ProgressMessage
 *   A `BatchProgress` or `EpochSummary`, told apart by `progress.kind`.
 * @typedef {{ type: "checkpoint", id: number, strategy: string, epoch: number, weights: Uint8Array }} CheckpointMessage
 *   The weights after an epoch on WebGPU (burnpack), to go on from on the CPU.
 * @typedef {{ type: "result", id: number, strategy: string, report: object, weights: Uint8Array }} ResultMessage
 *   One strategy's `FineTuneReport` and fine-tuned weights (burnpack).
 * @typedef {{ type: "timed", id: number, arch: string, timing: object }} TimedMessage   A `StepTiming`.
 * @typedef {{ type: "done", id: number, stopped: boolean }} DoneMessage
 * @typedef {{ type: "learned", id: number, key: string, learned: { samples: number, new: number,
 *   recognised: number, loss: number, steps: number, seconds: number }, weights: Uint8Array }} LearnedMessage
 *   One update's `Learned` figures, and the weights after it (burnpack).
 * @typedef {{ type: "error", id: number, during: string, message: string, fault: boolean,
 *   panicked: boolean }} ErrorMessage
 *   `fault`: the device failed (lost, out of memory; `is_device_fault` in Rust), so the run
 *   may go on on the CPU; any other error is the run's own. `panicked`: a bug panicked in the
 *   wasm, which is not to be used again (the page starts a new worker).
 * @typedef {{ type: "device-lost", id: number | null, message: string }} DeviceLostMessage
 *   The GPU was lost, during request `id` or (null) while idle.
 * @typedef {MeasuringMessage | MeasuredMessage | ReadyMessage | ProgressMessage |
 *   CheckpointMessage | ResultMessage | TimedMessage | DoneMessage | LearnedMessage |
 *   ErrorMessage | DeviceLostMessage} WorkerOutput
 */
