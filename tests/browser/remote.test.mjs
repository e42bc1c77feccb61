// Browser tests of remote execution: queues and workers pages, and on a task
// page clone -> edit a draft -> enqueue -> an agent runs it (the page follows
// without reloading) -> abort.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { RH, PYTHON, root, startServer, python, api as makeApi, launch, shot } from "./harness.mjs";

let server, url, dataDir, ctx, page, errors, api, agent;

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "rh-ui-remote-"));
  [server, url] = await startServer(dataDir);
  api = makeApi(url);
  ({ ctx, page, errors } = await launch());
});

after(async () => {
  await ctx?.close();
  if (agent && agent.exitCode === null) {
    agent.kill("SIGTERM");
    await new Promise((r) => agent.on("exit", r));
  }
  server?.kill("SIGTERM");
  fs.rmSync(dataDir, { recursive: true, force: true });
  assert.deepEqual(errors, [], "the pages threw errors");
});

function startAgent(name) {
  const p = spawn(RH, ["agent", "--queue", "ui", "--name", name, "--workdir", path.join(dataDir, "agent"), "--python", PYTHON, "--no-tee", "--kill-grace", "2"], {
    env: { ...process.env, RH_SERVER: url, RH_SDK_PATH: path.join(root, "python") },
    stdio: ["ignore", "ignore", "inherit"],
  });
  return p;
}

test("clone a recorded task, edit the draft, enqueue it, an agent runs it", async () => {
  // The queue, made on the queues page.
  await page.goto(url + "/queues");
  await page.locator("#create-queue input[name=name]").fill("ui");
  await page.locator("#create-queue button[type=submit]").click();
  await page.locator('#queues tr[data-queue="ui"]').waitFor();

  python(url, ["examples/quickstart_sdk.py", "--epochs", "3", "--lr", "0.1"]);
  const src = (await api("/tasks?project=demo&limit=1")).tasks[0];
  await page.goto(url + `/tasks/${src.id}`);
  await page.locator("#clone").click();
  await page.waitForURL(/\/tasks\/[0-9a-f]{32}\/hyperparameters$/);
  const draftId = page.url().match(/tasks\/([0-9a-f]{32})\//)[1];
  assert.notEqual(draftId, src.id);
  // Edit the draft's learning rate and save.
  const lr = page.locator('input[name="Args/lr"]');
  await lr.fill("0.5");
  await page.locator("#save-params").click();
  await page.waitForFunction(() => document.querySelector("#save-params")?.disabled === true);
  const draft = await api(`/tasks/${draftId}`);
  assert.equal(draft.status, "created");
  assert.equal(draft.parent, src.id);
  assert.equal(draft.hyperparameters.Args.lr.value, "0.5");
  await shot(page, "20-draft-edit");

  await page.locator("#enqueue-queue").selectOption("ui");
  await page.locator("#enqueue").click();
  await page.locator(".task-head .status-queued").waitFor();
  await page.goto(url + "/queues");
  await page.locator(`#queues tr[data-queue="ui"] a[href="/tasks/${draftId}"]`).waitFor();
  await shot(page, "21-queues");

  // The agent takes it; the task page follows it to the end by itself.
  await page.goto(url + `/tasks/${draftId}/console`);
  await page.evaluate(() => (window.__notReloaded = true));
  agent = startAgent("ui-agent");
  await page.locator(".task-head .status-completed").waitFor({ timeout: 60000 });
  await page.locator("#console").getByText("final test accuracy").waitFor();
  assert.equal(await page.evaluate(() => window.__notReloaded), true);
  const done = await api(`/tasks/${draftId}`);
  assert.equal(done.runtime.worker, "ui-agent");
  await shot(page, "22-agent-run-console");

  await page.goto(url + "/workers");
  await page.locator('#workers tr[data-worker="ui-agent"]').waitFor();
  assert.match(await page.locator('#workers tr[data-worker="ui-agent"]').innerText(), /idle/);
  await shot(page, "23-workers");

  // Compare shows both runs, lr 0.1 vs 0.5.
  await page.goto(url + `/compare?ids=${src.id},${draftId}`);
  await page.locator("#compare-params tr.differs").first().waitFor();
  const differs = await page.locator("#compare-params tr.differs").allInnerTexts();
  assert.ok(differs.some((r) => /Args\/lr\s+0\.1\s+0\.5/.test(r)), differs.join("\n"));
  await shot(page, "24-compare-remote");
});

test("abort from the task page stops the running process", async () => {
  const body = {
    project: "remote-ui",
    name: "sleeper",
    script: { entry_point: "job.py", argv: ["python", "job.py"], content: "import time\nprint('sleeping', flush=True)\ntime.sleep(120)\n" },
  };
  const t = await api("/tasks", "POST", body);
  await api(`/tasks/${t.id}/enqueue`, "POST", { queue: "ui" });
  await page.goto(url + `/tasks/${t.id}/console`);
  await page.locator("#console").getByText("sleeping").waitFor({ timeout: 30000 });
  await page.locator(".task-head .status-running").waitFor();
  await page.locator("#abort").click();
  await page.locator(".task-head .status-aborted").waitFor();
  // The agent is idle again within moments: the process is gone.
  const deadline = Date.now() + 5000;
  let idle = false;
  while (Date.now() < deadline && !idle) {
    idle = (await api("/workers")).workers.every((w) => w.task_id === "");
    if (!idle) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(idle, "the agent stopped the task");
  const after = await api(`/tasks/${t.id}`);
  assert.equal(after.status, "aborted");
  assert.equal(after.status_message, "aborted from the web UI");
  await shot(page, "25-aborted");
});
