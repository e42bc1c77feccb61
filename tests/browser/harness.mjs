// What the browser tests share: a real `rh server` on a temp folder, the SDK
// run by the tests' Python, Debian's chromium through playwright-core, and
// screenshots under tests/screenshots/.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const require = createRequire(path.join(root, "web/package.json"));
const { chromium } = require("playwright-core");

export const RH = process.env.RH_BIN ?? path.join(root, "build/rh");
export const PYTHON = process.env.RH_TEST_PYTHON ?? path.join(root, "tests/.venv/bin/python");
const CHROMIUM = process.env.RH_CHROMIUM ?? "/usr/bin/chromium";
const SHOTS = path.join(root, "tests/screenshots");

export function startServer(dataDir, args = []) {
  return new Promise((resolve, reject) => {
    const p = spawn(RH, ["--data-dir", dataDir, "server", "--port", "0", ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[^ ]+)/);
      if (m) resolve([p, m[1]]);
    });
    p.on("exit", (code) => reject(new Error(`rh server exited with ${code}: ${out}`)));
  });
}

// Runs Python with the SDK on the path against the server; returns stdout.
export function python(url, args, opts = {}) {
  const r = spawnSync(PYTHON, args, {
    cwd: opts.cwd ?? root,
    env: { ...process.env, RH_SERVER: url, PYTHONPATH: path.join(root, "python"), MPLBACKEND: "Agg" },
    encoding: "utf8",
    timeout: 120000,
  });
  assert.equal(r.status, 0, `python ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export function api(url) {
  return async (p, method = "GET", body) => {
    const r = await fetch(url + "/api/v1" + p, {
      method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    assert.ok(r.ok, `${method} ${p}: ${r.status} ${await r.clone().text()}`);
    return r.json();
  };
}

export async function launch() {
  const ctx = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), "pw-")), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.setDefaultTimeout(15000);
  return { ctx, page, errors };
}

export async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, name + ".png"), fullPage: true });
}

// Polls cond (async) every 100 ms until it gives something truthy; fails
// naming `what` after ms.
export async function until(cond, what, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}
