// The Scalars tab: a chart per title, smoothing, log scale and x axis.
import { useMemo, useState } from "preact/hooks";
import { get, readSeries, SeriesSummary, Task } from "../../api";
import { Chart, Line } from "../../chart";
import { ErrorBox, Loading, useLoad } from "../../common";
import { ChartControls, toLines, XAxis } from "../../chart_controls";

export function Scalars({ task, live }: { task: Task; live: number }) {
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
