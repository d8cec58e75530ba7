//! Runs in headless Chromium through wasm-bindgen-test: the library's forward pass and a
//! training step on the devices the browser offers. Built with
//! `DIGIT_TRANSFER_WEBGPU=required` the WebGPU device must be there (Chromium started with
//! `--enable-unsafe-webgpu`); with `absent` the CPU fallback must be chosen, with its reason.
#![cfg(target_arch = "wasm32")]

use burn::prelude::*;
use digit_transfer::data::{IMAGE_PIXELS, Sample};
use digit_transfer::device::{self, DeviceKind};
use digit_transfer::model::{Architecture, Classifier};
use digit_transfer::train::{self, Silent, TrainConfig, TrainSets};
use digit_transfer::transfer::{self, Strategy};
use digit_transfer::weights::{self, WeightsInfo};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Two made-up classes: a bright top half, a bright bottom half.
fn halves(n: usize) -> Vec<Sample> {
    (0..n)
        .map(|i| {
            let label = i % 2;
            let mut image = [0u8; IMAGE_PIXELS];
            let rows = if label == 0 { 2..12 } else { 16..26 };
            for row in rows {
                for col in 6..22 {
                    image[row * 28 + col] = 200 + (i % 50) as u8;
                }
            }
            Sample { image, label }
        })
        .collect()
}

async fn forward_and_train(device: &Device) {
    for architecture in Architecture::ALL {
        let model = Classifier::new(architecture, 10, device).with_new_head(2, device);
        let samples = halves(32);
        let images: Vec<_> = samples.iter().map(|s| s.image).collect();
        let before = train::predict(&model, &images, device, 16)
            .await
            .expect("forward pass");
        assert_eq!(before.len(), 32);
        assert!(
            before
                .iter()
                .all(|p| p.len() == 2 && (p.iter().sum::<f32>() - 1.0).abs() < 1e-4)
        );

        let config = TrainConfig {
            epochs: 3,
            batch_size: 16,
            learning_rate: 5e-3,
            ..TrainConfig::default()
        };
        let outcome = train::train(&model, &samples, &config, device, &mut Silent)
            .await
            .expect("training");
        let (first, last) = (&outcome.history[0], &outcome.history[2]);
        assert!(
            last.loss < first.loss,
            "{architecture}: loss {} → {}",
            first.loss,
            last.loss
        );
        let accuracy = train::evaluate(&outcome.model, &samples, device)
            .await
            .expect("evaluate")
            .accuracy();
        assert!(accuracy > 0.9, "{architecture}: accuracy {accuracy}");

        let info = WeightsInfo {
            architecture,
            class_names: vec!["top".into(), "bottom".into()],
        };
        let bytes = weights::to_burnpack_async(&outcome.model, &info)
            .await
            .expect("save");
        let (reloaded, _) =
            weights::from_burnpack(&bytes, Some(architecture), device).expect("load");
        let again = train::predict(&reloaded, &images, device, 16)
            .await
            .expect("forward pass");
        let after = train::predict(&outcome.model, &images, device, 16)
            .await
            .expect("forward pass");
        assert_eq!(again, after);
    }
}

/// The backbone's tensors, read back (asynchronously, as WebGPU requires).
async fn backbone(model: &Classifier) -> Vec<(String, Vec<f32>)> {
    let weights = weights::HostWeights::read(model).await.expect("read back");
    weights
        .named()
        .filter(|(name, _)| name.starts_with("backbone."))
        .map(|(name, values)| (name.to_string(), values.to_vec()))
        .collect()
}

/// Head-only and full fine-tuning of a new two-class head, with validation and early stopping.
async fn finetune_strategies(device: &Device) {
    let pretrained = Classifier::new(Architecture::Cnn, 10, device);
    let info = WeightsInfo::digits(Architecture::Cnn);
    let names = vec!["top".to_string(), "bottom".to_string()];
    let samples = halves(24);
    let (train_set, validation) =
        transfer::split_validation(&samples, &names, 0.25, 1).expect("split");
    let before = backbone(&pretrained).await;
    for strategy in [Strategy::Head, Strategy::Full] {
        let (start, out) =
            transfer::starting_point(&pretrained, &info, &names, strategy, 1, device)
                .expect("start");
        assert_eq!(out.class_names, names);
        let base = TrainConfig {
            epochs: 4,
            batch_size: 8,
            learning_rate: 1e-2,
            patience: Some(2),
            ..TrainConfig::default()
        };
        let sets = TrainSets {
            train: &train_set,
            validation: &validation,
            ..TrainSets::default()
        };
        let outcome = train::fit(
            &start,
            sets,
            &transfer::train_config(strategy, &base),
            device,
            &mut Silent,
        )
        .await
        .expect("fine-tune");
        assert!(outcome.history.iter().all(|e| e.val_loss.is_some()));
        let accuracy = train::evaluate(&outcome.model, &samples, device)
            .await
            .expect("evaluate")
            .accuracy();
        assert!(accuracy > 0.9, "{strategy}: accuracy {accuracy}");
        let after = backbone(&outcome.model).await;
        match strategy {
            Strategy::Head => {
                assert_eq!(after, before, "head-only keeps the backbone bit-identical")
            }
            _ => assert_ne!(after, before, "full fine-tuning moves the backbone"),
        }
    }
}

#[wasm_bindgen_test]
async fn cpu_forward_pass_and_training_step() {
    forward_and_train(&device::cpu()).await;
}

#[wasm_bindgen_test]
async fn cpu_head_only_and_full_fine_tuning() {
    finetune_strategies(&device::cpu()).await;
}

#[wasm_bindgen_test]
async fn webgpu_or_cpu_fallback_as_expected() {
    let selected = device::best().await;
    match option_env!("DIGIT_TRANSFER_WEBGPU") {
        Some("required") => {
            assert_eq!(
                selected.kind,
                DeviceKind::Wgpu,
                "no WebGPU: {}",
                selected.reason
            );
            forward_and_train(&selected.device).await;
        }
        Some("absent") => {
            assert_eq!(selected.kind, DeviceKind::Ndarray);
            assert!(!selected.reason.is_empty(), "the fallback says why");
        }
        // Run by hand, without the test command's expectation: whichever device the browser
        // gives, it says why when it is the fallback, and it trains.
        _ => {
            assert_eq!(
                selected.reason.is_empty(),
                selected.kind == DeviceKind::Wgpu,
                "{:?}: {:?}",
                selected.kind,
                selected.reason
            );
            forward_and_train(&selected.device).await;
        }
    }
}

/// Points fitted by their own principal components: centred, and spread more along the first
/// axis than the second (and along both).
fn assert_projection_is_pca(points: &[[f32; 2]]) {
    let n = points.len() as f32;
    let mean = |axis: usize| points.iter().map(|p| p[axis]).sum::<f32>() / n;
    let variance = |axis: usize| points.iter().map(|p| p[axis].powi(2)).sum::<f32>() / n;
    let scale = variance(0).sqrt();
    assert!(
        mean(0).abs() < 1e-3 * scale && mean(1).abs() < 1e-3 * scale,
        "centred: {} {}",
        mean(0),
        mean(1)
    );
    assert!(
        variance(0) >= variance(1) && variance(1) > 0.0,
        "{} {}",
        variance(0),
        variance(1)
    );
}

/// The value of a page call, or a panic with the JavaScript error's message.
fn ok<T>(result: Result<T, wasm_bindgen::JsError>) -> T {
    result.unwrap_or_else(|e| panic!("{:?}", wasm_bindgen::JsValue::from(e)))
}

/// A value the boundary returned, as JSON to look into.
fn json(value: &wasm_bindgen::JsValue) -> serde_json::Value {
    serde_wasm_bindgen::from_value(value.clone()).expect("a plain value")
}

/// JSON as the page's values are: plain objects, `null`.
fn js(value: &serde_json::Value) -> wasm_bindgen::JsValue {
    use serde::Serialize;
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .expect("a plain value")
}

/// The message of a refusal.
fn message(error: wasm_bindgen::JsError) -> String {
    let value = wasm_bindgen::JsValue::from(error);
    js_sys::Reflect::get(&value, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_default()
}

/// The page's boundary, as the worker and the page call it: fine-tune from burnpack bytes
/// with progress and stop, load the result for prediction, and write and read samples files.
#[wasm_bindgen_test]
async fn page_boundary_fine_tunes_predicts_and_moves_samples() {
    use digit_transfer::web::{
        DigitModel, FineTuneJob, Resume, Workbench, canvas_to_image, decode_samples, encode_samples,
    };

    let bench = ok(Workbench::open("auto".into()).await);
    let expected = match option_env!("DIGIT_TRANSFER_WEBGPU") {
        Some("required") => Some("webgpu"),
        Some("absent") => Some("cpu"),
        _ => None,
    };
    if let Some(kind) = expected {
        assert_eq!(bench.device_kind(), kind, "{}", bench.device_reason());
    }
    let cpu = device::cpu();
    let pretrained = Classifier::new(Architecture::Cnn, 10, &cpu);
    let bytes =
        weights::to_burnpack(&pretrained, &WeightsInfo::digits(Architecture::Cnn)).expect("encode");
    let classes = vec!["top".to_string(), "bottom".to_string()];
    let samples = halves(24);
    let images: Vec<u8> = samples.iter().flat_map(|s| s.image).collect();
    let labels: Vec<u8> = samples.iter().map(|s| s.label as u8).collect();
    let settings = transfer::Settings {
        strategy: Strategy::Head,
        epochs: 4,
        batch_size: Some(8),
        learning_rate: 0.01,
        validation_split: 0.25,
        patience: 0,
        augment: false,
        ..Default::default()
    };
    let job = |resume: Option<Resume>| {
        let job = FineTuneJob {
            pretrained: bytes.clone(),
            classes: classes.clone(),
            images: images.clone(),
            labels: labels.clone(),
            settings: settings.clone(),
            strategy: settings.strategy,
            adapt: false,
            resume,
        };
        serde_wasm_bindgen::to_value(&job).expect("job")
    };

    let go_on = js_sys::Function::new_with_args(
        "p",
        "if (!['batch', 'epoch'].includes(p.kind)) throw new Error(p.kind); return true;",
    );
    // Checkpoints after every epoch, kept in a JS array as [epoch, burnpack bytes].
    let kept = js_sys::Array::new();
    let keep =
        js_sys::Function::new_with_args("epoch, bytes", "this.push([epoch, bytes]);").bind0(&kept);
    let tuned = ok(bench.fine_tune(job(None), go_on, Some(keep.clone())).await);
    let report = json(&tuned.report);
    let history = report["history"].as_array().expect("history");
    assert_eq!(history.len(), 4);
    let loss = |epoch: usize| {
        history[epoch]["loss"]
            .as_f64()
            .expect("every epoch has a loss")
    };
    assert!(loss(3) < loss(0), "{} → {}", loss(0), loss(3));
    assert!(report["validation"]["accuracy"].as_f64().expect("accuracy") > 0.9);
    assert_eq!(report["new_head"], true);

    assert_eq!(kept.length(), 4, "a checkpoint after every epoch");

    // Going on from the epoch-2 checkpoint (as after a lost GPU): epochs 3 and 4 remain.
    let second = js_sys::Array::from(&kept.get(1));
    assert_eq!(second.get(0).as_f64(), Some(2.0));
    let checkpoint = js_sys::Uint8Array::new(&second.get(1)).to_vec();
    let go_on = js_sys::Function::new_with_args("p", "return true;");
    let resume = Resume {
        weights: checkpoint,
        epoch: 2,
    };
    let resumed = ok(bench.fine_tune(job(Some(resume)), go_on, None).await);
    let report = json(&resumed.report);
    assert_eq!(report["resumed_after_epoch"], 2);
    let epochs: Vec<u64> = report["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["epoch"].as_u64())
        .collect();
    assert_eq!(epochs, [3, 4]);

    let model = ok(DigitModel::load(tuned.weights.clone(), "cpu".into()).await);
    assert_eq!(model.class_names(), classes);
    let top = ok(model.predict_image(samples[0].image.to_vec()).await);
    assert_eq!((top.best, top.probabilities.len()), (0, 2));

    // A setting this build does not know is refused, not ignored.
    let odd = job(None);
    let odd_settings = js_sys::Reflect::get(&odd, &"settings".into()).expect("settings");
    js_sys::Reflect::set(&odd_settings, &"epoch".into(), &3.into()).expect("set");
    let go_on = js_sys::Function::new_with_args("p", "return true;");
    let refused = bench
        .fine_tune(odd, go_on, None)
        .await
        .err()
        .expect("refused");
    assert!(message(refused).contains("unknown field `epoch`"));

    // A falsy answer from the progress callback stops the run at once.
    let stop = js_sys::Function::new_with_args("p", "return false;");
    let stopped = ok(bench.fine_tune(job(None), stop, None).await);
    let report = json(&stopped.report);
    assert_eq!(report["stopped"], true);
    assert!(report["history"].as_array().expect("history").is_empty());

    // Samples files: what the page writes it reads back; bad ones are refused with a reason.
    let json = ok(encode_samples(classes.clone(), &images, &labels));
    let decoded = ok(decode_samples(json.as_bytes()));
    assert_eq!(
        (decoded.classes, decoded.images, decoded.labels),
        (classes, images, labels)
    );
    let err = decode_samples(b"{\"format\": \"other\"}")
        .err()
        .expect("refused");
    let message = format!("{:?}", wasm_bindgen::JsValue::from(err));
    assert!(
        message.contains("not a digit-transfer samples file"),
        "{message}"
    );

    // The canvas preprocessing the page uses for labels: a drawn bar, and an empty canvas.
    let (w, h) = (100, 80);
    let mut rgba = vec![255u8; w * h * 4];
    for y in 20..60 {
        for x in 45..55 {
            rgba[(y * w + x) * 4..(y * w + x) * 4 + 3].fill(0);
        }
    }
    let image = ok(canvas_to_image(&rgba, w, h));
    assert_eq!(image.len(), IMAGE_PIXELS);
    assert!(
        image[14 * 28 + 14] > 200,
        "the bar is centred, bright on black"
    );
    assert!(canvas_to_image(&vec![255u8; w * h * 4], w, h).is_err());
}

/// Counts checkpoints, as the page's WebGPU worker asks for them.
struct Checkpoints(usize);

impl train::Observer for Checkpoints {
    fn wants_checkpoints(&self) -> bool {
        true
    }
    fn checkpoint(&mut self, _epoch: usize, weights: &weights::HostWeights) {
        assert!(weights.parameters() > 0);
        self.0 += 1;
    }
}

/// Device reads of a 4-epoch run with validation and a checkpoint per epoch: on WebGPU at most
/// two per epoch (the figures, the checkpoint), however many batches; on the CPU one a batch.
#[wasm_bindgen_test]
async fn device_reads_are_per_epoch_on_webgpu_and_per_batch_on_the_cpu() {
    let selected = device::best().await;
    let mut devices = vec![device::cpu()];
    if selected.kind == DeviceKind::Wgpu {
        devices.push(selected.device.clone());
    }
    for device in &devices {
        let model = Classifier::new(Architecture::Mlp, 10, device).with_new_head(2, device);
        let (train_set, validation) = (halves(48), halves(8));
        let config = TrainConfig {
            epochs: 4,
            batch_size: 4,
            ..TrainConfig::default()
        };
        let sets = TrainSets {
            train: &train_set,
            validation: &validation,
            ..TrainSets::default()
        };
        let mut observer = Checkpoints(0);
        let before = device::reads();
        let outcome = train::fit(&model, sets, &config, device, &mut observer)
            .await
            .expect("training");
        let reads = device::reads() - before;
        assert_eq!((outcome.history.len(), observer.0), (4, 4));
        let batches = 4 * 48 / 4;
        if device::reads_are_free(device) {
            assert_eq!(reads, batches + 2 * 4, "CPU reads");
        } else {
            assert!(
                reads <= 2 * 4,
                "WebGPU: {reads} reads for {batches} batches"
            );
        }
    }
}

/// Auto's measurement as the worker makes it: each device timed, the faster one chosen.
#[wasm_bindgen_test]
async fn auto_times_both_devices_and_picks_the_faster() {
    use digit_transfer::web::speed::{choice_key, choose_device, time_training};

    let cpu = ok(time_training("cpu".into(), "mlp".into(), 16).await);
    let cpu_timing = json(&cpu);
    assert_eq!(cpu_timing["device"], "ndarray");
    assert!(cpu_timing["steps"].as_u64().expect("steps") >= 1);
    assert!(cpu_timing["samples_per_sec"].as_f64().expect("speed") > 0.0);
    assert!(
        time_training("cpu".into(), "resnet".into(), 16)
            .await
            .is_err()
    );

    // A batch past its limit is refused before the noise it would time is made.
    let refused = time_training("cpu".into(), "mlp".into(), 5_000_000).await;
    assert!(refused.is_err(), "a batch of 5,000,000 is refused");

    let has_gpu = device::best().await.kind == DeviceKind::Wgpu;
    // The test command says which it expects: the WebGPU run must time the GPU; in the CPU
    // runs, timing WebGPU is refused with the reason (a CPU figure would be a false
    // measurement; the worker only times WebGPU where the browser has an adapter).
    match option_env!("DIGIT_TRANSFER_WEBGPU") {
        Some("required") => assert!(has_gpu, "no WebGPU where it is required"),
        Some("absent") => {
            assert!(!has_gpu, "WebGPU where it is absent");
            let refused = time_training("webgpu".into(), "mlp".into(), 16).await;
            let reason = refused.err().map(message).unwrap_or_default();
            assert!(
                reason.starts_with("no GPU adapter is available"),
                "asked to time WebGPU without one: {reason:?}"
            );
        }
        _ => {}
    }
    if has_gpu {
        let gpu = ok(time_training("webgpu".into(), "mlp".into(), 16).await);
        let gpu_timing = json(&gpu);
        assert_eq!(gpu_timing["device"], "wgpu");
        assert!(gpu_timing["warmup_seconds"].as_f64().expect("warm-up") > 0.0);
        let choice = json(&ok(choose_device(
            cpu.clone(),
            gpu.clone(),
            "google swiftshader".into(),
            false,
        )));
        let gpu_faster =
            gpu_timing["samples_per_sec"].as_f64() > cpu_timing["samples_per_sec"].as_f64();
        assert_eq!(
            choice["device"],
            if gpu_faster { "wgpu" } else { "ndarray" }
        );
        assert!(choice["ratio"].as_f64().expect("ratio") >= 1.0);
        // The timings must come in the right order.
        assert!(choose_device(gpu, cpu, String::new(), false).is_err());
    }
    assert_eq!(
        ok(choice_key("cnn", 16, " google swiftshader ")),
        "cnn|16|google swiftshader"
    );
}

/// The task's rules the page asks instead of repeating: the digits' classes, class names,
/// file sizes, the settings form with its messages, and the best of compared runs.
#[wasm_bindgen_test]
fn task_rules_are_answered_in_rust() {
    use digit_transfer::transfer::Settings;
    use digit_transfer::web::task::{
        architectures, auto_batch_size, best_run, check_file_size, check_fine_tune,
        check_new_class, default_settings, digit_classes, is_digit_task, strategies,
    };

    let digits = digit_classes();
    assert_eq!(digits.len(), 10);
    assert!(is_digit_task(digits.clone()));
    assert!(!is_digit_task(vec!["A".into(), "B".into()]));
    assert_eq!(strategies(), ["head", "full", "scratch"]);
    assert_eq!(architectures(), ["cnn", "mlp"]);
    assert_eq!(auto_batch_size(), digit_transfer::transfer::AUTO_BATCH);

    let classes = vec!["✓".to_string()];
    assert_eq!(ok(check_new_class(classes.clone(), "  ✗ ")), "✗");
    for (name, expected) in [
        ("   ", "a class needs a name"),
        ("✓", "there is already a class “✓”"),
        (&"x".repeat(41)[..], "class names are at most 40 characters"),
    ] {
        assert_eq!(
            message(check_new_class(classes.clone(), name).unwrap_err()),
            expected
        );
    }
    let many: Vec<String> = (0..64).map(|i| i.to_string()).collect();
    assert_eq!(
        message(check_new_class(many, "x").unwrap_err()),
        "a task has at most 64 classes"
    );

    assert!(check_file_size("a.json", 1000.0).is_ok());
    assert_eq!(
        message(check_file_size("a.json", 0.0).unwrap_err()),
        "a.json is empty"
    );
    assert_eq!(
        message(check_file_size("big.bpk", 40e6).unwrap_err()),
        "big.bpk is 39 MB; the limit is 32 MB"
    );

    // The form as the page reads it: plain numbers, batch size null for auto.
    let form = |changes: serde_json::Value| {
        let mut form = serde_json::json!({
            "strategy": "full", "epochs": 20, "batch_size": null, "learning_rate": 0.003,
            "weight_decay": 0, "augment": true, "validation_split": 0.2, "patience": 5,
            "rehearsal": 0, "seed": 1,
        });
        for (key, value) in changes.as_object().expect("changes") {
            form[key] = value.clone();
        }
        js(&form)
    };
    let two = vec!["A".to_string(), "B".to_string()];
    // The page's form starts from the task's defaults, and they come back unchanged as a run's.
    let typed =
        |value: serde_json::Value| -> Settings { serde_json::from_value(value).expect("settings") };
    let all_digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    for (adapt, classes, labels, expected) in [
        (true, digits.clone(), &all_digits[..], Settings::default()),
        (false, two.clone(), &[0, 1][..], Settings::new_task()),
    ] {
        let defaults = json(&ok(default_settings(adapt)));
        assert_eq!(typed(defaults.clone()), expected);
        let as_form = ok(check_fine_tune(js(&defaults), classes, labels));
        assert_eq!(typed(json(&as_form)), expected);
    }
    assert_ne!(Settings::default(), Settings::new_task());
    let settings = json(&ok(check_fine_tune(
        form(serde_json::json!({})),
        two.clone(),
        &[0, 1],
    )));
    assert_eq!(settings["epochs"], 20);
    assert_eq!(settings["batch_size"], serde_json::Value::Null);
    for (changes, labels, expected) in [
        (
            serde_json::json!({"epochs": 2.5}),
            &[0u8, 1][..],
            "epochs must be a whole number of at least 1, not 2.5",
        ),
        (
            serde_json::json!({"batch_size": 0}),
            &[0, 1],
            "the batch size must be a whole number of at least 1, not 0",
        ),
        (
            serde_json::json!({"learning_rate": 0}),
            &[0, 1],
            "learning rate must be a positive number, not 0",
        ),
        (
            serde_json::json!({"validation_split": 1}),
            &[0, 1],
            "the validation split must be at least 0 and at most 0.9, not 1: at least a tenth of each class must be left to train on",
        ),
        (
            serde_json::json!({}),
            &[0, 0],
            "“B” has no samples: label at least one sample of each class",
        ),
        (
            serde_json::json!({}),
            &[],
            "“A” and “B” have no samples: label at least one sample of each class",
        ),
    ] {
        let case = format!("{changes} {labels:?}");
        let refused = check_fine_tune(form(changes), two.clone(), labels).expect_err(&case);
        assert_eq!(message(refused), expected);
    }
    // Rehearsal belongs to adapting the digits; a new task trains without it, not refused.
    assert!(
        check_fine_tune(
            form(serde_json::json!({"rehearsal": 8})),
            two.clone(),
            &[0, 1]
        )
        .is_ok()
    );
    let none = check_fine_tune(form(serde_json::json!({})), digits.clone(), &[]);
    assert_eq!(
        message(none.unwrap_err()),
        "there are no samples: label at least one"
    );
    // Adapt mode trains on any digits labelled: the others are kept by rehearsal.
    assert!(check_fine_tune(form(serde_json::json!({"rehearsal": 8})), digits, &[4, 9]).is_ok());
    let unknown = check_fine_tune(form(serde_json::json!({"epoch": 3})), two, &[0, 1]);
    assert!(message(unknown.unwrap_err()).contains("unknown field `epoch`"));

    let reports = js(&serde_json::json!([
        {"validation": {"accuracy": 0.8}},
        {"validation": null},
        {"validation": {"accuracy": 0.9}},
        {"validation": {"accuracy": 0.9}},
    ]));
    assert_eq!(ok(best_run(reports)), 2);
}

/// What the page draws of a run, in the browser: the projection (same inputs, same points;
/// another network's features on the same axes), the separation figure, and saliency through
/// the page's own model (larger on the ink than on the background).
#[wasm_bindgen_test]
async fn feature_map_and_saliency_in_the_browser() {
    use digit_transfer::feature_map::{self, Projection};
    use digit_transfer::samples::SampleSet;
    use digit_transfer::web::DigitModel;

    let bytes = include_bytes!("../www/weights/pretrained-cnn.bpk").to_vec();
    let digits = SampleSet::from_json(include_bytes!("../www/data/heldout.json"))
        .expect("digits")
        .samples;
    let digits = digit_transfer::data::first_per_class(&digits, 10);
    let images: Vec<_> = digits.iter().map(|s| s.image).collect();
    let device = device::best().await.device;
    let (model, _) = weights::from_bytes(&bytes, None, &device).expect("weights");
    let trained = ok_features(feature_map::features(&model, &images, &device).await);
    let fresh = Classifier::new(Architecture::Cnn, 10, &device);
    let random = ok_features(feature_map::features(&fresh, &images, &device).await);
    let projection = Projection::fit(&trained);
    // The features come out of the device the same each time (the page fits the projection
    // once and projects later runs' features onto the same axes).
    let again = ok_features(feature_map::features(&model, &images, &device).await);
    assert_eq!(Projection::fit(&again), projection);
    assert_projection_is_pca(&projection.project(&trained));
    assert_ne!(projection.project(&trained), projection.project(&random));
    let labelled = |features: Vec<Vec<f32>>| -> Vec<(Vec<f32>, usize)> {
        features
            .into_iter()
            .zip(digits.iter().map(|s| s.label))
            .collect()
    };
    let apart = feature_map::halves_separation(&labelled(trained)).expect("separation");
    let random_apart = feature_map::halves_separation(&labelled(random)).expect("separation");
    assert!(
        apart > 0.85 && apart > random_apart,
        "{apart} vs {random_apart}"
    );

    let page_model = ok(DigitModel::load(bytes, "cpu".into()).await);
    for digit in digits.iter().take(3) {
        let map = ok(page_model.saliency(digit.image.to_vec(), digit.label).await);
        // Per pixel: the background has about three times the ink's area.
        let (mut ink, mut background) = ((0.0f32, 0usize), (0.0f32, 0usize));
        for (s, v) in map.iter().zip(digit.image) {
            let part = if v > 0 { &mut ink } else { &mut background };
            part.0 += s;
            part.1 += 1;
        }
        let (ink, background) = (ink.0 / ink.1 as f32, background.0 / background.1 as f32);
        assert!(
            ink > background,
            "digit {}: {ink} vs {background}",
            digit.label
        );
    }
    assert!(page_model.saliency(vec![0; 784], 12).await.is_err());
}

fn ok_features<T>(result: Result<T, digit_transfer::train::TrainError>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

/// "Learn as I label" as the worker calls it: a learner started from burnpack bytes and the
/// form's settings, updates from ids, images and labels, and weights that the page's model
/// loads with the task's classes; a new task learns once two classes have a sample.
#[wasm_bindgen_test]
async fn live_learner_learns_from_labels_at_the_boundary() {
    use digit_transfer::web::DigitModel;
    use digit_transfer::web::live::{LiveLearner, LiveSamples, LiveStart, can_learn_live};

    let cpu = device::cpu();
    cpu.seed(3);
    let pretrained = Classifier::new(Architecture::Mlp, 10, &cpu);
    let bytes =
        weights::to_burnpack(&pretrained, &WeightsInfo::digits(Architecture::Mlp)).expect("encode");
    let classes = vec!["top".to_string(), "bottom".to_string()];
    assert!(!can_learn_live(classes.clone(), &[0, 0]));
    assert!(can_learn_live(classes.clone(), &[0, 1]));
    assert!(can_learn_live(digit_transfer::data::digit_names(), &[4]));

    let form = transfer::SettingsForm {
        strategy: Strategy::Full,
        epochs: 120.0,
        batch_size: None,
        learning_rate: 0.01,
        weight_decay: 0.0,
        augment: true,
        validation_split: 0.2,
        patience: 5.0,
        rehearsal: 0.0,
        seed: 1,
    };
    // As the worker sends it: the weights as a Uint8Array.
    let start = |settings: &transfer::SettingsForm| {
        let start = LiveStart {
            weights: bytes.clone(),
            classes: classes.clone(),
            settings: settings.clone(),
        };
        serde_wasm_bindgen::to_value(&start).expect("start")
    };
    let mut learner = ok(LiveLearner::start(start(&form), None));
    let samples = halves(6);
    let request = LiveSamples {
        ids: (0..6).map(|i| format!("id-{i}")).collect(),
        images: samples.iter().flat_map(|s| s.image).collect(),
        labels: samples.iter().map(|s| s.label as u8).collect(),
    };
    let request = serde_wasm_bindgen::to_value(&request).expect("samples");
    let mut last = None;
    for update in 0..5 {
        let learned = ok(learner.learn(request.clone()).await);
        let figures = json(&learned.learned);
        assert_eq!(figures["samples"], 6);
        assert_eq!(figures["new"], if update == 0 { 6 } else { 0 });
        last = Some(learned.weights);
    }
    let model = ok(DigitModel::load(last.expect("weights"), "cpu".into()).await);
    assert_eq!(model.class_names(), classes);
    let test = halves(8);
    let images: Vec<u8> = test.iter().flat_map(|s| s.image).collect();
    let mut right = 0;
    for (sample, image) in test.iter().zip(images.chunks(IMAGE_PIXELS)) {
        if ok(model.predict_image(image.to_vec()).await).best == sample.label {
            right += 1;
        }
    }
    assert_eq!(right, 8, "the halves told apart after five updates");

    // A form past its limits is refused with the form's words.
    let bad = transfer::SettingsForm {
        rehearsal: 9_999_999.0,
        ..form.clone()
    };
    let refused = LiveLearner::start(start(&bad), None).err().map(message);
    assert!(
        refused
            .as_deref()
            .is_some_and(|m| m.starts_with("rehearsal must be at most 256")),
        "{refused:?}"
    );
}
