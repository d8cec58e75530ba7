//! How large each setting of a run may be, and why: one table, checked before anything is
//! allocated — what any run allocates by (epochs, batch, patience, rehearsal) by
//! [`TrainConfig::validate`](super::TrainConfig::validate), the rest of a person's choices by
//! `transfer::Settings::check` — and shown by the page's form (the wasm `settings_limits`), so a
//! typed, imported or sent value is refused with its reason and never panics.

use serde::Serialize;

use super::TrainError;

/// One setting's range.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Limit {
    /// The field's name in the settings (the page's form uses the same names).
    pub field: &'static str,
    /// How a message names it.
    pub name: &'static str,
    pub min: f64,
    pub max: f64,
    /// Why the largest value is this one.
    pub why: &'static str,
}

pub const EPOCHS: Limit = Limit {
    field: "epochs",
    name: "epochs",
    min: 1.0,
    max: 10_000.0,
    why: "no run here needs more (early stopping ends most far sooner), and every epoch keeps its figures",
};

pub const BATCH_SIZE: Limit = Limit {
    field: "batch_size",
    name: "the batch size",
    min: 1.0,
    max: 1_024.0,
    why: "a larger batch of the cnn needs more memory than a browser gives a page",
};

pub const REHEARSAL: Limit = Limit {
    field: "rehearsal",
    name: "rehearsal",
    min: 0.0,
    max: 256.0,
    why: "the digits rehearsed join every batch, which must stay within memory",
};

pub const PATIENCE: Limit = Limit {
    field: "patience",
    name: "patience",
    min: 0.0,
    max: 500.0,
    why: "a longer wait never stops early within the largest number of epochs worth running",
};

pub const LEARNING_RATE: Limit = Limit {
    field: "learning_rate",
    name: "the learning rate",
    min: 0.0,
    max: 1.0,
    why: "Adam's steps are about the rate's size, and above 1 every network here diverges",
};

pub const WEIGHT_DECAY: Limit = Limit {
    field: "weight_decay",
    name: "weight decay",
    min: 0.0,
    max: 1.0,
    why: "a larger penalty outweighs the loss itself and trains nothing",
};

pub const VALIDATION_SPLIT: Limit = Limit {
    field: "validation_split",
    name: "the validation split",
    min: 0.0,
    max: 0.9,
    why: "at least a tenth of each class must be left to train on",
};

/// Every limit, in the form's order.
pub const ALL: [Limit; 7] = [
    EPOCHS,
    BATCH_SIZE,
    LEARNING_RATE,
    WEIGHT_DECAY,
    VALIDATION_SPLIT,
    PATIENCE,
    REHEARSAL,
];

impl Limit {
    /// The largest value as a count.
    pub const fn max_count(&self) -> usize {
        self.max as usize
    }

    /// A value as a message shows it: whole numbers as typed ("100000000"), others past
    /// a million or below a ten-thousandth in exponent form ("1e30"), the rest as they are.
    pub fn shown(value: f64) -> String {
        let magnitude = value.abs();
        if value.fract() == 0.0 && magnitude < 1e15 {
            format!("{value}")
        } else if magnitude >= 1e6 || (magnitude > 0.0 && magnitude < 1e-4) {
            format!("{value:e}")
        } else {
            format!("{value}")
        }
    }

    /// Refuse `value` when it is past the largest (the smallest has its own message where
    /// the value is read).
    pub fn check(self, value: f64) -> Result<(), TrainError> {
        if value > self.max {
            return Err(TrainError::TooLarge { limit: self, value });
        }
        Ok(())
    }
}
