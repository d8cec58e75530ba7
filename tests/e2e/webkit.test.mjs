// The built page (dist/) in WebKit, Safari's engine (WebKitGTK's MiniBrowser: no WebGPU, the
// CPU fallback), driven over W3C WebDriver by WebKitWebDriver like a person would (person.mjs),
// once under each locale: WebKit takes the page's language from LANG, and under the POSIX locale
// (C.UTF-8, the default of many containers) it is "C", which Intl refuses. MiniBrowser has no
// headless mode, so it draws on an X server of its own (Xvfb). WEBKIT_WEBDRIVER, WEBKIT_BROWSER
// and XVFB name the driver, the browser and the X server (default Debian's webkit2gtk-driver and
// xvfb, installed by scripts/setup.sh --test); the test fails when any is missing.
// Run: node --test tests/e2e/  (after `trunk build --release --offline`).
import { after, before, describe } from "node:test";
import { heldOutDigits, serve } from "./harness.mjs";
import { Person, personTests } from "./person.mjs";
import { Session, startWebKitDriver, startXvfb, webkitTools } from "./webdriver.mjs";

let tools;
let xvfb;
let digits;

before(async () => {
  tools = webkitTools();
  xvfb = await startXvfb(tools.xvfb);
  digits = await heldOutDigits();
});

after(async () => {
  await xvfb?.stop();
});

for (const lang of ["C.UTF-8", "en_US.UTF-8"]) {
  describe(`WebKit, LANG=${lang}`, () => {
    let server;
    let driver;
    let session;
    let person;

    before(async () => {
      // A server of its own: another origin, so another run's storage is not seen.
      server = await serve();
      driver = await startWebKitDriver(tools.driver, { DISPLAY: xvfb.display, LANG: lang, LC_ALL: "" });
      session = await Session.create(driver.url, {
        browserName: "MiniBrowser",
        "webkitgtk:browserOptions": { binary: tools.browser, args: ["--automation"] },
      });
      await session.setWindowRect({ width: 1400, height: 1000 }).catch(() => {});
      await session.setTimeouts({ script: 120_000 });
      person = new Person(session, digits);
    });

    after(async () => {
      await session?.delete().catch(() => {});
      await driver?.stop();
      server?.close();
    });

    // WebKitGTK isolates the page, but refuses to send the threaded build's module and shared
    // memory to a thread's worker ("The object can not be cloned"): the worker falls back to
    // the single-threaded build, as it is built to.
    personTests(`WebKit (LANG=${lang})`, () => ({ person, url: server.origin }), { threads: false });
  });
}
