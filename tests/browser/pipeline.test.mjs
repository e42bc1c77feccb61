// The Pipeline tab of a `rh repro --queue` run on a real server and agent:
// the stages as a graph (a column per depth, an edge per dependency), each
// node's status followed live while the run goes, each linking to its
// stage task, whose overview links back to the run.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { RH, PYTHON, root, startServer, api, launch, shot, until } from "./harness.mjs";

let server, url, dataDir, work, repo, agent, ctx, page, errors;

const RH_YAML = `stages:
  prepare:
    cmd: echo data > data.txt
    outs: [data.txt]
  slow branch:
    cmd: sleep 4 && cat data.txt > slow.txt
    deps: [data.txt]
    outs: [slow.txt]
  fast:
    cmd: cat data.txt > fast.txt
    deps: [data.txt]
    outs: [fast.txt]
  join:
    cmd: cat slow.txt fast.txt > joined.txt
    deps: [slow.txt, fast.txt]
    outs: [joined.txt]
`;

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: repo, env: { ...process.env, ...env }, encoding: "utf8", timeout: 120000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "rh-ui-pipe-"));
  work = fs.mkdtempSync(path.join(os.tmpdir(), "rh-ui-pipe-work-"));
  repo = fs.mkdtempSync(path.join(os.tmpdir(), "rh-ui-pipe-repo-"));
  [server, url] = await startServer(dataDir);
  await api(url)("/queues", "POST", { name: "q" });
  agent = spawn(RH, ["agent", "--queue", "q", "--workdir", work, "--python", PYTHON, "--no-tee", "--heartbeat", "0.5"], {
    env: { ...process.env, RH_SERVER: url, RH_SDK_PATH: path.join(root, "python") },
    stdio: "ignore",
  });
  run("git", ["init", "-q"]);
  fs.writeFileSync(path.join(repo, "rh.yaml"), RH_YAML);
  run("git", ["add", "-A"]);
  run("git", ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "first"]);
  await until(async () => (await api(url)("/workers")).workers.length === 1, "the agent");
  ({ ctx, page, errors } = await launch());
});

after(async () => {
  await ctx?.close();
  agent?.kill("SIGTERM");
  server?.kill("SIGTERM");
  for (const d of [dataDir, work, repo]) if (d) fs.rmSync(d, { recursive: true, force: true });
  assert.deepEqual(errors, [], "the pages threw errors");
});

test("a queued pipeline run: its graph, each stage's status live, links both ways", async () => {
  const out = run(RH, ["repro", "--queue", "q", "--no-wait"], { RH_SERVER: url });
  const runId = out.match(/as run ([0-9a-f]{32})/)[1];
  await page.goto(url + `/tasks/${runId}/pipeline`);
  const dag = page.locator("#pipeline-dag");
  await dag.waitFor();
  assert.equal(await dag.locator(".dag-node").count(), 4);
  assert.equal(await dag.locator("path[data-edge]").count(), 4);
  const left = async (name) => Number((await dag.locator(`.dag-node[data-stage="${name}"]`).getAttribute("style")).match(/left: (\d+)px/)[1]);
  assert.equal(await left("prepare"), 0);
  assert.equal(await left("slow branch"), await left("fast"), "one column per depth");
  assert.ok((await left("join")) > (await left("fast")));
  // Live: the slow stage is seen running, then everything completes, with
  // no reload of the page.
  const status = (name) => dag.locator(`.dag-node[data-stage="${name}"]`).getAttribute("data-status");
  await until(async () => (await status("slow branch")) === "running", "the slow stage running", 60000);
  await shot(page, "61-pipeline-running");
  await until(async () => (await status("join")) === "completed", "the run to end", 60000).catch(async (e) => {
    const steps = await api(url)(`/tasks?parent=${runId}&limit=100`);
    const shown = await dag.locator(".dag-node").evaluateAll((ns) => ns.map((n) => [n.dataset.stage, n.dataset.status]));
    await shot(page, "63-pipeline-stuck");
    throw new Error(e.message + ": " + JSON.stringify(steps.tasks.map((t) => [t.name, t.status, t.status_message])) + " shown " + JSON.stringify(shown));
  });
  for (const n of ["prepare", "slow branch", "fast", "join"]) assert.equal(await status(n), "completed");
  await shot(page, "62-pipeline-done");
  // A stage links to its task, whose overview links back to the run.
  await dag.locator('.dag-node[data-stage="fast"] a').click();
  await page.waitForURL(/\/tasks\/[0-9a-f]{32}$/);
  const parent = page.locator(".kv tr", { hasText: "Parent" }).locator("a");
  assert.equal(await parent.textContent(), runId.slice(0, 12));
  await parent.click();
  await page.waitForURL(new RegExp(`/tasks/${runId}$`));
  // And the workspace got the results.
  run(RH, ["repro", "--collect"], { RH_SERVER: url });
  assert.equal(fs.readFileSync(path.join(repo, "joined.txt"), "utf8"), "data\ndata\n");
});
