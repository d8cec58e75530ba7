// The drawing pad: Pointer Events (mouse, finger, pen), strokes kept so the last can be undone.
const INK = 18; // line width in canvas pixels (the canvas is 280 × 280: 10 per MNIST pixel)

export class Pad {
  constructor(canvas, onStroke) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { willReadFrequently: true });
    this.onStroke = onStroke;
    this.strokes = [];
    this.current = null;
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
      canvas.addEventListener(type, () => this.up());
    }
    this.redraw();
  }

  point(e) {
    const r = this.canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * (this.canvas.width / r.width), (e.clientY - r.top) * (this.canvas.height / r.height)];
  }

  down(e) {
    if (e.button !== 0 && e.pointerType === "mouse") return;
    e.preventDefault();
    this.canvas.setPointerCapture?.(e.pointerId);
    this.current = [this.point(e)];
    this.strokes.push(this.current);
    this.redraw();
  }

  move(e) {
    if (!this.current) return;
    e.preventDefault();
    // Coalesced events keep fast pen strokes smooth.
    for (const c of e.getCoalescedEvents?.() ?? [e]) this.current.push(this.point(c));
    this.redraw();
  }

  up() {
    if (!this.current) return;
    this.current = null;
    performance.mark("stroke-end");
    this.onStroke();
  }

  undo() {
    if (this.current) return;
    this.strokes.pop();
    this.redraw();
    this.onStroke();
  }

  clear() {
    this.current = null;
    this.strokes = [];
    this.redraw();
    this.onStroke();
  }

  isEmpty() {
    return this.strokes.length === 0;
  }

  pixels() {
    return this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height);
  }

  redraw() {
    const { ctx, canvas } = this;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = "#000";
    ctx.fillStyle = "#000";
    ctx.lineWidth = INK;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (const stroke of this.strokes) {
      // A tap (points that never move) is a dot: a zero-length line draws nothing, whatever
      // its caps. For a moving stroke the dot is the round cap it starts with anyway.
      ctx.beginPath();
      ctx.arc(...stroke[0], INK / 2, 0, 2 * Math.PI);
      ctx.fill();
      ctx.beginPath();
      ctx.moveTo(...stroke[0]);
      for (const p of stroke.slice(1)) ctx.lineTo(...p);
      ctx.stroke();
    }
  }
}
