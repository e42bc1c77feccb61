// Browser tests: real headless Chromium (Debian's) driven by playwright-core,
// against a real `rh server` holding tasks recorded by the SDK example.
// Run by tests/run-e2e.sh: node --test tests/browser/
// Screenshots of every view land in tests/screenshots/ for review.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { RH, PYTHON, root, startServer as start, python as runPython, api as makeApi, launch, shot as saveShot } from "./harness.mjs";

let server, url, dataDir, ctx, page, pageErrors;
const ids = {};
const startServer = () => start(dataDir);
const python = (args, opts) => runPython(url, args, opts);
const api = (p) => makeApi(url)(p);
const shot = (name) => saveShot(page, name);

// The values the "known" task logs, and the lines it prints.
const KNOWN = `
import roundhouse
task = roundhouse.init(project="browser", name="known-values")
log = task.get_logger()
for i in range(10):
    log.report_scalar("loss", "train", 1.0 / (i + 1), iteration=i)
    log.report_scalar("loss", "val", 2.0 / (i + 1), iteration=i)
    print(f"epoch {i} loss {1.0 / (i + 1):.4f}")
print("needle: the console tab shows this line")
task.close()
print("TASK", task.id)
`;

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "rh-ui-"));
  [server, url] = await startServer();
  // Two runs of the SDK example with different parameters, and one task with known values.
  for (const [name, alpha] of [["a", "0.001"], ["b", "0.01"]]) {
    const out = python(["examples/sdk_digits.py", "--epochs", "4", "--alpha", alpha]);
    assert.match(out, /test accuracy/i);
    ids[name] = (await api(`/tasks?project=examples&limit=1`)).tasks[0].id;
  }
  ids.known = python(["-c", KNOWN]).match(/TASK ([0-9a-f]{32})/)[1];
  ({ ctx, page, errors: pageErrors } = await launch());
});

after(async () => {
  await ctx?.close();
  server?.kill("SIGTERM");
  fs.rmSync(dataDir, { recursive: true, force: true });
  assert.deepEqual(pageErrors, [], "the pages threw errors");
});

test("projects page lists the projects and the table lists the example's tasks", async () => {
  await page.goto(url + "/");
  await page.locator("#projects").getByRole("link", { name: "examples" }).click();
  await page.waitForURL(/\/projects\/examples$/);
  const rows = page.locator("#task-table tbody tr");
  await assert.doesNotReject(rows.first().waitFor());
  assert.equal(await rows.count(), 2);
  const text = await page.locator("#task-table").innerText();
  assert.match(text, /digits-sgd/);
  assert.match(text, /completed/);
  await shot("01-task-table");
  await page.goto(url + "/");
  await shot("00-projects");
});

test("the table shows chosen columns and filters by parameter value", async () => {
  await page.goto(url + "/projects/examples?param=Args/alpha&metric=accuracy/test");
  await page.locator("#task-table tbody tr").first().waitFor();
  const header = await page.locator("#task-table thead").innerText();
  assert.match(header, /Args\/alpha/);
  assert.match(header, /accuracy\/test/);
  const body = await page.locator("#task-table tbody").innerText();
  assert.match(body, /0\.001/);
  assert.match(body, /0\.01/);
  // Add a filter through the form: alpha > 0.005 leaves run b only.
  await page.locator("#add-filter select[name=key]").selectOption("param:Args/alpha");
  await page.locator("#add-filter select[name=op]").selectOption(">");
  await page.locator("#add-filter input[name=value]").fill("0.005");
  await page.locator("#add-filter button[type=submit]").click();
  await page.waitForURL(/filter=param/);
  await page.waitForFunction(() => document.querySelectorAll("#task-table tbody tr").length === 1);
  assert.equal(await page.locator(`#task-table tbody tr[data-task="${ids.b}"]`).count(), 1);
  await shot("02-task-table-filtered");
  // Sorting by the metric column orders the rows by the last value.
  await page.goto(url + "/projects/examples?metric=accuracy/test&order_by=metric:accuracy/test&order=asc");
  await page.locator("#task-table tbody tr").nth(1).waitFor();
  const rows = await page.locator("#task-table tbody tr").evaluateAll((trs) => trs.map((tr) => Number(tr.lastElementChild.textContent)));
  assert.ok(rows[0] <= rows[1], `ascending: ${rows}`);
});

test("a task page's scalars chart holds exactly the logged values", async () => {
  await page.goto(url + `/tasks/${ids.known}/scalars`);
  const chart = page.locator('[data-chart="loss"]');
  await chart.locator("canvas").waitFor();
  const data = await chart.evaluate((el) => {
    const u = el.uplot;
    return { x: Array.from(u.data[0]), series: u.series.slice(1).map((s, i) => ({ label: s.label, y: Array.from(u.data[i + 1]) })) };
  });
  assert.deepEqual(data.x, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const byLabel = Object.fromEntries(data.series.map((s) => [s.label, s.y]));
  assert.deepEqual(byLabel.train, data.x.map((i) => 1 / (i + 1)));
  assert.deepEqual(byLabel.val, data.x.map((i) => 2 / (i + 1)));
  // Hovering shows a point's values in the legend.
  const box = await chart.locator(".u-over").boundingBox();
  await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
  await shot("03-task-scalars");
  // Smoothing adds the smoothed line over a faint raw one; log scale redraws.
  await page.locator(".chart-controls input[type=range]").fill("0.6");
  await page.waitForFunction(() => document.querySelector('[data-chart="loss"]').uplot.series.length === 5);
  await page.locator(".chart-controls input[type=checkbox]").check();
  await shot("04-task-scalars-smoothed-log");
});

test("the console tab shows the printed lines and finds them", async () => {
  await page.goto(url + `/tasks/${ids.known}/console`);
  await page.locator("#console .line").first().waitFor();
  const text = await page.locator("#console").innerText();
  assert.match(text, /epoch 0 loss 1\.0000/);
  assert.match(text, /epoch 9 loss 0\.1000/);
  assert.match(text, /needle: the console tab shows this line/);
  await page.getByPlaceholder("Search the console…").fill("needle");
  await page.waitForFunction(() => document.querySelectorAll("#console .line").length === 1);
  assert.equal(await page.locator("#console mark").innerText(), "needle");
  await shot("05-task-console");
});

test("every other tab of the example's task renders its part of the record", async () => {
  const t = await api(`/tasks/${ids.a}`);
  await page.goto(url + `/tasks/${ids.a}`);
  await page.locator("#last-metrics").waitFor();
  assert.match(await page.locator(".tab-body").innerText(), /accuracy \/ test/);
  // 4 epochs: the last iteration is 3.
  assert.equal(await page.locator("#last-metrics tr", { hasText: "accuracy / test" }).locator("td").last().innerText(), "3");
  await shot("06-task-overview");

  await page.goto(url + `/tasks/${ids.a}/hyperparameters`);
  await page.locator('table[data-section="Args"]').waitFor();
  assert.match(await page.locator('table[data-section="Args"]').innerText(), /alpha\s+0\.001/);
  await shot("07-task-hyperparameters");

  await page.goto(url + `/tasks/${ids.a}/plots`);
  await page.locator('[data-plot="confusion matrix"] table').waitFor();
  await shot("08-task-plots");

  await page.goto(url + `/tasks/${ids.a}/images`);
  const img = page.locator(".images img").first();
  await img.waitFor();
  await page.waitForFunction(() => {
    const i = document.querySelector(".images img");
    return i && i.complete && i.naturalWidth > 0;
  });
  await shot("09-task-debug-images");

  await page.goto(url + `/tasks/${ids.a}/artifacts`);
  await page.locator("#artifacts").waitFor();
  await page.locator("#models").waitFor();
  // The download link serves the artifact's bytes.
  const href = await page.locator("#artifacts a[download]").first().getAttribute("href");
  const r = await fetch(url + href);
  assert.equal(r.status, 200);
  assert.ok((await r.arrayBuffer()).byteLength > 0);
  await shot("10-task-artifacts");

  await page.goto(url + `/tasks/${ids.a}/code`);
  await page.locator(".tab-body table.kv").waitFor();
  const code = await page.locator(".tab-body").innerText();
  if (t.script.diff) assert.ok((await page.locator("#diff .d-add, #diff .d-del").count()) > 0);
  else if (t.script.content) assert.match(code, /roundhouse\.init/);
  assert.match(code, /sdk_digits\.py/);
  await shot("11-task-code");

  await page.goto(url + `/tasks/${ids.a}/environment`);
  await page.locator("#packages").waitFor();
  assert.match(await page.locator("#packages").innerText(), /scikit-learn/i);
  await shot("12-task-environment");

  await page.goto(url + `/tasks/${ids.a}/configurations`);
  await page.locator(".tab-body").waitFor();
  await shot("13-task-configurations");
});

test("compare overlays two tasks and marks differing parameters", async () => {
  await page.goto(url + "/projects/examples");
  await page.locator(`tr[data-task="${ids.a}"] input[type=checkbox]`).check();
  await page.locator(`tr[data-task="${ids.b}"] input[type=checkbox]`).check();
  await page.locator("#compare-selected").click();
  await page.waitForURL(/\/compare\?ids=/);
  const chart = page.locator('[data-chart="accuracy / test"]');
  await chart.locator("canvas").waitFor();
  const series = await chart.evaluate((el) => el.uplot.series.slice(1).map((s, i) => ({ label: s.label, n: el.uplot.data[i + 1].filter((v) => v != null).length })));
  assert.equal(series.length, 2);
  assert.ok(series.every((s) => s.n === 4), JSON.stringify(series));
  // One line per task, each labelled with its task's short ID.
  const labels = series.map((s) => s.label).sort();
  assert.deepEqual(labels, [ids.a, ids.b].map((id) => `digits-sgd ${id.slice(0, 12)}`).sort());
  const differs = await page.locator("#compare-params tr.differs").allInnerTexts();
  assert.ok(differs.some((r) => /Args\/alpha/.test(r)), differs.join("\n"));
  assert.ok(!differs.some((r) => /Args\/epochs/.test(r)), "equal parameters are not marked");
  await shot("14-compare");
});

test("a running task's console and chart update without reloading", async () => {
  const flag = path.join(dataDir, "go");
  const script = `
import os, time, roundhouse
task = roundhouse.init(project="browser", name="live")
print("TASK", task.id, flush=True)
log = task.get_logger()
while not os.path.exists(${JSON.stringify(flag)}):
    time.sleep(0.05)
for i in range(5):
    log.report_scalar("live", "value", float(i), iteration=i)
    print(f"live line {i}", flush=True)
    task.flush()
    time.sleep(0.4)
while os.path.exists(${JSON.stringify(flag)}):
    time.sleep(0.05)
`;
  const p = spawn(PYTHON, ["-u", "-c", script], {
    env: { ...process.env, RH_SERVER: url, PYTHONPATH: path.join(root, "python") },
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const id = await new Promise((resolve, reject) => {
      let out = "";
      p.stdout.on("data", (d) => {
        out += d;
        const m = out.match(/TASK ([0-9a-f]{32})/);
        if (m) resolve(m[1]);
      });
      p.on("exit", (c) => reject(new Error("live task exited " + c)));
    });
    await page.goto(url + `/tasks/${id}/console`);
    await page.locator(".tab-body[data-tab=console]").waitFor();
    // A marker on window survives client-side route changes but not a reload.
    await page.evaluate(() => (window.__notReloaded = true));
    fs.writeFileSync(flag, "");
    await page.waitForFunction(() => document.querySelector("#console")?.innerText.includes("live line 4"), null, { timeout: 20000 });
    // To the scalars tab (a client-side route change, not a reload): the chart grows to 5 points.
    await page.locator("nav.tabs a", { hasText: "Scalars" }).click();
    await page.waitForFunction(() => {
      const u = document.querySelector('[data-chart="live"]')?.uplot;
      return u && u.data[0].length === 5;
    }, null, { timeout: 20000 });
    assert.equal(await page.evaluate(() => window.__notReloaded), true, "the page was not reloaded");
    await shot("15-live-task");
  } finally {
    fs.rmSync(flag, { force: true });
    await new Promise((r) => (p.exitCode !== null ? r() : p.on("exit", r)));
  }
});

test("the README's demo shows its recorded tasks in the browser", async () => {
  const port = await new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const demoData = fs.mkdtempSync(path.join(os.tmpdir(), "rh-demo-"));
  const demo = spawn("bash", [path.join(root, "scripts/demo.sh"), RH], {
    env: { ...process.env, RH_DATA_DIR: demoData, RH_PORT: String(port), RH_SERVER: "" },
    stdio: ["ignore", "pipe", "inherit"],
    detached: true,
  });
  try {
    const demoUrl = await new Promise((resolve, reject) => {
      let out = "";
      demo.stdout.on("data", (d) => {
        out += d;
        const m = out.match(/Open (http:\/\/\S+)\/projects\/demo/);
        if (m) resolve(m[1]);
      });
      demo.on("exit", (c) => reject(new Error(`demo exited with ${c}:\n${out}`)));
    });
    await page.goto(demoUrl + "/projects/demo");
    await page.locator("#task-table tbody tr").nth(1).waitFor();
    const table = await page.locator("#task-table").innerText();
    assert.match(table, /quickstart-sdk/);
    assert.match(table, /quickstart\b/);
    await shot("16-demo-table");
    await page.getByRole("link", { name: "quickstart-sdk" }).click();
    await page.locator("nav.tabs a", { hasText: "Scalars" }).click();
    await page.waitForFunction(() => document.querySelector('[data-chart="loss"]')?.uplot?.data[0].length === 30);
    await shot("17-demo-scalars");
    await page.locator("nav.tabs a", { hasText: "Plots" }).click();
    await page.locator('[data-plot="threshold sweep"] canvas').waitFor();
    await page.locator('[data-plot="confusion matrix"] table').waitFor();
    await shot("18-demo-plots");
    await page.locator("nav.tabs a", { hasText: "Artifacts" }).click();
    await page.locator("#artifacts").getByText("evaluation").waitFor();
    await page.locator("#models").getByText("logreg.json").waitFor();
    await page.locator("nav.tabs a", { hasText: "Console" }).click();
    await page.locator("#console").getByText("final test accuracy").waitFor();
    await page.locator("nav.tabs a", { hasText: "Code" }).click();
    assert.match(await page.locator(".tab-body").innerText(), /quickstart_sdk\.py/);
  } finally {
    process.kill(-demo.pid, "SIGINT");
    await new Promise((r) => (demo.exitCode !== null ? r() : demo.on("exit", r)));
    fs.rmSync(demoData, { recursive: true, force: true });
  }
});
