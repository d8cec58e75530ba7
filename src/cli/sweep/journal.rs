//! The sweep's journal (`--journal FILE`): every finished run, one JSON line each, written as
//! it finishes. A sweep started again with the same journal takes the runs it holds instead of
//! repeating them, so that a sweep cut off (hours on a few cores) goes on where it stopped, and
//! one with fewer rounds or more can be written from the same runs.
//!
//! A run is known by what decides its figures: the network and the digits it rehearses and is
//! measured against (one fingerprint), its domain's samples (another), its settings, shots and
//! seed. The code is not part of it: after a change to how runs train, start a new journal.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use digit_transfer::data::Sample;
use digit_transfer::sweep::{Domain, Outcome, Variant};
use digit_transfer::transfer::Settings;
use serde::{Deserialize, Serialize};

/// What decides a run's figures.
#[derive(Serialize, Deserialize)]
struct Key {
    /// The network, rehearsal and forgetting digits ([`Journal::open`]'s fingerprint).
    bench: String,
    domain: String,
    /// The domain's classes, shots pool and test samples.
    samples: String,
    /// The run's settings, their seed aside (the run's own seed is `seed`).
    settings: Settings,
    shots: usize,
    seed: u64,
}

/// A run's figures, as [`Outcome`] holds them.
#[derive(Clone, Serialize, Deserialize)]
struct Figures {
    accuracy: f64,
    forgetting: Option<f64>,
    seconds: f64,
    images: usize,
    classes: usize,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    key: Key,
    figures: Figures,
}

/// The runs a journal holds, and the file new ones are added to (none: nothing is kept).
pub(super) struct Journal {
    bench: String,
    done: HashMap<String, Figures>,
    file: Option<(PathBuf, Mutex<File>)>,
}

/// A CRC-32 and length of `parts`, as hex: enough to tell data sets apart, not a secret.
fn fingerprint<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut crc = flate2::Crc::new();
    for part in parts {
        crc.update(&(part.len() as u64).to_le_bytes());
        crc.update(part);
    }
    format!("{:08x}-{}", crc.sum(), crc.amount())
}

/// The fingerprint of a domain's classes, pool and test samples (images and labels).
pub(super) fn domain_fingerprint(domain: &Domain) -> String {
    let mut bytes = domain.classes.join("\n").into_bytes();
    for sample in domain.pool.iter().chain(&domain.test) {
        bytes.extend_from_slice(&sample.image);
        bytes.extend_from_slice(&(sample.label as u32).to_le_bytes());
    }
    bytes.extend_from_slice(&(domain.pool.len() as u64).to_le_bytes());
    fingerprint([bytes.as_slice()])
}

/// One run of a sweep: what it is known by in the journal.
pub(super) struct Run<'a> {
    pub domain: &'a Domain,
    /// [`domain_fingerprint`] of `domain`.
    pub samples: &'a str,
    pub variant: &'a Variant,
    pub shots: usize,
    pub seed: u64,
}

impl Journal {
    /// The journal at `path` (none: a sweep that keeps nothing), for runs of the network in
    /// `weights` (its file's bytes) that rehearse `rehearsal` and measure forgetting on
    /// `held_out`. A line cut off by a sweep stopped mid-write is dropped; any other line that
    /// cannot be read is an error naming it.
    pub(super) fn open(
        path: Option<&Path>,
        weights: &[u8],
        rehearsal: &[Sample],
        held_out: &[Sample],
    ) -> Result<Journal> {
        let bench = fingerprint(
            std::iter::once(weights)
                .chain(rehearsal.iter().map(|s| s.image.as_slice()))
                .chain(held_out.iter().map(|s| s.image.as_slice())),
        );
        let mut journal = Journal {
            bench,
            done: HashMap::new(),
            file: None,
        };
        let Some(path) = path else {
            return Ok(journal);
        };
        let shown = path.display();
        let text = match std::fs::read(path) {
            Ok(bytes) => {
                String::from_utf8(bytes).with_context(|| format!("{shown} is not text"))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {shown}")),
        };
        // Everything up to the last newline; after it, at most a line cut off mid-write.
        let whole = text.rfind('\n').map_or(0, |i| i + 1);
        for (i, line) in text[..whole].lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let entry: Entry = match serde_json::from_str(line) {
                Ok(entry) => entry,
                Err(e) => bail!("{shown}, line {}: not a run of the sweep ({e})", i + 1),
            };
            journal
                .done
                .insert(serde_json::to_string(&entry.key)?, entry.figures);
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot write {shown}"))?;
        file.set_len(whole as u64)
            .with_context(|| format!("cannot write {shown}"))?;
        journal.file = Some((path.to_path_buf(), Mutex::new(file)));
        Ok(journal)
    }

    /// How many runs it holds.
    pub(super) fn len(&self) -> usize {
        self.done.len()
    }

    fn key(&self, run: &Run<'_>) -> Key {
        Key {
            bench: self.bench.clone(),
            domain: run.domain.name.to_string(),
            samples: run.samples.to_string(),
            settings: Settings {
                seed: 0,
                ..run.variant.settings.clone()
            },
            shots: run.shots,
            seed: run.seed,
        }
    }

    /// The figures of `run` if the journal holds them.
    pub(super) fn find(&self, run: &Run<'_>) -> Result<Option<Outcome>> {
        let key = serde_json::to_string(&self.key(run))?;
        Ok(self.done.get(&key).map(|f| Outcome {
            variant: run.variant.name.clone(),
            domain: run.domain.name,
            shots: run.shots,
            seed: run.seed,
            accuracy: f.accuracy,
            forgetting: f.forgetting,
            seconds: f.seconds,
            images: f.images,
            classes: f.classes,
        }))
    }

    /// Adds `run`'s figures to the file, one whole line at once.
    pub(super) fn record(&self, run: &Run<'_>, outcome: &Outcome) -> Result<()> {
        let Some((path, file)) = &self.file else {
            return Ok(());
        };
        let entry = Entry {
            key: self.key(run),
            figures: Figures {
                accuracy: outcome.accuracy,
                forgetting: outcome.forgetting,
                seconds: outcome.seconds,
                images: outcome.images,
                classes: outcome.classes,
            },
        };
        let mut line = serde_json::to_string(&entry)?;
        line.push('\n');
        // A worker that panicked mid-write leaves at most a cut-off line, which `open` drops.
        let mut file = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        file.write_all(line.as_bytes())
            .and_then(|()| file.flush())
            .with_context(|| format!("cannot write {}", path.display()))
    }
}
