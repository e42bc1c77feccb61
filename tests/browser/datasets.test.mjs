// Browser tests of the dataset pages: the list, a version's lineage, its
// files with a CSV preview and attached table, and the link from a task that
// used it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer, python, launch, shot } from "./harness.mjs";

let server, url, dataDir, ctx, page, errors, out;

const SCRIPT = `
import os, roundhouse
from roundhouse import Dataset
src = os.environ["SRC"]
os.makedirs(os.path.join(src, "images"), exist_ok=True)
for i in range(5):
    open(os.path.join(src, "images", f"{i}.txt"), "w").write(f"img {i}\\n")
open(os.path.join(src, "labels.csv"), "w").write("id,label\\n0,cat\\n1,dog\\n")
v1 = Dataset.create(dataset_name="pets", dataset_project="vision", dataset_tags=["raw"])
v1.add_files(src)
v1.get_logger().report_table("class balance", "labels", table_plot=[["label", "count"], ["cat", 1], ["dog", 1]])
v1.finalize(auto_upload=True)
open(os.path.join(src, "images", "5.txt"), "w").write("img 5\\n")
v2 = Dataset.get(dataset_project="vision", dataset_name="pets", writable_copy=True)
v2.sync_folder(src)
v2.finalize(auto_upload=True)
task = roundhouse.init(project="vision", name="train-on-pets")
Dataset.get(dataset_project="vision", dataset_name="pets").get_local_copy()
task.close()
print("IDS", v1.id, v2.id, task.id)
`;

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "rh-ui-data-"));
  [server, url] = await startServer(dataDir);
  process.env.SRC = path.join(dataDir, "src");
  process.env.RH_DATA_DIR = path.join(dataDir, "client");
  out = python(url, ["-c", SCRIPT]).match(/IDS (\w+) (\w+) (\w+)/);
  ({ ctx, page, errors } = await launch());
});

after(async () => {
  await ctx?.close();
  server?.kill("SIGTERM");
  fs.rmSync(dataDir, { recursive: true, force: true });
  assert.deepEqual(errors, [], "the pages threw errors");
});

test("datasets list, lineage, files with CSV preview, attached table, task link", async () => {
  const [, v1, v2, taskId] = out;
  await page.goto(url + "/datasets");
  await page.locator(`#datasets tr[data-dataset="${v2}"]`).waitFor();
  assert.equal(await page.locator("#datasets tbody tr").count(), 2);
  await shot(page, "30-datasets");

  await page.locator(`#datasets tr[data-dataset="${v2}"] a`).click();
  await page.waitForURL(new RegExp(`/datasets/${v2}$`));
  const lineage = page.locator("#lineage");
  await lineage.locator('[data-version="1.0.1"]').waitFor();
  assert.match(await lineage.locator('[data-version="1.0.0"]').innerText(), /6 files.*\+6/);
  assert.match(await lineage.locator('[data-version="1.0.1"]').innerText(), /7 files.*\+1\s+~0\s+−0/);
  assert.equal(await lineage.locator("path").count(), 1, "one parent -> child edge");

  const files = page.locator("#dataset-files tbody tr");
  await files.first().waitFor();
  assert.equal(await files.count(), 7);
  await page.locator("#dataset-files tr", { hasText: "labels.csv" }).locator(".preview-csv").click();
  await page.locator("#csv-preview table").waitFor();
  assert.match(await page.locator("#csv-preview table").innerText(), /id\s+label[\s\S]*0\s+cat[\s\S]*1\s+dog/);
  await shot(page, "31-dataset-version");

  // The table attached through the first version's logger.
  await page.goto(url + `/datasets/${v1}`);
  await page.locator('[data-plot="class balance"] table').waitFor();
  // A prefix narrows the file list.
  await page.getByPlaceholder("Folder or path prefix…").fill("images/");
  await page.waitForFunction(() => document.querySelectorAll("#dataset-files tbody tr").length === 5);
  await shot(page, "32-dataset-first-version");

  // The task that used the dataset links to the version it got.
  await page.goto(url + `/tasks/${taskId}`);
  const link = page.locator(".kv a", { hasText: "vision/pets" });
  await link.waitFor();
  await link.click();
  await page.waitForURL(new RegExp(`/datasets/${v2}$`));
});
