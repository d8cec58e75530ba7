// What a fine-tune did, drawn: the person's samples in feature space before and after (the
// points, axes and separation come from Rust), and the validation samples still got wrong,
// each with a way to relabel or delete it. clearResults (results.js) clears them.
import { $, paintImage } from "./page.js";
import { percent } from "./results.js";
import { deleteSample, relabelSample } from "./gallery.js";

/** A colour per class, evenly round the hue circle. */
const colour = (label, classes, alpha = 1) => `hsl(${Math.round((360 * label) / Math.max(classes, 1))} 70% 45% / ${alpha})`;

function thumbnail(image, size = 56) {
  const canvas = document.createElement("canvas");
  canvas.width = 28;
  canvas.height = 28;
  canvas.style.width = canvas.style.height = `${size}px`;
  paintImage(canvas, image);
  return canvas;
}

/** A view that fits every point of both maps: the two share axes and scale. */
function frame(map, width, height) {
  const all = [...map.points, ...map.source].flatMap((p) => [p.before, p.after]);
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const scale = Math.min((width - 24) / Math.max(x1 - x0, 1e-6), (height - 24) / Math.max(y1 - y0, 1e-6));
  return ([x, y]) => [12 + (x - x0) * scale + (width - 24 - (x1 - x0) * scale) / 2, height - 12 - (y - y0) * scale - (height - 24 - (y1 - y0) * scale) / 2];
}

/** Draw one side of the map; returns where each of the person's points landed. */
function drawMap(canvas, map, side, classes, at) {
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, canvas.width, canvas.height);
  for (const p of map.source) {
    const [x, y] = at(p[side]);
    g.fillStyle = colour(p.label, classes, 0.35);
    g.fillRect(x - 2, y - 2, 4, 4);
  }
  const placed = [];
  for (const p of map.points) {
    const [x, y] = at(p[side]);
    g.beginPath();
    g.arc(x, y, 4.5, 0, 2 * Math.PI);
    g.strokeStyle = g.fillStyle = colour(p.label, classes);
    g.lineWidth = 2;
    if (p.validation) g.stroke();
    else g.fill();
    placed.push({ x, y, point: p });
  }
  return placed;
}

/** Show a point's drawing beside the pointer when it is near one; from the keyboard, the
 * arrow keys step through the points (a ring marks the one shown) and Escape hides it. */
function hover(canvas, placed, run, redraw) {
  const tip = $("map-tip");
  const showAt = (near, left, top) => {
    const sample = near && run.samples[near.point.sample];
    if (!sample) {
      tip.hidden = true;
      return;
    }
    const caption = document.createElement("span");
    caption.textContent = `${run.classes[near.point.label]}${near.point.validation ? " (validation)" : ""}`;
    tip.replaceChildren(thumbnail(sample.image), caption);
    tip.style.left = `${left + 12}px`;
    tip.style.top = `${top + 12}px`;
    tip.hidden = false;
    tip.dataset.sample = sample.id;
  };
  const show = (e) => {
    const box = canvas.getBoundingClientRect();
    const px = ((e.clientX - box.left) * canvas.width) / box.width;
    const py = ((e.clientY - box.top) * canvas.height) / box.height;
    const near = placed
      .map((p) => ({ ...p, d: Math.hypot(p.x - px, p.y - py) }))
      .filter((p) => p.d < 9)
      .sort((a, b) => a.d - b.d)[0];
    showAt(near, e.clientX, e.clientY);
  };
  // The keyboard's point, in the order the points were drawn.
  let at = -1;
  const step = (by) => {
    at = (at + by + placed.length) % placed.length;
    const p = placed[at];
    const g = redraw();
    g.beginPath();
    g.arc(p.x, p.y, 8, 0, 2 * Math.PI);
    g.strokeStyle = getComputedStyle(canvas).color;
    g.lineWidth = 2;
    g.stroke();
    const box = canvas.getBoundingClientRect();
    showAt(p, box.left + (p.x * box.width) / canvas.width, box.top + (p.y * box.height) / canvas.height);
    $("map-status").textContent = `Sample ${at + 1} of ${placed.length}: ${tip.textContent}.`;
  };
  const hide = () => {
    tip.hidden = true;
    if (at >= 0) redraw();
    at = -1;
  };
  canvas.onpointermove = show;
  canvas.onpointerdown = show;
  canvas.onpointerleave = () => { tip.hidden = true; };
  canvas.onblur = hide;
  canvas.onkeydown = (e) => {
    const by = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
    if (by && placed.length) step(by);
    else if (e.key === "Escape") hide();
    else return;
    e.preventDefault();
  };
}

/** The feature map of a report (`FeatureMap`), for the samples of the run (`run`). */
export function showFeatureMap(report, run) {
  const map = report.feature_map;
  $("feature-map").hidden = !map?.points.length;
  if (!map?.points.length) return;
  const classes = run.classes.length;
  const { separation_before: before, separation_after: after } = map;
  $("separation").textContent = before == null
    ? "How far apart the classes are needs samples of two classes or more, and a validation split."
    : `Classes apart in feature space (nearest class mean, validation split): ${percent(before)} before → ${percent(after)} after.`;
  const at = frame(map, $("map-before").width, $("map-before").height);
  for (const side of /** @type {const} */ (["before", "after"])) {
    const canvas = $(`map-${side}`);
    const redraw = () => {
      drawMap(canvas, map, side, classes, at);
      return canvas.getContext("2d");
    };
    hover(canvas, drawMap(canvas, map, side, classes, at), run, redraw);
    canvas.dataset.points = String(map.points.length);
  }
  const shown = new Set([...map.points, ...map.source].map((p) => p.label));
  $("map-legend").replaceChildren(...run.classes.flatMap((name, label) => {
    if (!shown.has(label)) return [];
    const li = document.createElement("li");
    li.textContent = name;
    li.style.setProperty("--colour", colour(label, classes));
    return li;
  }));
}

function mistakeItem(m, run, remove) {
  const sample = run.samples[m.sample];
  const item = document.createElement("figure");
  item.className = "mistake";
  item.dataset.sample = sample.id;
  const caption = document.createElement("figcaption");
  caption.textContent = `seen as ${run.classes[m.predicted]} (${percent(m.confidence)})`;
  const relabel = document.createElement("select");
  relabel.setAttribute("aria-label", "Relabel this sample as");
  relabel.append(...run.classes.map((name, label) => new Option(name, String(label), false, label === m.truth)));
  relabel.addEventListener("change", () => {
    if (relabelSample(sample.id, Number(relabel.value))) remove();
  });
  const drop = document.createElement("button");
  drop.type = "button";
  drop.textContent = "Delete";
  drop.addEventListener("click", () => {
    if (deleteSample(sample.id)) remove();
  });
  item.append(thumbnail(sample.image), caption, relabel, drop);
  return item;
}

/** The validation samples a report (`FineTuneReport`) still gets wrong, by true class. */
export function showMistakes(report, run) {
  const mistakes = report.mistakes ?? [];
  $("mistakes-box").hidden = !report.validation;
  const render = (list) => {
    if (!list.length) {
      const none = document.createElement("p");
      none.className = "hint";
      none.textContent = "None: every validation sample is right.";
      $("mistakes").replaceChildren(none);
      return;
    }
    const groups = run.classes.map((name, truth) => ({ name, truth, items: list.filter((m) => m.truth === truth) }));
    $("mistakes").replaceChildren(...groups.filter((g) => g.items.length).map(({ name, items }) => {
      const group = document.createElement("div");
      group.className = "group";
      const title = document.createElement("h3");
      title.textContent = `${name} · ${items.length}`;
      const row = document.createElement("div");
      row.className = "thumbs";
      row.append(...items.map((m) => mistakeItem(m, run, () => render(list.filter((x) => x !== m)))));
      group.append(title, row);
      return group;
    }));
  };
  render(mistakes.filter((m) => run.samples[m.sample]));
}
