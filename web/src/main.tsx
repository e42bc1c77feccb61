import { render } from "preact";
import { Link, useLocation } from "./router";
import { Projects } from "./views/projects";
import { TaskTable } from "./views/tasks";
import { TaskPage } from "./views/task";
import { Compare } from "./views/compare";
import { Queues, Workers } from "./views/queues";
import { DatasetPage, Datasets } from "./views/datasets";
import { Experiments } from "./views/experiments";
import { ExperimentPage } from "./views/experiment";
import "./style.css";

function App() {
  const { path, query } = useLocation();
  let view;
  let m: RegExpMatchArray | null;
  if (path === "/" || path === "/projects") view = <Projects />;
  else if ((m = path.match(/^\/projects\/([^/]+)$/))) view = <TaskTable project={decodeURIComponent(m[1])} query={query} />;
  else if (path === "/tasks") view = <TaskTable project={null} query={query} />;
  else if ((m = path.match(/^\/tasks\/([0-9a-f]+)(?:\/([a-z]+))?$/))) view = <TaskPage id={m[1]} tab={m[2] ?? "overview"} />;
  else if (path === "/compare") view = <Compare ids={(query.get("ids") ?? "").split(",").filter(Boolean)} />;
  else if (path === "/datasets") view = <Datasets />;
  else if ((m = path.match(/^\/datasets\/([0-9a-f]+)$/))) view = <DatasetPage id={m[1]} />;
  else if (path === "/experiments") view = <Experiments />;
  else if ((m = path.match(/^\/experiments\/([0-9a-f]+)$/))) view = <ExperimentPage id={m[1]} />;
  else if (path === "/queues") view = <Queues />;
  else if (path === "/workers") view = <Workers />;
  else view = <p class="error">No page at {path}.</p>;
  return (
    <>
      <header class="top">
        <Link href="/" class="brand">
          Roundhouse
        </Link>
        <nav>
          <Link href="/">Projects</Link>
          <Link href="/tasks">All tasks</Link>
          <Link href="/experiments">Experiments</Link>
          <Link href="/datasets">Datasets</Link>
          <Link href="/queues">Queues</Link>
          <Link href="/workers">Workers</Link>
        </nav>
      </header>
      <main>{view}</main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
