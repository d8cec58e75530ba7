// The results of the last fine-tune: the summary, the comparison of strategies, per-class
// figures and the confusion matrix (all computed in Rust; drawn here). The feature map and
// the mistakes are drawn by insight.js, which imports from here (never the other way round).
import { $, barRow, row } from "./page.js";
import { plot } from "./charts.js";

const STRATEGY_NAMES = { head: "head only", full: "full", scratch: "from scratch" };

export const percent = (x) => (x == null ? "–" : `${(x * 100).toFixed(1)}%`);

/** The results card back to empty, insight.js's feature map and mistakes included. */
export function clearResults() {
  $("results-empty").hidden = false;
  $("summary").replaceChildren();
  $("comparison").hidden = true;
  $("comparison").replaceChildren();
  $("per-class").replaceChildren();
  $("confusion").replaceChildren();
  $("per-class-title").hidden = true;
  $("confusion-title").hidden = true;
  plot([]);
  $("feature-map").hidden = true;
  $("map-tip").hidden = true;
  $("map-status").textContent = "";
  $("mistakes-box").hidden = true;
  $("mistakes").replaceChildren();
}

/** A digit the person did not label: kept by MNIST digits, so it has no figures of its own. */
function keptRow(name) {
  const tr = row([name, "kept by rehearsal (no samples of yours)"]);
  tr.cells[1].colSpan = 4;
  tr.cells[1].className = "kept";
  return tr;
}

/** The summary's items, [name, value], of a `FineTuneReport`. */
function summaryItems(report, device) {
  const v = report.validation;
  const last = report.history.at(-1);
  const start = report.strategy === "scratch" ? "fresh weights" : report.new_head ? "new head on the pretrained backbone" : "pretrained head";
  const items = [
    ["Strategy", `${STRATEGY_NAMES[report.strategy]} · ${start}`],
    ["Device", device],
    ["Samples", `${report.train_samples} train · ${report.validation_samples} validation${report.kept_samples ? ` · ${report.kept_samples} MNIST digits keeping the others` : ""}`],
    ["Settings", report.trained_with],
    ["Epochs", `${report.history.length}${report.early_stopped ? " (stopped early)" : ""}${report.stopped ? " (stopped)" : ""}${report.best_epoch ? `, kept epoch ${report.best_epoch}` : ""}`],
    ["Speed", last ? `${Math.round(last.samples_per_sec).toLocaleString("en")} samples/s · ${report.seconds.toFixed(1)} s in all` : "–"],
    ["Validation accuracy", v ? `${percent(report.validation_accuracy_before)} before → ${percent(v.accuracy)} after` : "no validation split"],
  ];
  if (report.notes?.length) items.push(["Notes", report.notes.join("; ")]);
  if (report.source_accuracy_before != null) {
    items.push(["Forgetting (held-out MNIST)", `${percent(report.source_accuracy_before)} before → ${percent(report.source_accuracy_after)} after (${(report.forgetting * 100).toFixed(1)} points)`]);
  }
  return items;
}

function showTables(report) {
  const v = report.validation;
  const names = report.class_names;
  $("per-class-title").hidden = false;
  $("confusion-title").hidden = false;
  $("per-class").replaceChildren(
    row(["class", "precision", "recall", "F1", "samples"], true),
    ...v.per_class.map((m, i) => (report.kept_by_rehearsal?.includes(names[i])
      ? keptRow(names[i])
      : row([names[i], m.precision.toFixed(2), m.recall.toFixed(2), m.f1.toFixed(2), String(m.support)]))),
  );
  const max = Math.max(1, ...v.confusion.flat());
  $("confusion").replaceChildren(
    row(["", ...names], true),
    ...v.confusion.map((counts, truth) => {
      const tr = row([names[truth], ...counts.map(String)]);
      tr.cells[0].className = "rowhead";
      [...tr.cells].slice(1).forEach((td, predicted) => {
        td.className = predicted === truth ? "hit" : counts[predicted] ? "miss" : "";
        td.style.setProperty("--level", String(counts[predicted] / max));
      });
      return tr;
    }),
  );
}

/** Show a run's report (`FineTuneReport`) and its curves. */
export function showReport(report, device) {
  $("results-empty").hidden = true;
  $("summary").replaceChildren(...summaryItems(report, device).flatMap(([k, val]) => {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = val;
    dd.dataset.key = k;
    return [dt, dd];
  }));
  if (report.validation) showTables(report);
  plot(report.history);
}

/** Compared runs' validation accuracy side by side. */
export function showComparison(results) {
  const box = $("comparison");
  box.hidden = false;
  const title = document.createElement("h3");
  title.textContent = "Validation accuracy by strategy";
  const list = document.createElement("ul");
  list.className = "bars compare";
  for (const { strategy, report } of results) {
    const accuracy = report.validation?.accuracy ?? report.history.at(-1)?.accuracy ?? 0;
    const li = barRow(strategy === "scratch" ? "scratch" : STRATEGY_NAMES[strategy], accuracy);
    li.dataset.strategy = strategy;
    list.append(li);
  }
  box.replaceChildren(title, list);
}
