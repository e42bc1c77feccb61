// The page `rh plots show|diff` writes: one self-contained HTML file (this
// bundle, its CSS and the data inlined; nothing fetched), every plot of the
// pipeline with the revisions overlaid. The data is the JSON that
// pipeline/plots.h describes, in <script type="application/json" id="rh-plots">.
import { render } from "preact";
import { Chart, Line, color } from "../chart";
import "../style.css";
import "./report.css";

interface Series {
  rev: string;
  file: string;
  x_field: string;
  y_field: string;
  x: unknown[];
  y: unknown[];
}
interface Plot {
  id: string;
  title: string;
  template: string;
  x_label: string;
  y_label: string;
  series: Series[];
  images: { rev: string; file: string; src: string }[];
}
interface Report {
  revisions: string[];
  plots: Plot[];
  errors?: string[];
}

const num = (v: unknown) => (typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN);

// A series' label: the revision when the plot has one series per revision,
// plus file and field where a plot draws several.
function labels(p: Plot, revs: string[]): string[] {
  const perRev = new Map<string, number>();
  for (const s of p.series) perRev.set(s.rev, (perRev.get(s.rev) ?? 0) + 1);
  const several = [...perRev.values()].some((n) => n > 1);
  return p.series.map((s) => {
    const what = several ? `${s.file === p.id ? "" : s.file + ": "}${s.y_field}` : "";
    if (revs.length > 1) return what ? `${s.rev} ${what}` : s.rev;
    return what || s.y_field;
  });
}

function LinePlot({ p, revs }: { p: Plot; revs: string[] }) {
  const names = labels(p, revs);
  // Categorical x (text): points at 0, 1, 2... in first-seen order.
  const cats: string[] = [];
  const numeric = p.series.every((s) => s.x.every((v) => Number.isFinite(num(v))));
  const lines: Line[] = p.series.map((s, i) => {
    const x = numeric
      ? s.x.map(num)
      : s.x.map((v) => {
          const k = String(v);
          if (!cats.includes(k)) cats.push(k);
          return cats.indexOf(k);
        });
    return { label: names[i], x, y: s.y.map(num), color: color(i), points: p.template.startsWith("scatter") };
  });
  const xLabel = p.x_label || (p.series[0]?.x_field ?? "step");
  return <Chart title={p.title || p.id} lines={lines} xLabel={xLabel} />;
}

function Confusion({ p }: { p: Plot }) {
  const normalized = p.template === "confusion_normalized";
  return (
    <div class="chart">
      <div class="chart-title">{p.title || p.id}</div>
      <div class="confusions">
        {p.series.map((s) => {
          const actual = [...new Set(s.x.map(String))].sort();
          const predicted = [...new Set([...s.y.map(String), ...actual])].sort();
          const counts = new Map<string, number>();
          s.x.forEach((a, i) => {
            const k = `${a}\u0000${s.y[i]}`;
            counts.set(k, (counts.get(k) ?? 0) + 1);
          });
          const rowTotal = (a: string) => predicted.reduce((n, q) => n + (counts.get(`${a}\u0000${q}`) ?? 0), 0);
          const max = Math.max(1, ...counts.values());
          return (
            <table class="grid confusion" data-rev={s.rev}>
              <caption>
                {s.rev} — rows: {p.x_label || s.x_field}, columns: {p.y_label || s.y_field}
              </caption>
              <tr>
                <th />
                {predicted.map((q) => (
                  <th>{q}</th>
                ))}
              </tr>
              {actual.map((a) => (
                <tr>
                  <th>{a}</th>
                  {predicted.map((q) => {
                    const n = counts.get(`${a}\u0000${q}`) ?? 0;
                    const v = normalized ? n / Math.max(1, rowTotal(a)) : n;
                    const shade = normalized ? v : n / max;
                    return <td style={{ background: `rgba(47,111,221,${(shade * 0.8).toFixed(3)})` }}>{normalized ? v.toFixed(2) : n}</td>;
                  })}
                </tr>
              ))}
            </table>
          );
        })}
      </div>
    </div>
  );
}

function Bars({ p }: { p: Plot }) {
  const sorted = p.template === "bar_horizontal_sorted";
  return (
    <div class="chart">
      <div class="chart-title">{p.title || p.id}</div>
      {p.series.map((s) => {
        let rows = s.x.map((v, i) => ({ value: num(v), label: String(s.y[i]) }));
        if (sorted) rows = [...rows].sort((a, b) => b.value - a.value);
        const max = Math.max(1e-12, ...rows.map((r) => Math.abs(r.value)).filter(Number.isFinite));
        return (
          <div class="bars" data-rev={s.rev}>
            <div class="muted">{s.rev}</div>
            {rows.map((r) => (
              <div class="bar-row">
                <span class="bar-label">{r.label}</span>
                <span class="bar" style={{ width: `${(Math.abs(r.value) / max) * 60}%` }} />
                <span class="mono">{r.value}</span>
              </div>
            ))}
          </div>
        );
      })}
    </div>
  );
}

function Images({ p }: { p: Plot }) {
  return (
    <div class="chart">
      <div class="chart-title">{p.title || p.id}</div>
      <div class="images">
        {p.images.map((im) => (
          <figure>
            <img src={im.src} alt={`${im.file} at ${im.rev}`} />
            <figcaption>{im.rev}</figcaption>
          </figure>
        ))}
      </div>
    </div>
  );
}

function PlotView({ p, revs }: { p: Plot; revs: string[] }) {
  if (p.images.length) return <Images p={p} />;
  if (!p.series.length)
    return (
      <div class="chart">
        <div class="chart-title">{p.title || p.id}</div>
        <p class="muted">No data at {revs.join(", ")}.</p>
      </div>
    );
  if (p.template.startsWith("confusion")) return <Confusion p={p} />;
  if (p.template.startsWith("bar_horizontal")) return <Bars p={p} />;
  return <LinePlot p={p} revs={revs} />;
}

function ReportPage({ r }: { r: Report }) {
  return (
    <main>
      <h1>Plots</h1>
      <p class="muted">
        {r.revisions.length > 1 ? "Revisions: " : "Revision: "}
        {r.revisions.join(", ")}
      </p>
      {r.errors?.length ? (
        <div class="error">
          {r.errors.map((e) => (
            <div>{e}</div>
          ))}
        </div>
      ) : null}
      <div class="charts">
        {r.plots.map((p) => (
          <div class="plot" data-plot={p.id} data-template={p.template}>
            <PlotView p={p} revs={r.revisions} />
          </div>
        ))}
      </div>
    </main>
  );
}

const data = document.getElementById("rh-plots");
const report: Report = JSON.parse(data?.textContent || '{"revisions": [], "plots": []}');
render(<ReportPage r={report} />, document.getElementById("root") ?? document.body);
