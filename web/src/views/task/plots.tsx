// The Plots & tables and Debug images tabs: what the task reported, by title.
import { allPlots, blobUrl, Plot, Task } from "../../api";
import { ErrorBox, Loading, useLoad } from "../../common";
import { PlotView } from "../plots";

export function Plots({ task, live, images }: { task: Task; live: number; images: boolean }) {
  const data = useLoad((s) => allPlots(task.id, s), [task.id, live]);
  if (data.error && !data.data) return <ErrorBox error={data.error} />;
  if (!data.data) return <Loading />;
  const plots = data.data.filter((p) => (p.kind === "image") === images);
  if (!plots.length) return <p class="muted">{images ? "No debug images reported." : "No plots or tables reported."}</p>;
  if (images) {
    // Group by title/series; newest iteration first.
    const groups = new Map<string, Plot[]>();
    plots.forEach((p) => groups.set(`${p.title} / ${p.series}`, [...(groups.get(`${p.title} / ${p.series}`) ?? []), p]));
    return (
      <div>
        {[...groups.entries()].map(([k, ps]) => (
          <div key={k} class="section">
            <h3>{k}</h3>
            <div class="images">
              {ps
                .slice()
                .sort((a, b) => b.iteration - a.iteration)
                .map((p) => (
                  <figure key={p.id}>
                    <a href={blobUrl(p.digest)} target="_blank" rel="noreferrer">
                      <img src={blobUrl(p.digest)} alt={`${k} iteration ${p.iteration}`} loading="lazy" />
                    </a>
                    <figcaption>iteration {p.iteration}</figcaption>
                  </figure>
                ))}
            </div>
          </div>
        ))}
      </div>
    );
  }
  return (
    <div class="plots">
      {plots.map((p) => (
        <PlotView key={p.id} plot={p} />
      ))}
    </div>
  );
}
