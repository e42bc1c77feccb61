// Compare 2–10 tasks: one chart per metric with every task overlaid, and the
// parameters side by side with differing rows marked.
import { useMemo, useState } from "preact/hooks";
import { get, readSeries, SeriesSummary, Task } from "../api";
import { Chart, color, Line } from "../chart";
import { ErrorBox, Loading, StatusBadge, useLoad } from "../common";
import { shortId } from "../format";
import { Link } from "../router";
import { ChartControls, toLines, XAxis } from "../chart_controls";

export function Compare({ ids }: { ids: string[] }) {
  const [onlyDiff, setOnlyDiff] = useState(false);
  const [smoothing, setSmoothing] = useState(0);
  const [logY, setLogY] = useState(false);
  const [x, setX] = useState<XAxis>("iteration");
  const data = useLoad(
    async (signal) => {
      if (ids.length < 2 || ids.length > 10) throw new Error("Pick 2 to 10 tasks to compare.");
      const tasks = await Promise.all(ids.map((id) => get<Task>(`/tasks/${id}`, signal)));
      const series = await Promise.all(
        tasks.map(async (t) => {
          const { scalars } = await get<{ scalars: SeriesSummary[] }>(`/tasks/${t.id}/scalars`, signal);
          return Promise.all(scalars.map((s) => readSeries(t.id, s.title, s.series, 1000, signal)));
        }),
      );
      return { tasks, series };
    },
    [ids.join(",")],
  );
  const charts = useMemo(() => {
    const m = new Map<string, Line[]>();
    if (!data.data) return m;
    data.data.tasks.forEach((t, i) => {
      data.data!.series[i].forEach((s) => {
        const key = `${s.title} / ${s.series}`;
        const t0 = t.started || (s.times.length ? s.times[0] : 0);
        m.set(key, [...(m.get(key) ?? []), ...toLines(`${t.name} ${shortId(t.id)}`, color(i), s, x, smoothing, t0)]);
      });
    });
    return new Map([...m.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }, [data.data, x, smoothing]);
  if (data.error) return <ErrorBox error={data.error} />;
  if (!data.data) return <Loading />;
  const { tasks } = data.data;

  // Union of parameter names, in section/name order.
  const keys = new Set<string>();
  tasks.forEach((t) => Object.entries(t.hyperparameters ?? {}).forEach(([sec, ps]) => Object.keys(ps).forEach((n) => keys.add(`${sec}\u0000${n}`))));
  const rows = [...keys].sort().map((k) => {
    const [sec, name] = k.split("\u0000");
    const values = tasks.map((t) => t.hyperparameters?.[sec]?.[name]?.value);
    const differs = values.some((v) => v !== values[0]);
    return { sec, name, values, differs };
  });
  return (
    <section>
      <h1>Compare {tasks.length} tasks</h1>
      <div class="compare-tasks">
        {tasks.map((t, i) => (
          <span key={t.id} class="legend-item">
            <span class="swatch" style={{ background: color(i) }} />
            <Link href={`/tasks/${t.id}`}>{t.name}</Link> <span class="muted mono">{shortId(t.id)}</span> <StatusBadge status={t.status} />
          </span>
        ))}
      </div>
      <h2>Parameters</h2>
      <label>
        <input type="checkbox" checked={onlyDiff} onChange={() => setOnlyDiff(!onlyDiff)} /> only differences
      </label>
      <table class="grid" id="compare-params">
        <thead>
          <tr>
            <th>Parameter</th>
            {tasks.map((t) => (
              <th key={t.id}>
                {t.name} <span class="muted mono">{shortId(t.id)}</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows
            .filter((r) => !onlyDiff || r.differs)
            .map((r) => (
              <tr key={r.sec + "/" + r.name} class={r.differs ? "differs" : ""}>
                <td>
                  {r.sec}/{r.name}
                </td>
                {r.values.map((v, i) => (
                  <td key={i} class="mono">
                    {v ?? <span class="muted">—</span>}
                  </td>
                ))}
              </tr>
            ))}
        </tbody>
      </table>
      <h2>Scalars</h2>
      <ChartControls smoothing={smoothing} setSmoothing={setSmoothing} logY={logY} setLogY={setLogY} x={x} setX={setX} />
      {charts.size === 0 && <p class="muted">None of these tasks reported scalars.</p>}
      <div class="charts">
        {[...charts.entries()].map(([title, lines]) => (
          <Chart key={title} title={title} lines={lines} logY={logY} xTime={x === "time"} xLabel={x === "iteration" ? "iteration" : x === "time" ? "time" : "seconds"} />
        ))}
      </div>
    </section>
  );
}
