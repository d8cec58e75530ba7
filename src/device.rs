//! Where the arithmetic runs. The CPU device (ndarray; flex in the page's threaded build) in
//! every build but the page's WebGPU one; the GPU through wgpu natively (Vulkan, Metal, …) and
//! WebGPU in the browser, when an adapter exists.

use burn::prelude::Device;
use thiserror::Error;

/// The kinds of device the product runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// burn's ndarray backend: pure Rust, runs everywhere, including wasm.
    #[default]
    Ndarray,
    /// burn's flex backend (pure Rust CPU), built with the `flex` feature.
    Flex,
    /// wgpu: Vulkan / Metal / DX12 natively, WebGPU in the browser.
    Wgpu,
}

impl DeviceKind {
    pub fn name(self) -> &'static str {
        match self {
            DeviceKind::Ndarray => "ndarray",
            DeviceKind::Flex => "flex",
            DeviceKind::Wgpu => "wgpu",
        }
    }
}

impl std::fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for DeviceKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ndarray" | "cpu" => Ok(DeviceKind::Ndarray),
            "flex" => Ok(DeviceKind::Flex),
            "wgpu" | "webgpu" | "gpu" => Ok(DeviceKind::Wgpu),
            _ => Err(format!(
                "unknown device `{s}`: expected `ndarray`, `flex` or `wgpu`"
            )),
        }
    }
}

/// Why a device could not be had.
#[derive(Debug, Error)]
pub enum DeviceError {
    #[error("no GPU adapter is available ({0})")]
    NoAdapter(String),
    #[error("this build has no `flex` device: rebuild with `--features flex`")]
    FlexNotBuilt,
    #[error(
        "this build has no WebGPU device (the page loads its WebGPU build only when an adapter exists)"
    )]
    GpuNotBuilt,
    #[error("this build has no CPU device (the page's WebGPU build trains only on the GPU)")]
    CpuNotBuilt,
}

/// Whether a run that failed with `message` on a device of `kind` failed because of the device
/// itself (lost, or out of memory), so that it may go on on another device; any other error (a
/// refusal, a diverging loss, a bug) is the run's own and would fail again anywhere. The CPU
/// has nothing to go on to.
pub fn is_device_fault(message: &str, kind: DeviceKind) -> bool {
    if kind != DeviceKind::Wgpu {
        return false;
    }
    let message = message.to_lowercase();
    let lost =
        message.contains("device") && (message.contains("lost") || message.contains("destroyed"));
    // TrainError::Device: a read from the GPU that failed.
    lost || message.contains("out of memory")
        || message.contains("outofmemory")
        || message.starts_with("the device failed")
}

/// A device and what it is, for people to read.
#[derive(Clone, Debug)]
pub struct Selected {
    pub device: Device,
    pub kind: DeviceKind,
    /// E.g. "CPU (ndarray)" or "WebGPU".
    pub label: String,
    /// Why this device and not another (empty when it was simply asked for).
    pub reason: String,
}

/// Whether the CPU device is flex (the threaded build, or a build without ndarray).
const CPU_IS_FLEX: bool = cfg!(any(feature = "threads", not(feature = "ndarray")));

/// The CPU device: ndarray, or flex in the page's threaded build.
#[cfg(any(feature = "ndarray", feature = "flex"))]
pub fn cpu() -> Device {
    // In wasm, flex's kernels are slower than ndarray's on one thread without SIMD and split
    // over threads where ndarray's matmul cannot (docs/BENCHMARKS.md), so the threaded build
    // trains on flex. Elsewhere ndarray (deprecated in burn 0.22) stays the measured CPU
    // fallback; flex is offered behind a feature for comparison.
    #[cfg(any(feature = "threads", not(feature = "ndarray")))]
    {
        Device::flex()
    }
    #[cfg(all(feature = "ndarray", not(feature = "threads")))]
    {
        #[allow(deprecated)]
        Device::ndarray()
    }
}

/// The CPU device, or why this build has none.
pub fn cpu_device() -> Result<Device, DeviceError> {
    #[cfg(any(feature = "ndarray", feature = "flex"))]
    {
        Ok(cpu())
    }
    #[cfg(not(any(feature = "ndarray", feature = "flex")))]
    {
        Err(DeviceError::CpuNotBuilt)
    }
}

/// The most threads the CPU device takes, whatever the machine has: the kernels of networks
/// this size gain little past it, and in the page every thread is a worker with its own stack.
pub const MAX_CPU_THREADS: usize = 8;

/// How many threads the CPU device computes on where it may use `cores` logical cores: all of
/// them, capped at [`MAX_CPU_THREADS`], and at least one.
pub fn cpu_thread_count(cores: usize) -> usize {
    cores.clamp(1, MAX_CPU_THREADS)
}

/// The threads the CPU device splits its work over: the page's threaded build sets it when its
/// pool starts; 1 everywhere else.
static CPU_THREADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

/// How many threads [`cpu`] computes on.
pub fn cpu_threads() -> usize {
    CPU_THREADS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Record the CPU device's threads (once its pool runs them).
pub fn set_cpu_threads(threads: usize) {
    CPU_THREADS.store(threads.max(1), std::sync::atomic::Ordering::Relaxed);
}

/// The CPU device's name for people: "CPU (ndarray)", "CPU (flex) · 4 threads".
fn cpu_label() -> String {
    let backend = if CPU_IS_FLEX { "flex" } else { "ndarray" };
    match cpu_threads() {
        1 => format!("CPU ({backend})"),
        n => format!("CPU ({backend}) · {n} threads"),
    }
}

fn flex() -> Result<Device, DeviceError> {
    #[cfg(feature = "flex")]
    {
        Ok(Device::flex())
    }
    #[cfg(not(feature = "flex"))]
    {
        Err(DeviceError::FlexNotBuilt)
    }
}

/// The wgpu device, initialised asynchronously (required in the browser). burn registers a
/// wgpu runtime once per process, so the first device is kept and handed out again.
#[cfg(any(not(target_arch = "wasm32"), feature = "webgpu"))]
pub async fn wgpu() -> Result<Device, DeviceError> {
    static GPU: std::sync::Mutex<Option<Device>> = std::sync::Mutex::new(None);
    if let Some(device) = GPU.lock().ok().and_then(|gpu| gpu.clone()) {
        return Ok(device);
    }
    let device = Device::wgpu_options()
        .init_async()
        .await
        .map_err(|e| DeviceError::NoAdapter(e.to_string()))?;
    if let Ok(mut gpu) = GPU.lock() {
        *gpu = Some(device.clone());
    }
    Ok(device)
}

/// The page's CPU build leaves WebGPU out: it is about a third of the size.
#[cfg(all(target_arch = "wasm32", not(feature = "webgpu")))]
pub async fn wgpu() -> Result<Device, DeviceError> {
    Err(DeviceError::GpuNotBuilt)
}

/// The device of `kind`, or the reason it is not available.
pub async fn open(kind: DeviceKind) -> Result<Selected, DeviceError> {
    let (device, label) = match kind {
        DeviceKind::Ndarray => (cpu_device()?, cpu_label()),
        DeviceKind::Flex => (flex()?, "CPU (flex)".to_string()),
        DeviceKind::Wgpu => (
            wgpu().await?,
            if cfg!(target_arch = "wasm32") {
                "WebGPU"
            } else {
                "GPU (wgpu)"
            }
            .to_string(),
        ),
    };
    Ok(Selected {
        device,
        kind,
        label,
        reason: String::new(),
    })
}

/// The GPU when one answers, else the CPU, with the reason recorded. The page asks for this
/// only where there is no WebGPU adapter to measure; with one, its *Auto* times both devices
/// ([`crate::speed`]) and opens the faster.
#[cfg(any(feature = "ndarray", feature = "flex"))]
pub async fn best() -> Selected {
    match open(DeviceKind::Wgpu).await {
        Ok(selected) => selected,
        Err(e) => Selected {
            device: cpu(),
            kind: DeviceKind::Ndarray,
            label: cpu_label(),
            reason: e.to_string(),
        },
    }
}

/// Whether reading a result back costs next to nothing: true on the CPU, where tensors already
/// live in memory; false on a GPU, where every read waits for the queue to drain (about 0.5 ms
/// in Chrome, about 100 ms in Firefox, which polls finished work on a timer).
pub fn reads_are_free(device: &Device) -> bool {
    // Device equality ignores autodiff, so an autodiff CPU device counts as the CPU.
    cpu_device().is_ok_and(|cpu| *device == cpu) || flex().is_ok_and(|flex| *device == flex)
}

/// Reads of device results made so far in this process (or wasm instance), for tests and the
/// benchmark to count round trips.
static READS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many device reads [`read_floats`] has made.
pub fn reads() -> usize {
    READS.load(std::sync::atomic::Ordering::Relaxed)
}

/// A tensor's values on the CPU: one round trip to the device, counted. Every read of results
/// in the crate goes through here (asynchronously, as the browser requires).
pub async fn read_floats<const D: usize>(
    tensor: burn::prelude::Tensor<D>,
) -> Result<Vec<f32>, String> {
    READS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let data = tensor
        .into_data_async()
        .await
        .map_err(|e| format!("{e:?}"))?;
    data.try_into_vec::<f32>().map_err(|e| format!("{e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_takes_every_core_capped_and_at_least_one() {
        assert_eq!(cpu_thread_count(0), 1);
        assert_eq!(cpu_thread_count(2), 2);
        assert_eq!(cpu_thread_count(16), MAX_CPU_THREADS);
        // The label names the threads only when there is more than one.
        assert_eq!(cpu_threads(), 1);
        assert_eq!(cpu_label(), "CPU (ndarray)");
    }

    #[test]
    fn only_a_lost_or_full_gpu_is_a_device_fault() {
        let gpu = DeviceKind::Wgpu;
        for fault in [
            "the GPU device was lost (destroyed)",
            "Device lost: reason unknown",
            "the device failed: a read from the GPU did not complete",
            "Out of memory: a buffer of 2147483648 bytes",
            "GPUOutOfMemoryError",
        ] {
            assert!(is_device_fault(fault, gpu), "{fault}");
            assert!(
                !is_device_fault(fault, DeviceKind::Ndarray),
                "the CPU: {fault}"
            );
        }
        for own in [
            "the learning rate must be at most 1, not 1e30: Adam's steps are about the rate's size",
            "the loss became NaN in epoch 1: training stopped and the weights from before it were kept; try a lower learning rate",
            "“✓” has no samples: label at least one sample of each class",
            "digit-transfer panicked at src/train/fit.rs:10:5: capacity overflow",
        ] {
            assert!(!is_device_fault(own, gpu), "{own}");
        }
    }
}
