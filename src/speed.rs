//! Which device trains faster here, by measurement. A GPU is not always the faster one: a
//! software adapter (SwiftShader, lavapipe, WARP) can be far slower than the CPU, and small
//! networks at small batches pay more for dispatch than they gain. So the page's *Auto* times a
//! few real training steps of the chosen network and batch size on each device and trains on
//! the faster. The first step is a warm-up: on WebGPU it compiles the shaders, whose time is
//! reported but not counted as speed.

use burn::prelude::Device;
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::data::{IMAGE_PIXELS, Sample};
use crate::device::DeviceKind;
use crate::model::{Architecture, Classifier};
use crate::train::{self, Silent, TrainConfig, TrainError};

/// How long the timed steps may take on one device, after the warm-up and a first timed
/// step (a slow device is measured by that single step).
const BUDGET_SECONDS: f64 = 1.5;
/// The most timed steps on one device.
const MAX_STEPS: usize = 8;

/// The training speed of one device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepTiming {
    pub device: DeviceKind,
    /// The warm-up step, in seconds (on a GPU mostly compiling its shaders).
    pub warmup_seconds: f64,
    /// Seconds per training step, from the timed steps.
    pub step_seconds: f64,
    /// How many steps were timed.
    pub steps: usize,
    pub samples_per_sec: f64,
}

/// `n` made-up samples: training speed does not depend on what the pixels show.
fn noise(n: usize) -> Vec<Sample> {
    let mut state = 0x9e37_79b9_u32;
    (0..n)
        .map(|i| {
            let mut image = [0u8; IMAGE_PIXELS];
            for pixel in image.iter_mut() {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                *pixel = (state >> 24) as u8;
            }
            Sample {
                image,
                label: i % 10,
            }
        })
        .collect()
}

/// Seconds for one epoch of `steps` training steps (ending in one read of its figures, as a
/// real epoch does).
async fn time_epoch(
    model: &Classifier,
    samples: &[Sample],
    config: &TrainConfig,
    device: &Device,
) -> Result<f64, TrainError> {
    let started = Instant::now();
    train::train(model, samples, config, device, &mut Silent).await?;
    Ok(started.elapsed().as_secs_f64())
}

/// Times whole training steps (forward, backward, Adam, every weight trained) of
/// `architecture` at `batch_size` on `device`: a warm-up step, one timed step, then as many
/// more (up to 8) as fit in about 1.5 s, run as one epoch.
pub async fn time_training(
    architecture: Architecture,
    batch_size: usize,
    device: &Device,
    kind: DeviceKind,
) -> Result<StepTiming, TrainError> {
    let batch_size = batch_size.max(1);
    let model = Classifier::new(architecture, 10, device);
    let config = TrainConfig {
        epochs: 1,
        batch_size,
        ..TrainConfig::default()
    };
    // Before the noise is made: a batch past the limit is refused, not allocated.
    config.validate()?;
    let samples = noise(batch_size * MAX_STEPS);
    let one = &samples[..batch_size];
    let warmup_seconds = time_epoch(&model, one, &config, device).await?;
    let mut step_seconds = time_epoch(&model, one, &config, device).await?;
    let mut steps = 1;
    let more = (BUDGET_SECONDS / step_seconds.max(1e-6)).floor() as usize;
    if more >= 2 {
        steps = more.min(MAX_STEPS);
        let timed = &samples[..batch_size * steps];
        step_seconds = time_epoch(&model, timed, &config, device).await? / steps as f64;
    }
    Ok(StepTiming {
        device: kind,
        warmup_seconds,
        step_seconds,
        steps,
        samples_per_sec: batch_size as f64 / step_seconds.max(1e-9),
    })
}

/// A WebGPU adapter as the browser describes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Adapter {
    /// E.g. "google swiftshader" or "nvidia ampere".
    pub name: String,
    /// The browser's own word (`GPUAdapterInfo.isFallbackAdapter`) that it is a fallback.
    pub fallback: bool,
}

/// Names of adapters that run on the CPU in software.
const SOFTWARE: [&str; 6] = [
    "swiftshader",
    "llvmpipe",
    "lavapipe",
    "softpipe",
    "basic render",
    "warp",
];

impl Adapter {
    /// A software or fallback adapter: rendering on the CPU, slower than the CPU device.
    pub fn is_software(&self) -> bool {
        let name = self.name.to_lowercase();
        self.fallback || SOFTWARE.iter().any(|s| name.contains(s))
    }

    /// "WebGPU (google swiftshader, a software adapter)" and the like.
    fn describe(&self) -> String {
        let name = self.name.trim();
        match (name.is_empty(), self.is_software()) {
            (true, false) => "WebGPU".to_string(),
            (true, true) => "WebGPU (a software adapter)".to_string(),
            (false, false) => format!("WebGPU ({name})"),
            (false, true) => format!("WebGPU ({name}, a software adapter)"),
        }
    }
}

/// Which device Auto trains on, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// The faster device.
    pub device: DeviceKind,
    /// How many times the faster device's speed is the slower one's.
    pub ratio: f64,
    /// Why, for the page's badge: "79× faster here than WebGPU (…, a software adapter)".
    pub summary: String,
    /// The measured figures behind it: "631 vs 8 samples/s".
    pub figures: String,
    pub cpu: StepTiming,
    pub gpu: StepTiming,
    pub adapter: Adapter,
}

/// "75×" or "6.2×".
fn times(ratio: f64) -> String {
    if ratio >= 10.0 {
        format!("{ratio:.0}×")
    } else {
        format!("{ratio:.1}×")
    }
}

/// The faster of the two measured devices (the CPU on a tie: it has nothing to compile and
/// no device to lose).
pub fn choose(cpu: StepTiming, gpu: StepTiming, adapter: Adapter) -> Choice {
    let gpu_faster = gpu.samples_per_sec > cpu.samples_per_sec;
    let (fast, slow) = if gpu_faster {
        (gpu.samples_per_sec, cpu.samples_per_sec)
    } else {
        (cpu.samples_per_sec, gpu.samples_per_sec)
    };
    let ratio = fast / slow.max(1e-9);
    let (summary, figures) = if gpu_faster {
        let threads = match crate::device::cpu_threads() {
            1 => String::new(),
            n => format!(" on {n} threads"),
        };
        (
            format!("{} the CPU's training speed here{threads}", times(ratio)),
            format!(
                "{:.0} vs {:.0} samples/s; shaders compiled in {:.1} s",
                gpu.samples_per_sec, cpu.samples_per_sec, gpu.warmup_seconds
            ),
        )
    } else {
        (
            format!("{} faster here than {}", times(ratio), adapter.describe()),
            format!(
                "{:.0} vs {:.0} samples/s",
                cpu.samples_per_sec, gpu.samples_per_sec
            ),
        )
    };
    Choice {
        device: if gpu_faster {
            DeviceKind::Wgpu
        } else {
            DeviceKind::Ndarray
        },
        ratio,
        summary,
        figures,
        cpu,
        gpu,
        adapter,
    }
}

/// What a measurement is kept under: it holds for this network, batch size and adapter, and
/// the CPU's threads (one thread keeps the key it always had).
pub fn choice_key(
    architecture: Architecture,
    batch_size: usize,
    adapter: &str,
    cpu_threads: usize,
) -> String {
    let key = format!("{architecture}|{batch_size}|{}", adapter.trim());
    if cpu_threads > 1 {
        format!("{key}|{cpu_threads} threads")
    } else {
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(device: DeviceKind, samples_per_sec: f64) -> StepTiming {
        StepTiming {
            device,
            warmup_seconds: 2.5,
            step_seconds: 16.0 / samples_per_sec,
            steps: 4,
            samples_per_sec,
        }
    }

    #[test]
    fn a_software_adapter_loses_to_the_cpu_and_is_named_as_such() {
        let adapter = Adapter {
            name: "google swiftshader".into(),
            fallback: false,
        };
        assert!(adapter.is_software());
        let choice = choose(
            timing(DeviceKind::Ndarray, 631.0),
            timing(DeviceKind::Wgpu, 8.0),
            adapter,
        );
        assert_eq!(choice.device, DeviceKind::Ndarray);
        assert!((choice.ratio - 78.875).abs() < 1e-9);
        assert_eq!(
            choice.summary,
            "79× faster here than WebGPU (google swiftshader, a software adapter)"
        );
        assert_eq!(choice.figures, "631 vs 8 samples/s");
    }

    #[test]
    fn a_faster_gpu_wins_with_its_ratio_and_compile_time() {
        let adapter = Adapter {
            name: "nvidia hopper".into(),
            fallback: false,
        };
        assert!(!adapter.is_software());
        let choice = choose(
            timing(DeviceKind::Ndarray, 500.0),
            timing(DeviceKind::Wgpu, 3100.0),
            adapter,
        );
        assert_eq!(choice.device, DeviceKind::Wgpu);
        assert_eq!(choice.summary, "6.2× the CPU's training speed here");
        assert_eq!(
            choice.figures,
            "3100 vs 500 samples/s; shaders compiled in 2.5 s"
        );
        // A tie goes to the CPU, and the browser's fallback flag alone marks software.
        let tie = choose(
            timing(DeviceKind::Ndarray, 100.0),
            timing(DeviceKind::Wgpu, 100.0),
            Adapter {
                name: String::new(),
                fallback: true,
            },
        );
        assert_eq!(tie.device, DeviceKind::Ndarray);
        assert!(
            tie.summary.contains("WebGPU (a software adapter)"),
            "{}",
            tie.summary
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn training_steps_are_timed_after_a_warm_up() {
        let device = crate::device::cpu();
        let timing = futures::executor::block_on(time_training(
            Architecture::Mlp,
            16,
            &device,
            DeviceKind::Ndarray,
        ))
        .unwrap();
        assert_eq!(timing.device, DeviceKind::Ndarray);
        assert!(timing.steps >= 1 && timing.steps <= MAX_STEPS);
        assert!(timing.warmup_seconds > 0.0 && timing.step_seconds > 0.0);
        assert!((timing.samples_per_sec - 16.0 / timing.step_seconds).abs() < 1e-6);
    }

    #[test]
    fn a_measurement_is_kept_apart_for_each_count_of_cpu_threads() {
        let one = choice_key(Architecture::Cnn, 16, " google swiftshader ", 1);
        assert_eq!(one, "cnn|16|google swiftshader");
        let four = choice_key(Architecture::Cnn, 16, "google swiftshader", 4);
        assert_eq!(four, "cnn|16|google swiftshader|4 threads");
    }
}
