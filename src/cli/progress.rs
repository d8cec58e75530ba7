//! The training progress bar.

use digit_transfer::train::{BatchProgress, Control, EpochSummary, Observer};
use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar on stderr that hides itself when stderr is not a terminal; `quiet` also
/// drops the per-epoch lines (for `--json`).
pub(super) struct Bar {
    bar: ProgressBar,
    quiet: bool,
}

impl Bar {
    pub fn new(quiet: bool) -> Bar {
        let bar = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
            bar.set_style(style);
        }
        Bar { bar, quiet }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for Bar {
    fn batch(&mut self, p: &BatchProgress) -> Control {
        if p.batch == 1 {
            self.bar.set_length(p.batches as u64);
            self.bar.set_position(0);
        }
        // A GPU run reads its loss once per epoch: its batches have none to show.
        let figures = match (p.loss, p.accuracy) {
            (Some(loss), Some(accuracy)) => format!(" loss {loss:.4} acc {accuracy:.3}"),
            _ => String::new(),
        };
        self.bar.set_message(format!(
            "epoch {}/{}{figures} {:.0} samples/s",
            p.epoch, p.epochs, p.samples_per_sec
        ));
        self.bar.inc(1);
        Control::Continue
    }

    fn epoch(&mut self, s: &EpochSummary) -> Control {
        if !self.quiet {
            let line = format!(
                "epoch {:>3}  loss {:.4}  accuracy {:.4}  {:.0} samples/s  {:.1} s",
                s.epoch, s.loss, s.accuracy, s.samples_per_sec, s.seconds
            );
            // A hidden bar (stderr not a terminal) swallows its println.
            if self.bar.is_hidden() {
                eprintln!("{line}");
            } else {
                self.bar.println(line);
            }
        }
        Control::Continue
    }
}
