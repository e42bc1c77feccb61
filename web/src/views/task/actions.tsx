// The task page's actions: clone, enqueue, abort (as the task's status allows).
import { useState } from "preact/hooks";
import { get, Queue, send, Task } from "../../api";
import { useLoad } from "../../common";
import { navigate } from "../../router";

export function TaskActions({ task, changed }: { task: Task; changed: () => void }) {
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
