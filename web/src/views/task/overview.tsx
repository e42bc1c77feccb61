// The Overview tab: what the task is, when it ran, its last scalars.
import { get, num, SeriesSummary, Task } from "../../api";
import { KeyValues, useLoad } from "../../common";
import { fmtBytes, fmtNumber, fmtTime, shortId, taskDuration } from "../../format";
import { Link } from "../../router";

export function Overview({ task, live }: { task: Task; live: number }) {
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
