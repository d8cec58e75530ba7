// A small W3C WebDriver client for geckodriver over HTTP (Node's fetch): Playwright cannot
// drive a stock Firefox. Only what the Firefox end-to-end test needs.
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { homedir } from "node:os";
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
 * Start geckodriver on a free port of 127.0.0.1; returns { url, stop, log }. `log()` is what
 * it wrote (Firefox's own output included), for failure messages.
 */
export async function startGeckodriver(path) {
  const child = spawn(path, ["--host", "127.0.0.1", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`geckodriver did not start in 30 s:\n${output}`)), 30_000);
    const read = (chunk) => {
      output = (output + chunk).slice(-200_000);
      const m = /Listening on ([\d.]+:\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(`http://${m[1]}`);
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.once("error", (e) => { clearTimeout(timer); reject(new Error(`could not start ${path}: ${e.message}`)); });
    exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`geckodriver exited (${code ?? signal}):\n${output}`)); });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    return { url: await listening, stop, log: () => output };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A WebDriver session: `Session.create(driverUrl, capabilities)`. */
export class Session {
  constructor(url, id) {
    this.base = `${url}/session/${id}`;
    this.id = id;
  }

  static async create(url, capabilities) {
    const value = await request("POST", `${url}/session`, { capabilities: { alwaysMatch: capabilities } });
    return new Session(url, value.sessionId);
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
        .then((value) => done({ value }), (e) => done({ error: String(e && e.stack || e) }));`;
    return this.command("POST", "/execute/async", { script, args }).then((r) => {
      if (r?.error) throw new Error(`in the page: ${r.error}`);
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

/** The element reference's id, for moves relative to it. */
export const elementOrigin = (element) => ({ [ELEMENT]: element[ELEMENT] });
