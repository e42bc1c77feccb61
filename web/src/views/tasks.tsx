// The task table: sortable, filterable, chosen parameter and metric columns,
// cursor paging (the server pages with an index, so 100,000 tasks page as
// fast as 100). All state lives in the URL.
import { useState } from "preact/hooks";
import { get, num, q, STATUSES, Task } from "../api";
import { ErrorBox, StatusBadge, useLoad } from "../common";
import { fmtNumber, fmtTime, shortId, taskDuration } from "../format";
import { useChanges } from "../live";
import { Link, navigate } from "../router";

const PAGE = 50;

function listOf(query: URLSearchParams, key: string): string[] {
  return query.getAll(key).flatMap((v) => v.split(",")).filter(Boolean);
}

export function TaskTable({ project, query }: { project: string | null; query: URLSearchParams }) {
  const base = project === null ? "/tasks" : `/projects/${encodeURIComponent(project)}`;
  const orderBy = query.get("order_by") ?? "created";
  const order = query.get("order") ?? "desc";
  const statuses = listOf(query, "status");
  const tags = listOf(query, "tag");
  const name = query.get("name") ?? "";
  const filters = query.getAll("filter");
  const params = listOf(query, "param");
  const metrics = listOf(query, "metric");
  const cursor = query.get("cursor") ?? "";

  // Changes the URL (and so the view); any change but paging starts at page 1.
  const update = (change: (p: URLSearchParams) => void, keepCursor = false) => {
    const p = new URLSearchParams(query);
    change(p);
    if (!keepCursor) p.delete("cursor");
    const s = p.toString();
    navigate(base + (s ? "?" + s : ""));
  };

  const live = useChanges(null, true, 2000);
  const apiQuery = () => {
    const p = new URLSearchParams();
    if (project !== null) p.set("project", project);
    p.set("order_by", orderBy);
    p.set("order", order);
    p.set("limit", String(PAGE));
    statuses.forEach((s) => p.append("status", s));
    tags.forEach((t) => p.append("tag", t));
    if (name) p.set("name", name);
    filters.forEach((f) => p.append("filter", f));
    params.forEach((k) => p.append("param", k));
    metrics.forEach((k) => p.append("metric", k));
    if (cursor) p.set("cursor", cursor);
    return p.toString();
  };
  const qs = apiQuery();
  const page = useLoad((s) => get<{ tasks: Task[]; next_cursor: string | null }>(`/tasks?${qs}`, s), [qs, live]);
  const keys = useLoad(
    (s) => get<{ params: string[]; metrics: string[] }>(`/keys${project === null ? "" : "?project=" + q(project)}`, s),
    [project],
  );
  const [selected, setSelected] = useState<string[]>([]);
  const [showColumns, setShowColumns] = useState(false);

  const sortHeader = (label: string, key: string) => (
    <th
      class={"sortable" + (orderBy === key ? " sorted" : "")}
      onClick={() =>
        update((p) => {
          p.set("order_by", key);
          p.set("order", orderBy === key && order === "desc" ? "asc" : "desc");
        })
      }
    >
      {label}
      {orderBy === key ? (order === "desc" ? " ▼" : " ▲") : ""}
    </th>
  );
  const offset = cursor.startsWith("o:") ? Number(cursor.slice(2)) || 0 : 0;
  const tasks = page.data?.tasks ?? [];

  return (
    <section>
      <h1>{project ?? "All tasks"}</h1>
      <div class="toolbar">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const v = (e.currentTarget.elements.namedItem("name") as HTMLInputElement).value;
            update((p) => (v ? p.set("name", v) : p.delete("name")));
          }}
        >
          <input name="name" type="search" placeholder="Name contains…" value={name} />
        </form>
        <div class="chips" role="group" aria-label="status">
          {STATUSES.map((s) => (
            <label key={s} class={"chip" + (statuses.includes(s) ? " on" : "")}>
              <input
                type="checkbox"
                checked={statuses.includes(s)}
                onChange={() =>
                  update((p) => {
                    const next = statuses.includes(s) ? statuses.filter((x) => x !== s) : [...statuses, s];
                    p.delete("status");
                    if (next.length) p.set("status", next.join(","));
                  })
                }
              />
              {s}
            </label>
          ))}
        </div>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const input = e.currentTarget.elements.namedItem("tag") as HTMLInputElement;
            const v = input.value.trim();
            if (v) update((p) => p.set("tag", [...tags, v].join(",")));
            input.value = "";
          }}
        >
          <input name="tag" placeholder="Tag…" />
        </form>
        {tags.map((t) => (
          <span class="tag" key={t}>
            {t}
            <button title="Remove" onClick={() => update((p) => (tags.length > 1 ? p.set("tag", tags.filter((x) => x !== t).join(",")) : p.delete("tag")))}>
              ×
            </button>
          </span>
        ))}
        <button onClick={() => setShowColumns(!showColumns)}>Columns…</button>
        <button
          id="compare-selected"
          disabled={selected.length < 2 || selected.length > 10}
          onClick={() => navigate(`/compare?ids=${selected.join(",")}`)}
        >
          Compare {selected.length ? `(${selected.length})` : ""}
        </button>
      </div>
      <FilterBar
        filters={filters}
        keys={keys.data}
        onChange={(next) =>
          update((p) => {
            p.delete("filter");
            next.forEach((f) => p.append("filter", f));
          })
        }
      />
      {showColumns && keys.data && (
        <div class="columns-panel">
          <ColumnPicker title="Parameters" all={keys.data.params} chosen={params} onChange={(v) => update((p) => (v.length ? p.set("param", v.join(",")) : p.delete("param")), true)} />
          <ColumnPicker title="Metrics (last value)" all={keys.data.metrics} chosen={metrics} onChange={(v) => update((p) => (v.length ? p.set("metric", v.join(",")) : p.delete("metric")), true)} />
        </div>
      )}
      {page.error && <ErrorBox error={page.error} />}
      <table class="grid tasks" id="task-table" aria-busy={page.loading ? "true" : "false"}>
        <thead>
          <tr>
            <th />
            {sortHeader("Status", "status")}
            {sortHeader("Name", "name")}
            <th>Tags</th>
            {project === null && <th>Project</th>}
            {sortHeader("Created", "created")}
            <th>Duration</th>
            {params.map((k) => (
              <th key={k} class="num" title="parameter">
                {k}
              </th>
            ))}
            {metrics.map((k) => sortHeader(k, "metric:" + k))}
          </tr>
        </thead>
        <tbody>
          {tasks.map((t) => (
            <tr key={t.id} data-task={t.id}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`select ${t.name}`}
                  checked={selected.includes(t.id)}
                  onChange={() => setSelected(selected.includes(t.id) ? selected.filter((x) => x !== t.id) : [...selected, t.id])}
                />
              </td>
              <td>
                <StatusBadge status={t.status} />
              </td>
              <td>
                <Link href={`/tasks/${t.id}`}>{t.name}</Link> <span class="muted mono">{shortId(t.id)}</span>
              </td>
              <td>
                {t.tags.map((g) => (
                  <span class="tag" key={g}>
                    {g}
                  </span>
                ))}
              </td>
              {project === null && (
                <td>
                  <Link href={`/projects/${encodeURIComponent(t.project)}`}>{t.project}</Link>
                </td>
              )}
              <td>{fmtTime(t.created)}</td>
              <td>{taskDuration(t)}</td>
              {params.map((k) => {
                const [section, ...rest] = k.split("/");
                return (
                  <td key={k} class="num">
                    {t.hyperparameters?.[section]?.[rest.join("/")]?.value ?? ""}
                  </td>
                );
              })}
              {metrics.map((k) => {
                const m = t.metrics?.find((s) => `${s.title}/${s.series}` === k);
                return (
                  <td key={k} class="num">
                    {m ? fmtNumber(num(m.last_value)) : ""}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      {!page.loading && tasks.length === 0 && <p class="muted">No tasks match.</p>}
      <div class="pager">
        <button disabled={offset === 0} onClick={() => update((p) => (offset - PAGE > 0 ? p.set("cursor", `o:${offset - PAGE}`) : p.delete("cursor")), true)}>
          ← Newer
        </button>
        <span class="muted">
          {tasks.length ? `${offset + 1}–${offset + tasks.length}` : ""}
        </span>
        <button disabled={!page.data?.next_cursor} onClick={() => update((p) => p.set("cursor", page.data!.next_cursor!), true)}>
          Older →
        </button>
      </div>
    </section>
  );
}

function ColumnPicker(props: { title: string; all: string[]; chosen: string[]; onChange: (v: string[]) => void }) {
  return (
    <fieldset>
      <legend>{props.title}</legend>
      {props.all.length === 0 && <span class="muted">none recorded</span>}
      {props.all.map((k) => (
        <label key={k} class="pick">
          <input
            type="checkbox"
            checked={props.chosen.includes(k)}
            onChange={() => props.onChange(props.chosen.includes(k) ? props.chosen.filter((x) => x !== k) : [...props.chosen, k])}
          />
          {k}
        </label>
      ))}
    </fieldset>
  );
}

// Filters on parameter and metric values: "param:General/lr>=0.01".
function FilterBar(props: { filters: string[]; keys?: { params: string[]; metrics: string[] }; onChange: (f: string[]) => void }) {
  const [key, setKey] = useState("");
  const [op, setOp] = useState(">=");
  const [value, setValue] = useState("");
  return (
    <div class="filters">
      {props.filters.map((f) => (
        <span class="tag filter" key={f}>
          {f}
          <button title="Remove filter" onClick={() => props.onChange(props.filters.filter((x) => x !== f))}>
            ×
          </button>
        </span>
      ))}
      <form
        id="add-filter"
        onSubmit={(e) => {
          e.preventDefault();
          if (!key || value === "") return;
          props.onChange([...props.filters, `${key}${op}${value}`]);
          setValue("");
        }}
      >
        <select name="key" value={key} onChange={(e) => setKey((e.target as HTMLSelectElement).value)}>
          <option value="">Filter by value…</option>
          <optgroup label="Parameters">
            {props.keys?.params.map((k) => (
              <option key={k} value={`param:${k}`}>
                {k}
              </option>
            ))}
          </optgroup>
          <optgroup label="Metrics (last value)">
            {props.keys?.metrics.map((k) => (
              <option key={k} value={`metric:${k}`}>
                {k}
              </option>
            ))}
          </optgroup>
        </select>
        <select name="op" value={op} onChange={(e) => setOp((e.target as HTMLSelectElement).value)}>
          {[">=", ">", "<=", "<", "=", "!=", "~"].map((o) => (
            <option key={o} value={o}>
              {o === "~" ? "contains" : o}
            </option>
          ))}
        </select>
        <input name="value" placeholder="value" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
        <button type="submit" disabled={!key || value === ""}>
          Add
        </button>
      </form>
    </div>
  );
}
