// The page `rh plots diff` writes, opened from disk in Chromium: every plot
// of a pipeline drawn, one series per revision (line plots through the UI's
// uPlot chart, a confusion matrix per revision, an image per revision), the
// data inlined and nothing fetched from the network.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { RH, PYTHON, launch, shot } from "./harness.mjs";

let dir, ctx, page, errors;
const requests = [];

const TRAIN = `
import json, os, re
lr = float(re.search(r"lr: (\\S+)", open("params.yaml").read()).group(1))
open("loss.csv", "w").write("epoch,loss\\n" + "".join(f"{e},{lr * (5 - e)}\\n" for e in range(5)))
os.makedirs("curves", exist_ok=True)
json.dump([{"step": s, "acc": 1 - lr / (s + 1)} for s in range(4)], open("curves/accuracy é.json", "w"))
open("confusion.csv", "w").write("actual,predicted\\ncat,cat\\ncat,dog\\ndog,dog\\n" + ("dog,cat\\n" if lr > 0.5 else "dog,dog\\n"))
open("curve.png", "wb").write(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"))
`;

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: dir, encoding: "utf8", timeout: 120000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "rh plots <b> é "));
  run("git", ["init", "-q"]);
  fs.writeFileSync(path.join(dir, "train.py"), TRAIN);
  fs.writeFileSync(path.join(dir, "params.yaml"), "train:\n  lr: 0.8\n");
  fs.writeFileSync(
    path.join(dir, "rh.yaml"),
    `stages:
  train:
    cmd: ${PYTHON} train.py
    deps: [train.py]
    params: [train]
    plots:
      - loss.csv: {x: epoch, title: "Loss </script> by epoch"}
      - curves
      - confusion.csv: {template: confusion, x: actual, y: predicted}
      - curve.png
`,
  );
  run(RH, ["repro"]);
  run("git", ["add", "-A"]);
  run("git", ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "first"]);
  fs.writeFileSync(path.join(dir, "params.yaml"), "train:\n  lr: 0.2\n");
  run(RH, ["repro"]);
  ({ ctx, page, errors } = await launch());
  page.on("request", (r) => requests.push(r.url()));
});

after(async () => {
  await ctx?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(errors, [], "the page threw errors");
});

test("plots diff: every plot drawn with a series per revision, offline", async () => {
  const url = run(RH, ["plots", "diff", "HEAD"]).trim();
  assert.equal(url, "file://" + path.join(fs.realpathSync(dir), "rh_plots", "index.html"));
  await page.goto(url);
  const plots = page.locator(".plot");
  await plots.first().waitFor();
  const ids = await plots.evaluateAll((els) => els.map((e) => e.dataset.plot));
  assert.deepEqual(ids.sort(), ["confusion.csv", "curve.png", "curves/accuracy é.json", "loss.csv"]);

  // Line plots: uPlot holds one series per revision, with the file's points.
  const drawn = async (id) =>
    page.locator(`.plot[data-plot="${id}"] .chart-body`).evaluate((el) => ({
      labels: el.uplot.series.slice(1).map((s) => s.label),
      data: el.uplot.data.map((col) => Array.from(col)),
      title: el.closest(".chart").querySelector(".chart-title").textContent,
    }));
  const loss = await drawn("loss.csv");
  assert.deepEqual(loss.labels, ["HEAD", "workspace"]);
  assert.equal(loss.title, "Loss </script> by epoch");
  assert.deepEqual(loss.data[0], [0, 1, 2, 3, 4]);
  assert.deepEqual(loss.data[1].map((v) => +v.toFixed(6)), [4, 3.2, 2.4, 1.6, 0.8]);
  assert.deepEqual(loss.data[2].map((v) => +v.toFixed(6)), [1, 0.8, 0.6, 0.4, 0.2]);
  const acc = await drawn("curves/accuracy é.json");
  assert.deepEqual(acc.labels, ["HEAD", "workspace"]);
  assert.equal(acc.data[1].length, 4);

  // The confusion matrix: a table per revision; the last dog was a cat at HEAD.
  const tables = page.locator('.plot[data-plot="confusion.csv"] table.confusion');
  assert.equal(await tables.count(), 2);
  assert.deepEqual(await tables.evaluateAll((ts) => ts.map((t) => t.dataset.rev)), ["HEAD", "workspace"]);
  const cells = async (rev) =>
    page.locator(`.plot[data-plot="confusion.csv"] table[data-rev="${rev}"] td`).evaluateAll((tds) => tds.map((td) => td.textContent));
  assert.deepEqual(await cells("HEAD"), ["1", "1", "1", "1"]);
  assert.deepEqual(await cells("workspace"), ["1", "1", "0", "2"]);

  // The image at both revisions, decoded from the inlined data.
  const imgs = page.locator('.plot[data-plot="curve.png"] img');
  assert.equal(await imgs.count(), 2);
  await page.waitForFunction(() => [...document.querySelectorAll('.plot[data-plot="curve.png"] img')].every((i) => i.complete && i.naturalWidth === 1));
  await shot(page, "60-plots-diff");

  const outside = requests.filter((u) => !u.startsWith("file:") && !u.startsWith("data:"));
  assert.deepEqual(outside, [], "the page fetched something");
});
