// One experiment: its state and buttons (pause, activate, cancel), the
// trials table (values, state, how far each got, best metric; sortable; each
// trial links to its task), the best-so-far curve against the total length
// trained, every trial's searcher-metric curve overlaid, and a
// parallel-coordinates view of the values against the metric. Live: it
// refreshes when any task changes.
import { useState } from "preact/hooks";
import { Experiment, get, num, readSeries, send, Series, Trial } from "../api";
import { Chart, color, Line } from "../chart";
import { ErrorBox, KeyValues, Loading, StatusBadge, useLoad } from "../common";
import { fmtNumber, shortId } from "../format";
import { useChanges } from "../live";
import { Link } from "../router";

type Flat = Record<string, unknown>;

function flatten(v: Record<string, unknown>, prefix = "", out: Flat = {}): Flat {
  for (const [k, x] of Object.entries(v)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (x && typeof x === "object" && !Array.isArray(x)) flatten(x as Record<string, unknown>, key, out);
    else out[key] = x;
  }
  return out;
}

const show = (v: unknown) => (typeof v === "number" ? fmtNumber(v) : v === undefined ? "—" : String(v));

// The best metric so far against the total length all trials had trained
// when it was reported (points of every trial in time order).
export function bestSoFar(series: Series[], smaller: boolean): Line {
  const points: { t: number; trial: number; x: number; y: number }[] = [];
  series.forEach((s, trial) => s.iterations.forEach((x, i) => points.push({ t: s.times[i], trial, x, y: num(s.values[i]) })));
  points.sort((a, b) => a.t - b.t);
  const reached = new Map<number, number>();
  let total = 0;
  let best = NaN;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const p of points) {
    total += Math.max(0, p.x - (reached.get(p.trial) ?? 0));
    reached.set(p.trial, Math.max(p.x, reached.get(p.trial) ?? 0));
    if (Number.isFinite(p.y) && (Number.isNaN(best) || (smaller ? p.y < best : p.y > best))) best = p.y;
    if (xs.length && xs[xs.length - 1] === total) ys[ys.length - 1] = best;
    else {
      xs.push(total);
      ys.push(best);
    }
  }
  return { label: "best so far", x: xs, y: ys };
}

function Parallel({ trials, keys, smaller }: { trials: Trial[]; keys: string[]; smaller: boolean }) {
  const rows = trials.filter((t) => t.best_metric !== undefined).map((t) => ({ t, v: flatten(t.hparams) }));
  if (!rows.length) return <p class="muted">No trial has reported the metric yet.</p>;
  const axes = [...keys, "metric"];
  const W = Math.max(400, axes.length * 160);
  const H = 240;
  const pad = 30;
  const scale = (axis: string) => {
    const vals = rows.map((r) => (axis === "metric" ? r.t.best_metric : r.v[axis]));
    const nums = vals.every((x) => typeof x === "number");
    const cats = nums ? [] : [...new Set(vals.map(String))].sort();
    const lo = nums ? Math.min(...(vals as number[])) : 0;
    const hi = nums ? Math.max(...(vals as number[])) : Math.max(1, cats.length - 1);
    return (x: unknown) => {
      const n = nums ? (x as number) : cats.indexOf(String(x));
      return H - pad - ((hi === lo ? 0.5 : (n - lo) / (hi - lo)) * (H - 2 * pad));
    };
  };
  const scales = axes.map(scale);
  const xAt = (i: number) => pad + (i * (W - 2 * pad)) / Math.max(1, axes.length - 1);
  const metrics = rows.map((r) => r.t.best_metric as number);
  const lo = Math.min(...metrics);
  const hi = Math.max(...metrics);
  return (
    <svg id="parallel" width={W} height={H} viewBox={`0 0 ${W} ${H}`}>
      {axes.map((a, i) => (
        <g key={a}>
          <line x1={xAt(i)} x2={xAt(i)} y1={pad} y2={H - pad} stroke="#999" />
          <text x={xAt(i)} y={pad - 10} text-anchor="middle" font-size="12">
            {a}
          </text>
        </g>
      ))}
      {rows.map((r) => {
        // Better trials are darker.
        const q = hi === lo ? 1 : smaller ? (hi - (r.t.best_metric as number)) / (hi - lo) : ((r.t.best_metric as number) - lo) / (hi - lo);
        const pts = axes.map((a, i) => `${xAt(i)},${scales[i](a === "metric" ? r.t.best_metric : r.v[a])}`).join(" ");
        return (
          <polyline key={r.t.trial} data-trial={r.t.trial} points={pts} fill="none" stroke={color(0)} stroke-opacity={0.25 + 0.75 * q} stroke-width={1.5}>
            <title>{`trial ${r.t.trial}: ${fmtNumber(r.t.best_metric as number)}`}</title>
          </polyline>
        );
      })}
    </svg>
  );
}

export function ExperimentPage({ id }: { id: string }) {
  const tick = useChanges(null, true);
  const [sort, setSort] = useState<{ key: string; desc: boolean }>({ key: "trial", desc: false });
  const [error, setError] = useState<Error | null>(null);
  const data = useLoad(
    async (s) => {
      const e = await get<Experiment>(`/experiments/${id}`, s);
      const trials = (e.trials as Trial[]) ?? [];
      const series = await Promise.all(
        trials.map((t) =>
          t.validations ? readSeries(t.task_id, e.metric_title, e.metric_series, 2000, s) : Promise.resolve({ iterations: [], values: [], times: [] } as unknown as Series),
        ),
      );
      return { e, trials, series };
    },
    [id, tick],
  );
  if (data.error && !data.data) return <ErrorBox error={data.error} />;
  if (!data.data) return <Loading />;
  const { e, trials, series } = data.data;
  const smaller = e.searcher?.smaller_is_better ?? true;
  const keys = [...new Set(trials.flatMap((t) => Object.keys(flatten(t.hparams))))].sort();
  const value = (t: Trial, k: string): unknown => (k in t ? (t as unknown as Flat)[k] : flatten(t.hparams)[k]);
  const sorted = [...trials].sort((a, b) => {
    const x = value(a, sort.key);
    const y = value(b, sort.key);
    const c = x === undefined ? 1 : y === undefined ? -1 : typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return sort.desc ? -c : c;
  });
  const act = async (what: string) => {
    try {
      await send("POST", `/experiments/${e.id}/${what}`, {});
      setError(null);
    } catch (err) {
      setError(err as Error);
    }
  };
  const header = (k: string, label: string, num = false) => (
    <th class={`sortable${num ? " num" : ""}`} data-key={k} onClick={() => setSort((s) => ({ key: k, desc: s.key === k ? !s.desc : false }))}>
      {label}
      {sort.key === k ? (sort.desc ? " ▼" : " ▲") : ""}
    </th>
  );
  const best = e.best ? trials.find((t) => t.trial === e.best!.trial) : undefined;
  // A trial with one point so far shows as a marker (a line needs two).
  const curves: Line[] = trials.map((t, i) => ({ label: `trial ${t.trial}`, x: series[i].iterations, y: series[i].values.map(num), points: series[i].iterations.length === 1 }));
  return (
    <section id="experiment">
      <h1>
        {e.name} <StatusBadge status={e.state} />
      </h1>
      <div class="toolbar" id="experiment-actions">
        {e.state === "running" && <button onClick={() => act("pause")}>Pause</button>}
        {e.state === "paused" && <button onClick={() => act("activate")}>Activate</button>}
        {(e.state === "running" || e.state === "paused") && <button onClick={() => act("cancel")}>Cancel</button>}
      </div>
      {error && <ErrorBox error={error} />}
      <KeyValues
        rows={[
          ["ID", e.id],
          ["Project", e.project],
          ["Queue", e.queue],
          ["Searcher", e.searcher ? `${e.searcher.name} on ${e.searcher.metric} (${smaller ? "smaller" : "larger"} is better), max length ${e.searcher.max_length} ${e.searcher.unit}` : "—"],
          ["Progress", `${Math.round(100 * e.progress)}%`],
          [
            "Best",
            best ? (
              <span id="best">
                trial {best.trial} ({fmtNumber(e.best!.metric)}): <Link href={`/tasks/${best.task_id}`}>task {shortId(best.task_id)}</Link>
                {best.latest_checkpoint && (
                  <>
                    {" "}
                    · <Link href={`/tasks/${best.task_id}/artifacts`}>checkpoint {best.latest_checkpoint.slice(0, 8)}</Link>
                  </>
                )}
              </span>
            ) : (
              "—"
            ),
          ],
          ...(e.message ? ([["Message", e.message]] as [string, string][]) : []),
        ]}
      />
      <h2>Trials</h2>
      <table class="grid" id="trials">
        <thead>
          <tr>
            {header("trial", "Trial", true)}
            {header("state", "State")}
            {header("until", "Target", true)}
            {header("reached", "Reached", true)}
            {header("best_metric", "Best", true)}
            {header("restarts", "Restarts", true)}
            {keys.map((k) => header(k, k, true))}
          </tr>
        </thead>
        <tbody>
          {sorted.map((t) => (
            <tr key={t.trial} data-trial={t.trial}>
              <td class="num">
                <Link href={`/tasks/${t.task_id}`}>{t.trial}</Link>
              </td>
              <td>
                <StatusBadge status={t.state} />
              </td>
              <td class="num">{t.until}</td>
              <td class="num">{show(t.reached)}</td>
              <td class="num">{show(t.best_metric)}</td>
              <td class="num">{t.restarts}</td>
              {keys.map((k) => (
                <td key={k} class="num">
                  {show(flatten(t.hparams)[k])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <div class="charts">
        <div id="best-so-far">
          <Chart title="best so far" lines={[bestSoFar(series, smaller)]} xLabel="total length trained" />
        </div>
        <div id="validation-curves">
          <Chart title={`${e.metric_title}/${e.metric_series}`} lines={curves} xLabel="length" />
        </div>
      </div>
      <h2>Values against the metric</h2>
      <Parallel trials={trials} keys={keys} smaller={smaller} />
    </section>
  );
}
