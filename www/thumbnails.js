// The samples' thumbnails by class, drawn as a window over a virtual sheet: whatever the
// number of samples, only the rows in view (and a margin) exist in the page, so 30,000
// samples lay out at once and scroll as smoothly as 30. Thumbnails are images, painted when
// their row comes into view: a page of thousands of canvases takes a tenth of a second to
// composite a frame, the same number of images a few milliseconds.
import { paintImage } from "./page.js";

/**
 * @typedef {{ id: string, image: Uint8Array, unsaved?: boolean }} Thumb
 * @typedef {{ name: string, samples: Thumb[] }} Group  One class: its name and samples.
 * @typedef {{ top: number, group: Group, from: number | null }} Line  A class's heading
 *   (`from` null) or a row of its thumbnails from sample `from`.
 */

/** Pixels: a heading's height, a thumbnail's pitch (28 px, its border and the gap). These
 * are style.css's `.sheet-head` and `.sheet .thumb`. */
const HEAD = 26;
const PITCH = 33;
/** Rows drawn beyond the visible part, above and below, so that a quick scroll finds them. */
const MARGIN = 300;

/** One canvas paints every thumbnail, each read back as an image URL. */
let painter = /** @type {HTMLCanvasElement | null} */ (null);
function imageUrl(/** @type {Uint8Array} */ image) {
  if (!painter) {
    painter = document.createElement("canvas");
    painter.width = 28;
    painter.height = 28;
  }
  paintImage(painter, image);
  return painter.toDataURL();
}

/** A class's heading: its name and number of samples. */
const heading = (/** @type {Group} */ group) => `${group.name} · ${group.samples.length.toLocaleString("en")}`;

export class ThumbnailSheet {
  /**
   * @param {HTMLElement} scroller  the scrolling box the sheet fills
   * @param {(group: Group, sample: Thumb) => HTMLButtonElement} thumb  a thumbnail's button
   *   without its image (its title, label and click)
   */
  constructor(scroller, thumb) {
    this.scroller = scroller;
    this.thumb = thumb;
    this.space = document.createElement("div");
    this.space.className = "sheet";
    // The heading of the class at the top of the view stays there, so that a row far down a
    // class of thousands still says whose it is (a copy of a heading: hidden from readers).
    this.pinned = document.createElement("div");
    this.pinned.className = "sheet-pinned";
    this.pinned.setAttribute("aria-hidden", "true");
    /** @type {Group[]} */
    this.groups = [];
    /** @type {Line[]} */
    this.lines = [];
    /** Lines in the page, by index into `lines`. @type {Map<number, HTMLElement>} */
    this.drawn = new Map();
    this.columns = 0;
    this.scheduled = false;
    scroller.addEventListener("scroll", () => this.schedule(), { passive: true });
    // A new width changes the rows: lay out again (also when the box first gets a size).
    if (typeof ResizeObserver === "function") {
      new ResizeObserver(() => {
        if (this.fit() !== this.columns) this.layout();
      }).observe(scroller);
    }
  }

  /** Thumbnails a row holds at the box's width. */
  fit() {
    return Math.max(1, Math.floor((this.scroller.clientWidth + PITCH - 28 - 2) / PITCH));
  }

  /** Show `groups` (in order, each under a heading "name · count"). */
  show(/** @type {Group[]} */ groups) {
    this.groups = groups;
    if (this.space.parentNode !== this.scroller) this.scroller.replaceChildren(this.pinned, this.space);
    this.layout();
  }

  layout() {
    this.columns = this.fit();
    this.lines = [];
    let top = 0;
    for (const group of this.groups) {
      this.lines.push({ top, group, from: null });
      top += HEAD;
      for (let from = 0; from < group.samples.length; from += this.columns) {
        this.lines.push({ top, group, from });
        top += PITCH;
      }
    }
    this.space.style.height = `${top}px`;
    for (const element of this.drawn.values()) element.remove();
    this.drawn.clear();
    this.draw();
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.draw();
    });
  }

  /** Put in the page the lines within the view and its margin, and take out the others. */
  draw() {
    const view = this.scroller.scrollTop;
    const high = view + this.scroller.clientHeight + MARGIN;
    const first = this.lineAt(view - MARGIN);
    const group = this.lines[this.lineAt(view)]?.group;
    this.pinned.textContent = group ? heading(group) : "";
    const wanted = new Set();
    for (let i = first; i < this.lines.length && this.lines[i].top < high; i += 1) wanted.add(i);
    for (const [i, element] of this.drawn) {
      if (!wanted.has(i)) {
        element.remove();
        this.drawn.delete(i);
      }
    }
    // From the last line up, each new one before the line after it: the page keeps the lines
    // in order, as a keyboard or a screen reader goes through them.
    for (const i of [...wanted].reverse()) {
      if (this.drawn.has(i)) continue;
      const element = this.line(this.lines[i]);
      element.style.top = `${this.lines[i].top}px`;
      this.space.insertBefore(element, this.drawn.get(i + 1) ?? null);
      this.drawn.set(i, element);
    }
  }

  /** The first line that ends below `y`, by bisection: lines are in order of `top`. */
  lineAt(/** @type {number} */ y) {
    let first = 0;
    let last = this.lines.length;
    while (first < last) {
      const mid = (first + last) >> 1;
      if (this.lines[mid].top + (this.lines[mid].from === null ? HEAD : PITCH) <= y) first = mid + 1;
      else last = mid;
    }
    return first;
  }

  /** A heading or a row of thumbnails. */
  line(/** @type {Line} */ { group, from }) {
    if (from === null) {
      const head = document.createElement("h3");
      head.className = "sheet-head";
      head.textContent = heading(group);
      return head;
    }
    const row = document.createElement("div");
    row.className = "sheet-row";
    for (const sample of group.samples.slice(from, from + this.columns)) {
      const button = this.thumb(group, sample);
      const image = new Image(28, 28);
      image.alt = "";
      image.src = imageUrl(sample.image);
      button.append(image);
      row.append(button);
    }
    return row;
  }
}
