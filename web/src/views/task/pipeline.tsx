// The Pipeline tab of a pipeline run (configuration "dag": `rh repro
// --queue`, or `rh repro` recording to a server): the stages as a graph, a
// column per depth, each node the stage's task with its status, worker and
// duration (or "cached", linking to the task it reused), linking to it (a
// stage with no task did not run: up to date, or after a failure); it
// follows every task change while the run is live.
import { get, Task } from "../../api";
import { StatusBadge, useLoad } from "../../common";
import { taskDuration } from "../../format";
import { useChanges } from "../../live";
import { Link } from "../../router";

interface DagStage {
  name: string;
  after: string[];
}

const isFinal = (s: string) => s === "completed" || s === "failed" || s === "aborted";

const W = 190;
const H = 64;
const GAP_X = 70;
const GAP_Y = 20;

export function dagOf(task: Task): DagStage[] | null {
  const text = task.configurations?.dag?.value;
  if (!text) return null;
  try {
    const d = JSON.parse(text);
    return Array.isArray(d.stages) ? d.stages : null;
  } catch {
    return null;
  }
}

export function Pipeline({ task, live }: { task: Task; live: boolean }) {
  const stages = dagOf(task) ?? [];
  const any = useChanges(null, live);
  // Reloaded on every task change while live, and once more as the run ends.
  const steps = useLoad((s) => get<{ tasks: Task[] }>(`/tasks?parent=${task.id}&limit=1000&order=asc`, s), [task.id, any, task.status]);
  // Depth: 0 without stages before it, else one more than the deepest of them.
  const depth = new Map<string, number>();
  const depthOf = (name: string, seen: Set<string>): number => {
    if (depth.has(name)) return depth.get(name)!;
    const s = stages.find((x) => x.name === name);
    if (!s || seen.has(name)) return 0;
    seen.add(name);
    const d = s.after.length ? 1 + Math.max(...s.after.map((a) => depthOf(a, seen))) : 0;
    depth.set(name, d);
    return d;
  };
  stages.forEach((s) => depthOf(s.name, new Set()));
  const columns: string[][] = [];
  for (const s of stages) (columns[depth.get(s.name) ?? 0] ??= []).push(s.name);
  const at = new Map<string, { x: number; y: number }>();
  columns.forEach((names, c) => names.forEach((n, r) => at.set(n, { x: c * (W + GAP_X), y: r * (H + GAP_Y) })));
  const width = Math.max(1, columns.length) * (W + GAP_X) - GAP_X;
  const height = Math.max(1, ...columns.map((c) => c.length)) * (H + GAP_Y) - GAP_Y;
  const byName = new Map((steps.data?.tasks ?? []).map((t) => [t.name, t]));
  return (
    <div>
      <p class="muted">
        {stages.length} stages · {[...byName.values()].filter((t) => t.status === "completed").length} completed
      </p>
      <div class="dag" id="pipeline-dag" style={{ width: `${width}px`, height: `${height}px` }}>
        <svg width={width} height={height} class="dag-edges">
          {stages.flatMap((s) =>
            s.after
              .filter((a) => at.has(a))
              .map((a) => {
                const p = at.get(a)!;
                const q = at.get(s.name)!;
                const x1 = p.x + W;
                const y1 = p.y + H / 2;
                const x2 = q.x;
                const y2 = q.y + H / 2;
                const mid = (x1 + x2) / 2;
                return <path key={`${a}->${s.name}`} data-edge={`${a}->${s.name}`} d={`M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`} fill="none" stroke="#8896ab" stroke-width="1.5" />;
              }),
          )}
        </svg>
        {stages.map((s) => {
          const p = at.get(s.name)!;
          const t = byName.get(s.name);
          return (
            <div key={s.name} class={`dag-node status-border-${t?.status ?? "created"}`} data-stage={s.name} data-status={t?.status ?? ""} style={{ left: `${p.x}px`, top: `${p.y}px`, width: `${W}px`, height: `${H}px` }}>
              <div class="dag-name">{t ? <Link href={`/tasks/${t.id}`}>{s.name}</Link> : s.name}</div>
              <div>
                {t ? <StatusBadge status={t.status} /> : <span class="muted">{isFinal(task.status) ? "did not run" : "waiting"}</span>}{" "}
                <span class="muted">{t?.runtime.worker ?? ""}</span>
              </div>
              <div class="muted">{t?.runtime.cached_from ? <Link href={`/tasks/${t.runtime.cached_from}`}>cached</Link> : t && t.started ? taskDuration(t) : t?.status_message || ""}</div>
            </div>
          );
        })}
      </div>
    </div>
  );
}
