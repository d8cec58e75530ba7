// A small W3C WebDriver client over HTTP (Node's fetch), for the browsers Playwright cannot
// drive: a stock Firefox (geckodriver) and WebKit (WebKitWebDriver, under Xvfb). Only what the
// end-to-end tests need.
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { homedir } from "node:os";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";

/** The W3C key of an element reference. */
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `name` on PATH or in ~/.cargo/bin, or null. */
function which(name) {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), join(homedir(), ".cargo", "bin")];
  return dirs.filter(Boolean).map((d) => join(d, name)).find(executable) ?? null;
}

/** geckodriver and Firefox: $GECKODRIVER and $FIREFOX, or the defaults; throws naming what is missing. */
export function firefoxTools() {
  const driver = process.env.GECKODRIVER || which("geckodriver");
  const firefox = process.env.FIREFOX || "/usr/bin/firefox-esr";
  const missing = [];
  if (!driver || !executable(driver)) {
    missing.push(`geckodriver ${driver ? `(GECKODRIVER=${driver}) is not an executable file` : "is not on PATH nor in ~/.cargo/bin"}`);
  }
  if (!executable(firefox)) missing.push(`Firefox (${process.env.FIREFOX ? `FIREFOX=${firefox}` : firefox}) is not an executable file`);
  if (missing.length) {
    throw new Error(`${missing.join("; ")}: run scripts/setup.sh --test, or point GECKODRIVER / FIREFOX at them`);
  }
  return { driver, firefox };
}

/**
 * Start `path` with `args` (and `env` added to this process's); returns { child, output, exited,
 * stop }. `output()` is the last of what it wrote, for failure messages; `stop()` ends it.
 */
function launch(path, args, { env = {}, stdio = ["ignore", "pipe", "pipe"] } = {}) {
  const child = spawn(path, args, { stdio, env: { ...process.env, ...env } });
  let output = "";
  const read = (chunk) => {
    output = (output + chunk).slice(-200_000);
  };
  child.stdout?.on("data", read);
  child.stderr?.on("data", read);
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const failed = new Promise((_, reject) => {
    child.once("error", (e) => reject(new Error(`could not start ${path}: ${e.message}`)));
    exited.then(({ code, signal }) => reject(new Error(`${path} exited (${code ?? signal}):\n${output}`)));
  });
  failed.catch(() => {});
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  return { child, output: () => output, failed, stop };
}

/**
 * Ask `probe()` every 50 ms until it answers (not null), for at most `ms`: its answer. Stops the
 * process and throws, with what it wrote, when it exits first or the time is up.
 */
async function poll(probe, process, ms, what) {
  const end = Date.now() + ms;
  let failure = null;
  process.failed.catch((error) => {
    failure = error;
  });
  for (;;) {
    const answer = await probe();
    if (answer != null) return answer;
    if (failure || Date.now() > end) {
      await process.stop();
      throw failure ?? new Error(`${what} did not start in ${ms / 1000} s:\n${process.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Start geckodriver on a free port of 127.0.0.1; returns { url, stop, log }. `log()` is what
 * it wrote (Firefox's own output included), for failure messages.
 */
export async function startGeckodriver(path) {
  const driver = launch(path, ["--host", "127.0.0.1", "--port", "0"]);
  const listening = () => {
    const m = /Listening on ([\d.]+:\d+)/.exec(driver.output());
    return m && `http://${m[1]}`;
  };
  const url = await poll(listening, driver, 30_000, "geckodriver");
  return { url, stop: driver.stop, log: driver.output };
}

/** WebKitWebDriver, MiniBrowser and Xvfb: $WEBKIT_WEBDRIVER, $WEBKIT_BROWSER and $XVFB, or
 * Debian's (webkit2gtk-driver, xvfb); throws naming what is missing. */
export function webkitTools() {
  const multiarch = process.arch === "arm64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
  const tools = {
    driver: [process.env.WEBKIT_WEBDRIVER || which("WebKitWebDriver"), "WEBKIT_WEBDRIVER", "WebKitWebDriver"],
    browser: [process.env.WEBKIT_BROWSER || `/usr/lib/${multiarch}/webkit2gtk-4.1/MiniBrowser`, "WEBKIT_BROWSER", "MiniBrowser"],
    xvfb: [process.env.XVFB || which("Xvfb"), "XVFB", "Xvfb"],
  };
  const missing = Object.values(tools)
    .filter(([path]) => !path || !executable(path))
    .map(([path, variable, name]) => `${name} ${path ? `(${process.env[variable] ? `${variable}=` : ""}${path}) is not an executable file` : "is not on PATH"}`);
  if (missing.length) {
    throw new Error(`${missing.join("; ")}: run scripts/setup.sh --test, or point WEBKIT_WEBDRIVER / WEBKIT_BROWSER / XVFB at them`);
  }
  return Object.fromEntries(Object.entries(tools).map(([key, [path]]) => [key, path]));
}

/** An X server of its own for a browser with no headless mode; returns { display, stop }. */
export async function startXvfb(path) {
  // -displayfd: Xvfb takes a free display number and writes it to file descriptor 3.
  const xvfb = launch(path, ["-displayfd", "3", "-screen", "0", "1400x1000x24", "-nolisten", "tcp"], {
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  });
  let written = "";
  xvfb.child.stdio[3].on("data", (chunk) => {
    written += chunk;
  });
  const number = () => (written.includes("\n") ? written.trim() : null);
  const display = `:${await poll(number, xvfb, 30_000, "Xvfb")}`;
  return { display, stop: xvfb.stop };
}

/** A free TCP port of 127.0.0.1 (for a driver that cannot pick one itself). */
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Start WebKitWebDriver on a free port of 127.0.0.1, its browsers with `env` (DISPLAY, LANG);
 * returns { url, stop, log }.
 */
export async function startWebKitDriver(path, env) {
  const port = await freePort();
  const driver = launch(path, [`--port=${port}`, "--host=local"], { env });
  const url = `http://127.0.0.1:${port}`;
  const ready = async () => {
    const status = await fetch(`${url}/status`).then((r) => r.json(), () => null);
    return status?.value?.ready ? true : null;
  };
  await poll(ready, driver, 30_000, "WebKitWebDriver");
  return { url, stop: driver.stop, log: driver.output };
}

/** A WebDriver session: `Session.create(driverUrl, capabilities)`. */
export class Session {
  constructor(url, id) {
    this.base = `${url}/session/${id}`;
    this.id = id;
  }

  static async create(url, capabilities) {
    const value = await request("POST", `${url}/session`, { capabilities: { alwaysMatch: capabilities } });
    const session = new Session(url, value.sessionId);
    /** What the browser says it is (browserName, browserVersion, …). */
    session.capabilities = value.capabilities ?? {};
    return session;
  }

  command(method, path, body) {
    return request(method, `${this.base}${path}`, body);
  }

  delete() {
    return request("DELETE", this.base);
  }

  navigate(url) {
    return this.command("POST", "/url", { url });
  }

  setWindowRect(rect) {
    return this.command("POST", "/window/rect", rect);
  }

  /** Run `fn` (a function or its source) in the page with JSON-able `args`; its return value. */
  execute(fn, ...args) {
    return this.command("POST", "/execute/sync", { script: `return (${fn}).apply(null, arguments);`, args });
  }

  /** Run the async `fn` in the page and await its promise (script timeout: `setTimeouts`). */
  executeAsync(fn, ...args) {
    const script = `const done = arguments[arguments.length - 1];
      Promise.resolve().then(() => (${fn}).apply(null, Array.from(arguments).slice(0, -1)))
        .then((value) => done({ value }), (e) => done({ thrown: String(e) + " " + (e && e.stack || "") }));`;
    return this.command("POST", "/execute/async", { script, args }).then((r) => {
      if (r?.thrown) throw new Error(`in the page: ${r.thrown}`);
      return r?.value;
    });
  }

  setTimeouts(timeouts) {
    return this.command("POST", "/timeouts", timeouts);
  }

  /** The element matching a CSS selector, as a reference for `args` and actions. */
  async find(css) {
    return this.command("POST", "/element", { using: "css selector", value: css });
  }

  async click(css) {
    const element = await this.find(css);
    await this.command("POST", `/element/${element[ELEMENT]}/click`, {});
  }

  /** Text of the element matching `css` as rendered. */
  async text(css) {
    const element = await this.find(css);
    return this.command("GET", `/element/${element[ELEMENT]}/text`);
  }

  /** Perform input source action sequences (W3C Actions), then release what is held. */
  async actions(sources) {
    await this.command("POST", "/actions", { actions: sources });
    await this.command("DELETE", "/actions");
  }

  /** Poll `fn(...args)` in the page until it returns something truthy; returns that. */
  async waitFor(fn, { timeout = 60_000, interval = 100, message = String(fn) } = {}, ...args) {
    const end = Date.now() + timeout;
    for (;;) {
      const value = await this.execute(fn, ...args);
      if (value) return value;
      if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${message}`);
      await new Promise((r) => setTimeout(r, interval));
    }
  }
}

/** One WebDriver command; its `value`, or an Error with the driver's error and message. */
async function request(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json; charset=utf-8" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${url}: HTTP ${response.status}, not JSON: ${text.slice(0, 500)}`);
  }
  if (!response.ok || json.value?.error) {
    const { error, message } = json.value ?? {};
    throw new Error(`${method} ${new URL(url).pathname}: ${error ?? `HTTP ${response.status}`}: ${message ?? text.slice(0, 500)}`);
  }
  return json.value;
}

/** A mouse pointer input source with `actions`. */
export const mouse = (actions) => ({ type: "pointer", id: "mouse", parameters: { pointerType: "mouse" }, actions });
