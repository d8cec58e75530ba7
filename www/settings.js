// The fine-tuning settings form: filled from the defaults the wasm exports (chosen by the
// sweep in docs/TRANSFER.md), read as plain numbers, kept in IndexedDB, restored, and checked
// by the wasm (`check_fine_tune`) against the task before a run starts.
import { check_fine_tune, default_settings } from "../digit-transfer.js";
import * as store from "./store.js";
import { $, state } from "./page.js";

/** The form as numbers (`SettingsForm` in Rust); batch size null for auto. */
export function readSettings() {
  const form = new FormData($("settings"));
  const number = (name) => Number(form.get(name));
  return {
    strategy: form.get("strategy"),
    epochs: number("epochs"),
    batch_size: form.get("batch_size") === "" ? null : number("batch_size"),
    learning_rate: number("learning_rate"),
    weight_decay: number("weight_decay"),
    augment: form.get("augment") === "on",
    validation_split: number("validation_split"),
    patience: number("patience"),
    // Rehearsal mixes in MNIST digits: adapt mode only (the field is hidden otherwise).
    rehearsal: state.mode === "adapt" ? number("rehearsal") : 0,
    seed: 1,
  };
}

/** Keep only what differs from the defaults, so that a later release's defaults still apply
 * to every field a person left alone. */
export function saveSettings() {
  const form = { ...readSettings(), rehearsal: Number(new FormData($("settings")).get("rehearsal")) };
  const defaults = default_settings();
  const changed = Object.fromEntries(
    Object.entries(form).filter(([name, value]) => name !== "seed" && value !== defaults[name]));
  store.put("settings", changed).catch(() => {});
}

/** The defaults, then what this browser kept over them (a field it never changed is absent). */
export function restoreSettings(saved) {
  fill(default_settings());
  fill(saved);
}

/** Back to the defaults, forgetting what was changed. */
export function resetSettings() {
  fill(default_settings());
  saveSettings();
}

function fill(settings) {
  const form = $("settings");
  for (const [name, value] of Object.entries(settings ?? {})) {
    const field = form.elements.namedItem(name);
    if (!field || name === "seed") continue;
    if (field.type === "checkbox") field.checked = Boolean(value);
    else field.value = value == null ? "" : String(value);
  }
}

/** The settings a run of task `t` takes (`Settings`), or an Error saying why it cannot start. */
export function settingsFor(t, labels) {
  return check_fine_tune(readSettings(), t.classes, labels);
}
