// The Hyperparameters tab: sections of parameters, editable on a draft.
import { useState } from "preact/hooks";
import { send, Task } from "../../api";

export function Hyperparameters({ task, changed }: { task: Task; changed: () => void }) {
  const sections = Object.entries(task.hyperparameters ?? {});
  const editable = task.status === "created";
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [error, setError] = useState<Error | null>(null);
  if (!sections.length) return <p class="muted">No hyperparameters recorded.</p>;
  const dirty = Object.keys(draft).length > 0;
  const save = async () => {
    const body: Record<string, Record<string, { value: string; type: string; description: string }>> = {};
    for (const [key, value] of Object.entries(draft)) {
      const [section, name] = key.split("\u0000");
      const old = task.hyperparameters![section][name];
      (body[section] ??= {})[name] = { value, type: old.type, description: old.description };
    }
    try {
      await send("PUT", `/tasks/${task.id}/hyperparameters`, { hyperparameters: body });
      setDraft({});
      setError(null);
      changed();
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <div>
      {editable && (
        <div class="toolbar">
          <button id="save-params" disabled={!dirty} onClick={save}>
            Save changes
          </button>
          {dirty && <span class="muted">{Object.keys(draft).length} changed</span>}
          {error && <span class="error">{error.message}</span>}
        </div>
      )}
      {sections.map(([section, params]) => (
        <div key={section} class="section">
          <h3>{section}</h3>
          <table class="grid params" data-section={section}>
            <thead>
              <tr>
                <th>Name</th>
                <th>Value</th>
                <th>Type</th>
                <th>Description</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(params).map(([name, p]) => {
                const key = `${section}\u0000${name}`;
                return (
                  <tr key={name}>
                    <td>{name}</td>
                    <td class="mono">
                      {editable ? (
                        <input
                          class="mono"
                          name={`${section}/${name}`}
                          value={draft[key] ?? p.value}
                          onInput={(e) => {
                            const v = (e.target as HTMLInputElement).value;
                            setDraft((d) => {
                              const n = { ...d };
                              if (v === p.value) delete n[key];
                              else n[key] = v;
                              return n;
                            });
                          }}
                        />
                      ) : (
                        p.value
                      )}
                    </td>
                    <td class="muted">{p.type}</td>
                    <td class="muted">{p.description}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ))}
    </div>
  );
}
