// page.js types the page's elements by id (`Elements`, which `$` takes), for tsc: this checks
// that those types are index.html's. Every element of index.html with an id is listed, as the
// interface of its tag; an id that index.html lacks (one a script adds, like `device-reason`)
// must be typed `… | null`, since it may be missing.
// Run: node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The DOM interface of each tag the page gives an id to (lib.dom.d.ts's names). */
const INTERFACES = {
  button: "HTMLButtonElement", canvas: "HTMLCanvasElement", details: "HTMLDetailsElement",
  div: "HTMLDivElement", dl: "HTMLDListElement", form: "HTMLFormElement", h1: "HTMLHeadingElement",
  h2: "HTMLHeadingElement", h3: "HTMLHeadingElement", input: "HTMLInputElement",
  label: "HTMLLabelElement", li: "HTMLLIElement", ol: "HTMLOListElement", p: "HTMLParagraphElement",
  progress: "HTMLProgressElement", section: "HTMLElement", select: "HTMLSelectElement",
  span: "HTMLSpanElement", table: "HTMLTableElement", ul: "HTMLUListElement",
};

/** index.html's elements with an id: id → tag. */
function pageIds() {
  const html = readFileSync(join(root, "index.html"), "utf8");
  const ids = new Map();
  for (const [, tag, id] of html.matchAll(/<([a-z][a-z0-9]*)\b[^>]*?\sid="([^"]+)"/g)) {
    assert.ok(!ids.has(id), `index.html has two elements with id "${id}"`);
    ids.set(id, tag);
  }
  return ids;
}

/** page.js's `Elements` typedef: id → the type written for it. */
function typedIds() {
  const source = readFileSync(join(root, "www", "page.js"), "utf8");
  const block = /@typedef \{(Record<[\s\S]*?)\} Elements\b/.exec(source);
  assert.ok(block, "page.js has an `@typedef {Record<…> & …} Elements`");
  const text = block[1].replace(/\n\s*\*/g, " ");
  const types = new Map();
  for (const [, keys, type] of text.matchAll(/Record<([^,>]+),([^>]+)>/g)) {
    for (const [, id] of keys.matchAll(/"([^"]+)"/g)) {
      assert.ok(!types.has(id), `page.js's Elements lists "${id}" twice`);
      types.set(id, type.trim());
    }
  }
  assert.ok(types.size > 0, "page.js's Elements lists ids");
  return types;
}

test("page.js's element types are index.html's elements", () => {
  const page = pageIds();
  const typed = typedIds();
  for (const [id, tag] of page) {
    assert.ok(INTERFACES[tag], `index.html: <${tag} id="${id}">: add the interface of <${tag}> to this test`);
    assert.ok(typed.has(id), `index.html has <${tag} id="${id}">, which page.js's Elements does not list (as ${INTERFACES[tag]})`);
    assert.equal(typed.get(id), INTERFACES[tag], `page.js's Elements: "${id}" is a <${tag}> in index.html`);
  }
  for (const [id, type] of typed) {
    if (page.has(id)) continue;
    assert.match(type, /\| null$/, `page.js's Elements: "${id}" is not in index.html, so it is typed "… | null" (a script adds it)`);
  }
});
