// Datasets: every version, a version's lineage (all versions of the dataset
// with parent -> child edges and their summaries), its files with a CSV
// preview, and the plots attached to it.
import { useState } from "preact/hooks";
import { allPlots, blobUrl, DatasetFile, DatasetVersion, get, q } from "../api";
import { ErrorBox, Loading, StatusBadge, useLoad } from "../common";
import { fmtBytes, fmtTime, shortDigest, shortId } from "../format";
import { Link } from "../router";
import { PlotView } from "./plots";

const delta = (v: DatasetVersion) =>
  v.state === "final" ? `+${v.summary.added} ~${v.summary.modified} −${v.summary.removed}` : "draft";

export function Datasets() {
  const data = useLoad((s) => get<{ datasets: DatasetVersion[] }>("/datasets?limit=1000", s), []);
  if (data.error) return <ErrorBox error={data.error} />;
  if (!data.data) return <Loading />;
  const list = data.data.datasets;
  return (
    <section>
      <h1>Datasets</h1>
      {list.length === 0 ? (
        <p class="muted">
          No datasets yet. Create one: <code>rh data create --project P --name N</code> or <code>Dataset.create(...)</code>.
        </p>
      ) : (
        <table class="grid" id="datasets">
          <thead>
            <tr>
              <th>Project</th>
              <th>Name</th>
              <th>Version</th>
              <th>State</th>
              <th class="num">Files</th>
              <th class="num">Size</th>
              <th>Change</th>
              <th>Tags</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {list.map((v) => (
              <tr key={v.id} data-dataset={v.id}>
                <td>{v.project}</td>
                <td>
                  <Link href={`/datasets/${v.id}`}>{v.name}</Link>
                </td>
                <td>{v.version}</td>
                <td>
                  <StatusBadge status={v.state} />
                </td>
                <td class="num">{v.state === "final" ? v.summary.files : "—"}</td>
                <td class="num">{v.state === "final" ? fmtBytes(v.summary.bytes) : "—"}</td>
                <td>{delta(v)}</td>
                <td>
                  {v.tags.map((t) => (
                    <span class="tag" key={t}>
                      {t}
                    </span>
                  ))}
                </td>
                <td>{fmtTime(v.created)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function DatasetPage({ id }: { id: string }) {
  const data = useLoad(
    async (s) => {
      const v = await get<DatasetVersion>(`/datasets/${id}`, s);
      const family = await get<{ datasets: DatasetVersion[] }>(`/datasets?project=${q(v.project)}&name=${q(v.name)}&limit=1000`, s);
      return { v, family: family.datasets };
    },
    [id],
  );
  if (data.error) return <ErrorBox error={data.error} />;
  if (!data.data) return <Loading />;
  const { v, family } = data.data;
  return (
    <section>
      <h1>
        {v.project} / {v.name} <span class="muted">{v.version}</span> <StatusBadge status={v.state} />
      </h1>
      <div class="muted mono">{v.id}</div>
      <div class="toolbar">
        {v.tags.map((t) => (
          <span class="tag" key={t}>
            {t}
          </span>
        ))}
        {v.task_id && (
          <Link href={`/tasks/${v.task_id}`}>created by task {shortId(v.task_id)}</Link>
        )}
        <span class="muted">
          get it: <code>rh data get {v.id.slice(0, 12)}</code>
        </span>
      </div>
      <h2>Lineage</h2>
      <Lineage family={family} current={v.id} />
      <h2>Files</h2>
      <FileBrowser v={v} />
      {v.task_id && <Attached taskId={v.task_id} />}
    </section>
  );
}

// Versions oldest first, one row each; an edge from each parent to its child.
function Lineage({ family, current }: { family: DatasetVersion[]; current: string }) {
  const rows = [...family].sort((a, b) => a.created - b.created);
  const index = new Map(rows.map((v, i) => [v.id, i]));
  const rowH = 44;
  const height = rows.length * rowH + 10;
  return (
    <div class="lineage" id="lineage">
      <svg width="60" height={height} class="lineage-edges">
        {rows.flatMap((v, i) =>
          v.parents
            .filter((p) => index.has(p))
            .map((p) => {
              const j = index.get(p)!;
              const lane = 14 + ((i - j) % 3) * 12;
              return <path key={`${p}-${v.id}`} d={`M 10 ${j * rowH + 22} C ${lane + 20} ${j * rowH + 22}, ${lane + 20} ${i * rowH + 22}, 10 ${i * rowH + 22}`} fill="none" stroke="#8896ab" stroke-width="1.5" />;
            }),
        )}
        {rows.map((v, i) => (
          <circle key={v.id} cx="10" cy={i * rowH + 22} r="6" fill={v.id === current ? "#2f6fdd" : v.state === "final" ? "#5b6b82" : "#fff"} stroke="#5b6b82" />
        ))}
      </svg>
      <div class="lineage-rows">
        {rows.map((v) => (
          <div key={v.id} class={"lineage-row" + (v.id === current ? " current" : "")} style={{ height: `${rowH}px` }} data-version={v.version}>
            <Link href={`/datasets/${v.id}`}>{v.version}</Link> <span class="muted">{v.state}</span>{" "}
            {v.state === "final" && (
              <span>
                {v.summary.files} files, {fmtBytes(v.summary.bytes)} · <span class="d-add-text">+{v.summary.added}</span>{" "}
                <span class="d-mod-text">~{v.summary.modified}</span> <span class="d-del-text">−{v.summary.removed}</span>
              </span>
            )}{" "}
            {v.tags.map((t) => (
              <span class="tag" key={t}>
                {t}
              </span>
            ))}
          </div>
        ))}
      </div>
    </div>
  );
}

const PAGE = 200;

function FileBrowser({ v }: { v: DatasetVersion }) {
  const [prefix, setPrefix] = useState("");
  const [after, setAfter] = useState<string[]>([""]); // a stack of page starts
  const [preview, setPreview] = useState<DatasetFile | null>(null);
  const start = after[after.length - 1];
  const files = useLoad(
    async (s) => {
      // Paths are sorted: a prefix's files start right after the prefix.
      const from = start || (prefix ? prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) - 1) + "\uffff" : "");
      const page = await get<{ files: DatasetFile[] }>(`/datasets/${v.id}/files?limit=${PAGE}&after=${q(from)}`, s);
      return page.files.filter((f) => f.path.startsWith(prefix));
    },
    [v.id, prefix, start],
  );
  return (
    <div>
      <div class="toolbar">
        <input
          type="search"
          placeholder="Folder or path prefix…"
          value={prefix}
          onInput={(e) => {
            setPrefix((e.target as HTMLInputElement).value);
            setAfter([""]);
          }}
        />
        <button disabled={after.length < 2} onClick={() => setAfter(after.slice(0, -1))}>
          ← Previous
        </button>
        <button disabled={!files.data || files.data.length < PAGE} onClick={() => setAfter([...after, files.data![files.data!.length - 1].path])}>
          Next →
        </button>
      </div>
      {files.error && <ErrorBox error={files.error} />}
      <table class="grid" id="dataset-files">
        <thead>
          <tr>
            <th>Path</th>
            <th class="num">Size</th>
            <th>Digest</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(files.data ?? []).map((f) => (
            <tr key={f.path}>
              <td class="mono">{f.path}</td>
              <td class="num">{fmtBytes(f.size)}</td>
              <td class="mono muted">{shortDigest(f.digest)}</td>
              <td>
                {/\.(csv|tsv)$/i.test(f.path) && (
                  <button class="preview-csv" onClick={() => setPreview(f)}>
                    preview
                  </button>
                )}{" "}
                <a href={blobUrl(f.digest)} download={f.path.split("/").pop()}>
                  download
                </a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {preview && <CsvPreview file={preview} />}
    </div>
  );
}

// The first rows of a CSV file as a table (files up to 5 MiB).
function CsvPreview({ file }: { file: DatasetFile }) {
  const data = useLoad(
    async (s) => {
      if (file.size > 5 << 20) throw new Error(`${file.path} is ${fmtBytes(file.size)}; previews are for files up to 5 MiB`);
      const r = await fetch(blobUrl(file.digest), { signal: s });
      const text = await r.text();
      const sep = file.path.toLowerCase().endsWith(".tsv") ? "\t" : ",";
      return text
        .split(/\r?\n/)
        .filter((l) => l.length)
        .slice(0, 21)
        .map((l) => parseCsvLine(l, sep));
    },
    [file.digest],
  );
  return (
    <div class="section" id="csv-preview">
      <h3>{file.path}</h3>
      {data.error && <ErrorBox error={data.error} />}
      {data.data && (
        <div class="table-wrap">
          <table class="grid report-table">
            <thead>
              <tr>
                {data.data[0].map((c, i) => (
                  <th key={i}>{c}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.data.slice(1).map((r, i) => (
                <tr key={i}>
                  {r.map((c, j) => (
                    <td key={j}>{c}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function parseCsvLine(line: string, sep: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function Attached({ taskId }: { taskId: string }) {
  const plots = useLoad((s) => allPlots(taskId, s), [taskId]);
  if (!plots.data || plots.data.length === 0) return null;
  return (
    <div>
      <h2>Attached plots and tables</h2>
      <div class="plots">
        {plots.data
          .filter((p) => p.kind !== "image")
          .map((p) => (
            <PlotView key={p.id} plot={p} />
          ))}
      </div>
    </div>
  );
}
