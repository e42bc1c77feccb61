// Small pieces used by several views.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, setToken } from "./api";

// Runs `load` when deps change; keeps the previous data while reloading so
// live refreshes do not flash.
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(ctl.signal).then(
      (data) => !ctl.signal.aborted && setState({ data, loading: false }),
      (error) => !ctl.signal.aborted && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => ctl.abort();
  }, deps);
  return state;
}

export function ErrorBox({ error }: { error: Error }) {
  if (error instanceof ApiError && error.status === 401) return <TokenForm />;
  return <p class="error">{error.message}</p>;
}

function TokenForm() {
  const [value, setValue] = useState("");
  return (
    <form
      class="token"
      onSubmit={(e) => {
        e.preventDefault();
        setToken(value);
        location.reload();
      }}
    >
      <p>This server needs its API token.</p>
      <input type="password" placeholder="token" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
      <button type="submit">Sign in</button>
    </form>
  );
}

export function Loading() {
  return <p class="muted">Loading…</p>;
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`status status-${status}`}>{status}</span>;
}

export function KeyValues({ rows }: { rows: [string, ComponentChildren][] }) {
  return (
    <table class="kv">
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
