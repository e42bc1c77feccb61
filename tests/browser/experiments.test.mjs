// Browser tests of the experiment pages: a real `rh server` and a real
// `rh agent` run a small search (created with the rh CLI); the list shows
// it, the page's trials table sorts, its charts draw exactly the trials'
// points, the parallel-coordinates view has a line per trial, and the
// pause/activate buttons change a live experiment's state.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { RH, PYTHON, root, startServer, api as makeApi, launch, shot as saveShot, until } from "./harness.mjs";

let server, url, dataDir, work, agent, ctx, page, pageErrors, done;
const api = (p, m, b) => makeApi(url)(p, m, b);
const shot = (name) => saveShot(page, name);

const TRAIN = `
import json, os, time
import roundhouse
ctx = roundhouse.trial()
steps, x = 0, 0.0
path = ctx.checkpoint.restore()
if path:
    steps, x = json.load(open(os.path.join(path, "s.json")))
while steps < ctx.target():
    steps += 1
    x += ctx.hparams["lr"]
    time.sleep(float(os.environ.get("STEP_S", "0")))
    ctx.report(steps, {"loss": 1 / (1 + x)})
    if steps == ctx.target() or ctx.should_stop():
        ctx.report(steps, {"val_loss": 1 / (1 + x)}, validation=True)
        os.makedirs("ck", exist_ok=True)
        json.dump([steps, x], open("ck/s.json", "w"))
        ctx.checkpoint.save("ck", {"steps_completed": steps})
        if ctx.should_stop():
            break
`;

const CONFIG = (name, maxLength, env = "") => `
name: ${name}
entrypoint: python3 train.py
hyperparameters:
  lr: {type: double, minval: 0.01, maxval: 0.5}
searcher:
  name: adaptive_asha
  metric: val_loss
  max_length: ${maxLength}
  max_trials: 4
  max_rungs: 2
  divisor: 2
  max_concurrent_trials: 1
reproducibility:
  experiment_seed: 3
${env}`;

function rh(args) {
  const r = spawnSync(RH, args, { env: { ...process.env, RH_SERVER: url }, encoding: "utf8", timeout: 180000 });
  assert.equal(r.status, 0, `rh ${args.join(" ")}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "rh-ui-exp-"));
  work = fs.mkdtempSync(path.join(os.tmpdir(), "rh-ui-exp-work-"));
  [server, url] = await startServer(dataDir);
  await api("/queues", "POST", { name: "q" });
  agent = spawn(RH, ["agent", "--queue", "q", "--workdir", work, "--python", PYTHON, "--no-tee", "--heartbeat", "0.5"], {
    env: { ...process.env, RH_SERVER: url, RH_SDK_PATH: path.join(root, "python") },
    stdio: "ignore",
  });
  const ctxDir = path.join(work, "ctx");
  fs.mkdirSync(ctxDir);
  fs.writeFileSync(path.join(ctxDir, "train.py"), TRAIN);
  fs.writeFileSync(path.join(ctxDir, "done.yaml"), CONFIG("finished-search", 8));
  fs.writeFileSync(path.join(ctxDir, "live.yaml"), CONFIG("live-search", 100000, "environment:\n  environment_variables: [STEP_S=0.05]\n"));
  await until(async () => (await api("/workers")).workers.length === 1, "the agent");
  done = rh(["experiment", "create", path.join(ctxDir, "done.yaml"), "--queue", "q", "--follow"]).split("\n")[0];
  ({ ctx, page, errors: pageErrors } = await launch());
});

after(async () => {
  await ctx?.close();
  agent?.kill("SIGTERM");
  server?.kill("SIGTERM");
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
  assert.deepEqual(pageErrors, [], "the pages threw errors");
});

test("the experiments list links to the page, whose table, charts and parallel view show every trial", async () => {
  const e = await api(`/experiments/${done}`);
  assert.equal(e.state, "completed");
  await page.goto(url + "/experiments");
  const row = page.locator(`#experiments tr[data-id="${done}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /finished-search.*completed/);
  await row.getByRole("link", { name: "finished-search" }).click();
  await page.waitForURL(new RegExp(`/experiments/${done}$`));
  const rows = page.locator("#trials tbody tr");
  await page.waitForFunction((n) => document.querySelectorAll("#trials tbody tr").length === n, e.trials.length);
  // Sorting by best metric puts the best trial first (smaller is better).
  await page.locator('#trials th[data-key="best_metric"]').click();
  const best = e.trials.filter((t) => t.best_metric !== undefined).sort((a, b) => a.best_metric - b.best_metric)[0];
  assert.equal(await rows.first().getAttribute("data-trial"), String(best.trial));
  await page.locator('#trials th[data-key="best_metric"]').click();
  assert.notEqual(await rows.first().getAttribute("data-trial"), String(best.trial), "sorted the other way");
  assert.match(await page.locator("#best").textContent(), new RegExp(`trial ${e.best.trial}`));
  // The overlay draws each trial's searcher points exactly.
  const drawn = await page.locator("#validation-curves .chart-body").evaluate((el) => el.uplot.data.map((c) => Array.from(c)));
  assert.equal(drawn.length, e.trials.length + 1);
  for (const [i, t] of e.trials.entries()) {
    const s = await api(`/tasks/${t.task_id}/scalars/series?title=searcher&series=val_loss`).catch(() => ({ iterations: [], values: [] }));
    const pts = drawn[0].map((x, j) => [x, drawn[i + 1][j]]).filter(([, y]) => y !== null && y !== undefined);
    assert.deepEqual(pts, s.iterations.map((x, j) => [x, s.values[j]]), `trial ${t.trial}`);
  }
  // Best so far never gets worse.
  const bsf = await page.locator("#best-so-far .chart-body").evaluate((el) => Array.from(el.uplot.data[1]));
  assert.ok(bsf.length > 1 && bsf.every((v, i) => i === 0 || v <= bsf[i - 1]), bsf.join(","));
  assert.equal(bsf[bsf.length - 1], e.best.metric);
  assert.equal(await page.locator("#parallel polyline").count(), e.trials.filter((t) => t.best_metric !== undefined).length);
  await shot("experiment");
  // Each trial links to its task.
  await rows.first().getByRole("link").click();
  await page.waitForURL(/\/tasks\/[0-9a-f]{32}$/);
});

test("pause and activate from the page change a running experiment live", async () => {
  const live = rh(["experiment", "create", path.join(work, "ctx", "live.yaml"), "--queue", "q"]);
  await page.goto(url + `/experiments/${live}`);
  await until(async () => (await api(`/experiments/${live}`)).trials.some((t) => t.state === "running"), "a running trial");
  await page.getByRole("button", { name: "Pause" }).click();
  await page.locator("#experiment h1 .status-paused").waitFor();
  await until(async () => (await api(`/experiments/${live}`)).trials.every((t) => t.state !== "running"), "the trial paused");
  await page.getByRole("button", { name: "Activate" }).click();
  await page.locator("#experiment h1 .status-running").waitFor();
  await until(async () => (await api(`/experiments/${live}`)).trials.some((t) => t.state === "running"), "running again");
  // The trials table follows without a reload.
  await page.locator('#trials tbody tr .status-running').first().waitFor();
  await page.getByRole("button", { name: "Cancel" }).click();
  await page.locator("#experiment h1 .status-aborted").waitFor();
  await shot("experiment-live");
});
