// Experiments (hyperparameter searches): every experiment with its state,
// trials, progress and best metric; live.
import { Experiment, get } from "../api";
import { ErrorBox, Loading, StatusBadge, useLoad } from "../common";
import { fmtNumber, fmtTime } from "../format";
import { useChanges } from "../live";
import { Link } from "../router";

export function Experiments() {
  const tick = useChanges(null, true);
  const data = useLoad((s) => get<{ experiments: Experiment[] }>("/experiments", s), [tick]);
  if (data.error && !data.data) return <ErrorBox error={data.error} />;
  if (!data.data) return <Loading />;
  const list = data.data.experiments;
  return (
    <section>
      <h1>Experiments</h1>
      {list.length === 0 ? (
        <p class="muted">
          No experiments yet: <code>rh experiment create exp.yaml context/ --queue q</code>
        </p>
      ) : (
        <table class="grid" id="experiments">
          <thead>
            <tr>
              <th>Name</th>
              <th>Project</th>
              <th>State</th>
              <th class="num">Trials</th>
              <th class="num">Progress</th>
              <th class="num">Best</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {list.map((e) => (
              <tr key={e.id} data-id={e.id}>
                <td>
                  <Link href={`/experiments/${e.id}`}>{e.name}</Link>
                </td>
                <td>{e.project}</td>
                <td>
                  <StatusBadge status={e.state} />
                </td>
                <td class="num">{e.trials as number}</td>
                <td class="num">{Math.round(100 * e.progress)}%</td>
                <td class="num">{e.best ? fmtNumber(e.best.metric) : "—"}</td>
                <td>{fmtTime(e.created)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
