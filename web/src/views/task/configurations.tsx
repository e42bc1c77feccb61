// The Configurations tab: configuration texts, editable on a draft.
import { useState } from "preact/hooks";
import { send, Task } from "../../api";

export function Configurations({ task, changed }: { task: Task; changed: () => void }) {
  const configs = Object.entries(task.configurations ?? {});
  const editable = task.status === "created";
  const [text, setText] = useState<Record<string, string>>({});
  const [error, setError] = useState<Error | null>(null);
  if (!configs.length) return <p class="muted">No configurations recorded.</p>;
  return (
    <div>
      {error && <p class="error">{error.message}</p>}
      {configs.map(([name, c]) => (
        <div key={name} class="section" data-config={name}>
          <h3>{name}</h3>
          {c.description && <p class="muted">{c.description}</p>}
          {editable ? (
            <>
              <textarea class="code config-edit" rows={Math.min(30, c.value.split("\n").length + 2)} value={text[name] ?? c.value} onInput={(e) => setText({ ...text, [name]: (e.target as HTMLTextAreaElement).value })} />
              <button
                disabled={text[name] === undefined || text[name] === c.value}
                onClick={async () => {
                  try {
                    await send("PUT", `/tasks/${task.id}/configurations/${encodeURIComponent(name)}`, { value: text[name], description: c.description });
                    setText({});
                    setError(null);
                    changed();
                  } catch (e) {
                    setError(e as Error);
                  }
                }}
              >
                Save {name}
              </button>
            </>
          ) : (
            <pre class="code">{c.value}</pre>
          )}
        </div>
      ))}
    </div>
  );
}
