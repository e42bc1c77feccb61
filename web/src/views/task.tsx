// One task: a tab per part of the record (each in views/task/), and for a
// pipeline run the graph of its stages first. Tabs reload when the task
// changes while it runs (long-poll, see live.ts).
import { useEffect, useState } from "preact/hooks";
import { get, Task } from "../api";
import { ErrorBox, Loading, StatusBadge, useLoad } from "../common";
import { useChanges } from "../live";
import { Link } from "../router";
import { Overview } from "./task/overview";
import { TaskActions } from "./task/actions";
import { Hyperparameters } from "./task/hyperparameters";
import { Configurations } from "./task/configurations";
import { Scalars } from "./task/scalars";
import { Plots } from "./task/plots";
import { Console } from "./task/console";
import { Artifacts } from "./task/artifacts";
import { Code } from "./task/code";
import { Environment } from "./task/environment";
import { Pipeline, dagOf } from "./task/pipeline";

const TABS: [string, string][] = [
  ["overview", "Overview"],
  ["hyperparameters", "Hyperparameters"],
  ["configurations", "Configurations"],
  ["scalars", "Scalars"],
  ["plots", "Plots & tables"],
  ["images", "Debug images"],
  ["console", "Console"],
  ["artifacts", "Artifacts & models"],
  ["code", "Code"],
  ["environment", "Environment"],
];

const isLive = (s: string) => s === "running" || s === "queued" || s === "created";

export function TaskPage({ id, tab }: { id: string; tab: string }) {
  const [liveOn, setLiveOn] = useState(true);
  // Follows the task while it may still change; the status comes from the last load.
  const [status, setStatus] = useState<string | null>(null);
  const live = useChanges(id, liveOn && status !== null && isLive(status));
  const [edits, setEdits] = useState(0); // bumped after an action here
  const { data: task, error } = useLoad((s) => get<Task>(`/tasks/${id}`, s), [id, live, edits]);
  const changed = () => setEdits((e) => e + 1);
  useEffect(() => setStatus(task && task.id.startsWith(id) ? task.status : null), [task?.id, task?.status, id]);
  if (error && !task) return <ErrorBox error={error} />;
  if (!task) return <Loading />;
  return (
    <section>
      <div class="task-head">
        <h1>
          {task.name} <StatusBadge status={task.status} />
        </h1>
        <div class="muted">
          <Link href={`/projects/${encodeURIComponent(task.project)}`}>{task.project}</Link> · <span class="mono">{task.id}</span>
          {isLive(task.status) && (
            <label class="live">
              <input type="checkbox" checked={liveOn} onChange={() => setLiveOn(!liveOn)} /> live
            </label>
          )}
        </div>
        <TaskActions task={task} changed={changed} />
      </div>
      <nav class="tabs">
        {(dagOf(task) ? [["pipeline", "Pipeline"] as [string, string], ...TABS] : TABS).map(([key, label]) => (
          <Link key={key} href={`/tasks/${task.id}/${key}`} class={tab === key ? "active" : ""}>
            {label}
          </Link>
        ))}
      </nav>
      <div class="tab-body" data-tab={tab}>
        {tab === "pipeline" && <Pipeline task={task} live={liveOn && isLive(task.status)} />}
        {tab === "overview" && <Overview task={task} live={live} />}
        {tab === "hyperparameters" && <Hyperparameters task={task} changed={changed} />}
        {tab === "configurations" && <Configurations task={task} changed={changed} />}
        {tab === "scalars" && <Scalars task={task} live={live} />}
        {tab === "plots" && <Plots task={task} live={live} images={false} />}
        {tab === "images" && <Plots task={task} live={live} images={true} />}
        {tab === "console" && <Console task={task} live={live} />}
        {tab === "artifacts" && <Artifacts task={task} live={live} />}
        {tab === "code" && <Code task={task} />}
        {tab === "environment" && <Environment task={task} />}
      </div>
    </section>
  );
}
