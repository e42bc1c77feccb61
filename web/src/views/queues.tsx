// Queues (what waits where, who serves it) and workers (what each agent runs
// now, when it was last heard from). Both refresh every two seconds.
import { useEffect, useState } from "preact/hooks";
import { get, q, Queue, QueueEntry, send, Worker } from "../api";
import { ErrorBox, Loading, useLoad } from "../common";
import { fmtDuration, fmtTime, shortId } from "../format";
import { Link } from "../router";

function useTick(ms: number) {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((x) => x + 1), ms);
    return () => clearInterval(t);
  }, [ms]);
  return tick;
}

const ago = (t: number) => fmtDuration(Math.max(0, Date.now() / 1000 - t)) + " ago";

export function Queues() {
  const tick = useTick(2000);
  const [error, setError] = useState<Error | null>(null);
  const data = useLoad(
    async (s) => {
      const [{ queues }, { workers }] = await Promise.all([get<{ queues: Queue[] }>("/queues", s), get<{ workers: Worker[] }>("/workers", s)]);
      const entries = await Promise.all(queues.map((x) => get<{ entries: QueueEntry[] }>(`/queues/${q(x.name)}/entries?limit=20`, s)));
      return { queues, workers, entries: entries.map((e) => e.entries) };
    },
    [tick],
  );
  if (data.error && !data.data) return <ErrorBox error={data.error} />;
  if (!data.data) return <Loading />;
  const { queues, workers, entries } = data.data;
  return (
    <section>
      <h1>Queues</h1>
      <form
        class="toolbar"
        id="create-queue"
        onSubmit={async (e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const name = (form.elements.namedItem("name") as HTMLInputElement).value.trim();
          const requeue = (form.elements.namedItem("requeue") as HTMLInputElement).checked;
          try {
            await send("POST", "/queues", { name, requeue_on_lost: requeue });
            form.reset();
            setError(null);
          } catch (err) {
            setError(err as Error);
          }
        }}
      >
        <input name="name" placeholder="New queue name" required />
        <label>
          <input type="checkbox" name="requeue" /> requeue when an agent is lost
        </label>
        <button type="submit">Create</button>
      </form>
      {error && <ErrorBox error={error} />}
      {queues.length === 0 ? (
        <p class="muted">No queues yet.</p>
      ) : (
        <table class="grid" id="queues">
          <thead>
            <tr>
              <th>Queue</th>
              <th class="num">Waiting</th>
              <th>Agent lost</th>
              <th>Next tasks</th>
              <th>Workers</th>
            </tr>
          </thead>
          <tbody>
            {queues.map((x, i) => (
              <tr key={x.id} data-queue={x.name}>
                <td>{x.name}</td>
                <td class="num">{x.waiting}</td>
                <td>{x.requeue_on_lost ? "requeue" : "fail"}</td>
                <td>
                  {entries[i].map((e) => (
                    <div key={e.task_id}>
                      <Link href={`/tasks/${e.task_id}`}>{e.task_name}</Link> <span class="muted mono">{shortId(e.task_id)}</span>
                      {e.priority !== 0 && <span class="muted"> p{e.priority}</span>}
                    </div>
                  ))}
                </td>
                <td>
                  {workers
                    .filter((w) => w.queues.includes(x.name))
                    .map((w) => (
                      <div key={w.name}>
                        {w.name} <span class="muted">{w.task_id ? "busy" : "idle"}</span>
                      </div>
                    ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Workers</h2>
      <WorkerTable workers={workers} />
    </section>
  );
}

export function Workers() {
  const tick = useTick(2000);
  const data = useLoad((s) => get<{ workers: Worker[] }>("/workers", s), [tick]);
  if (data.error && !data.data) return <ErrorBox error={data.error} />;
  if (!data.data) return <Loading />;
  return (
    <section>
      <h1>Workers</h1>
      <WorkerTable workers={data.data.workers} />
    </section>
  );
}

function WorkerTable({ workers }: { workers: Worker[] }) {
  if (!workers.length)
    return (
      <p class="muted">
        No agents are running. Start one: <code>rh agent --queue NAME</code>
      </p>
    );
  return (
    <table class="grid" id="workers">
      <thead>
        <tr>
          <th>Worker</th>
          <th>Host</th>
          <th>Queues</th>
          <th>GPUs</th>
          <th>Running</th>
          <th>Last heartbeat</th>
          <th>Since</th>
        </tr>
      </thead>
      <tbody>
        {workers.map((w) => (
          <tr key={w.name} data-worker={w.name}>
            <td>{w.name}</td>
            <td>{w.host}</td>
            <td>{w.queues.join(", ")}</td>
            <td>{w.gpus || "—"}</td>
            <td>{w.task_id ? <Link href={`/tasks/${w.task_id}`}>{shortId(w.task_id)}</Link> : <span class="muted">idle</span>}</td>
            <td title={fmtTime(w.last_heartbeat)}>{ago(w.last_heartbeat)}</td>
            <td>{fmtTime(w.registered)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
