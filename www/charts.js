// The loss and accuracy curves (uPlot), train and validation, one point per epoch.
import uPlot from "../uPlot.esm.js";
import { $ } from "./page.js";

const css = getComputedStyle(document.documentElement);
const colour = (name) => css.getPropertyValue(name).trim() || "#888";

function makeChart(target, title, yLabel, range) {
  const width = Math.max(240, target.clientWidth || 320);
  return new uPlot({
    title,
    width,
    height: 180,
    legend: { live: false },
    scales: { x: { time: false }, y: range ? { range } : {} },
    axes: [
      { label: "epoch", stroke: colour("--ink"), grid: { stroke: colour("--grid") }, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500] },
      { label: yLabel, stroke: colour("--ink"), grid: { stroke: colour("--grid") } },
    ],
    series: [
      { label: "epoch" },
      { label: "train", stroke: colour("--accent"), width: 2 },
      { label: "validation", stroke: colour("--accent-2"), width: 2, dash: [6, 3] },
    ],
  }, [[], [], []], target);
}

const charts = {
  loss: makeChart($("chart-loss"), "Loss", "cross-entropy"),
  accuracy: makeChart($("chart-accuracy"), "Accuracy", "fraction", [0, 1]),
};

new ResizeObserver(() => {
  for (const key of /** @type {const} */ (["loss", "accuracy"])) {
    const chart = charts[key];
    const width = Math.max(240, $(`chart-${key}`).clientWidth);
    if (Math.abs(chart.width - width) > 4) chart.setSize({ width, height: 180 });
  }
}).observe($("chart-loss").parentElement);

/** Draw the epochs of a run (`EpochSummary` objects) so far. */
export function plot(history) {
  const epochs = history.map((h) => h.epoch);
  charts.loss.setData([epochs, history.map((h) => h.loss), history.map((h) => h.val_loss ?? null)]);
  charts.accuracy.setData([epochs, history.map((h) => h.accuracy), history.map((h) => h.val_accuracy ?? null)]);
}
