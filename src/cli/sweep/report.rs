//! The sweep's report: how it was made, the rule, the two choices, the targets, and the
//! tables of each search.

use std::fmt::Write;

use digit_transfer::sweep::{self, MAX_FORGETTING, MAX_IMAGES_PER_CLASS};
use digit_transfer::transfer::Strategy;

use super::{Round, Search, SearchKind, Sweep};

/// The domains the targets are read from.
const TYPESET: &str = "typeset digits";
const SYMBOLS: &str = "drawn symbols (new task)";
const HANDWRITING: &str = "UCI handwriting";

fn or_dash(value: Option<f64>, show: impl Fn(f64) -> String) -> String {
    value.map_or("–".into(), show)
}

impl Sweep<'_> {
    pub(super) fn report(&self, searches: &[Search]) -> String {
        let args = self.args;
        let mut out = String::from("# Fine-tuning defaults, measured\n\n");
        let mut domains: Vec<&str> = Vec::new();
        for name in searches.iter().flat_map(|s| s.domain_names()) {
            if !domains.contains(&name) {
                domains.push(name);
            }
        }
        let _ = writeln!(
            out,
            "Written by `scripts/sweep.sh` (the `digit-transfer sweep` command): {} fine-tunes of the \
             `{}` network (`{}`), {:.0} min of fine-tuning added up (each run's own time on one \
             core of this machine's CPU, {} at a time). Domains: {}; \
             {:?} samples a class; {} seeds each (the seed picks the samples and seeds the run); \
             {} test samples a class of each domain, never trained on nor used to stop early; \
             forgetting measured on 500 held-out MNIST digits in adapt mode.\n",
            self.runs,
            self.architecture,
            args.weights.display(),
            self.run_minutes,
            args.jobs.max(1),
            domains.join(", "),
            args.shots,
            args.seeds,
            args.test_per_class,
        );
        let _ = writeln!(
            out,
            "**The rule.** Three searches, as the tasks differ: adapting the pretrained digits \
             (measured on the digit domains) can forget MNIST, a new task (the new-task domains) \
             has no old classes to forget, and a fresh network (the from-scratch baseline that \
             *Compare strategies* and `--strategy scratch` run, on the new-task domains) has no \
             pretrained features to keep (its search keeps the strategy). Each round tries the base and every setting one factor \
             away from it (strategy, learning rate ÷3 and ×3, epochs ½ and ×2, patience, batch \
             size, augmentation, weight decay, and rehearsal when adapting); the first round also \
             tries the corners of strategy (head, full) × learning rate (×1, ×3) × rehearsal \
             (×1, ×4), which trade accuracy against forgetting together. The next base is the one \
             with the best mean target accuracy over the search's domains, shot counts and seeds, \
             among those that forget at most {:.1} point of held-out MNIST on average (adapting) \
             and train on at most {MAX_IMAGES_PER_CLASS} images a class (samples and rehearsal \
             digits, every epoch) on average with the most shots (while none forgets so little: the one that forgets \
             least), and leave the batch automatic (the page refuses a fixed batch larger than a \
             task's training samples, where the sweep lowers it). That best replaces the base only when it \
             is clearly better: its gain over the base on the same domains, shot counts and seeds is \
             more than twice its standard error. The search stops when the base stays. The first base is the current \
             default for the task (`Settings::chosen`); a rerun after the defaults were set to the \
             choice confirms them in one round.\n",
            MAX_FORGETTING * 100.0
        );
        out += "## The choice\n\n";
        for search in searches {
            out += &self.choice(search);
        }
        out += &self.targets(searches);
        for search in searches {
            out += &self.rounds(search);
        }
        out
    }

    /// A search's choice and the path it took.
    fn choice(&self, search: &Search) -> String {
        let mut out = format!("### {}\n\n", search.title());
        let reason = match search.kind {
            SearchKind::Adapt => {
                "`Settings::default()`: the page's form in *Adapt to my handwriting* and \
                 `finetune` with the pretrained classes"
            }
            SearchKind::NewTask => {
                "`Settings::new_task()`: the page's form in *New task* and `finetune` with other \
                 classes. A new head has no old classes to forget, so the forgetting bound that \
                 holds the learning rate down when adapting does not apply"
            }
            SearchKind::Scratch => {
                "`Settings::scratch()`: `finetune --strategy scratch`, and the from-scratch run \
                 of *Compare strategies* where the person changed none of the task's defaults \
                 (`Settings::for_strategy`)"
            }
        };
        match search.chosen() {
            Some(chosen) => {
                let json = serde_json::to_string_pretty(&chosen.settings).unwrap_or_default();
                let _ = writeln!(out, "```json\n{json}\n```\n\nTaken by {reason}.\n");
            }
            None => out += "No setting met the rule.\n\n",
        }
        out += "Path of the search:\n\n";
        for (i, round) in search.rounds.iter().enumerate() {
            let chosen = round.chosen.as_ref().map_or("none", |c| c.name.as_str());
            let base = sweep::summarise(&round.outcomes, "base");
            let _ = writeln!(
                out,
                "{}. around the base (mean accuracy {:.4}): best `{chosen}`",
                i + 1,
                base.accuracy
            );
        }
        let converged = search
            .rounds
            .last()
            .and_then(|last| last.chosen.as_ref().map(|c| c.settings == last.base))
            .unwrap_or(true);
        if !converged {
            let _ = writeln!(
                out,
                "\nThe search stopped at its limit of {} rounds (`--rounds`) with a better \
                 neighbour than the last base: the choice is that neighbour, and a rerun from it \
                 goes on climbing.",
                self.args.rounds
            );
        }
        out.push('\n');
        out
    }

    /// A search's rounds, the last in full (per domain and shot count).
    fn rounds(&self, search: &Search) -> String {
        let mut out = String::new();
        let Some(last) = search.rounds.last() else {
            return out;
        };
        let title = search.title();
        let domains = search.domain_names();
        let _ = writeln!(
            out,
            "## {title}, round {} (the last): every setting around the base\n\n{}",
            search.rounds.len(),
            sweep::summary_table(&last.outcomes, &domains)
        );
        for domain in &domains {
            let _ = writeln!(
                out,
                "### {domain}: target accuracy, mean ± spread over seeds\n\n{}",
                sweep::detail_table(&last.outcomes, domain, &self.args.shots)
            );
        }
        for (i, round) in search.rounds.iter().enumerate().rev().skip(1) {
            let _ = writeln!(
                out,
                "## {title}, round {}\n\n{}",
                i + 1,
                sweep::summary_table(&round.outcomes, &domains)
            );
        }
        out
    }

    /// The issue's targets, read off each search's last base (its choice when it ended).
    fn targets(&self, searches: &[Search]) -> String {
        let last = |kind: SearchKind| {
            searches
                .iter()
                .find(|s| s.kind == kind)
                .and_then(|s| s.rounds.last())
        };
        let base = |round: Option<&Round>| round.map(|r| sweep::summarise(&r.outcomes, "base"));
        let accuracy = |round: Option<&Round>, variant: &str, domain: &str| {
            round.and_then(|r| sweep::mean_accuracy(&r.outcomes, variant, domain, Some(5)))
        };
        let (adapt, new_task, fresh) = (
            last(SearchKind::Adapt),
            last(SearchKind::NewTask),
            last(SearchKind::Scratch),
        );
        let scratch = new_task
            .and_then(|r| {
                r.variants
                    .iter()
                    .find(|v| v.settings.strategy == Strategy::Scratch)
            })
            .map_or("base", |v| v.name.as_str());
        let percent = |v: f64| format!("{:.2} %", v * 100.0);
        let three = |v: f64| format!("{v:.3}");
        let mut out = String::from(
            "## Targets (each search's last base)\n\n| figure | measured | target |\n| --- | --- | --- |\n",
        );
        let _ = writeln!(
            out,
            "| typeset digits, 5 a class | {} | ≥ 0.995 |",
            or_dash(accuracy(adapt, "base", TYPESET), three)
        );
        let _ = writeln!(
            out,
            "| UCI handwriting, 5 a class | {} | ≥ 0.97 |",
            or_dash(accuracy(adapt, "base", HANDWRITING), three)
        );
        let _ = writeln!(
            out,
            "| forgetting in adapt mode (mean) | {} | ≤ 0.5 pt |",
            or_dash(base(adapt).and_then(|b| b.forgetting), |f| format!(
                "{:.2} pt",
                f * 100.0
            ))
        );
        let _ = writeln!(
            out,
            "| held-out MNIST, this network | {} | ≥ 99.3 % |",
            percent(self.held_out_accuracy)
        );
        let _ = writeln!(
            out,
            "| new 3-class task of drawn symbols, 5 a class: transfer vs scratch | {} vs {} | transfer ≥ scratch |",
            or_dash(accuracy(new_task, "base", SYMBOLS), three),
            or_dash(accuracy(new_task, scratch, SYMBOLS), three)
        );
        // The new tasks of 10 classes or more, at 5 a class: each search's base.
        let mut large: Vec<&str> = Vec::new();
        let new_tasks = searches.iter().filter(|s| s.kind != SearchKind::Adapt);
        for domain in new_tasks.flat_map(|s| s.domains.iter()) {
            if domain.classes.len() >= 10 && !large.contains(&domain.name) {
                large.push(domain.name);
            }
        }
        let large_mean =
            |round: Option<&Round>| round.and_then(|r| large_mean_of(r, &large, "base"));
        // The best of the settings the rule could take (not those that train longer than it
        // allows, nor a fixed batch), and of all tried.
        let best_scratch = |allowed: bool| {
            fresh.and_then(|r| {
                r.variants
                    .iter()
                    .filter(|v| !allowed || sweep::may_be_default(v, &r.outcomes))
                    .filter_map(|v| Some((large_mean_of(r, &large, &v.name)?, v.name.as_str())))
                    .fold(None, |best: Option<(f64, &str)>, v| match best {
                        Some(b) if b.0 >= v.0 => Some(b),
                        _ => Some(v),
                    })
            })
        };
        let named = |best: Option<(f64, &str)>| {
            best.map_or("–".into(), |(accuracy, name)| {
                format!("{accuracy:.3}, `{name}`")
            })
        };
        let (transfer, scratch_mean) = (large_mean(new_task), large_mean(fresh));
        let _ = writeln!(
            out,
            "| new task, 10+ classes ({}), 5 a class, defaults | {} | ≥ 0.90 |",
            large.join(", "),
            or_dash(transfer, three)
        );
        let _ = writeln!(
            out,
            "| from scratch with its defaults, the same tasks | {} (best setting the rule allows: {}; of all tried: {}) | ≥ best allowed − 0.02, above chance |",
            or_dash(scratch_mean, three),
            named(best_scratch(true)),
            named(best_scratch(false))
        );
        let _ = writeln!(
            out,
            "| transfer over scratch, the same tasks | {} | ≥ 10 points |",
            or_dash(transfer.zip(scratch_mean).map(|(t, s)| t - s), |d| format!(
                "{:.1} points",
                d * 100.0
            ))
        );
        for (name, round) in [
            ("adapting", adapt),
            ("a new task", new_task),
            ("from scratch", fresh),
        ] {
            if let Some(b) = base(round) {
                let _ = writeln!(
                    out,
                    "| {name}, a run with the most shots: images trained on a class (native CPU time) | {:.0} ({:.2} s) | ≤ {MAX_IMAGES_PER_CLASS} |",
                    b.slowest_images_per_class, b.slowest_seconds
                );
            }
        }
        out.push('\n');
        out
    }
}

/// The mean accuracy of `variant` at 5 a class over the `domains` it ran on, if any.
fn large_mean_of(round: &Round, domains: &[&str], variant: &str) -> Option<f64> {
    let figures: Vec<f64> = domains
        .iter()
        .filter_map(|domain| sweep::mean_accuracy(&round.outcomes, variant, domain, Some(5)))
        .collect();
    (!figures.is_empty()).then(|| figures.iter().sum::<f64>() / figures.len() as f64)
}
