// The Artifacts & models tab.
import { artifactUrl, Artifact, blobUrl, get, Model, Task } from "../../api";
import { ErrorBox, Loading, useLoad } from "../../common";
import { fmtBytes, fmtTime, shortDigest } from "../../format";

export function Artifacts({ task, live }: { task: Task; live: number }) {
  const data = useLoad(
    async (s) => {
      const [a, m] = await Promise.all([get<{ artifacts: Artifact[] }>(`/tasks/${task.id}/artifacts`, s), get<{ models: Model[] }>(`/tasks/${task.id}/models`, s)]);
      return { artifacts: a.artifacts, models: m.models };
    },
    [task.id, live],
  );
  if (data.error && !data.data) return <ErrorBox error={data.error} />;
  if (!data.data) return <Loading />;
  return (
    <div>
      <h3>Artifacts</h3>
      {data.data.artifacts.length === 0 ? (
        <p class="muted">No artifacts.</p>
      ) : (
        <table class="grid" id="artifacts">
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th class="num">Size</th>
              <th>Digest</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.data.artifacts.map((a) => (
              <tr key={a.name}>
                <td>{a.name}</td>
                <td>{a.type}</td>
                <td class="num">{fmtBytes(a.size)}</td>
                <td class="mono muted" title={a.digest}>
                  {shortDigest(a.digest)}
                </td>
                <td>{fmtTime(a.created)}</td>
                <td>
                  <a href={artifactUrl(task.id, a.name)} download>
                    download
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Models</h3>
      {data.data.models.length === 0 ? (
        <p class="muted">No models.</p>
      ) : (
        <table class="grid" id="models">
          <thead>
            <tr>
              <th>Name</th>
              <th>Direction</th>
              <th>Framework</th>
              <th class="num">Size</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.data.models.map((m) => (
              <tr key={m.id}>
                <td>{m.name}</td>
                <td>{m.direction}</td>
                <td>{m.framework}</td>
                <td class="num">{m.digest ? fmtBytes(m.size) : "—"}</td>
                <td>{fmtTime(m.created)}</td>
                <td>{m.digest && <a href={blobUrl(m.digest)} download={m.name}>download</a>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
