// End-to-end tests of the real LLMaaS Desktop window.
//
// Drives the built app (not a browser page) through tauri-driver and
// WebKitWebDriver, the way a user would: the embedded local model answers a
// chat, the project's LLMaaS simulator plays the cloud, a recording made with
// espeak-ng is dropped onto the window, the catalogue is filtered, the spend
// panel is read before and after a request, a key is set and cleared, a
// listed local model is downloaded from a server on loopback (cancelled,
// resumed, a wrong checksum, a disk too small), a conversation outgrows its
// model's context, the keychain hangs. Each
// test saves a screenshot in tests/e2e/screenshots/.
//
// Run it through scripts/e2e.sh, which provides Xvfb, a private D-Bus session
// with a throw-away keyring, and the built binaries.

import { spawn, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { copyFileSync, mkdtempSync, mkdirSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, homedir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { remote } from "webdriverio";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const target = process.env.CARGO_TARGET_DIR || join(homedir(), ".cache/llmaas-desktop/target");
const app = process.env.LLMAAS_DESKTOP_BIN || join(target, "debug/llmaas-desktop");
const simBin = process.env.LLMAAS_SIM_BIN || join(target, "debug/llmaas-sim");
const cliBin = process.env.LLMAAS_CLI_BIN || join(target, "debug/llmaas");
const driverBin = process.env.TAURI_DRIVER || join(homedir(), ".cargo/bin/tauri-driver");
const shots = join(here, "screenshots");
const only = process.env.E2E_ONLY ? new RegExp(process.env.E2E_ONLY) : null;

for (const [what, path] of [["app", app], ["simulator", simBin], ["tauri-driver", driverBin]]) {
  if (!existsSync(path)) {
    console.error(`e2e: the ${what} is not at ${path} (build it, or see scripts/e2e.sh)`);
    process.exit(2);
  }
}
// Only this run's pictures: the README shows them.
if (!only) rmSync(shots, { recursive: true, force: true });
mkdirSync(shots, { recursive: true });

// --- fixtures -------------------------------------------------------------

const scratch = mkdtempSync(join(tmpdir(), "llmaas-e2e-"));
const home = (p) => join(scratch, p);
for (const d of ["config", "data", "state", "files"]) mkdirSync(home(d), { recursive: true });

// A recording: espeak-ng speaks, sox makes it a 16 kHz WAV.
const speech = "The quarterly budget meeting starts on Monday morning.";
const wav = home("files/standup.wav");
execFileSync("espeak-ng", ["-v", "en-us", "-s", "150", "-w", home("files/raw.wav"), speech]);
execFileSync("sox", [home("files/raw.wav"), "-r", "16000", "-c", "1", wav]);

// The hot folder the Meetings panel watches (set in the settings file the
// app starts with), and that settings file.
const hot = home("files/hot");
mkdirSync(hot, { recursive: true });
mkdirSync(home("config/llmaas-desktop"), { recursive: true });
const downloadList = home("files/downloads.toml");
writeFileSync(
  home("config/llmaas-desktop/settings.toml"),
  // History on: the chat's search reads the stored conversations.
  `[ui]\nhot_folder = ${JSON.stringify(hot)}\nhistory = true\n\n[models]\ndownload_list = ${JSON.stringify(downloadList)}\n`,
);

// A scan for OCR: a PNG with a few black bars (ImageMagick).
const scan = home("files/invoice.png");
execFileSync("convert", ["-size", "800x1000", "xc:white", "-fill", "black",
  "-draw", "rectangle 80,100 720,140", "-draw", "rectangle 80,200 520,230", scan]);

// The "system browser": records the links the app hands it.
const opened = home("files/opened-links.txt");
const browserScript = home("files/browser.sh");
writeFileSync(browserScript, `#!/bin/sh\nprintf '%s\\n' "$1" >> ${JSON.stringify(opened)}\n`, { mode: 0o755 });

// --- a model server ---------------------------------------------------------

// The embedded default model, served on loopback as a listed download (the
// app's list is replaced by one naming this server): the first answer for
// it is slow enough to be cancelled midway, a resume is answered from its
// Range, every request is recorded.
const modelFile = process.env.LLMAAS_DEFAULT_MODEL ||
  join(homedir(), ".cache/llmaas-desktop/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf");
const modelBytes = readFileSync(modelFile);
const modelSha = createHash("sha256").update(modelBytes).digest("hex");
const modelRequests = [];

function startModelServer() {
  let slowOnce = true;
  const server = createServer((req, res) => {
    const name = decodeURIComponent(req.url.split("/").pop());
    const range = req.headers.range ?? null;
    modelRequests.push({ name, range });
    const from = range ? Number(/bytes=(\d+)-/.exec(range)?.[1] ?? 0) : 0;
    if (from >= modelBytes.length) {
      res.writeHead(416).end();
      return;
    }
    const body = modelBytes.subarray(from);
    const head = { "Content-Type": "application/octet-stream", "Content-Length": body.length };
    if (range) head["Content-Range"] = `bytes ${from}-${modelBytes.length - 1}/${modelBytes.length}`;
    res.writeHead(range ? 206 : 200, head);
    const slow = slowOnce && name.startsWith("SmolLM2");
    if (!slow) {
      res.end(body);
      return;
    }
    slowOnce = false;
    // 1 MiB every 100 ms: about 10 MB/s, ten seconds for the file.
    let at = 0;
    const timer = setInterval(() => {
      if (res.destroyed || at >= body.length) {
        clearInterval(timer);
        if (!res.destroyed) res.end();
        return;
      }
      res.write(body.subarray(at, at + (1 << 20)));
      at += 1 << 20;
    }, 100);
    req.on("close", () => clearInterval(timer));
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

function listEntry(name, file, { sha256 = modelSha, size = modelBytes.length } = {}) {
  return `[[model]]
name = "${name}"
family = "SmolLM2"
editor = "Hugging Face"
description = "The embedded default, served on loopback"
parameters = "135M"
architecture = "llama"
quantisation = "Q4_1"
url = "${modelBase}/${file}"
size = ${size}
sha256 = "${sha256}"
licence = "Apache-2.0"
context = 8192
capabilities = ["chat"]
embedding = [49152, 576]
checked_at = "the e2e run"

`;
}

const modelServer = await startModelServer();
const modelBase = `http://127.0.0.1:${modelServer.address().port}/m`;
writeFileSync(
  downloadList,
  listEntry("e2e-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf") +
    listEntry("e2e-wrong-checksum", "Wrong.Q4_1.gguf", { sha256: "0".repeat(64) }) +
    listEntry("e2e-too-big", "Huge.Q4_1.gguf", { size: 1e15 }),
);

// --- the simulator --------------------------------------------------------

function startSim() {
  return new Promise((ok, fail) => {
    const sim = spawn(simBin, ["--port", "0", "--key", "sk-e2e-key"], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    sim.stdout.on("data", (b) => {
      out += b;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) ok({ sim, url: m[1] });
    });
    sim.on("exit", (code) => fail(new Error(`the simulator exited (${code})`)));
  });
}

// --- the driver -----------------------------------------------------------

function startDriver(env) {
  // Detached: its whole process group (driver, WebKitWebDriver, the app) is
  // killed at the end, or the app outlives the run holding the pipe open.
  const driver = spawn(driverBin, ["--port", "4444"], { env, detached: true, stdio: "ignore" });
  return driver;
}

async function waitForPort(port, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/status`);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing answered on port ${port}`);
}

// --- helpers --------------------------------------------------------------

let browser;
const byId = (id) => browser.$(`[data-testid="${id}"]`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function nav(panel) {
  await (await byId(`nav-${panel}`)).click();
  await (await byId(`panel-${panel}`)).waitForDisplayed({ timeout: 10_000 });
}

async function shot(name) {
  await sleep(300); // let the last paint land
  await browser.saveScreenshot(join(shots, `${name}.png`));
}

/** Drops files onto `panel` as a user does: a real X drag and drop (XDND)
 * from a small GTK drag source (drag.py, driven by xdotool) onto the panel's
 * drop zone, once the panel's listener is registered (panels load when first
 * opened). The app sees a native drop, which is also what lets its back end
 * accept the paths. */
async function drop(panel, paths) {
  const zone = await byId(`${panel}-drop-zone`);
  await browser.waitUntil(async () => (await zone.getAttribute("data-drop-ready")) === "true", {
    timeout: 10_000,
    timeoutMsg: `the ${panel} panel never listened for drops`,
  });
  // The window fills the screen from (0, 0); the page's coordinates are the screen's.
  const { x, y, width, height } = await browser.execute((el) => {
    const r = el.getBoundingClientRect();
    return { x: r.x + window.screenX, y: r.y + window.screenY + (window.outerHeight - window.innerHeight), width: r.width, height: r.height };
  }, zone);
  execFileSync("/usr/bin/python3", [join(here, "drag.py"), String(Math.round(x + width / 2)), String(Math.round(y + height / 2)), ...paths], {
    stdio: "inherit",
    timeout: 30_000,
  });
}

/** Answers the system's save dialog titled `title` (GTK's file chooser, as a
 * user would): the file name field has the focus, the whole path is typed
 * over the suggested name, and Enter saves. xdotool focuses the dialog
 * itself: under Xvfb there is no window manager to do it. */
function answerSaveDialog(title, path) {
  const id = execFileSync("xdotool", ["search", "--sync", "--onlyvisible", "--name", title], { timeout: 15_000 })
    .toString()
    .trim()
    .split("\n")[0];
  execFileSync("xdotool", ["windowfocus", "--sync", id], { timeout: 10_000 });
  execFileSync("xdotool", ["key", "--clearmodifiers", "ctrl+a"]);
  execFileSync("xdotool", ["type", "--delay", "15", path]);
  execFileSync("xdotool", ["key", "Return"]);
}

/** Empties a field as a person does (select all, delete): WebDriver's clear
 * sets the DOM value behind React's back, and the next render puts it back. */
async function emptyField(id) {
  await (await byId(id)).click();
  await browser.keys(["Control", "a"]);
  await browser.keys("Backspace");
  await browser.waitUntil(async () => (await (await byId(id)).getValue()) === "", {
    timeout: 5_000,
    timeoutMsg: `${id} kept ${JSON.stringify(await (await byId(id)).getValue())}`,
  });
}

async function select(id, value) {
  const el = await byId(id);
  await el.selectByAttribute("value", value);
}

async function text(id) {
  return (await byId(id)).getText();
}

async function chat(message, { route, model }) {
  await nav("chat");
  if (route) await select("chat-route", route);
  if (model) await select("chat-model", model);
  const before = (await browser.$$('[data-testid="chat-answer"]')).length;
  await (await byId("chat-input")).setValue(message);
  await (await byId("chat-send")).click();
  await browser.waitUntil(
    async () => (await browser.$$('[data-testid="chat-answer"]')).length > before,
    { timeout: 30_000, timeoutMsg: "no answer appeared" },
  );
  const answers = await browser.$$('[data-testid="chat-answer"]');
  const answer = answers[answers.length - 1];
  await browser.waitUntil(async () => (await answer.getAttribute("data-status")) === "done", {
    timeout: 180_000,
    timeoutMsg: "the answer did not finish",
  });
  return answer;
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** The process that serves the Secret Service on this run's private bus
 * (the throw-away gnome-keyring of scripts/with-keyring.sh). */
function secretServicePid() {
  const out = execFileSync("dbus-send", ["--session", "--print-reply", "--dest=org.freedesktop.DBus",
    "/org/freedesktop/DBus", "org.freedesktop.DBus.GetConnectionUnixProcessID", "string:org.freedesktop.secrets"],
  { encoding: "utf8" });
  const pid = /uint32 (\d+)/.exec(out);
  assert(pid, `no Secret Service on the session bus: ${out}`);
  return Number(pid[1]);
}

/** The key status the Settings panel shows, read again as on the window's focus. */
async function keyStatus() {
  await browser.execute(() => window.dispatchEvent(new Event("focus")));
  return (await byId("api-key-status")).getAttribute("data-key");
}

// --- the tests ------------------------------------------------------------

const results = [];
async function test(name, body) {
  if (only && !only.test(name)) return;
  const started = Date.now();
  try {
    await body();
    results.push({ name, ok: true, ms: Date.now() - started });
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push({ name, ok: false, error: e.message });
    console.log(`FAIL ${name}: ${e.message}`);
    await shot(`FAILED-${name}`).catch(() => {});
  }
}

const { sim, url } = await startSim();
const env = {
  ...process.env,
  XDG_CONFIG_HOME: home("config"),
  XDG_DATA_HOME: home("data"),
  XDG_STATE_HOME: home("state"),
  LLMAAS_BASE_URL: url,
  LLMAAS_KEYCHAIN_SERVICE: `llmaas-desktop-e2e-${process.pid}`,
  LLMAAS_API_KEY: "",
  LANG: "en_US.UTF-8",
  NO_AT_BRIDGE: "1",
  BROWSER: browserScript,
};
const driver = startDriver(env);
let exitCode = 1;
try {
  await waitForPort(4444, 20_000);
  browser = await remote({
    hostname: "127.0.0.1",
    port: 4444,
    logLevel: "error",
    capabilities: {
      browserName: "wry",
      "wdio:enforceWebDriverClassic": true,
      "tauri:options": { application: app },
    },
  });
  await (await byId("panel-chat")).waitForDisplayed({ timeout: 30_000 });

  await test("chat-local", async () => {
    const answer = await chat("Say hello in one short sentence.", { route: "local" });
    const body = await answer.getText();
    assert(body.trim().length > 0, "the local answer is empty");
    const meta = await (await answer.$('[data-testid="chat-answer-meta"]')).getText();
    assert(/local/i.test(meta), `the meta line does not say local: ${meta}`);
    assert(/0[.,]00/.test(meta), `a local answer costs 0 €: ${meta}`);
    await shot("chat-local");
  });

  let requestsBefore = 0;
  await test("spend-before", async () => {
    await nav("spend");
    await browser.waitUntil(async () => /\d/.test(await text("spend-requests")), { timeout: 10_000 });
    requestsBefore = Number((await text("spend-requests")).replace(/\D/g, ""));
    assert(requestsBefore >= 1, `the local chat is counted: ${requestsBefore}`);
  });

  await test("settings-key-set", async () => {
    await nav("settings");
    await (await byId("api-key-input")).setValue("sk-e2e-key");
    await (await byId("api-key-save")).click();
    // The status's code, not its words: "No key is stored." says "stored" too,
    // and matching it raced the save.
    await browser.waitUntil(async () => (await (await byId("api-key-status")).getAttribute("data-key")) === "stored", {
      timeout: 10_000,
      timeoutMsg: `the key status did not change: ${await text("api-key-status")}`,
    });
    const value = await (await byId("api-key-input")).getValue();
    assert(value === "", "the key field is cleared after saving");
    const html = await browser.getPageSource();
    assert(!html.includes("sk-e2e-key"), "the key is nowhere in the page");
    await shot("settings");
  });

  await test("chat-cloud", async () => {
    const answer = await chat("What is the capital of France?", {
      route: "cloud",
      model: "mistral-small3.2:24b",
    });
    const meta = await (await answer.$('[data-testid="chat-answer-meta"]')).getText();
    assert(/cloud/i.test(meta), `the meta line does not say cloud: ${meta}`);
    assert(/€/.test(meta) && !/\b0[.,]0+\s*€/.test(meta), `a cloud answer has a cost: ${meta}`);
    await shot("chat");
  });

  await test("spend-after", async () => {
    await nav("spend");
    await browser.waitUntil(
      async () => Number((await text("spend-requests")).replace(/\D/g, "")) > requestsBefore,
      { timeout: 10_000, timeoutMsg: "the spend panel did not count the request" },
    );
    const total = await text("spend-total");
    assert(/[1-9]/.test(total), `this month's spend is above zero: ${total}`);
  });

  await test("chat-long-conversation", async () => {
    // Two long questions outgrow the model's context (functiongemma:270m's
    // 32,768 tokens, 1,024 of them kept for the answer): the second goes
    // without the older turns, and the answer says so instead of failing.
    // (On the simulator: a local model's prefill of as much takes minutes.)
    const page = "The quarterly report covers sales, costs and hiring in detail. ".repeat(800);
    const setLong = (text) =>
      browser.execute((value) => {
        const input = document.querySelector('[data-testid="chat-input"]');
        const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value").set;
        setter.call(input, value);
        input.dispatchEvent(new Event("input", { bubbles: true }));
      }, text);
    let answer;
    for (const part of ["one", "two"]) {
      await nav("chat");
      await select("chat-route", "cloud");
      await select("chat-model", "functiongemma:270m");
      const before = (await browser.$$('[data-testid="chat-answer"]')).length;
      await setLong(`Part ${part}. ${page} Summarise part ${part} in one line.`);
      await (await byId("chat-send")).click();
      await browser.waitUntil(async () => (await browser.$$('[data-testid="chat-answer"]')).length > before, {
        timeout: 30_000,
        timeoutMsg: "no answer appeared",
      });
      const answers = await browser.$$('[data-testid="chat-answer"]');
      answer = answers[answers.length - 1];
      await browser.waitUntil(async () => (await answer.getAttribute("data-status")) === "done", {
        timeout: 180_000,
        timeoutMsg: `the answer to part ${part} did not finish`,
      });
    }
    const notice = await answer.$('[data-testid="chat-fitted"]');
    assert(await notice.isExisting(), "no word that older turns were left out");
    assert(/Older turns not sent/.test(await notice.getText()), `notice: ${await notice.getText()}`);
    await shot("chat-long-conversation");
  });

  await test("paths-not-chosen-are-refused", async () => {
    // A web view that names a path itself (as injected script would) is
    // refused: only what a dialog or a native drop gave counts.
    const target = home("files/not-chosen.md");
    const answer = await browser.executeAsync((path, done) => {
      window.__TAURI_INTERNALS__
        .invoke("ocr_export", { markdown: "pwned", path })
        .then(() => done("written"), (e) => done(JSON.stringify(e)));
    }, target);
    assert(/not chosen/.test(answer), `ocr_export wrote where no dialog pointed: ${answer}`);
    assert(!existsSync(target), "the file was written");
    const csv = await browser.executeAsync((done) => {
      window.__TAURI_INTERNALS__
        .invoke("spend_export", { path: "/tmp/llmaas-e2e-not-chosen.csv", month: null, format: "json" })
        .then(() => done("written"), (e) => done(JSON.stringify(e)));
    });
    assert(/not chosen/.test(csv), `spend_export wrote where no dialog pointed: ${csv}`);
  });

  await test("links-open-outside", async () => {
    // The simulator echoes the message: an answer with a link in it.
    const answer = await chat("See [the report](https://docs.example.invalid/report?x=1) now.", {
      route: "cloud",
      model: "mistral-small3.2:24b",
    });
    const before = await browser.getUrl();
    const link = await answer.$("a=the report");
    await link.click();
    // The browser script's `>>` creates the file before printf writes the
    // line: wait for the line, not for the file, or an empty read races it.
    const url = "https://docs.example.invalid/report?x=1";
    const got = () => (existsSync(opened) ? readFileSync(opened, "utf8") : "");
    await browser
      .waitUntil(() => got().includes(url), { timeout: 10_000 })
      .catch(() => assert(false, `the browser got ${JSON.stringify(got())}, not ${url}`));
    assert((await browser.getUrl()) === before, `the window left the app: ${await browser.getUrl()}`);
    // A page that tries to navigate the window itself, or open another, stays put too.
    await browser.execute(() => {
      window.open("https://elsewhere.example.invalid/", "_blank");
      window.location.href = "file:///etc/passwd";
    });
    await sleep(500);
    assert((await browser.getUrl()) === before, `the window left the app: ${await browser.getUrl()}`);
    assert((await browser.getWindowHandles()).length === 1, "a second window opened");
    await (await byId("panel-chat")).waitForDisplayed({ timeout: 5_000 });
    await shot("spend");
  });

  await test("chat-rename-search-copy-export", async () => {
    await nav("chat");
    // The conversation of the tests before: renamed, found again by a word
    // said in it, an answer copied and pasted, the whole exported.
    const current = await browser.$('.chat-conversation[aria-current="true"]');
    await (await current.$('[data-testid="chat-conversation-rename"]')).click();
    // Typed over the old title as a person does: WebDriver's clear would
    // blur the field, and leaving an emptied title field cancels the rename.
    const field = await byId("chat-rename-input");
    await field.waitForDisplayed({ timeout: 5_000 });
    const focused = await browser.execute(() => document.activeElement?.getAttribute("data-testid"));
    await field.click();
    await browser.keys(["Control", "a"]);
    await browser.keys("Quarterly report");
    await browser.keys("Enter");
    // The title as the page holds it (read afresh: the row's children change).
    const title = () =>
      browser.execute(() => document.querySelector('.chat-conversation[aria-current="true"] [data-testid="chat-conversation"]')?.textContent ?? "");
    await browser.waitUntil(async () => (await title()) === "Quarterly report", {
      timeout: 5_000,
      timeoutMsg: `the conversation is still called ${JSON.stringify(await title())} (the focus was on ${focused} after Rename)`,
    });

    await (await byId("chat-search")).setValue("DOCS.example");
    await browser.waitUntil(async () => (await browser.$$('[data-testid="chat-snippet"]')).length > 0, {
      timeout: 10_000,
      timeoutMsg: "the search found nothing",
    });
    const hit = await browser.execute(() => document.querySelector('[data-testid="chat-conversation"]')?.textContent ?? "");
    assert(hit.startsWith("Quarterly report"), `the hit: ${hit}`);
    assert(/docs\.example\.invalid/.test(hit), `no snippet: ${hit}`);
    await emptyField("chat-search");

    const answers = await browser.$$('[data-testid="chat-answer"]');
    const last = answers[answers.length - 1];
    await (await last.$('[data-testid="chat-copy"]')).click();
    await browser.waitUntil(async () => (await (await last.$('[data-testid="chat-copy"]')).getAttribute("data-copied")) === "true", {
      timeout: 5_000,
      timeoutMsg: `the copy failed: ${await (await last.$('[data-testid="chat-copy"]')).getAttribute("title")}`,
    });
    const box = await byId("chat-input");
    await box.click();
    await browser.keys(["Control", "v"]);
    const pasted = await box.getValue();
    assert(pasted.includes("https://docs.example.invalid/report?x=1"), `pasted: ${JSON.stringify(pasted)}`);
    await emptyField("chat-input");

    const target = home("files/quarterly.md");
    await (await byId("chat-export-md")).click();
    answerSaveDialog("Export the conversation", target);
    await browser.waitUntil(() => existsSync(target), { timeout: 10_000, timeoutMsg: "the export was not written" });
    const md = readFileSync(target, "utf8");
    assert(md.startsWith("# Quarterly report\n"), md.slice(0, 200));
    assert(md.includes("## You") && md.includes("## Answer") && md.includes("docs.example.invalid"), md.slice(0, 400));
    await shot("chat-exported");
  });

  await test("catalogue", async () => {
    await nav("catalog");
    await browser.waitUntil(async () => (await browser.$$('[data-testid="catalog-row"]')).length > 10, {
      timeout: 10_000,
    });
    const all = (await browser.$$('[data-testid="catalog-row"]')).length;
    await (await byId("catalog-search")).setValue("mistral");
    await browser.waitUntil(async () => {
      const n = (await browser.$$('[data-testid="catalog-row"]')).length;
      return n > 0 && n < all;
    }, { timeout: 5_000, timeoutMsg: "the search did not filter" });
    // The search reads ids, editors and descriptions: Mistral AI's models
    // (voxtral, magistral…) match too, other editors' do not.
    const ids = [];
    for (const row of await browser.$$('[data-testid="catalog-row"]')) ids.push(await row.getAttribute("data-model-id"));
    assert(ids.some((id) => id.startsWith("mistral")), `no mistral model listed: ${ids}`);
    assert(!ids.some((id) => /^(qwen|llama|gpt-oss|gemma|deepseek)/.test(id)), `other editors' models listed: ${ids}`);
    await shot("catalogue");
  });

  await test("download", async () => {
    await nav("catalog");
    const row = await browser.$('[data-testid="download-row"][data-name="e2e-smollm2"]');
    await row.waitForExist({ timeout: 10_000, timeoutMsg: "the listed model is not shown" });
    await (await row.$('[data-testid="download-start"]')).click();
    // Progress with a speed, then a cancel midway.
    const status = await row.$('[data-testid="download-status"]');
    await browser.waitUntil(async () => /\/s/.test(await status.getText().catch(() => "")), {
      timeout: 15_000,
      timeoutMsg: "no progress with a speed",
    });
    await row.scrollIntoView();
    await shot("download");
    await (await row.$('[data-testid="download-cancel"]')).click();
    await browser.waitUntil(async () => (await row.getAttribute("data-presence")) === "partial", {
      timeout: 15_000,
      timeoutMsg: "the cancelled download is not kept for a resume",
    });
    const resume = await (await row.$('[data-testid="download-start"]')).getText();
    assert(/resume/i.test(resume), `the button does not offer a resume: ${resume}`);
    // The resume asks for the rest only, and the file is checked whole.
    await (await row.$('[data-testid="download-start"]')).click();
    await browser.waitUntil(async () => (await row.getAttribute("data-presence")) === "here", {
      timeout: 60_000,
      timeoutMsg: "the resumed download did not finish",
    });
    const ours = modelRequests.filter((r) => r.name.startsWith("SmolLM2"));
    assert(ours.length === 2, `two requests expected: ${JSON.stringify(ours)}`);
    const from = Number(/bytes=(\d+)-/.exec(ours[1].range ?? "")?.[1] ?? 0);
    assert(from > 0 && from < modelBytes.length, `the second request is not a resume: ${JSON.stringify(ours[1])}`);
    const here = await (await row.$('[data-testid="download-here"]')).getText();
    // Its tensors are Q4_1: it is kept converted to Q8_0.
    assert(/smollm2-135m-instruct\.q8_0/.test(here), `not listed as the converted model: ${here}`);
    // Listed in the catalogue as a local model (whatever search ran before).
    await (await byId("catalog-search")).setValue("smollm2");
    const listed = await browser.$('[data-testid="catalog-row"][data-model-id="smollm2-135m-instruct.q8_0"]');
    await listed.waitForExist({ timeout: 5_000, timeoutMsg: "the downloaded model is not in the catalogue" });
  });

  await test("download-refused", async () => {
    await nav("catalog");
    for (const [name, why] of [["e2e-wrong-checksum", /checksum/i], ["e2e-too-big", /free space/i]]) {
      const row = await browser.$(`[data-testid="download-row"][data-name="${name}"]`);
      await (await row.$('[data-testid="download-start"]')).click();
      const error = await row.$('[data-testid="download-error"]');
      await error.waitForExist({ timeout: 60_000, timeoutMsg: `${name}: no error shown` });
      const message = await error.getText();
      assert(why.test(message), `${name}: ${message}`);
      assert((await row.getAttribute("data-presence")) === "absent", `${name} left something behind`);
    }
    assert(!modelRequests.some((r) => r.name.startsWith("Huge")), "a download too big for the disk was requested");
  });

  await test("meetings-drop", async () => {
    await nav("meetings");
    await select("meetings-route", "local").catch(() => {});
    await drop("meetings", [wav]);
    const item = await byId("meetings-item");
    await item.waitForExist({ timeout: 10_000, timeoutMsg: "the dropped file is not queued" });
    await browser.waitUntil(async () => (await item.getAttribute("data-status")) === "done", {
      timeout: 180_000,
      timeoutMsg: "the transcription did not finish",
    });
    await item.click();
    const transcript = (await text("meetings-transcript")).toLowerCase();
    // Words whisper tiny.en gets right on this sentence (it hears "Sunday").
    for (const word of ["quarterly", "budget", "meeting"]) {
      assert(transcript.includes(word), `"${word}" is not in the transcript: ${transcript}`);
    }
    await shot("meetings");
  });

  await test("meetings-hot-folder", async () => {
    // The Meetings panel watches the folder since it opened: a recording
    // copied there is transcribed (by the simulator: a key is stored and the
    // policy is auto) and its transcript written beside it.
    await nav("meetings");
    copyFileSync(wav, join(hot, "weekly.wav"));
    const txt = join(hot, "weekly.txt");
    await browser.waitUntil(async () => existsSync(txt), {
      timeout: 60_000,
      interval: 250,
      timeoutMsg: "no transcript appeared beside the recording",
    });
    assert(existsSync(join(hot, "weekly.srt")), "the SRT is written too");
    assert(readFileSync(txt, "utf8").trim().length > 0, "the transcript is empty");
  });

  await test("ocr-drop", async () => {
    await nav("ocr");
    await drop("ocr", [scan]);
    await (await byId("ocr-thumbnail")).waitForExist({ timeout: 30_000 });
    await (await byId("ocr-preview")).waitForExist({ timeout: 60_000 });
    await browser.waitUntil(async () => (await text("ocr-preview")).trim().length > 0, {
      timeout: 60_000,
      timeoutMsg: "no markdown came back",
    });
    await shot("ocr");
  });

  await test("axe-every-panel", async () => {
    // axe-core's rules over each panel as it stands after the tests before
    // (conversations, a transcript, an OCR result on screen): no serious or
    // critical violation.
    const source = readFileSync(join(here, "node_modules/axe-core/axe.min.js"), "utf8");
    const found = [];
    for (const panel of ["chat", "meetings", "ocr", "catalog", "spend", "settings"]) {
      await nav(panel);
      await sleep(300);
      // As the script WebDriver runs, not through eval (the CSP has no unsafe-eval).
      if (!(await browser.execute(() => Boolean(window.axe)))) await browser.execute(source);
      const violations = await browser.executeAsync((done) => {
        window.axe
          .run(document, { resultTypes: ["violations"] })
          .then((r) =>
            done(
              r.violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) })),
            ),
          )
          .catch((e) => done([{ id: "axe-failed", impact: "critical", nodes: [String(e)] }]));
      });
      for (const v of violations) found.push(`${panel}: ${v.id} (${v.impact}) at ${v.nodes.join(", ")}`);
    }
    assert(found.length === 0, `accessibility:\n  ${found.join("\n  ")}`);
  });

  await test("keychain-hangs", async () => {
    // The keyring daemon stopped (SIGSTOP): the bus still takes the calls and
    // nothing answers them, as with a wedged daemon or a prompt nobody sees.
    // The window must not freeze: Settings says so, the other panels open,
    // a local answer comes, and the key is seen again once the keychain is back.
    await nav("settings");
    const keyring = secretServicePid();
    process.kill(keyring, "SIGSTOP");
    try {
      await browser.waitUntil(async () => (await keyStatus()) === "keychainNotAnswering", {
        timeout: 20_000,
        interval: 1_000,
        timeoutMsg: "Settings never said that the keychain does not answer",
      });
      assert(/not answering/.test(await text("api-key-status")), "the status is not worded");
      await browser.waitUntil(async () => (await (await byId("status-key")).getAttribute("data-key")) === "keychainNotAnswering", {
        timeout: 10_000,
        timeoutMsg: "the status bar still shows the key as it was",
      });
      await shot("keychain-not-answering");
      await nav("catalog");
      await nav("spend");
      const answer = await chat("Say hello in one short sentence.", { route: "local" });
      assert((await answer.getText()).trim().length > 0, "no local answer while the keychain hung");
    } finally {
      process.kill(keyring, "SIGCONT");
    }
    await nav("settings");
    await browser.waitUntil(async () => (await keyStatus()) === "stored", {
      timeout: 30_000,
      interval: 1_000,
      timeoutMsg: "the stored key was not seen again once the keychain answered",
    });
  });

  await test("settings-key-clear", async () => {
    await nav("settings");
    await (await byId("api-key-clear")).click();
    await browser.waitUntil(async () => /no key|aucune/i.test(await text("api-key-status")), {
      timeout: 10_000,
      timeoutMsg: "the key status did not say there is no key",
    });
  });

  await test("settings-from-the-cli", async () => {
    // The CLI writes the settings file while the window is open: the window
    // applies it at once, the Settings panel shows it, the language follows.
    await nav("settings");
    execFileSync(cliBin, ["config", "set", "budget.project", "e2e-from-cli"], { env });
    await browser.waitUntil(async () => (await (await byId("settings-project")).getValue()) === "e2e-from-cli", {
      timeout: 10_000,
      timeoutMsg: "the Settings panel did not show what the CLI set",
    });
    execFileSync(cliBin, ["config", "set", "ui.language", "fr"], { env });
    await browser.waitUntil(async () => /Dépenses/.test(await text("nav-spend")), {
      timeout: 10_000,
      timeoutMsg: "the window did not turn French",
    });
    assert(/autre programme/.test(await text("settings-changed-outside")), "the panel does not say the file changed");
  });

  await test("french-window-backend-error", async () => {
    // French since the test before, and without a key since settings-key-clear:
    // the back end refuses a cloud answer, and the window words the refusal
    // (its code) in French, with the model's lifecycle warning.
    await nav("chat");
    await select("chat-route", "cloud");
    await select("chat-model", "mistral-small3.2:24b");
    const before = (await browser.$$('[data-testid="chat-answer"]')).length;
    await (await byId("chat-input")).setValue("Bonjour");
    await (await byId("chat-send")).click();
    await browser.waitUntil(async () => (await browser.$$('[data-testid="chat-error"]')).length > 0 && (await browser.$$('[data-testid="chat-answer"]')).length > before, {
      timeout: 10_000,
      timeoutMsg: "no refusal appeared",
    });
    const errors = await browser.$$('[data-testid="chat-error"]');
    const error = errors[errors.length - 1];
    assert((await error.getAttribute("data-error-code")) === "no_api_key", `code ${await error.getAttribute("data-error-code")}`);
    assert(/Aucune clé d’API/.test(await error.getText()), `the refusal reads: ${await error.getText()}`);
    const warning = await text("chat-model-warning");
    assert(/^(Fin de support le|Retrait prévu le) /.test(warning), `warning: ${warning}`);
    await shot("chat-french-error");
  });

  exitCode = results.every((r) => r.ok) ? 0 : 1;
} catch (e) {
  console.error(`e2e: ${e.stack || e}`);
} finally {
  await browser?.deleteSession().catch(() => {});
  try { process.kill(-driver.pid, "SIGKILL"); } catch {}
  sim.kill("SIGKILL");
  modelServer.close();
  rmSync(scratch, { recursive: true, force: true });
}
const failed = results.filter((r) => !r.ok);
// The README shows one picture per panel, from a run where everything passed.
if (process.env.UPDATE_SCREENSHOTS === "1" && !failed.length && !only) {
  const docs = join(root, "docs/screenshots");
  mkdirSync(docs, { recursive: true });
  for (const name of ["chat", "meetings", "ocr", "catalogue", "spend", "settings"]) {
    copyFileSync(join(shots, `${name}.png`), join(docs, `${name}.png`));
  }
  console.log(`e2e: screenshots copied to ${docs}`);
}
console.log(`e2e: ${results.length - failed.length} passed, ${failed.length} failed; screenshots in ${shots}`);
process.exit(failed.length || !results.length ? 1 : exitCode);
