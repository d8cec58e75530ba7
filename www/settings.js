// The fine-tuning settings form: filled from the defaults the wasm exports for the mode
// (chosen by the sweep in docs/TRANSFER.md), read as plain numbers, the fields a person
// changed kept in IndexedDB and restored, and checked by the wasm (`check_fine_tune`)
// against the task before a run starts.
import { check_fine_tune, default_settings, settings_limits } from "../digit-transfer.js";
import * as store from "./store.js";
import { $, state } from "./page.js";

/** The form's fields as numbers (rehearsal as shown, even where hidden). */
function values() {
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
    rehearsal: number("rehearsal"),
    seed: 1,
  };
}

/** The form as numbers (`SettingsForm` in Rust); batch size null for auto. */
export function readSettings() {
  // Rehearsal mixes in MNIST digits: adapt mode only (the field is hidden otherwise).
  const form = values();
  return { ...form, rehearsal: state.mode === "adapt" ? form.rehearsal : 0 };
}

/** What this browser changed, field by field; every other field takes the defaults of the
 * mode in use, so a later release's defaults still reach it. */
let changed = {};

/** The defaults for the mode in use: adapting the digits and a new task differ (the sweep
 * chose each; a new head has no digits to forget). */
const defaults = () => default_settings(state.mode === "adapt");

/** Keep the field a person just changed (or forget it, when set back to the default). */
export function saveSettings(event) {
  const name = event?.target?.name;
  const initial = defaults();
  if (name && name !== "seed" && name in initial) {
    const value = values()[name];
    if (value === initial[name]) delete changed[name];
    else changed[name] = value;
  }
  store.put("settings", changed).catch(() => {});
}

/** The mode's defaults, then what this browser kept over them. */
export function restoreSettings(saved) {
  showLimits();
  changed = { ...(saved ?? {}) };
  showSettings();
}

/** Each field's range and the reason for its largest value, as Rust checks them. */
function showLimits() {
  const form = $("settings");
  for (const { field, min, max, why } of settings_limits()) {
    const input = /** @type {HTMLInputElement | null} */ (form.elements.namedItem(field));
    if (!input) continue;
    input.min = String(min);
    input.max = String(max);
    input.title = [input.dataset.hint, `At most ${max}: ${why}.`].filter(Boolean).join(" ");
  }
}

/** Fill the form for the mode in use (after a change of mode). */
export function showSettings() {
  fill(defaults());
  fill(changed);
}

/** Back to the defaults, forgetting what was changed. */
export function resetSettings() {
  changed = {};
  showSettings();
  store.put("settings", changed).catch(() => {});
}

function fill(settings) {
  const form = $("settings");
  for (const [name, value] of Object.entries(settings ?? {})) {
    const field = /** @type {HTMLInputElement | HTMLSelectElement | null} */ (form.elements.namedItem(name));
    if (!field || name === "seed") continue;
    if (field.type === "checkbox") field.checked = Boolean(value);
    else field.value = value == null ? "" : String(value);
  }
}

/** The settings a run of task `t` takes (`Settings`), or an Error saying why it cannot start. */
export function settingsFor(t, labels) {
  return check_fine_tune(readSettings(), t.classes, labels);
}
