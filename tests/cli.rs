mod common;

use std::path::Path;
use std::process::Command;

use common::mnist_subset;
use digit_transfer::data::{self, Split};
use digit_transfer::transfer::Settings;
use serde_json::Value;

fn cli(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_digit-transfer"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run the CLI");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> Value {
    let (ok, stdout, stderr) = cli(args);
    assert!(ok, "{args:?} failed: {stderr}");
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {stdout}"))
}

/// Write `samples` as an IDX image and label file in `dir`; their paths.
fn write_idx_pair(dir: &Path, samples: &[digit_transfer::data::Sample]) -> (String, String) {
    let images = dir.join("images-idx3-ubyte");
    let labels = dir.join("labels-idx1-ubyte");
    std::fs::write(&images, data::write_idx_images(samples)).unwrap();
    std::fs::write(&labels, data::write_idx_labels(samples)).unwrap();
    (images.display().to_string(), labels.display().to_string())
}

fn check_report(report: &Value, classes: usize) {
    let accuracy = report["accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&accuracy));
    assert!(report["macro_f1"].as_f64().is_some());
    let per_class = report["per_class"].as_array().unwrap();
    assert_eq!(per_class.len(), classes);
    for m in per_class {
        for key in ["precision", "recall", "f1", "support"] {
            assert!(m[key].is_number(), "{key} in {m}");
        }
    }
    let confusion = report["confusion"].as_array().unwrap();
    assert_eq!(confusion.len(), classes);
    let total: u64 = confusion
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, report["samples"].as_u64().unwrap());
}

/// `eval --json` of `weights` on the IDX pair `images` / `labels`.
fn eval_json(weights: &str, images: &str, labels: &str) -> Value {
    json(&[
        "eval",
        "--weights",
        weights,
        "--images",
        images,
        "--labels",
        labels,
        "--json",
    ])
}

#[test]
fn pretrain_on_idx_files_then_eval_them() {
    let dir = tempfile::tempdir().unwrap();
    let samples = mnist_subset(Split::Train, 20);
    let (images, labels) = write_idx_pair(dir.path(), &samples);
    let out = dir.path().join("tiny.bpk");
    let (images, labels, out) = (images.as_str(), labels.as_str(), out.to_str().unwrap());

    let trained = json(&[
        "pretrain", "--arch", "mlp", "--images", images, "--labels", labels, "--epochs", "3",
        "--seed", "4", "--out", out, "--json",
    ]);
    assert_eq!(trained["architecture"], "mlp");
    assert_eq!(trained["samples"], 200);
    assert_eq!(trained["history"].as_array().unwrap().len(), 3);
    assert!(Path::new(out).exists());

    let report = eval_json(out, images, labels);
    check_report(&report, 10);
    assert_eq!(report["samples"], 200);
    assert!(report["accuracy"].as_f64().unwrap() > 0.5, "{report}");

    let (ok, stdout, _) = cli(&[
        "eval",
        "--weights",
        out,
        "--images",
        images,
        "--labels",
        labels,
    ]);
    assert!(ok);
    assert!(
        stdout.contains("accuracy") && stdout.contains("precision"),
        "{stdout}"
    );
}

#[test]
fn pretrain_goes_on_from_shipped_weights() {
    let dir = tempfile::tempdir().unwrap();
    let samples = mnist_subset(Split::Train, 20);
    let (images, labels) = write_idx_pair(dir.path(), &samples);
    let (images, labels) = (images.as_str(), labels.as_str());
    // At a learning rate too small to learn anything in one epoch, only weights carried over
    // can read the digits.
    let accuracy = |from: Option<&str>| {
        let out = dir.path().join("more.bpk");
        let out = out.to_str().unwrap();
        let mut args = vec![
            "pretrain", "--arch", "mlp", "--images", images, "--labels", labels, "--epochs", "1",
            "--lr", "1e-9", "--out", out, "--json",
        ];
        if let Some(from) = from {
            args.extend(["--from", from]);
        }
        json(&args);
        let report = eval_json(out, images, labels);
        report["accuracy"].as_f64().unwrap()
    };
    let (fresh, carried) = (accuracy(None), accuracy(Some(MLP)));
    assert!(
        fresh < 0.3 && carried > 0.9,
        "fresh {fresh}, from {MLP} {carried}"
    );

    let (ok, _, stderr) = cli(&[
        "pretrain",
        "--arch",
        "mlp",
        "--images",
        images,
        "--labels",
        labels,
        "--from",
        CNN,
        "--out",
        dir.path().join("x.bpk").to_str().unwrap(),
    ]);
    assert!(!ok && stderr.contains("pretrained-cnn.bpk"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn cli_errors_are_readable() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.bpk");
    let (ok, _, stderr) = cli(&["eval", "--weights", missing.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("missing.bpk"), "{stderr}");

    let corrupt = dir.path().join("corrupt.bpk");
    std::fs::write(&corrupt, b"definitely not weights").unwrap();
    let (ok, _, stderr) = cli(&["eval", "--weights", corrupt.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("not a burnpack weights file"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let (ok, _, stderr) = cli(&[
        "pretrain",
        "--epochs",
        "0",
        "--out",
        dir.path().join("x.bpk").to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(stderr.contains("epochs must be at least 1"), "{stderr}");
}

const CNN: &str = "www/weights/pretrained-cnn.bpk";
const MLP: &str = "www/weights/pretrained-mlp.bpk";

#[test]
fn shipped_weights_reach_their_accuracy_on_the_held_out_split() {
    for (file, architecture, floor, apart) in [(CNN, "cnn", 0.985, 0.95), (MLP, "mlp", 0.95, 0.85)]
    {
        let report = json(&["eval", "--weights", file, "--json"]);
        check_report(&report, 10);
        assert_eq!(report["architecture"], architecture);
        assert_eq!(report["samples"], 2004);
        let accuracy = report["accuracy"].as_f64().unwrap();
        assert!(accuracy >= floor, "{file}: {accuracy} < {floor}");
        // The digits' classes stand apart in the backbone's feature space.
        let separation = report["separation"].as_f64().unwrap();
        assert!(separation > apart, "{file}: separation {separation}");
    }
}

/// The page's network card is measured, never typed: `card` remakes the shipped file exactly.
#[test]
fn the_shipped_network_card_is_what_card_measures() {
    let (ok, stdout, stderr) = cli(&["card"]);
    assert!(ok, "{stderr}");
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/www/weights/networks.json"
    ))
    .unwrap();
    assert_eq!(
        stdout, shipped,
        "run `digit-transfer card --out www/weights/networks.json`"
    );
    let card: Value = serde_json::from_str(&shipped).unwrap();
    let cnn = &card["networks"][0];
    assert_eq!(cnn["architecture"], "cnn");
    assert_eq!(cnn["parameters"], 206_922);
    assert_eq!(cnn["weights_bytes"], std::fs::metadata(CNN).unwrap().len());
}

/// `features` writes the 2-D projection of a labelled set, on axes of its own or another
/// network's, as CSV or JSON.
#[test]
fn features_writes_the_projection_as_csv_or_json() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("set.json");
    let (ok, _, stderr) = cli(&[
        "samples",
        "--per-class",
        "3",
        "--out",
        set.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let csv = dir.path().join("points.csv");
    let args = [
        "features",
        "--weights",
        CNN,
        "--samples",
        set.to_str().unwrap(),
    ];
    let (ok, stdout, stderr) = cli(&[&args[..], &["--out", csv.to_str().unwrap()]].concat());
    assert!(ok, "{stderr}");
    assert!(stdout.contains("wrote 30 points"), "{stdout}");
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "index,label,class,x,y");
    assert_eq!(lines.len(), 31);
    assert!(lines[1].starts_with("0,0,\"0\","), "{}", lines[1]);
    let json_out = dir.path().join("points.json");
    let fit = ["--fit-weights", MLP];
    let (ok, _, stderr) = cli(&[&args[..], &["--out", json_out.to_str().unwrap()]].concat());
    assert!(ok, "{stderr}");
    let points: Value = serde_json::from_str(&std::fs::read_to_string(&json_out).unwrap()).unwrap();
    assert_eq!(points["points"].as_array().unwrap().len(), 30);
    assert_eq!(
        points["projection"]["axes"][0].as_array().unwrap().len(),
        128
    );
    // The same CSV, point for point, from the JSON.
    let first = &points["points"][0];
    let row: Vec<&str> = lines[1].split(',').collect();
    let x: f64 = row[3].parse().unwrap();
    assert!(
        (x - first["x"].as_f64().unwrap()).abs() < 1e-4,
        "{x} vs {first}"
    );
    // Axes of another architecture's features do not fit: refused with the reason.
    let (ok, _, stderr) =
        cli(&[&args[..], &fit[..], &["--out", json_out.to_str().unwrap()]].concat());
    assert!(!ok);
    assert!(stderr.contains("mlp"), "{stderr}");
    let (ok, _, stderr) = cli(&[&args[..], &["--out", "points.txt"]].concat());
    assert!(!ok && stderr.contains(".csv or .json"), "{stderr}");
}

#[test]
fn eval_on_wgpu_agrees_with_the_cpu() {
    if std::env::var_os("DIGIT_TRANSFER_SKIP_WGPU").is_some() {
        return;
    }
    let cpu = json(&["eval", "--weights", MLP, "--json"]);
    let gpu = json(&["eval", "--weights", MLP, "--device", "wgpu", "--json"]);
    assert_eq!(gpu["device"], "wgpu");
    let (a, b) = (
        cpu["accuracy"].as_f64().unwrap(),
        gpu["accuracy"].as_f64().unwrap(),
    );
    assert!((a - b).abs() <= 0.002, "cpu {a} vs wgpu {b}");
}

/// `finetune --online`: the page's live learner replayed one sample at a time, an update after
/// each (a new task's first once both classes have a sample), with the validation accuracy
/// after each and a summary; the weights after the last update evaluate like any others.
#[test]
fn finetune_online_replays_one_sample_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let samples: Vec<_> = mnist_subset(Split::Train, 10)
        .into_iter()
        .filter(|s| s.label <= 1)
        .collect();
    let (images, labels) = write_idx_pair(dir.path(), &samples);
    let out = dir.path().join("online.bpk");
    let (images, labels, out) = (images.as_str(), labels.as_str(), out.to_str().unwrap());
    let args = [
        "finetune",
        "--weights",
        MLP,
        "--images",
        images,
        "--labels",
        labels,
        "--class-names",
        "round,straight",
        "--online",
        "--out",
        out,
        "--json",
    ];
    let (ok, stdout, stderr) = cli(&args);
    assert!(ok, "{stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let (summary, updates) = lines.split_last().unwrap();
    // 20 samples, 4 of them held out: 16 replayed, the classes in turn; the first sample alone
    // is one class, so learning starts at the second.
    assert_eq!(updates.len(), 15, "{stdout}");
    assert_eq!(updates[0]["labelled"], 2);
    assert_eq!(updates.last().unwrap()["labelled"], 16);
    for update in updates {
        assert!(update["validation_accuracy"].is_number());
        assert!(update["ms"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(summary["online"], true);
    assert_eq!(summary["updates"], 15);
    assert!(
        summary["validation_accuracy"].as_f64().unwrap() >= 0.75,
        "{summary}"
    );
    assert!(
        summary["forgetting"].is_null(),
        "a new task forgets no digits"
    );
    let report = eval_json(out, images, labels);
    assert!(report["accuracy"].as_f64().unwrap() >= 0.75, "{report}");

    // Online learning trains the head only: a strategy is refused.
    let (ok, _, stderr) = cli(&[&args[..12], &["--strategy", "full"]].concat());
    assert!(!ok);
    assert!(stderr.contains("--strategy"), "{stderr}");
}

#[test]
fn finetune_a_new_two_class_head_then_eval_it() {
    let dir = tempfile::tempdir().unwrap();
    let samples: Vec<_> = mnist_subset(Split::Train, 15)
        .into_iter()
        .filter(|s| s.label <= 1)
        .collect();
    let (images, labels) = write_idx_pair(dir.path(), &samples);
    let out = dir.path().join("two.bpk");
    let (images, labels, out) = (images.as_str(), labels.as_str(), out.to_str().unwrap());

    let run = json(&[
        "finetune",
        "--weights",
        MLP,
        "--images",
        images,
        "--labels",
        labels,
        "--class-names",
        "round,straight",
        "--strategy",
        "full",
        "--epochs",
        "8",
        "--out",
        out,
        "--json",
    ]);
    assert_eq!(run["new_head"], true);
    // A flag left out takes the new task's default, not adapt mode's.
    assert_eq!(
        run["config"]["learning_rate"],
        Settings::new_task().learning_rate
    );
    assert_eq!(run["class_names"], serde_json::json!(["round", "straight"]));
    assert_eq!(
        run["train_samples"].as_u64().unwrap() + run["validation_samples"].as_u64().unwrap(),
        30
    );
    check_report(&run["validation"], 2);
    assert!(run["history"][0]["val_loss"].is_number());

    let report = eval_json(out, images, labels);
    check_report(&report, 2);
    assert_eq!(
        report["class_names"],
        serde_json::json!(["round", "straight"])
    );
    assert!(report["accuracy"].as_f64().unwrap() > 0.9, "{report}");

    // A class without samples is refused before training.
    let (ok, _, stderr) = cli(&[
        "finetune",
        "--weights",
        MLP,
        "--images",
        images,
        "--labels",
        labels,
        "--classes",
        "3",
        "--out",
        out,
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("“2” has no samples: label at least one sample of each class"),
        "{stderr}"
    );

    // Adapt mode by default: the ten digits keep the pretrained head.
    let adapt_on = |samples: &[digit_transfer::data::Sample]| {
        write_idx_pair(dir.path(), samples);
        json(&[
            "finetune",
            "--weights",
            MLP,
            "--images",
            images,
            "--labels",
            labels,
            "--epochs",
            "2",
            "--out",
            out,
            "--json",
        ])
    };
    let adapt = adapt_on(&mnist_subset(Split::Train, 3));
    assert_eq!(adapt["new_head"], false);
    assert_eq!(adapt["strategy"], Settings::default().strategy.name());
    assert_eq!(
        adapt["config"]["learning_rate"],
        Settings::default().learning_rate
    );
    check_report(&adapt["validation"], 10);

    // Adapt mode on an IDX pair of only some digits: MNIST digits keep the others.
    let some: Vec<_> = mnist_subset(Split::Train, 5)
        .into_iter()
        .filter(|s| s.label == 4 || s.label == 9)
        .collect();
    let subset = adapt_on(&some);
    assert_eq!(subset["new_head"], false);
    assert_eq!(
        subset["kept_by_rehearsal"],
        serde_json::json!(["0", "1", "2", "3", "5", "6", "7", "8"])
    );
    // 4 of each digit train (1 validates), so 4 MNIST digits of each other one join.
    assert_eq!(subset["kept_samples"], 32);
    assert!(subset["forgetting"].is_number(), "{subset}");
}

#[test]
fn adapt_mode_reports_forgetting_and_rehearsal_reduces_it() {
    let dir = tempfile::tempdir().unwrap();
    // A "handwriting" that contradicts MNIST: every digit labelled as the next one.
    let samples: Vec<_> = mnist_subset(Split::Train, 6)
        .into_iter()
        .map(|s| digit_transfer::data::Sample {
            label: (s.label + 1) % 10,
            ..s
        })
        .collect();
    let (images, labels) = write_idx_pair(dir.path(), &samples);
    let out = dir.path().join("adapted.bpk");
    let (images, labels, out) = (images.as_str(), labels.as_str(), out.to_str().unwrap());
    let run = |rehearsal: &str| {
        json(&[
            "finetune",
            "--weights",
            MLP,
            "--images",
            images,
            "--labels",
            labels,
            "--strategy",
            "full",
            "--epochs",
            "30",
            "--lr",
            "1e-2",
            "--patience",
            "0",
            "--rehearsal",
            rehearsal,
            "--out",
            out,
            "--json",
        ])
    };
    let plain = run("0");
    let rehearsed = run("32");
    let before = plain["source_accuracy_before"].as_f64().unwrap();
    assert!(before > 0.95, "{before}");
    assert_eq!(
        rehearsed["source_accuracy_before"].as_f64().unwrap(),
        before
    );
    let forgetting = plain["forgetting"].as_f64().unwrap();
    let forgetting_rehearsed = rehearsed["forgetting"].as_f64().unwrap();
    assert!((before - plain["source_accuracy_after"].as_f64().unwrap() - forgetting).abs() < 1e-9);
    assert!(
        forgetting > 0.3,
        "learning mislabelled digits must cost MNIST accuracy: {forgetting}"
    );
    assert!(
        forgetting_rehearsed < forgetting / 2.0,
        "rehearsal forgets {forgetting_rehearsed}, without it {forgetting}"
    );

    // New task: no digits to keep, so no rehearsal and no forgetting figure, asked or not.
    let (ok, stdout, stderr) = cli(&[
        "finetune",
        "--weights",
        MLP,
        "--images",
        images,
        "--labels",
        labels,
        "--class-names",
        "a,b,c,d,e,f,g,h,i,j",
        "--rehearsal",
        "4",
        "--epochs",
        "2",
        "--out",
        out,
        "--json",
    ]);
    assert!(ok, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["config"]["rehearsal"], 0, "{report}");
    assert!(report["forgetting"].is_null(), "{report}");
}

#[test]
fn export_to_safetensors_and_back_keeps_the_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    let st = dir.path().join("mlp.safetensors");
    let bpk = dir.path().join("mlp.bpk");
    let (ok, stdout, stderr) = cli(&[
        "export",
        "--weights",
        MLP,
        "--format",
        "safetensors",
        "--out",
        st.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("wrote mlp"), "{stdout}");
    let (ok, _, stderr) = cli(&[
        "export",
        "--weights",
        st.to_str().unwrap(),
        "--format",
        "burnpack",
        "--out",
        bpk.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let original = json(&["eval", "--weights", MLP, "--json"]);
    for file in [&st, &bpk] {
        let report = json(&["eval", "--weights", file.to_str().unwrap(), "--json"]);
        assert_eq!(
            report["accuracy"],
            original["accuracy"],
            "{}",
            file.display()
        );
    }
    let (ok, _, stderr) = cli(&[
        "export",
        "--weights",
        MLP,
        "--format",
        "onnx",
        "--out",
        bpk.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("expected `burnpack` or `safetensors`"),
        "{stderr}"
    );
}

#[test]
fn finetune_refuses_bad_sample_files_and_settings_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let finetune = |extra: &[&str]| {
        let out = path("out.bpk");
        let mut args = vec!["finetune", "--weights", MLP, "--epochs", "1", "--out", &out];
        args.extend_from_slice(extra);
        let (ok, _, stderr) = cli(&args);
        assert!(!ok, "{extra:?} was accepted");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            !dir.path().join("out.bpk").exists(),
            "{extra:?} wrote weights"
        );
        stderr
    };

    // A 100 MB samples file is refused by its size, before it is parsed.
    let mut huge = vec![b' '; 100 * 1024 * 1024];
    huge[0] = b'{';
    std::fs::write(path("huge.json"), huge).unwrap();
    let stderr = finetune(&["--samples", &path("huge.json")]);
    assert!(stderr.contains("104857600 bytes"), "{stderr}");
    std::fs::write(path("empty.json"), b"").unwrap();
    let stderr = finetune(&["--samples", &path("empty.json")]);
    assert!(stderr.contains("empty"), "{stderr}");

    // IDX: labels for 2 images against 3 images; a labels file given as images.
    let samples = mnist_subset(Split::Train, 1);
    let images = data::write_idx_images(&samples[..3]);
    let labels = data::write_idx_labels(&samples[..2]);
    std::fs::write(path("images"), &images).unwrap();
    std::fs::write(path("labels"), &labels).unwrap();
    let stderr = finetune(&["--images", &path("images"), "--labels", &path("labels")]);
    assert!(stderr.contains("3 images but 2 labels"), "{stderr}");
    let stderr = finetune(&["--images", &path("labels"), "--labels", &path("labels")]);
    assert!(stderr.contains("wrong IDX magic number"), "{stderr}");

    // A batch larger than what is left to train on.
    let all = data::write_idx_labels(&samples);
    std::fs::write(path("images10"), data::write_idx_images(&samples)).unwrap();
    std::fs::write(path("labels10"), all).unwrap();
    let stderr = finetune(&[
        "--images",
        &path("images10"),
        "--labels",
        &path("labels10"),
        "--batch",
        "64",
    ]);
    assert!(
        stderr.contains("the batch size (64) is larger than the 10 training samples"),
        "{stderr}"
    );
}

/// `sweep`: every domain (real handwriting too, from an optical-digits file), shot count and
/// seed for each setting, a report ordered by mean target accuracy with forgetting in adapt
/// mode only, and the choice as JSON.
#[test]
fn sweep_writes_a_report_of_settings_over_domains_shots_and_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    // Twenty optical digits, two of each class: a short vertical bar with its class as width.
    let lines: Vec<String> = (0..20)
        .map(|i| {
            let label = i % 10;
            let mut grid: Vec<String> = (0..64)
                .map(|p| if p % 8 <= label % 4 + 2 { "12" } else { "0" }.to_string())
                .collect();
            grid.push(label.to_string());
            grid.join(",")
        })
        .collect();
    std::fs::write(path("digits.csv"), lines.join("\n")).unwrap();
    let sweep = |jobs: &str, runs: &str, more: &[&str]| {
        let mut args = vec![
            "sweep",
            "--jobs",
            jobs,
            "--shots",
            "1",
            "--seeds",
            "1",
            "--rounds",
            "1",
            "--variations",
            "1",
            "--test-per-class",
            "5",
            "--optical-digits",
            &path("digits.csv"),
            "--out",
            &path("t.md"),
            "--json",
            &path("t.json"),
            "--runs",
            &path(runs),
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
        args.extend(more.iter().map(|a| a.to_string()));
        if !more.contains(&"--weights") {
            args.extend(["--weights".to_string(), MLP.to_string()]);
        }
        cli(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let (ok, stdout, stderr) = sweep("2", "runs.json", &[]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("(22 runs; adapt: 1 rounds, new_task: 1 rounds, scratch: 1 rounds;"),
        "{stdout}"
    );
    let text = std::fs::read_to_string(path("t.md")).unwrap();
    assert!(
        text.contains("| setting | mean accuracy | typeset digits | transposed MNIST | UCI handwriting | forgetting (adapt) | images trained (most shots) | s a run (most shots) |"),
        "{text}"
    );
    assert!(
        text.contains(
            "| setting | mean accuracy | drawn symbols (new task) | typeset signs (new task) | typeset capitals (new task) | typeset lower case (new task) | forgetting (adapt) |"
        ),
        "{text}"
    );
    for heading in [
        "## The choice",
        "### Adapting the digits",
        "### A new task",
        "## Targets",
        "## Adapting the digits, round 1 (the last)",
        "## A new task, round 1 (the last)",
        "### A fresh network (from scratch)",
        "## A fresh network (from scratch), round 1 (the last)",
        "### UCI handwriting: target accuracy",
        "### drawn symbols (new task): target accuracy",
        "### typeset capitals (new task): target accuracy",
        "| from scratch with its defaults, the same tasks |",
        "| UCI handwriting, 5 a class |",
        "| held-out MNIST, this network |",
        "core of this machine's CPU, 2 at a time)",
    ] {
        assert!(text.contains(heading), "{heading}: {text}");
    }
    // Each search's tables: the adapt one's, the new task's, then the fresh network's.
    let (adapt_tables, rest) = text
        .split_once("## A new task, round 1")
        .expect("the new task's tables");
    let (new_tables, scratch_tables) = rest
        .split_once("## A fresh network (from scratch), round 1")
        .expect("the fresh network's tables");
    for (adapt, base, tables, domains) in [
        (true, Settings::default(), adapt_tables, 3),
        (false, Settings::new_task(), new_tables, 4),
        (false, Settings::scratch(), scratch_tables, 4),
    ] {
        let variants = digit_transfer::sweep::variants(&base, adapt, true);
        if base.strategy == digit_transfer::transfer::Strategy::Scratch {
            assert!(
                variants
                    .iter()
                    .all(|v| v.settings.strategy == base.strategy)
            );
        }
        let second = format!("| {} |", variants[1].name);
        for row in ["| base |", second.as_str()] {
            let rows = tables.lines().filter(|l| l.starts_with(row)).count();
            // Once in the summary, once per domain.
            assert_eq!(rows, 1 + domains, "{row}: {text}");
        }
    }
    let choice: Value =
        serde_json::from_str(&std::fs::read_to_string(path("t.json")).unwrap()).unwrap();
    for search in ["adapt", "new_task", "scratch"] {
        let round = &choice[search]["rounds"][0];
        let variants = round["variants"].as_array().unwrap();
        assert_eq!(variants.len(), 2);
        let chosen = round["chosen"].as_str().unwrap();
        let settings = &variants.iter().find(|v| v["name"] == chosen).unwrap()["settings"];
        assert_eq!(&choice[search]["chosen"], settings);
    }
    let runs: Value =
        serde_json::from_str(&std::fs::read_to_string(path("runs.json")).unwrap()).unwrap();
    for (search, count) in [("adapt", 6), ("new_task", 8), ("scratch", 8)] {
        let outcomes = runs[search][0]["outcomes"].as_array().unwrap();
        assert_eq!(outcomes.len(), count);
        for o in outcomes {
            let accuracy = o["accuracy"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&accuracy), "{o}");
            let adapt = !o["domain"].as_str().unwrap().ends_with("(new task)");
            assert_eq!(adapt, search == "adapt", "{o}");
            assert_eq!(o["forgetting"].is_number(), adapt, "{o}");
        }
    }
    // Each run is seeded: one at a time, every figure but the time is the same.
    let (ok, _, stderr) = sweep("1", "one.json", &[]);
    assert!(ok, "{stderr}");
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(path(name)).unwrap()).unwrap()
    };
    let one = read("one.json");
    let figures = |runs: &Value| {
        let mut runs = runs.clone();
        for search in ["adapt", "new_task", "scratch"] {
            for o in runs[search][0]["outcomes"].as_array_mut().unwrap() {
                o["seconds"] = Value::Null;
            }
        }
        runs
    };
    assert_eq!(figures(&one), figures(&runs));

    // A journal keeps each run as it finishes; a sweep started again with it repeats none (the
    // same figures, times included) and drops a line cut off mid-write.
    let journal = path("journal.jsonl");
    let lines = || std::fs::read_to_string(&journal).unwrap().lines().count();
    let (ok, _, stderr) = sweep("2", "first.json", &["--journal", &journal]);
    assert!(
        ok && stderr.contains("journal.jsonl: 0 runs kept"),
        "{stderr}"
    );
    assert_eq!(lines(), 22);
    assert_eq!(figures(&read("first.json")), figures(&runs));
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&journal)
        .unwrap();
    std::io::Write::write_all(&mut file, br#"{"key":{"bench":"#).unwrap();
    let (ok, _, stderr) = sweep("2", "again.json", &["--journal", &journal]);
    assert!(
        ok && stderr.contains("journal.jsonl: 22 runs kept"),
        "{stderr}"
    );
    assert_eq!(read("again.json"), read("first.json"));
    assert!(std::fs::read_to_string(&journal).unwrap().ends_with("}\n"));
    assert_eq!(lines(), 22);
    // Another weights file is another network: none of its runs is taken.
    let (ok, _, stderr) = cli(&[
        "export",
        "--weights",
        MLP,
        "--format",
        "safetensors",
        "--out",
        &path("mlp.safetensors"),
    ]);
    assert!(ok, "{stderr}");
    let other = path("other.jsonl");
    std::fs::copy(&journal, &other).unwrap();
    let weights = path("mlp.safetensors");
    let (ok, _, stderr) = sweep(
        "2",
        "other.json",
        &["--journal", &other, "--weights", &weights],
    );
    assert!(ok, "{stderr}");
    assert_eq!(std::fs::read_to_string(&other).unwrap().lines().count(), 44);
    // A line that is not a run is named, and nothing is written.
    std::fs::write(&other, "not a run\n").unwrap();
    let (ok, _, stderr) = sweep("2", "bad.json", &["--journal", &other]);
    assert!(
        !ok && stderr.contains("other.jsonl, line 1: not a run of the sweep"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "not a run\n");
}

/// The defaults of the page and the CLI (`Settings::default`, which both read) are the ones
/// the committed sweep chose.
#[test]
fn the_default_settings_are_the_sweeps_choice() {
    let text = std::fs::read_to_string("docs/transfer.json").unwrap();
    let sweep: Value = serde_json::from_str(&text).unwrap();
    let report = std::fs::read_to_string("docs/TRANSFER.md").unwrap();
    for (search, defaults) in [
        ("adapt", Settings::default()),
        ("new_task", Settings::new_task()),
        ("scratch", Settings::scratch()),
    ] {
        let chosen: Settings = serde_json::from_value(sweep[search]["chosen"].clone()).unwrap();
        assert_eq!(chosen, defaults, "{search}");
        let shown = serde_json::to_string_pretty(&defaults).unwrap();
        assert!(
            report.contains(&shown),
            "docs/TRANSFER.md does not show {shown}"
        );
    }
}
