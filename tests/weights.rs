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

/// Files are written from the weights read off the device in one read, without a CPU copy of
/// the network (the page's WebGPU build has no CPU device): they must be what burn's own
/// stores write, names, layouts and metadata included.
#[test]
fn files_written_from_read_weights_are_what_burns_stores_write() {
    use burn::store::{BurnToPyTorchAdapter, SafetensorsStore};
    let device = cpu();
    for architecture in Architecture::ALL {
        device.seed(5);
        let model = Classifier::new(architecture, 4, &device);
        let info = WeightsInfo {
            architecture,
            class_names: ["a", "b", "c", "d"].map(String::from).to_vec(),
        };
        let read = futures::executor::block_on(weights::HostWeights::read(&model)).unwrap();
        assert_eq!(read.parameters(), model.num_params());
        let names: Vec<&str> = read.named().map(|(name, _)| name).collect();
        let expected: Vec<String> = tensors(&model).into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, expected);

        let classes = serde_json::to_string(&info.class_names).unwrap();
        let mut store = BurnpackStore::from_bytes(None)
            .metadata("digit_transfer.architecture", architecture.name())
            .metadata("digit_transfer.classes", classes.clone())
            .metadata("digit_transfer.format_version", "1");
        model.save_into(&mut store).unwrap();
        let burns = store.get_bytes().unwrap().to_vec();
        assert_eq!(read.to_burnpack(&info).unwrap(), burns);
        assert_eq!(weights::to_burnpack(&model, &info).unwrap(), burns);
        let async_bytes =
            futures::executor::block_on(weights::to_burnpack_async(&model, &info)).unwrap();
        assert_eq!(async_bytes, burns);

        // Safetensors' metadata is a hash map, written in no fixed order: compare the parsed
        // files.
        let mut store = SafetensorsStore::from_bytes(None)
            .with_to_adapter(BurnToPyTorchAdapter)
            .metadata("digit_transfer.architecture", architecture.name())
            .metadata("digit_transfer.classes", classes)
            .metadata("digit_transfer.format_version", "1");
        for (burn, torch) in weights::pytorch_names(architecture) {
            store = store.with_key_remapping(format!("^{}", regex::escape(burn)), *torch);
        }
        model.save_into(&mut store).unwrap();
        let burns = store.get_bytes().unwrap();
        let ours = read.to_safetensors(&info).unwrap();
        let parse = |bytes: &[u8]| {
            let (_, header) = safetensors::SafeTensors::read_metadata(bytes).unwrap();
            let file = safetensors::SafeTensors::deserialize(bytes).unwrap();
            let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = file
                .tensors()
                .into_iter()
                .map(|(name, view)| (name, view.shape().to_vec(), view.data().to_vec()))
                .collect();
            tensors.sort();
            (header.metadata().clone(), tensors)
        };
        let (metadata, tensors) = parse(&ours);
        assert!(tensors.iter().any(|(name, _, _)| name == "fc2.weight"));
        assert_eq!((metadata, tensors), parse(&burns));
    }
}

/// Every way a file can be cut short: each byte through the header and metadata, every
/// 256-byte boundary of the (256-aligned) tensor data, and each of the last 300 bytes.
fn cut_points(len: usize, dense_until: usize) -> Vec<usize> {
    let mut cuts: Vec<usize> = (0..dense_until.min(len)).collect();
    cuts.extend((dense_until..len).step_by(256));
    cuts.extend(len.saturating_sub(300)..len);
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// `bytes` cut short at each of `cuts` is refused as not a weights file, never loaded.
fn assert_every_cut_refused(bytes: &[u8], cuts: &[usize]) {
    let device = cpu();
    for &cut in cuts {
        let err = weights::from_bytes(&bytes[..cut], None, &device)
            .err()
            .unwrap_or_else(|| panic!("a file cut at byte {cut} of {} loaded", bytes.len()));
        assert!(
            matches!(
                err,
                WeightsError::NotBurnpack(_) | WeightsError::NotSafetensors(_)
            ),
            "cut at {cut}: {err:?}"
        );
    }
}

#[test]
fn a_burnpack_file_cut_at_any_section_boundary_is_refused() {
    let device = cpu();
    let model = Classifier::new(Architecture::Mlp, 3, &device);
    let info = WeightsInfo {
        architecture: Architecture::Mlp,
        class_names: vec!["a".into(), "b".into(), "c".into()],
    };
    let bytes = weights::to_burnpack(&model, &info).unwrap();
    // The header holds the metadata's length; the tensor data starts at the next multiple of
    // 256 after the metadata.
    let metadata = u32::from_le_bytes(bytes[6..10].try_into().unwrap()) as usize;
    let data_start = (10 + metadata).div_ceil(256) * 256;
    let cuts = cut_points(bytes.len(), data_start + 1);
    assert!(cuts.len() > data_start, "{} cut points", cuts.len());
    assert_every_cut_refused(&bytes, &cuts);
}

#[test]
fn a_safetensors_file_cut_at_any_tensor_boundary_is_refused() {
    let device = cpu();
    let model = Classifier::new(Architecture::Cnn, 10, &device);
    let bytes = weights::to_safetensors(&model, &WeightsInfo::digits(Architecture::Cnn)).unwrap();
    let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let mut cuts: Vec<usize> = (0..8 + header + 1).collect();
    for info in metadata.tensors().values() {
        let (start, end) = info.data_offsets;
        for at in [start, start + 1, end.saturating_sub(1), end] {
            cuts.push(8 + header + at);
        }
    }
    cuts.retain(|&c| c < bytes.len());
    assert_every_cut_refused(&bytes, &cuts);
}

#[test]
fn absurd_sizes_in_headers_are_refused_without_allocating_them() {
    let device = cpu();
    // burnpack: magic, version 1, then a metadata length of 4 GiB in a 64-byte file.
    let mut burnpack = 0x4255_524E_u32.to_le_bytes().to_vec();
    burnpack.extend_from_slice(&1u16.to_le_bytes());
    burnpack.extend_from_slice(&u32::MAX.to_le_bytes());
    burnpack.resize(64, 0);
    let err = weights::from_bytes(&burnpack, None, &device).unwrap_err();
    assert!(matches!(err, WeightsError::NotBurnpack(_)), "{err:?}");

    // safetensors: a header length near 2^64.
    let mut huge_header = (u64::MAX - 7).to_le_bytes().to_vec();
    huge_header.extend_from_slice(b"{}");
    let err = weights::from_bytes(&huge_header, None, &device).unwrap_err();
    assert!(matches!(err, WeightsError::NotSafetensors(_)), "{err:?}");

    // safetensors: a tensor whose shape announces 10^12 floats backed by 8 bytes.
    let header = r#"{"fc2.weight":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,8]}}"#;
    let mut lying = (header.len() as u64).to_le_bytes().to_vec();
    lying.extend_from_slice(header.as_bytes());
    lying.extend_from_slice(&[0; 8]);
    let err = weights::from_bytes(&lying, None, &device).unwrap_err();
    assert!(matches!(err, WeightsError::NotSafetensors(_)), "{err:?}");

    // Metadata that asks for a head of a million classes.
    let model = Classifier::new(Architecture::Mlp, 10, &device);
    let mut store = BurnpackStore::from_bytes(None)
        .metadata("digit_transfer.architecture", "mlp")
        .metadata(
            "digit_transfer.classes",
            serde_json::to_string(&(0..1_000_000).map(|c| c.to_string()).collect::<Vec<_>>())
                .unwrap(),
        )
        .metadata("digit_transfer.format_version", "1");
    model.save_into(&mut store).unwrap();
    let many = store.get_bytes().unwrap().to_vec();
    let err = weights::from_bytes(&many, None, &device).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the weights file's class names are malformed: 1000000 classes; digit-transfer handles at most 64"
    );
}

/// `bytes` with the first float of `tensor`'s data (found by its contents) replaced.
fn poison(bytes: &[u8], tensor: &[u8], value: f32) -> Vec<u8> {
    let at = bytes
        .windows(tensor.len())
        .position(|w| w == tensor)
        .expect("tensor data in the file");
    let mut out = bytes.to_vec();
    out[at..at + 4].copy_from_slice(&value.to_le_bytes());
    out
}

#[test]
fn nan_or_infinite_weights_are_refused_and_named() {
    let device = cpu();
    let model = Classifier::new(Architecture::Mlp, 10, &device);
    let info = WeightsInfo::digits(Architecture::Mlp);
    let head_bias = tensors(&model)
        .into_iter()
        .find(|(name, _)| name == "head.bias")
        .unwrap()
        .1;
    for value in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let burnpack = poison(
            &weights::to_burnpack(&model, &info).unwrap(),
            &head_bias,
            value,
        );
        let err = weights::from_bytes(&burnpack, None, &device).unwrap_err();
        assert!(
            matches!(&err, WeightsError::NotFinite { name, index: 0, .. } if name == "head.bias"),
            "{err:?}"
        );
        assert!(err.to_string().contains("damaged"), "{err}");

        let safetensors = poison(
            &weights::to_safetensors(&model, &info).unwrap(),
            &head_bias,
            value,
        );
        let err = weights::from_bytes(&safetensors, None, &device).unwrap_err();
        assert!(
            matches!(&err, WeightsError::NotFinite { name, index: 0, .. } if name == "fc2.bias"),
            "{err:?}"
        );
    }
}

#[test]
fn safetensors_with_an_extra_or_wrong_dtype_tensor_is_refused_and_named() {
    use safetensors::tensor::{Dtype, TensorView};
    let device = cpu();
    let model = Classifier::new(Architecture::Mlp, 10, &device);
    let good = weights::to_safetensors(&model, &WeightsInfo::digits(Architecture::Mlp)).unwrap();
    let file = safetensors::SafeTensors::deserialize(&good).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&good).unwrap();
    let metadata = header.metadata().clone();
    let rebuild = |extra: Option<(&str, Dtype, Vec<usize>, Vec<u8>)>, as_f64: Option<&str>| {
        let mut owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = file
            .tensors()
            .into_iter()
            .map(|(name, view)| {
                let data = view.data().to_vec();
                if Some(name.as_str()) == as_f64 {
                    let wide: Vec<u8> = data
                        .chunks_exact(4)
                        .flat_map(|b| {
                            f64::from(f32::from_le_bytes(b.try_into().unwrap())).to_le_bytes()
                        })
                        .collect();
                    (name, Dtype::F64, view.shape().to_vec(), wide)
                } else {
                    (name, view.dtype(), view.shape().to_vec(), data)
                }
            })
            .collect();
        if let Some((name, dtype, shape, data)) = extra {
            owned.push((name.to_string(), dtype, shape, data));
        }
        let views: Vec<(String, TensorView)> = owned
            .iter()
            .map(|(n, d, s, b)| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap()))
            .collect();
        safetensors::serialize(views, metadata.clone()).unwrap()
    };
    let extra = rebuild(Some(("fc3.weight", Dtype::F32, vec![2], vec![0; 8])), None);
    let err = weights::from_bytes(&extra, None, &device).unwrap_err();
    assert!(
        matches!(&err, WeightsError::UnexpectedTensor { name, .. } if name == "fc3.weight"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "tensor `fc3.weight` in the weights file is not part of the mlp model"
    );
    let wide = rebuild(None, Some("fc1.bias"));
    let err = weights::from_bytes(&wide, None, &device).unwrap_err();
    assert!(
        matches!(&err, WeightsError::BadTensor { name, .. } if name == "fc1.bias"),
        "{err:?}"
    );
    assert!(err.to_string().contains("reads float32"), "{err}");
}
