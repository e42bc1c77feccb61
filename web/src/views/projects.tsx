import { get, Project } from "../api";
import { ErrorBox, Loading, useLoad } from "../common";
import { fmtTime } from "../format";
import { Link } from "../router";

export function Projects() {
  const { data, error } = useLoad((s) => get<{ projects: Project[] }>("/projects", s), []);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading />;
  return (
    <section>
      <h1>Projects</h1>
      {data.projects.length === 0 ? (
        <p class="muted">
          No projects yet. Record a run with <code>rh run python train.py</code> or <code>roundhouse.init(project=...)</code>.
        </p>
      ) : (
        <table class="grid" id="projects">
          <thead>
            <tr>
              <th>Project</th>
              <th class="num">Tasks</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {data.projects.map((p) => (
              <tr key={p.id}>
                <td>
                  <Link href={`/projects/${encodeURIComponent(p.name)}`}>{p.name}</Link>
                  {p.description && <div class="muted">{p.description}</div>}
                </td>
                <td class="num">{p.task_count}</td>
                <td>{fmtTime(p.created)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
