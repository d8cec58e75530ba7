// The page's DOM glue: drawing, and showing what the wasm model returns. No ML here.
import init, { DigitModel } from "../digit-transfer.js";

const $ = (id) => document.getElementById(id);
const pad = $("pad");
const ctx = pad.getContext("2d", { willReadFrequently: true });
let model = null;
let drawing = false;

function clearPad() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, pad.width, pad.height);
  $("guess").textContent = "Draw a digit.";
  $("bars").replaceChildren();
}

function point(event) {
  const r = pad.getBoundingClientRect();
  return [(event.clientX - r.left) * (pad.width / r.width), (event.clientY - r.top) * (pad.height / r.height)];
}

pad.addEventListener("pointerdown", (e) => {
  drawing = true;
  pad.setPointerCapture(e.pointerId);
  ctx.lineWidth = 18;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = "#000";
  ctx.beginPath();
  ctx.moveTo(...point(e));
  ctx.lineTo(...point(e));
  ctx.stroke();
});
pad.addEventListener("pointermove", (e) => {
  if (!drawing) return;
  ctx.lineTo(...point(e));
  ctx.stroke();
});
for (const type of ["pointerup", "pointercancel"]) {
  pad.addEventListener(type, () => {
    if (!drawing) return;
    drawing = false;
    predict();
  });
}
$("clear").addEventListener("click", clearPad);
$("arch").addEventListener("change", () => load($("arch").value));

function showSeen(image) {
  const seen = $("seen").getContext("2d");
  const data = seen.createImageData(28, 28);
  image.forEach((v, i) => data.data.set([v, v, v, 255], i * 4));
  seen.putImageData(data, 0, 0);
}

async function predict() {
  if (!model) return;
  const { data, width, height } = ctx.getImageData(0, 0, pad.width, pad.height);
  try {
    const p = await model.predict_canvas(new Uint8Array(data.buffer), width, height);
    showSeen(p.image);
    const names = model.class_names;
    $("guess").textContent = `It looks like ${names[p.best]}.`;
    $("bars").replaceChildren(...Array.from(p.probabilities, (prob, i) => {
      const li = document.createElement("li");
      li.className = i === p.best ? "top" : "";
      const label = document.createElement("span");
      label.textContent = names[i];
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.width = `${(prob * 100).toFixed(1)}%`;
      const value = document.createElement("span");
      value.textContent = `${(prob * 100).toFixed(1)}%`;
      li.append(label, bar, value);
      return li;
    }));
  } catch (error) {
    $("guess").textContent = String(error.message ?? error);
  }
}

async function load(arch) {
  $("status").textContent = `Loading the pretrained ${arch}…`;
  try {
    const response = await fetch(`www/weights/pretrained-${arch}.bpk`);
    if (!response.ok) throw new Error(`weights: HTTP ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    model = await DigitModel.load(bytes, "auto");
    const why = model.device_reason ? ` (${model.device_reason})` : "";
    $("status").textContent = `Pretrained ${model.architecture} ready on ${model.device_label}${why}.`;
    document.body.dataset.ready = "true";
    predict();
  } catch (error) {
    $("status").textContent = `Could not load the model: ${error.message ?? error}`;
  }
}

clearPad();
await init();
await load($("arch").value);
