// The page's modules (www/**/*.js) import one another without a circle: a module that imports,
// however indirectly, one that imports it back runs before its imports are ready (ES modules
// evaluate a circle in some order, and a value read at the top level of one is then still in
// its temporal dead zone). Each `import … from "./x.js"` / `export … from "./x.js"` (and a bare
// `import "./x.js"`) of a file under www/ is an edge; imports of files outside www/ (the wasm
// bindings, uPlot) and type-only `import("./x.js")` in JSDoc are not.
// Run: node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const www = join(root, "www");

/** The .js files under `dir`, as absolute paths. */
function scripts(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return scripts(path);
    return entry.name.endsWith(".js") ? [path] : [];
  });
}

/** The relative specifiers a module's static import and export declarations name. */
export function specifiers(source) {
  const found = [];
  // A declaration starts a line; `[^"'`;]*?` spans the names (over several lines too) up to
  // `from`, so comments and strings that merely mention an import are not matched.
  const pattern = /^[ \t]*(?:import|export)\b(?:[^"'`;]*?\bfrom)?[ \t]*["'](\.{1,2}\/[^"']+)["']/gm;
  for (const match of source.matchAll(pattern)) found.push(match[1]);
  return found;
}

/** The first import circle of a graph (Map: module → the modules it imports), as the list of
 * modules round it (the first repeated at the end), or null when there is none. */
export function findCycle(graph) {
  const state = new Map(); // module → "open" (on the current path) | "done"
  const path = [];
  const visit = (node) => {
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") return [...path.slice(path.indexOf(next)), next];
      if (!state.has(next)) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    path.pop();
    state.set(node, "done");
    return null;
  };
  for (const node of [...graph.keys()].sort()) {
    if (state.has(node)) continue;
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

/** www/'s import graph, by paths relative to the repository (edges only to files under www/). */
function wwwGraph() {
  const files = scripts(www);
  const name = (path) => relative(root, path).split(sep).join("/");
  const graph = new Map();
  for (const file of files) {
    const targets = specifiers(readFileSync(file, "utf8"))
      .map((spec) => resolve(dirname(file), spec))
      .filter((target) => target.startsWith(www + sep));
    graph.set(name(file), targets.map(name));
  }
  return graph;
}

test("the import parser sees static imports and re-exports, not comments or type imports", () => {
  const source = [
    'import init, { a } from "../digit-transfer.js";',
    'import * as store from "./store.js";',
    "import {",
    "  b,",
    "  c,",
    "} from './page.js';",
    'import "./side-effect.js";',
    'export { d } from "./results.js";',
    'export * from "./insight.js";',
    '/** @type {import("./protocol.js").WorkerInput} */',
    '// import { e } from "./commented.js";',
    'const f = "import { g } from ./not-code.js";',
    'const module = await import("./dynamic.js");',
  ].join("\n");
  assert.deepEqual(specifiers(source), ["../digit-transfer.js", "./store.js", "./page.js", "./side-effect.js", "./results.js", "./insight.js"]);
});

test("the cycle finder finds a circle, and finds none in a tree", () => {
  const circle = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
  assert.deepEqual(findCycle(circle), ["a", "b", "c", "a"]);
  assert.deepEqual(findCycle(new Map([["a", ["a"]]])), ["a", "a"]);
  assert.equal(findCycle(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]])), null);
});

test("www/'s modules import one another without a circle", () => {
  const graph = wwwGraph();
  assert.ok(graph.has("www/app.js") && graph.get("www/app.js").includes("www/page.js"), "the graph was read");
  const cycle = findCycle(graph);
  assert.equal(cycle, null, `an import circle: ${cycle?.join(" → ")}`);
});
