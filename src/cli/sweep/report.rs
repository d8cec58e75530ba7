//! The sweep's report: how it was made, the rule, the choice, the targets, and the tables.

use std::fmt::Write;

use digit_transfer::sweep::{self, MAX_FORGETTING, MAX_IMAGES};
use digit_transfer::transfer::Strategy;

use super::{Round, Sweep};

/// The domains the targets are read from.
const TYPESET: &str = "typeset digits";
const SYMBOLS: &str = "drawn symbols (new task)";

fn or_dash(value: Option<f64>, show: impl Fn(f64) -> String) -> String {
    value.map_or("–".into(), show)
}

impl Sweep<'_> {
    pub(super) fn report(&self, rounds: &[Round]) -> String {
        let args = self.args;
        let mut out = String::from("# Fine-tuning defaults, measured\n\n");
        let _ = writeln!(
            out,
            "Written by `scripts/sweep.sh` (the `digit-transfer sweep` command): {} fine-tunes of the \
             `{}` network (`{}`) in {:.1} min on one core of this machine's CPU. Domains: {}; \
             {:?} samples a class; {} seeds each (the seed picks the samples and seeds the run); \
             {} test samples a class of each domain, never trained on nor used to stop early; \
             forgetting measured on 500 held-out MNIST digits in adapt mode.\n",
            self.runs,
            self.architecture,
            args.weights.display(),
            self.minutes,
            self.domains.join(", "),
            args.shots,
            args.seeds,
            args.test_per_class,
        );
        let _ = writeln!(
            out,
            "**The rule.** Each round tries the base and every setting one factor away from it \
             (strategy, learning rate ÷3 and ×3, epochs ½ and ×2, patience, batch size, \
             augmentation, weight decay, rehearsal); the next base is the one with the best mean \
             target accuracy over every domain, shot count and seed, among those that forget at \
             most {:.1} point of held-out MNIST on average in adapt mode and train on at most \
             {MAX_IMAGES} images (samples and rehearsal digits, every epoch) on average with the most shots (while none forgets so little: the one that forgets least). \
             The search stops when the base is that best. The first \
             base is `Settings::default()`; a rerun after the defaults were set to the choice \
             confirms them in one round.\n",
            MAX_FORGETTING * 100.0
        );
        let Some(last) = rounds.last() else {
            return out;
        };
        match &last.chosen {
            Some(chosen) => {
                let json = serde_json::to_string_pretty(&chosen.settings).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "## The choice\n\n```json\n{json}\n```\n\nThe page and the CLI take these \
                     (`Settings::default()`; the page's form reads them from the wasm).\n"
                );
            }
            None => out += "## The choice\n\nNo setting met the rule.\n\n",
        }
        out += "Path of the search:\n\n";
        for (i, round) in rounds.iter().enumerate() {
            let chosen = round.chosen.as_ref().map_or("none", |c| c.name.as_str());
            let base = sweep::summarise(&round.outcomes, "base");
            let _ = writeln!(
                out,
                "{}. around the base (mean accuracy {:.4}): best `{chosen}`",
                i + 1,
                base.accuracy
            );
        }
        let converged = last.chosen.as_ref().is_none_or(|c| c.settings == last.base);
        if !converged {
            let _ = writeln!(
                out,
                "\nThe search stopped at its limit of {} rounds (`--rounds`) with a better \
                 neighbour than the last base: the choice is that neighbour, and a rerun from it \
                 goes on climbing.",
                args.rounds
            );
        }
        out.push('\n');
        out += &self.targets(last);
        let _ = writeln!(
            out,
            "## Round {} (the last): every setting around the base\n\n{}",
            rounds.len(),
            sweep::summary_table(&last.outcomes, self.domains)
        );
        for domain in self.domains {
            let _ = writeln!(
                out,
                "### {domain}: target accuracy, mean ± spread over seeds\n\n{}",
                sweep::detail_table(&last.outcomes, domain, &args.shots)
            );
        }
        for (i, round) in rounds.iter().enumerate().rev().skip(1) {
            let _ = writeln!(
                out,
                "## Round {}\n\n{}",
                i + 1,
                sweep::summary_table(&round.outcomes, self.domains)
            );
        }
        out
    }

    /// The issue's targets, read off the last round's base (the choice when the search ended).
    fn targets(&self, last: &Round) -> String {
        let o = &last.outcomes;
        let base = sweep::summarise(o, "base");
        let scratch = last
            .variants
            .iter()
            .find(|v| v.settings.strategy == Strategy::Scratch)
            .map_or("base", |v| v.name.as_str());
        let percent = |v: f64| format!("{:.2} %", v * 100.0);
        let three = |v: f64| format!("{v:.3}");
        let mut out = String::from(
            "## Targets (the last round's base)\n\n| figure | measured | target |\n| --- | --- | --- |\n",
        );
        let _ = writeln!(
            out,
            "| typeset digits, 5 a class | {} | ≥ 0.995 |",
            or_dash(sweep::mean_accuracy(o, "base", TYPESET, Some(5)), three)
        );
        let _ = writeln!(
            out,
            "| forgetting in adapt mode (mean) | {} | ≤ 0.5 pt |",
            or_dash(base.forgetting, |f| format!("{:.2} pt", f * 100.0))
        );
        let _ = writeln!(
            out,
            "| held-out MNIST, this network | {} | ≥ 99.0 % |",
            percent(self.held_out_accuracy)
        );
        let _ = writeln!(
            out,
            "| new 3-class task of drawn symbols, 5 a class: transfer vs scratch | {} vs {} | transfer ≥ scratch |",
            or_dash(sweep::mean_accuracy(o, "base", SYMBOLS, Some(5)), three),
            or_dash(sweep::mean_accuracy(o, scratch, SYMBOLS, Some(5)), three)
        );
        let _ = writeln!(
            out,
            "| a run with the most shots: images trained on (native CPU time) | {:.0} ({:.2} s) | ≤ {MAX_IMAGES} |\n",
            base.slowest_images, base.slowest_seconds
        );
        out
    }
}
