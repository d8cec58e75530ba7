//! Device round trips: a GPU run reads its figures once per epoch and each checkpoint in one
//! read; the CPU, where a read is free, reads every batch. One test in this file, because the
//! read counter is shared by the whole process and tests in a file run in parallel.

mod common;

use burn::prelude::Device;
use common::mnist_subset;
use digit_transfer::data::Split;
use digit_transfer::device::{self, DeviceKind};
use digit_transfer::model::{Architecture, Classifier};
use digit_transfer::train::{self, Observer, TrainConfig, TrainError, TrainSets};
use digit_transfer::weights;
use futures::executor::block_on;

/// Asks for a checkpoint after every epoch when `wanted`, as the page's WebGPU worker does.
struct Checkpoints {
    wanted: bool,
    count: usize,
}

impl Observer for Checkpoints {
    fn wants_checkpoints(&self) -> bool {
        self.wanted
    }
    fn checkpoint(&mut self, _epoch: usize, weights: &weights::HostWeights) {
        assert!(weights.parameters() > 0);
        self.count += 1;
    }
}

/// Device reads of a 4-epoch run with validation, with or without checkpoints: (reads,
/// batches).
fn reads_of_a_run(
    device: &Device,
    architecture: Architecture,
    checkpoints: bool,
) -> (usize, usize) {
    let train_set = mnist_subset(Split::Train, 6);
    let validation = mnist_subset(Split::HeldOut, 2);
    device.seed(3);
    let model = Classifier::new(architecture, 10, device);
    let config = TrainConfig {
        epochs: 4,
        batch_size: 8,
        ..TrainConfig::default()
    };
    let sets = TrainSets {
        train: &train_set,
        validation: &validation,
        ..TrainSets::default()
    };
    let mut observer = Checkpoints {
        wanted: checkpoints,
        count: 0,
    };
    let before = device::reads();
    let outcome = block_on(train::fit(&model, sets, &config, device, &mut observer)).unwrap();
    let reads = device::reads() - before;
    assert_eq!(outcome.history.len(), 4);
    assert_eq!(observer.count, if checkpoints { 4 } else { 0 });
    assert!(
        outcome
            .history
            .iter()
            .all(|e| e.val_loss.is_some_and(f32::is_finite))
    );
    (
        reads,
        config.epochs * train_set.len().div_ceil(config.batch_size),
    )
}

#[test]
fn a_gpu_run_reads_once_per_epoch_and_checkpoint_and_the_cpu_every_batch() {
    // The CPU: a read per batch, one for validation and one for the checkpoint per epoch.
    let cpu = device::cpu();
    let (reads, batches) = reads_of_a_run(&cpu, Architecture::Mlp, true);
    assert_eq!(reads, batches + 2 * 4, "CPU reads");
    let (reads, batches) = reads_of_a_run(&cpu, Architecture::Mlp, false);
    assert_eq!(reads, batches + 4, "CPU reads without checkpoints");

    let gpu = match block_on(device::open(DeviceKind::Wgpu)) {
        Ok(selected) => selected.device,
        Err(e) if std::env::var_os("DIGIT_TRANSFER_SKIP_WGPU").is_some() => {
            return eprintln!("skipped: {e}");
        }
        Err(e) => panic!(
            "no wgpu device ({e}); install mesa-vulkan-drivers or set DIGIT_TRANSFER_SKIP_WGPU=1"
        ),
    };
    for architecture in Architecture::ALL {
        let (reads, batches) = reads_of_a_run(&gpu, architecture, true);
        // Per epoch: the training and validation figures together, and the checkpoint.
        assert!(
            reads <= 2 * 4,
            "{architecture} on wgpu: {reads} reads for {batches} batches"
        );
        // Without checkpoints: one read per epoch.
        let (reads, _) = reads_of_a_run(&gpu, architecture, false);
        assert!(
            reads <= 4,
            "{architecture} on wgpu without checkpoints: {reads} reads"
        );
        assert!(
            batches > 8,
            "the run must have more batches than the reads it may make"
        );
    }

    // A diverging GPU run is caught at the epoch's read, with the same message.
    let samples = mnist_subset(Split::Train, 4);
    let model = Classifier::new(Architecture::Mlp, 10, &gpu);
    let config = TrainConfig {
        epochs: 20,
        batch_size: 8,
        learning_rate: 1e30,
        ..TrainConfig::default()
    };
    let err = block_on(train::train(
        &model,
        &samples,
        &config,
        &gpu,
        &mut train::Silent,
    ))
    .unwrap_err();
    assert!(
        matches!(err, TrainError::Diverged { batch: None, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("lower learning rate"), "{err}");
}
