// Interactive line charts with uPlot: zoom by dragging, double-click to reset,
// values of every series under the cursor in the legend.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Line {
  label: string;
  x: number[];
  y: number[];
  faint?: boolean; // the raw series behind a smoothed one
  color?: string;
  points?: boolean; // markers instead of a line
}

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
export const color = (i: number) => PALETTE[i % PALETTE.length];
const INT_INCRS = Array.from({ length: 16 }, (_, e) => [1, 2, 5].map((m) => m * 10 ** e)).flat();

// Exponential moving average with TensorBoard's debiasing, so the first
// points are not pulled towards zero.
export function smooth(y: number[], weight: number): number[] {
  if (weight <= 0) return y;
  let last = 0;
  let n = 0;
  return y.map((v) => {
    if (!Number.isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    n++;
    return last / (1 - Math.pow(weight, n));
  });
}

export function Chart(props: {
  title: string;
  lines: Line[];
  xLabel?: string;
  xTime?: boolean;
  logY?: boolean;
  height?: number;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    // uPlot wants one x column shared by all series: join aligns them.
    const tables = props.lines.map((l) => [l.x, l.y.map((v) => (Number.isFinite(v) && (!props.logY || v > 0) ? v : null))]);
    const data = (tables.length ? uPlot.join(tables as any) : [[]]) as uPlot.AlignedData;
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth),
      height: props.height ?? 260,
      scales: {
        x: { time: !!props.xTime },
        y: props.logY ? { distr: 3 } : {},
      },
      // Iterations are whole numbers: no ticks at 0.5.
      axes: [props.xTime ? { label: props.xLabel } : { label: props.xLabel, incrs: props.xLabel === "iteration" ? INT_INCRS : undefined }, { size: 60 }],
      series: [
        { label: props.xLabel ?? "x" },
        ...props.lines.map((l, i) => ({
          label: l.label,
          stroke: l.color ?? color(i),
          width: l.faint ? 1 : 1.5,
          alpha: l.faint ? 0.3 : 1,
          spanGaps: true,
          points: l.points ? { show: true, size: 5 } : { show: false },
          paths: l.points ? () => null : undefined,
        })),
      ],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
    };
    const u = new uPlot(opts, data, el);
    (el as any).uplot = u; // lets browser tests read what is drawn
    el.dataset.points = String(props.lines.reduce((n, l) => n + l.x.length, 0));
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(300, el.clientWidth), height: props.height ?? 260 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
    };
  }, [props.lines, props.xTime, props.logY, props.height, props.xLabel]);
  return (
    <div class="chart">
      <div class="chart-title">{props.title}</div>
      <div ref={ref} class="chart-body" data-chart={props.title} />
    </div>
  );
}
