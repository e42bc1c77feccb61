// The Environment tab: interpreter, host, requirements and installed packages.
import { useState } from "preact/hooks";
import { Task } from "../../api";
import { KeyValues } from "../../common";

export function Environment({ task }: { task: Task }) {
  const [filter, setFilter] = useState("");
  const e = task.environment;
  const packages = (e.freeze ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const m = l.match(/^([^=<>@ ]+)\s*(?:==|@|===)\s*(.*)$/);
      return m ? [m[1], m[2]] : [l, ""];
    });
  const shown = filter ? packages.filter(([n]) => n.toLowerCase().includes(filter.toLowerCase())) : packages;
  return (
    <div>
      <KeyValues
        rows={[
          ["Interpreter", e.interpreter || "—"],
          ["OS", e.os || "—"],
          ["Host", e.host || "—"],
        ]}
      />
      <h3>Requirements</h3>
      {e.requirements ? <pre class="code" id="requirements">{e.requirements}</pre> : <p class="muted">None recorded.</p>}
      <h3>Installed packages ({packages.length})</h3>
      {packages.length > 0 && (
        <>
          <input type="search" placeholder="Filter packages…" value={filter} onInput={(ev) => setFilter((ev.target as HTMLInputElement).value)} />
          <table class="grid" id="packages">
            <thead>
              <tr>
                <th>Package</th>
                <th>Version</th>
              </tr>
            </thead>
            <tbody>
              {shown.map(([n, v]) => (
                <tr key={n}>
                  <td>{n}</td>
                  <td class="mono">{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
