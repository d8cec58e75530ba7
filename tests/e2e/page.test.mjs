// The built page (dist/) in headless Chromium: the pretrained model loads, a drawn digit gets
// a prediction, and nothing is requested from outside the page's own origin.
// Run: node --test tests/e2e/  (after `trunk build --release`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";

const dist = new URL("../../dist/", import.meta.url).pathname;
const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css" };
let server;
let origin;

before(async () => {
  server = createServer(async (req, res) => {
    let path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^\/+/, "");
    if (path === "" || path === ".") path = "index.html";
    else if (path.endsWith("/")) path += "index.html";
    if (path.startsWith("..")) return res.writeHead(403).end();
    try {
      const body = await readFile(join(dist, path));
      res.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
});

after(() => server?.close());

const flags = [
  "--no-sandbox", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--disable-quic", "--no-first-run",
];

/** Draw a seven on the pad with the mouse. */
async function drawSeven(page) {
  const box = await page.locator("#pad").boundingBox();
  const at = (x, y) => [box.x + x * box.width, box.y + y * box.height];
  await page.mouse.move(...at(0.25, 0.2));
  await page.mouse.down();
  for (const [x, y] of [[0.5, 0.2], [0.75, 0.2], [0.6, 0.5], [0.45, 0.85]]) {
    await page.mouse.move(...at(x, y), { steps: 8 });
  }
  await page.mouse.up();
}

for (const { name, args, device } of [
  { name: "CPU fallback", args: [], device: /CPU \(ndarray\)/ },
  { name: "WebGPU", args: ["--enable-unsafe-webgpu"], device: /WebGPU/ },
]) {
  test(`the page predicts a drawn seven (${name})`, { timeout: 300_000 }, async () => {
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: [...flags, ...args] });
    try {
      const page = await browser.newPage();
      const foreign = [];
      page.on("request", (r) => { if (!r.url().startsWith(origin)) foreign.push(r.url()); });
      const errors = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(origin);
      await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
      assert.match(await page.textContent("#status"), device);
      await drawSeven(page);
      await page.waitForFunction(() => document.querySelectorAll("#bars li").length === 10, null, { timeout: 120_000 });
      assert.equal(await page.textContent("#bars li.top span"), "7");
      assert.match(await page.textContent("#guess"), /It looks like 7/);
      assert.deepEqual(foreign, []);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}
