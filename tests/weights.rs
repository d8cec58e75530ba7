use burn::module::Module;
use burn::store::{BurnpackStore, ModuleSnapshot};
use digit_transfer::device::cpu;
use digit_transfer::model::{Architecture, Classifier};
use digit_transfer::weights::{self, WeightsError, WeightsInfo};

fn tensors(model: &Classifier) -> Vec<(String, Vec<u8>)> {
    model
        .collect(None, None, false)
        .into_iter()
        .map(|t| {
            let name = t.name.clone();
            (name, t.to_bytes().unwrap().to_vec())
        })
        .collect()
}

#[test]
fn round_trip_is_bit_exact_for_both_architectures() {
    let device = cpu();
    for architecture in Architecture::ALL {
        device.seed(3);
        let model = Classifier::new(architecture, 10, &device);
        let info = WeightsInfo::digits(architecture);
        let bytes = weights::to_burnpack(&model, &info).unwrap();
        let (loaded, loaded_info) =
            weights::from_burnpack(&bytes, Some(architecture), &device).unwrap();
        assert_eq!(loaded_info, info);
        assert_eq!(tensors(&loaded), tensors(&model));
        assert!(!tensors(&model).is_empty());
    }
}

#[test]
fn class_names_and_counts_survive() {
    let device = cpu();
    let model = Classifier::new(Architecture::Mlp, 3, &device);
    let info = WeightsInfo {
        architecture: Architecture::Mlp,
        class_names: vec!["A".into(), "B".into(), "✓".into()],
    };
    let bytes = weights::to_burnpack(&model, &info).unwrap();
    let (loaded, loaded_info) = weights::from_burnpack(&bytes, None, &device).unwrap();
    assert_eq!(loaded.classes(), 3);
    assert_eq!(loaded_info.class_names, ["A", "B", "✓"]);
}

#[test]
fn corrupt_files_are_typed_errors() {
    let device = cpu();
    let model = Classifier::new(Architecture::Cnn, 10, &device);
    let bytes = weights::to_burnpack(&model, &WeightsInfo::digits(Architecture::Cnn)).unwrap();

    for (what, broken) in [
        ("empty", Vec::new()),
        (
            "random",
            (0..5000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
        ),
        ("header only", bytes[..12].to_vec()),
        ("half", bytes[..bytes.len() / 2].to_vec()),
        ("one byte short", bytes[..bytes.len() - 1].to_vec()),
    ] {
        let err = weights::from_burnpack(&broken, None, &device).unwrap_err();
        assert!(
            matches!(err, WeightsError::NotBurnpack(_)),
            "{what}: {err:?}"
        );
        assert!(
            err.to_string().starts_with("not a burnpack weights file"),
            "{what}: {err}"
        );
    }
}

#[test]
fn wrong_architecture_shape_and_missing_tensors_are_named() {
    let device = cpu();
    let mlp = Classifier::new(Architecture::Mlp, 10, &device);
    let mlp_bytes = weights::to_burnpack(&mlp, &WeightsInfo::digits(Architecture::Mlp)).unwrap();
    let err = weights::from_burnpack(&mlp_bytes, Some(Architecture::Cnn), &device).unwrap_err();
    assert!(matches!(
        err,
        WeightsError::WrongArchitecture {
            expected: Architecture::Cnn,
            found: Architecture::Mlp
        }
    ));
    assert_eq!(
        err.to_string(),
        "these are `mlp` weights, but `cnn` weights were expected"
    );

    // Metadata claiming 10 classes over a 3-class head.
    let three = Classifier::new(Architecture::Mlp, 3, &device);
    let lying = weights::to_burnpack(&three, &WeightsInfo::digits(Architecture::Mlp)).unwrap();
    let err = weights::from_burnpack(&lying, None, &device).unwrap_err();
    match &err {
        WeightsError::WrongShape {
            name,
            expected,
            found,
            ..
        } => {
            assert!(name.starts_with("head."), "{name}");
            assert!(
                expected.contains(&10) && found.contains(&3),
                "{expected:?} {found:?}"
            );
        }
        other => panic!("expected a shape error, got {other:?}"),
    }
    assert!(err.to_string().contains("head."), "{err}");

    // A file with the head left out.
    let mut store = BurnpackStore::from_bytes(None)
        .with_regex(r"^backbone\.")
        .metadata("digit_transfer.architecture", "mlp")
        .metadata(
            "digit_transfer.classes",
            r#"["0","1","2","3","4","5","6","7","8","9"]"#,
        )
        .metadata("digit_transfer.format_version", "1");
    mlp.save_into(&mut store).unwrap();
    let partial = store.get_bytes().unwrap().to_vec();
    let err = weights::from_burnpack(&partial, None, &device).unwrap_err();
    assert!(
        matches!(&err, WeightsError::MissingTensor { name } if name.starts_with("head.")),
        "{err:?}"
    );

    // Burnpack from elsewhere: no digit-transfer metadata.
    let mut store = BurnpackStore::from_bytes(None);
    mlp.save_into(&mut store).unwrap();
    let foreign = store.get_bytes().unwrap().to_vec();
    let err = weights::from_burnpack(&foreign, None, &device).unwrap_err();
    assert!(matches!(err, WeightsError::MissingMetadata(_)), "{err:?}");
    let _ = mlp.num_params();
}

#[test]
fn cpu_copy_for_saving_is_identical() {
    let device = cpu();
    let model = Classifier::new(Architecture::Cnn, 4, &device);
    let copy = futures::executor::block_on(weights::to_cpu(&model)).unwrap();
    assert_eq!(tensors(&copy), tensors(&model));
    let info = WeightsInfo {
        architecture: Architecture::Cnn,
        class_names: ["a", "b", "c", "d"].map(String::from).to_vec(),
    };
    let sync = weights::to_burnpack(&model, &info).unwrap();
    let via_copy = futures::executor::block_on(weights::to_burnpack_async(&model, &info)).unwrap();
    assert_eq!(sync, via_copy);
}
