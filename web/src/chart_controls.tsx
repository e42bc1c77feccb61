// Chart controls shared by the task's Scalars tab and the compare view: smoothing, log scale, x axis.
import { num } from "./api";
import { Line, smooth } from "./chart";

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
