// The built page (dist/) in headless Firefox (no WebGPU on Linux: the CPU fallback), driven
// over W3C WebDriver by geckodriver like a person would (person.mjs: load, draw, label,
// fine-tune in the worker, export and import the samples, reload, learn as it labels).
// Playwright cannot drive a stock Firefox, so this talks to geckodriver itself (webdriver.mjs).
// GECKODRIVER and FIREFOX name the driver and the browser (default: geckodriver on PATH or in
// ~/.cargo/bin, /usr/bin/firefox-esr); both are installed by scripts/setup.sh --test, and the
// test fails when either is missing.
// Run: node --test tests/e2e/  (after `trunk build --release --offline`).
import { before, after } from "node:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { heldOutDigits, serve } from "./harness.mjs";
import { Person, personTests } from "./person.mjs";
import { Session, firefoxTools, startGeckodriver } from "./webdriver.mjs";

const root = new URL("../../", import.meta.url).pathname;

let server;
let person;
let driver;
let session;
let downloads;

before(async () => {
  const { driver: geckodriver, firefox } = firefoxTools();
  server = await serve();
  downloads = await mkdtemp(join(tmpdir(), "digit-transfer-firefox-"));
  // The capabilities the wasm tests use (webdriver-firefox.json), with the binary, and
  // downloads kept out of the home folder.
  const committed = JSON.parse(await readFile(join(root, "webdriver-firefox.json"), "utf8"));
  const options = committed["moz:firefoxOptions"];
  driver = await startGeckodriver(geckodriver);
  session = await Session.create(driver.url, {
    browserName: "firefox",
    ...committed,
    "moz:firefoxOptions": {
      ...options,
      binary: firefox,
      prefs: {
        ...options.prefs,
        "browser.download.folderList": 2,
        "browser.download.dir": downloads,
        "browser.download.useDownloadDir": true,
      },
    },
  });
  await session.setWindowRect({ width: 1400, height: 1000 });
  await session.setTimeouts({ script: 120_000 });
  person = new Person(session, await heldOutDigits());
});

after(async () => {
  await session?.delete().catch(() => {});
  await driver?.stop();
  server?.close();
  if (downloads) await rm(downloads, { recursive: true, force: true });
});

personTests("Firefox", () => ({ person, url: server.origin }));
