// Display helpers shared by the views.

export function fmtTime(t: number): string {
  if (!t) return "—";
  const d = new Date(t * 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtDuration(seconds: number): string {
  if (!(seconds >= 0)) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h ${m}m` : `${m}m ${s % 60}s`;
}

export function taskDuration(t: { started: number; completed: number; status: string }): string {
  if (!t.started) return "—";
  const end = t.completed || (t.status === "running" ? Date.now() / 1000 : t.started);
  return fmtDuration(end - t.started);
}

export function fmtBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i ? `${v.toFixed(1)} ${units[i]}` : `${n} B`;
}

export function fmtNumber(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "-∞";
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(4);
  return String(Number(v.toPrecision(6)));
}

// The first 12 hex digits of a "sha256:<hex>" digest, for tables.
export function shortDigest(digest: string) {
  return digest.slice(digest.indexOf(":") + 1).slice(0, 12);
}

export function shortId(id: string) {
  return id.slice(0, 12); // as the CLI prints them: UUIDv7 starts with the time, so 8 would repeat
}
