// One task: a tab per part of the record. Tabs reload when the task changes
// while it runs (long-poll, see live.ts).
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { allConsole, allPlots, artifactUrl, Artifact, blobUrl, ConsoleLine, get, Model, num, Plot, Queue, readSeries, send, SeriesSummary, Task } from "../api";
import { Chart, Line, smooth } from "../chart";
import { ErrorBox, KeyValues, Loading, StatusBadge, useLoad } from "../common";
import { fmtBytes, fmtNumber, fmtTime, shortId, taskDuration } from "../format";
import { useChanges } from "../live";
import { Link, navigate } from "../router";
import { PlotView } from "./plots";

const TABS: [string, string][] = [
  ["overview", "Overview"],
  ["hyperparameters", "Hyperparameters"],
  ["configurations", "Configurations"],
  ["scalars", "Scalars"],
  ["plots", "Plots & tables"],
  ["images", "Debug images"],
  ["console", "Console"],
  ["artifacts", "Artifacts & models"],
  ["code", "Code"],
  ["environment", "Environment"],
];

const isLive = (s: string) => s === "running" || s === "queued" || s === "created";

export function TaskPage({ id, tab }: { id: string; tab: string }) {
  const [liveOn, setLiveOn] = useState(true);
  // Follows the task while it may still change; the status comes from the last load.
  const [status, setStatus] = useState<string | null>(null);
  const live = useChanges(id, liveOn && status !== null && isLive(status));
  const [edits, setEdits] = useState(0); // bumped after an action here
  const { data: task, error } = useLoad((s) => get<Task>(`/tasks/${id}`, s), [id, live, edits]);
  const changed = () => setEdits((e) => e + 1);
  useEffect(() => setStatus(task && task.id.startsWith(id) ? task.status : null), [task?.id, task?.status, id]);
  if (error && !task) return <ErrorBox error={error} />;
  if (!task) return <Loading />;
  return (
    <section>
      <div class="task-head">
        <h1>
          {task.name} <StatusBadge status={task.status} />
        </h1>
        <div class="muted">
          <Link href={`/projects/${encodeURIComponent(task.project)}`}>{task.project}</Link> · <span class="mono">{task.id}</span>
          {isLive(task.status) && (
            <label class="live">
              <input type="checkbox" checked={liveOn} onChange={() => setLiveOn(!liveOn)} /> live
            </label>
          )}
        </div>
        <TaskActions task={task} changed={changed} />
      </div>
      <nav class="tabs">
        {TABS.map(([key, label]) => (
          <Link key={key} href={`/tasks/${task.id}/${key}`} class={tab === key ? "active" : ""}>
            {label}
          </Link>
        ))}
      </nav>
      <div class="tab-body" data-tab={tab}>
        {tab === "overview" && <Overview task={task} live={live} />}
        {tab === "hyperparameters" && <Hyperparameters task={task} changed={changed} />}
        {tab === "configurations" && <Configurations task={task} changed={changed} />}
        {tab === "scalars" && <Scalars task={task} live={live} />}
        {tab === "plots" && <Plots task={task} live={live} images={false} />}
        {tab === "images" && <Plots task={task} live={live} images={true} />}
        {tab === "console" && <Console task={task} live={live} />}
        {tab === "artifacts" && <Artifacts task={task} live={live} />}
        {tab === "code" && <Code task={task} />}
        {tab === "environment" && <Environment task={task} />}
      </div>
    </section>
  );
}

function Overview({ task, live }: { task: Task; live: number }) {
  const scalars = useLoad((s) => get<{ scalars: SeriesSummary[] }>(`/tasks/${task.id}/scalars`, s), [task.id, live]);
  const clones = useLoad((s) => get<{ tasks: Task[] }>(`/tasks?parent=${task.id}&limit=20`, s), [task.id]);
  const rt = task.runtime;
  return (
    <div class="two-col">
      <KeyValues
        rows={[
          ["Status", <>{task.status}{task.status_message && <span class="muted"> — {task.status_message}</span>}</>],
          ["Type", task.type],
          ["Created", fmtTime(task.created)],
          ["Started", fmtTime(task.started)],
          ["Completed", fmtTime(task.completed)],
          ["Duration", taskDuration(task)],
          ["Host", task.environment.host || "—"],
          ["Worker", rt.worker ?? "—"],
          ["Exit code", rt.exit_code ?? "—"],
          ["Peak memory", rt.peak_rss_bytes ? fmtBytes(Number(rt.peak_rss_bytes)) : "—"],
          ["Tags", task.tags.length ? task.tags.map((t) => <span class="tag" key={t}>{t}</span>) : "—"],
          ["Parent", task.parent ? <Link href={`/tasks/${task.parent}`}>{shortId(task.parent)}</Link> : "—"],
          [
            "Clones",
            clones.data?.tasks.length
              ? clones.data.tasks.map((c) => (
                  <Link key={c.id} href={`/tasks/${c.id}`} class="clone">
                    {c.name} ({shortId(c.id)})
                  </Link>
                ))
              : "—",
          ],
          ["Comment", task.comment || "—"],
          [
            "Input datasets",
            Object.entries(rt).filter(([k]) => k.startsWith("input_dataset:")).length
              ? Object.entries(rt)
                  .filter(([k]) => k.startsWith("input_dataset:"))
                  .map(([k, v]) => (
                    <Link key={k} href={`/datasets/${v.split(" ")[0]}`} class="clone">
                      {k.slice("input_dataset:".length)} {v.split(" ").slice(1).join(" ")}
                    </Link>
                  ))
              : "—",
          ],
        ]}
      />
      <div>
        <h3>Last metrics</h3>
        {scalars.data && scalars.data.scalars.length === 0 && <p class="muted">No scalars reported.</p>}
        {scalars.data && scalars.data.scalars.length > 0 && (
          <table class="grid" id="last-metrics">
            <thead>
              <tr>
                <th>Metric</th>
                <th class="num">Last</th>
                <th class="num">Min</th>
                <th class="num">Max</th>
                <th class="num">Iteration</th>
              </tr>
            </thead>
            <tbody>
              {scalars.data.scalars.map((s) => (
                <tr key={s.title + "/" + s.series}>
                  <td>
                    {s.title} / {s.series}
                  </td>
                  <td class="num">{fmtNumber(num(s.last_value))}</td>
                  <td class="num">{fmtNumber(num(s.min_value))}</td>
                  <td class="num">{fmtNumber(num(s.max_value))}</td>
                  <td class="num">{s.last_iteration}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}

// Clone any task; enqueue a draft; dequeue or abort what waits or runs.
function TaskActions({ task, changed }: { task: Task; changed: () => void }) {
  const [error, setError] = useState<Error | null>(null);
  const [queue, setQueue] = useState("");
  const queues = useLoad((s) => (task.status === "created" ? get<{ queues: Queue[] }>("/queues", s) : Promise.resolve({ queues: [] as Queue[] })), [task.status]);
  const act = async (fn: () => Promise<unknown>) => {
    try {
      setError(null);
      await fn();
      changed();
    } catch (e) {
      setError(e as Error);
    }
  };
  const names = queues.data?.queues.map((x) => x.name) ?? [];
  const chosen = queue || names[0] || "";
  return (
    <div class="toolbar actions" id="task-actions">
      <button
        id="clone"
        onClick={() =>
          act(async () => {
            const t = await send<Task>("POST", `/tasks/${task.id}/clone`, {});
            navigate(`/tasks/${t.id}/hyperparameters`);
          })
        }
      >
        Clone
      </button>
      {task.status === "created" && (
        <>
          <select id="enqueue-queue" value={chosen} onChange={(e) => setQueue((e.target as HTMLSelectElement).value)} disabled={!names.length}>
            {names.length === 0 && <option value="">no queues</option>}
            {names.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
          <button id="enqueue" disabled={!chosen} onClick={() => act(() => send("POST", `/tasks/${task.id}/enqueue`, { queue: chosen }))}>
            Enqueue
          </button>
        </>
      )}
      {task.status === "queued" && (
        <button id="dequeue" onClick={() => act(() => send("POST", `/tasks/${task.id}/dequeue`))}>
          Dequeue
        </button>
      )}
      {(task.status === "queued" || task.status === "running") && (
        <button id="abort" class="danger" onClick={() => act(() => send("POST", `/tasks/${task.id}/status`, { status: "aborted", message: "aborted from the web UI" }))}>
          Abort
        </button>
      )}
      {task.status === "created" && <span class="muted">draft: parameters and configurations can be edited</span>}
      {error && <span class="error">{error.message}</span>}
    </div>
  );
}

function Hyperparameters({ task, changed }: { task: Task; changed: () => void }) {
  const sections = Object.entries(task.hyperparameters ?? {});
  const editable = task.status === "created";
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [error, setError] = useState<Error | null>(null);
  if (!sections.length) return <p class="muted">No hyperparameters recorded.</p>;
  const dirty = Object.keys(draft).length > 0;
  const save = async () => {
    const body: Record<string, Record<string, { value: string; type: string; description: string }>> = {};
    for (const [key, value] of Object.entries(draft)) {
      const [section, name] = key.split("\u0000");
      const old = task.hyperparameters![section][name];
      (body[section] ??= {})[name] = { value, type: old.type, description: old.description };
    }
    try {
      await send("PUT", `/tasks/${task.id}/hyperparameters`, { hyperparameters: body });
      setDraft({});
      setError(null);
      changed();
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <div>
      {editable && (
        <div class="toolbar">
          <button id="save-params" disabled={!dirty} onClick={save}>
            Save changes
          </button>
          {dirty && <span class="muted">{Object.keys(draft).length} changed</span>}
          {error && <span class="error">{error.message}</span>}
        </div>
      )}
      {sections.map(([section, params]) => (
        <div key={section} class="section">
          <h3>{section}</h3>
          <table class="grid params" data-section={section}>
            <thead>
              <tr>
                <th>Name</th>
                <th>Value</th>
                <th>Type</th>
                <th>Description</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(params).map(([name, p]) => {
                const key = `${section}\u0000${name}`;
                return (
                  <tr key={name}>
                    <td>{name}</td>
                    <td class="mono">
                      {editable ? (
                        <input
                          class="mono"
                          name={`${section}/${name}`}
                          value={draft[key] ?? p.value}
                          onInput={(e) => {
                            const v = (e.target as HTMLInputElement).value;
                            setDraft((d) => {
                              const n = { ...d };
                              if (v === p.value) delete n[key];
                              else n[key] = v;
                              return n;
                            });
                          }}
                        />
                      ) : (
                        p.value
                      )}
                    </td>
                    <td class="muted">{p.type}</td>
                    <td class="muted">{p.description}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ))}
    </div>
  );
}

function Configurations({ task, changed }: { task: Task; changed: () => void }) {
  const configs = Object.entries(task.configurations ?? {});
  const editable = task.status === "created";
  const [text, setText] = useState<Record<string, string>>({});
  const [error, setError] = useState<Error | null>(null);
  if (!configs.length) return <p class="muted">No configurations recorded.</p>;
  return (
    <div>
      {error && <p class="error">{error.message}</p>}
      {configs.map(([name, c]) => (
        <div key={name} class="section" data-config={name}>
          <h3>{name}</h3>
          {c.description && <p class="muted">{c.description}</p>}
          {editable ? (
            <>
              <textarea class="code config-edit" rows={Math.min(30, c.value.split("\n").length + 2)} value={text[name] ?? c.value} onInput={(e) => setText({ ...text, [name]: (e.target as HTMLTextAreaElement).value })} />
              <button
                disabled={text[name] === undefined || text[name] === c.value}
                onClick={async () => {
                  try {
                    await send("PUT", `/tasks/${task.id}/configurations/${encodeURIComponent(name)}`, { value: text[name], description: c.description });
                    setText({});
                    setError(null);
                    changed();
                  } catch (e) {
                    setError(e as Error);
                  }
                }}
              >
                Save {name}
              </button>
            </>
          ) : (
            <pre class="code">{c.value}</pre>
          )}
        </div>
      ))}
    </div>
  );
}

export type XAxis = "iteration" | "time" | "relative";

export function ChartControls(props: {
  smoothing: number;
  setSmoothing: (v: number) => void;
  logY: boolean;
  setLogY: (v: boolean) => void;
  x: XAxis;
  setX: (v: XAxis) => void;
}) {
  return (
    <div class="toolbar chart-controls">
      <label>
        Smoothing
        <input type="range" min="0" max="0.99" step="0.01" value={props.smoothing} onInput={(e) => props.setSmoothing(Number((e.target as HTMLInputElement).value))} />
        <span class="mono">{props.smoothing.toFixed(2)}</span>
      </label>
      <label>
        <input type="checkbox" checked={props.logY} onChange={() => props.setLogY(!props.logY)} /> log scale
      </label>
      <label>
        X axis
        <select value={props.x} onChange={(e) => props.setX((e.target as HTMLSelectElement).value as XAxis)}>
          <option value="iteration">iteration</option>
          <option value="relative">time since start</option>
          <option value="time">wall time</option>
        </select>
      </label>
    </div>
  );
}

// Turns a series into chart lines for the chosen x axis and smoothing.
export function toLines(label: string, color: string, s: { iterations: number[]; values: (number | string)[]; times: number[] }, x: XAxis, smoothing: number, t0: number): Line[] {
  const xs = x === "iteration" ? s.iterations : x === "time" ? s.times : s.times.map((t) => t - t0);
  // uPlot needs ascending x; wall time can repeat, iterations may be logged out of order.
  const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b] || a - b);
  const xv = order.map((i) => xs[i]);
  const yv = order.map((i) => num(s.values[i]));
  if (smoothing <= 0) return [{ label, x: xv, y: yv, color }];
  return [
    { label: label + " (raw)", x: xv, y: yv, color, faint: true },
    { label, x: xv, y: smooth(yv, smoothing), color },
  ];
}

function Scalars({ task, live }: { task: Task; live: number }) {
  const [smoothing, setSmoothing] = useState(0);
  const [logY, setLogY] = useState(false);
  const [x, setX] = useState<XAxis>("iteration");
  const data = useLoad(
    async (signal) => {
      const { scalars } = await get<{ scalars: SeriesSummary[] }>(`/tasks/${task.id}/scalars`, signal);
      return Promise.all(scalars.map((s) => readSeries(task.id, s.title, s.series, 2000, signal)));
    },
    [task.id, live],
  );
  const byTitle = useMemo(() => {
    const m = new Map<string, Line[]>();
    if (!data.data) return m;
    const t0 = task.started || Math.min(...data.data.flatMap((s) => (s.times.length ? [s.times[0]] : [])));
    data.data.forEach((s) => {
      const lines = m.get(s.title) ?? [];
      const colorIdx = lines.filter((l) => !l.faint).length;
      lines.push(...toLines(s.series, ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"][colorIdx % 6], s, x, smoothing, t0));
      m.set(s.title, lines);
    });
    return m;
  }, [data.data, x, smoothing]);
  if (data.error && !data.data) return <ErrorBox error={data.error} />;
  if (!data.data) return <Loading />;
  if (!data.data.length) return <p class="muted">No scalars reported.</p>;
  return (
    <div>
      <ChartControls smoothing={smoothing} setSmoothing={setSmoothing} logY={logY} setLogY={setLogY} x={x} setX={setX} />
      <div class="charts">
        {[...byTitle.entries()].map(([title, lines]) => (
          <Chart key={title} title={title} lines={lines} logY={logY} xTime={x === "time"} xLabel={x === "iteration" ? "iteration" : x === "time" ? "time" : "seconds"} />
        ))}
      </div>
    </div>
  );
}

function Plots({ task, live, images }: { task: Task; live: number; images: boolean }) {
  const data = useLoad((s) => allPlots(task.id, s), [task.id, live]);
  if (data.error && !data.data) return <ErrorBox error={data.error} />;
  if (!data.data) return <Loading />;
  const plots = data.data.filter((p) => (p.kind === "image") === images);
  if (!plots.length) return <p class="muted">{images ? "No debug images reported." : "No plots or tables reported."}</p>;
  if (images) {
    // Group by title/series; newest iteration first.
    const groups = new Map<string, Plot[]>();
    plots.forEach((p) => groups.set(`${p.title} / ${p.series}`, [...(groups.get(`${p.title} / ${p.series}`) ?? []), p]));
    return (
      <div>
        {[...groups.entries()].map(([k, ps]) => (
          <div key={k} class="section">
            <h3>{k}</h3>
            <div class="images">
              {ps
                .slice()
                .sort((a, b) => b.iteration - a.iteration)
                .map((p) => (
                  <figure key={p.id}>
                    <a href={blobUrl(p.digest)} target="_blank" rel="noreferrer">
                      <img src={blobUrl(p.digest)} alt={`${k} iteration ${p.iteration}`} loading="lazy" />
                    </a>
                    <figcaption>iteration {p.iteration}</figcaption>
                  </figure>
                ))}
            </div>
          </div>
        ))}
      </div>
    );
  }
  return (
    <div class="plots">
      {plots.map((p) => (
        <PlotView key={p.id} plot={p} />
      ))}
    </div>
  );
}

function Console({ task, live }: { task: Task; live: number }) {
  const [lines, setLines] = useState<ConsoleLine[]>([]);
  const [error, setError] = useState<Error | null>(null);
  const [search, setSearch] = useState("");
  const [follow, setFollow] = useState(true);
  const box = useRef<HTMLDivElement>(null);
  const last = useRef(0);
  useEffect(() => {
    setLines([]);
    last.current = 0;
  }, [task.id]);
  useEffect(() => {
    const ctl = new AbortController();
    // Only the lines after the last one shown: a live console costs one small read per change.
    allConsole(task.id, last.current, ctl.signal).then(
      (more) => {
        if (ctl.signal.aborted || !more.length) return;
        last.current = more[more.length - 1].seq;
        setLines((l) => [...l, ...more]);
      },
      (e) => !ctl.signal.aborted && setError(e),
    );
    return () => ctl.abort();
  }, [task.id, live]);
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, follow]);
  const [all, setAll] = useState(false);
  const matching = search ? lines.filter((l) => l.text.toLowerCase().includes(search.toLowerCase())) : lines;
  // The DOM holds the last 5,000 lines unless asked for all (a long log stays responsive).
  const shown = all || matching.length <= 5000 ? matching : matching.slice(matching.length - 5000);
  return (
    <div>
      <div class="toolbar">
        <input type="search" placeholder="Search the console…" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
        <span class="muted">
          {search ? `${matching.length} of ${lines.length} lines` : `${lines.length} lines`}
        </span>
        {shown.length < matching.length && (
          <button onClick={() => setAll(true)}>Show all {matching.length} (the last {shown.length} are shown)</button>
        )}
        <label>
          <input type="checkbox" checked={follow} onChange={() => setFollow(!follow)} /> follow
        </label>
      </div>
      {error && <ErrorBox error={error} />}
      <div class="console" ref={box} id="console">
        {shown.map((l) => (
          <div key={l.seq} class={l.stream === "stderr" ? "line err" : "line"} title={fmtTime(l.time)}>
            {search ? highlight(l.text, search) : l.text}
          </div>
        ))}
      </div>
    </div>
  );
}

function highlight(text: string, needle: string) {
  const out = [];
  const lower = text.toLowerCase();
  const n = needle.toLowerCase();
  let at = 0;
  for (let i = lower.indexOf(n); i >= 0; i = lower.indexOf(n, at)) {
    out.push(text.slice(at, i), <mark>{text.slice(i, i + n.length)}</mark>);
    at = i + n.length;
  }
  out.push(text.slice(at));
  return out;
}

function Artifacts({ task, live }: { task: Task; live: number }) {
  const data = useLoad(
    async (s) => {
      const [a, m] = await Promise.all([get<{ artifacts: Artifact[] }>(`/tasks/${task.id}/artifacts`, s), get<{ models: Model[] }>(`/tasks/${task.id}/models`, s)]);
      return { artifacts: a.artifacts, models: m.models };
    },
    [task.id, live],
  );
  if (data.error && !data.data) return <ErrorBox error={data.error} />;
  if (!data.data) return <Loading />;
  return (
    <div>
      <h3>Artifacts</h3>
      {data.data.artifacts.length === 0 ? (
        <p class="muted">No artifacts.</p>
      ) : (
        <table class="grid" id="artifacts">
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th class="num">Size</th>
              <th>Digest</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.data.artifacts.map((a) => (
              <tr key={a.name}>
                <td>{a.name}</td>
                <td>{a.type}</td>
                <td class="num">{fmtBytes(a.size)}</td>
                <td class="mono muted" title={a.digest}>
                  {a.digest.slice(7, 19)}
                </td>
                <td>{fmtTime(a.created)}</td>
                <td>
                  <a href={artifactUrl(task.id, a.name)} download>
                    download
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Models</h3>
      {data.data.models.length === 0 ? (
        <p class="muted">No models.</p>
      ) : (
        <table class="grid" id="models">
          <thead>
            <tr>
              <th>Name</th>
              <th>Direction</th>
              <th>Framework</th>
              <th class="num">Size</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.data.models.map((m) => (
              <tr key={m.id}>
                <td>{m.name}</td>
                <td>{m.direction}</td>
                <td>{m.framework}</td>
                <td class="num">{m.digest ? fmtBytes(m.size) : "—"}</td>
                <td>{fmtTime(m.created)}</td>
                <td>{m.digest && <a href={blobUrl(m.digest)} download={m.name}>download</a>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Code({ task }: { task: Task }) {
  const s = task.script;
  return (
    <div>
      <KeyValues
        rows={[
          ["Repository", s.repository || "—"],
          ["Branch", s.branch || "—"],
          ["Commit", s.commit ? <span class="mono">{s.commit}</span> : "—"],
          ["Working dir", s.working_dir || "—"],
          ["Entry point", s.entry_point || "—"],
          ["Command line", s.argv.length ? <span class="mono">{s.argv.join(" ")}</span> : "—"],
        ]}
      />
      {s.diff ? (
        <>
          <h3>Uncommitted changes</h3>
          <Diff text={s.diff} />
        </>
      ) : s.repository ? (
        <p class="muted">No uncommitted changes.</p>
      ) : null}
      {s.content && (
        <>
          <h3>Script</h3>
          <pre class="code" id="script">{s.content}</pre>
        </>
      )}
    </div>
  );
}

function Diff({ text }: { text: string }) {
  const lines = text.split("\n");
  return (
    <pre class="code diff" id="diff">
      {lines.map((l, i) => {
        const cls = l.startsWith("diff --git") || l.startsWith("index ") || l.startsWith("+++") || l.startsWith("---") ? "d-file" : l.startsWith("@@") ? "d-hunk" : l.startsWith("+") ? "d-add" : l.startsWith("-") ? "d-del" : "";
        return (
          <div key={i} class={cls}>
            {l || " "}
          </div>
        );
      })}
    </pre>
  );
}

function Environment({ task }: { task: Task }) {
  const [filter, setFilter] = useState("");
  const e = task.environment;
  const packages = (e.freeze ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const m = l.match(/^([^=<>@ ]+)\s*(?:==|@|===)\s*(.*)$/);
      return m ? [m[1], m[2]] : [l, ""];
    });
  const shown = filter ? packages.filter(([n]) => n.toLowerCase().includes(filter.toLowerCase())) : packages;
  return (
    <div>
      <KeyValues
        rows={[
          ["Interpreter", e.interpreter || "—"],
          ["OS", e.os || "—"],
          ["Host", e.host || "—"],
        ]}
      />
      <h3>Requirements</h3>
      {e.requirements ? <pre class="code" id="requirements">{e.requirements}</pre> : <p class="muted">None recorded.</p>}
      <h3>Installed packages ({packages.length})</h3>
      {packages.length > 0 && (
        <>
          <input type="search" placeholder="Filter packages…" value={filter} onInput={(ev) => setFilter((ev.target as HTMLInputElement).value)} />
          <table class="grid" id="packages">
            <thead>
              <tr>
                <th>Package</th>
                <th>Version</th>
              </tr>
            </thead>
            <tbody>
              {shown.map(([n, v]) => (
                <tr key={n}>
                  <td>{n}</td>
                  <td class="mono">{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
