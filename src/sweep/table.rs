//! A sweep's figures, summed up per setting and written as Markdown tables.

use super::Outcome;

/// One setting's figures over every run of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub runs: usize,
    /// Mean target accuracy over every domain, shot count and seed.
    pub accuracy: f64,
    /// Mean held-out MNIST accuracy lost, over the adapt-mode runs (none: no such run).
    pub forgetting: Option<f64>,
    /// Mean seconds a run, over the runs with the most shots.
    pub slowest_seconds: f64,
    /// Mean images trained on, over the runs with the most shots.
    pub slowest_images: f64,
    /// The same per class of each run's task.
    pub slowest_images_per_class: f64,
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

fn mean_and_spread(values: &[f64]) -> Option<(f64, f64)> {
    let m = mean(values.iter().copied())?;
    let variance = mean(values.iter().map(|v| (v - m).powi(2)))?;
    Some((m, variance.sqrt()))
}

/// The target accuracies of the runs of `variant` on `domain`, at `shots` a class or any.
fn accuracies(outcomes: &[Outcome], variant: &str, domain: &str, shots: Option<usize>) -> Vec<f64> {
    outcomes
        .iter()
        .filter(|o| o.variant == variant && o.domain == domain)
        .filter(|o| shots.is_none_or(|n| o.shots == n))
        .map(|o| o.accuracy)
        .collect()
}

/// The mean target accuracy of `variant` on `domain`, at `shots` a class or any.
pub fn mean_accuracy(
    outcomes: &[Outcome],
    variant: &str,
    domain: &str,
    shots: Option<usize>,
) -> Option<f64> {
    mean(accuracies(outcomes, variant, domain, shots).into_iter())
}

/// How much more accurate `other` is than `base` on the runs both made (the same domain, shot
/// count and seed): the mean of the paired differences and its standard error; none for fewer
/// than two pairs. Pairing takes out what the samples drawn do to both.
pub fn paired_gain(outcomes: &[Outcome], base: &str, other: &str) -> Option<(f64, f64)> {
    let differences: Vec<f64> = outcomes
        .iter()
        .filter(|o| o.variant == other)
        .filter_map(|o| {
            let twin = outcomes.iter().find(|b| {
                b.variant == base && (b.domain, b.shots, b.seed) == (o.domain, o.shots, o.seed)
            })?;
            Some(o.accuracy - twin.accuracy)
        })
        .collect();
    let n = differences.len();
    if n < 2 {
        return None;
    }
    let m = mean(differences.iter().copied())?;
    let variance = differences.iter().map(|d| (d - m).powi(2)).sum::<f64>() / (n - 1) as f64;
    Some((m, (variance / n as f64).sqrt()))
}

/// The summary of the runs of the setting named `name`.
pub fn summarise(outcomes: &[Outcome], name: &str) -> Summary {
    let runs: Vec<&Outcome> = outcomes.iter().filter(|o| o.variant == name).collect();
    let most_shots = runs.iter().map(|o| o.shots).max().unwrap_or(0);
    Summary {
        runs: runs.len(),
        accuracy: mean(runs.iter().map(|o| o.accuracy)).unwrap_or(0.0),
        forgetting: mean(runs.iter().filter_map(|o| o.forgetting)),
        slowest_seconds: mean(
            runs.iter()
                .filter(|o| o.shots == most_shots)
                .map(|o| o.seconds),
        )
        .unwrap_or(0.0),
        slowest_images: mean(
            runs.iter()
                .filter(|o| o.shots == most_shots)
                .map(|o| o.images as f64),
        )
        .unwrap_or(0.0),
        slowest_images_per_class: mean(
            runs.iter()
                .filter(|o| o.shots == most_shots)
                .map(|o| o.images as f64 / o.classes.max(1) as f64),
        )
        .unwrap_or(0.0),
    }
}

/// The settings' names in the order first run, then sorted by mean target accuracy.
fn by_accuracy(outcomes: &[Outcome]) -> Vec<(&str, Summary)> {
    let mut names: Vec<&str> = Vec::new();
    for o in outcomes {
        if !names.contains(&o.variant.as_str()) {
            names.push(&o.variant);
        }
    }
    let mut rows: Vec<(&str, Summary)> = names
        .into_iter()
        .map(|n| (n, summarise(outcomes, n)))
        .collect();
    rows.sort_by(|a, b| b.1.accuracy.total_cmp(&a.1.accuracy));
    rows
}

/// Per setting (best first): mean target accuracy overall and per domain, mean forgetting in
/// adapt mode and the mean time of a run with the most shots.
pub fn summary_table(outcomes: &[Outcome], domains: &[&str]) -> String {
    let mut out = String::from("| setting | mean accuracy |");
    let mut rule = String::from("| --- | --- |");
    for domain in domains {
        out += &format!(" {domain} |");
        rule += " --- |";
    }
    out += &format!(
        " forgetting (adapt) | images trained (most shots) | s a run (most shots) |\n{rule} --- | --- | --- |\n"
    );
    for (name, summary) in by_accuracy(outcomes) {
        out += &format!("| {name} | {:.3} |", summary.accuracy);
        for domain in domains {
            let figure = mean_accuracy(outcomes, name, domain, None);
            out += &figure.map_or(" – |".into(), |m| format!(" {m:.3} |"));
        }
        let forgot = summary
            .forgetting
            .map_or("–".into(), |f| format!("{:.2} pt", f * 100.0));
        out += &format!(
            " {forgot} | {:.0} | {:.2} |\n",
            summary.slowest_images, summary.slowest_seconds
        );
    }
    out
}

/// For one domain: per setting (best first), the mean ± spread (population standard deviation
/// over seeds) of target accuracy at each shot count.
pub fn detail_table(outcomes: &[Outcome], domain: &str, shots: &[usize]) -> String {
    let mut out = String::from("| setting |");
    let mut rule = String::from("| --- |");
    for n in shots {
        out += &format!(" {n} a class |");
        rule += " --- |";
    }
    out += &format!("\n{rule}\n");
    for (name, _) in by_accuracy(outcomes) {
        out += &format!("| {name} |");
        for &n in shots {
            let values = accuracies(outcomes, name, domain, Some(n));
            out += &match mean_and_spread(&values) {
                Some((m, s)) => format!(" {m:.3} ± {s:.3} |"),
                None => " – |".into(),
            };
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(variant: &str, shots: usize, accuracy: f64, forgetting: Option<f64>) -> Outcome {
        Outcome {
            variant: variant.into(),
            domain: "d",
            shots,
            seed: 1,
            accuracy,
            forgetting,
            seconds: shots as f64,
            images: shots * 10,
            classes: 2,
        }
    }

    #[test]
    fn summaries_average_accuracy_forgetting_and_the_slowest_runs() {
        let outcomes = [
            run("a", 1, 0.5, Some(0.01)),
            run("a", 4, 0.9, None),
            run("b", 1, 0.8, None),
        ];
        let a = summarise(&outcomes, "a");
        assert_eq!(a.runs, 2);
        assert!((a.accuracy - 0.7).abs() < 1e-12);
        assert_eq!(a.forgetting, Some(0.01));
        assert_eq!(a.slowest_seconds, 4.0);
        assert_eq!(a.slowest_images, 40.0);
        assert_eq!(a.slowest_images_per_class, 20.0);
        assert_eq!(summarise(&outcomes, "b").forgetting, None);
        let table = summary_table(&outcomes, &["d"]);
        let rows: Vec<&str> = table.lines().skip(2).collect();
        assert_eq!(
            rows,
            [
                "| b | 0.800 | 0.800 | – | 10 | 1.00 |",
                "| a | 0.700 | 0.700 | 1.00 pt | 40 | 4.00 |"
            ]
        );
        let detail = detail_table(&outcomes, "d", &[1, 4]);
        assert!(
            detail.contains("| a | 0.500 ± 0.000 | 0.900 ± 0.000 |"),
            "{detail}"
        );
        assert!(detail.contains("| b | 0.800 ± 0.000 | – |"), "{detail}");
    }
}
