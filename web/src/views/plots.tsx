// Plots and tables reported by a task (logger.report_table / report_scatter2d /
// report_line, or a Plotly figure's traces).
import { Plot } from "../api";
import { Chart, Line, color } from "../chart";

export function PlotView({ plot }: { plot: Plot }) {
  const head = (
    <h3>
      {plot.title} / {plot.series} <span class="muted">iteration {plot.iteration}</span>
    </h3>
  );
  const d = plot.data ?? {};
  if (plot.kind === "table") {
    const columns: string[] = d.columns ?? [];
    const rows: unknown[][] = d.rows ?? [];
    return (
      <div class="section plot" data-plot={plot.title}>
        {head}
        <div class="table-wrap">
          <table class="grid report-table">
            <thead>
              <tr>
                {columns.map((c, i) => (
                  <th key={i}>{String(c)}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={i}>
                  {r.map((v, j) => (
                    <td key={j} class={typeof v === "number" ? "num" : ""}>
                      {v === null ? "" : String(v)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    );
  }
  let lines: Line[] = [];
  let xLabel = "";
  if (plot.kind === "scatter2d" && Array.isArray(d.x) && Array.isArray(d.y)) {
    lines = [sorted(plot.series, d.x, d.y, 0, d.mode !== "lines")];
    xLabel = d.xaxis ?? "";
  } else if (plot.kind === "plotly" && Array.isArray(d.data)) {
    lines = d.data
      .filter((t: any) => Array.isArray(t.x) && Array.isArray(t.y) && t.x.every((v: unknown) => typeof v === "number"))
      .map((t: any, i: number) => sorted(t.name ?? `trace ${i}`, t.x, t.y, i, t.mode === "markers"));
    xLabel = d.layout?.xaxis?.title?.text ?? "";
  }
  if (lines.length) {
    return (
      <div class="section plot" data-plot={plot.title}>
        {head}
        <Chart title={plot.series} lines={lines} xLabel={xLabel} />
      </div>
    );
  }
  return (
    <div class="section plot" data-plot={plot.title}>
      {head}
      <pre class="code">{JSON.stringify(d, null, 2)}</pre>
    </div>
  );
}

function sorted(label: string, x: number[], y: number[], i: number, points: boolean): Line {
  const order = x.map((_, k) => k).sort((a, b) => x[a] - x[b]);
  return { label, x: order.map((k) => x[k]), y: order.map((k) => y[k]), color: color(i), points };
}
