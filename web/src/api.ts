// The REST API (docs/api.md) as typed functions. Every view goes through here.

export type Status = "created" | "queued" | "running" | "paused" | "completed" | "failed" | "aborted";
export const STATUSES: Status[] = ["created", "queued", "running", "paused", "completed", "failed", "aborted"];

export interface Param {
  value: string;
  type: string;
  description: string;
}
export type Params = Record<string, Record<string, Param>>;

export interface SeriesSummary {
  title: string;
  series: string;
  count: number;
  last_iteration: number;
  last_value: number | null | string;
  last_time: number;
  min_value: number | null | string;
  max_value: number | null | string;
}

export interface Task {
  id: string;
  project: string;
  name: string;
  type: string;
  status: Status;
  status_message: string;
  comment: string;
  tags: string[];
  parent: string;
  created: number;
  started: number;
  completed: number;
  last_update: number;
  runtime: Record<string, string>;
  script: {
    repository: string;
    branch: string;
    commit: string;
    diff?: string;
    entry_point: string;
    working_dir: string;
    content?: string;
    argv: string[];
  };
  environment: { interpreter: string; os: string; host: string; requirements?: string; freeze?: string };
  hyperparameters?: Params;
  configurations?: Record<string, { value: string; description: string }>;
  metrics?: SeriesSummary[];
}

export interface Project {
  id: string;
  name: string;
  description: string;
  created: number;
  task_count: number;
}

export interface Series {
  title: string;
  series: string;
  iterations: number[];
  values: (number | string)[];
  times: number[];
}

export interface ConsoleLine {
  seq: number;
  time: number;
  stream: "stdout" | "stderr";
  text: string;
}

export interface Artifact {
  name: string;
  digest: string;
  size: number;
  type: string;
  content_type: string;
  metadata: Record<string, string>;
  created: number;
}

export interface Model {
  id: string;
  name: string;
  direction: "input" | "output";
  digest: string;
  size: number;
  framework: string;
  metadata: Record<string, string>;
  created: number;
}

export interface Plot {
  id: number;
  title: string;
  series: string;
  iteration: number;
  kind: "table" | "scatter2d" | "image" | "plotly";
  data: any;
  digest: string;
  created: number;
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

// With `rh server` started with a token, the UI sends it as a cookie (set on
// the token form) so that images and downloads work too.
export function setToken(token: string) {
  document.cookie = `rh_token=${encodeURIComponent(token)}; path=/; SameSite=Strict`;
}

// Every call to the API: JSON in and out; {"error":{...}} replies become ApiError.
async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const r = await fetch("/api/v1" + path, {
    method,
    signal,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let parsed: any = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(r.status, "bad_reply", `${method} ${path}: the server sent no JSON (${r.status})`);
  }
  if (!r.ok) {
    const e = parsed?.error ?? {};
    throw new ApiError(r.status, e.code ?? "error", e.message ?? `${method} ${path} failed (${r.status})`);
  }
  return parsed as T;
}

export function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  return request<T>("GET", path, undefined, signal);
}

export function send<T>(method: string, path: string, body?: unknown): Promise<T> {
  return request<T>(method, path, body);
}

export const q = encodeURIComponent;

export function blobUrl(digest: string) {
  return `/api/v1/blobs/${digest}`;
}

export function artifactUrl(taskId: string, name: string) {
  return `/api/v1/tasks/${taskId}/artifacts/${name.split("/").map(q).join("/")}?download=1`;
}

// Reads JSON numbers that the server writes as strings (NaN, Infinity).
export function num(v: number | string | null | undefined): number {
  if (v === null || v === undefined) return NaN;
  if (typeof v === "number") return v;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return NaN;
}

export async function allConsole(taskId: string, after: number, signal?: AbortSignal): Promise<ConsoleLine[]> {
  const out: ConsoleLine[] = [];
  for (;;) {
    const page = await get<{ lines: ConsoleLine[] }>(`/tasks/${taskId}/console?after=${after}&limit=5000`, signal);
    out.push(...page.lines);
    if (page.lines.length < 5000) return out;
    after = page.lines[page.lines.length - 1].seq;
  }
}

export async function allPlots(taskId: string, signal?: AbortSignal): Promise<Plot[]> {
  const out: Plot[] = [];
  let after = 0;
  for (;;) {
    const page = await get<{ plots: Plot[] }>(`/tasks/${taskId}/plots?after=${after}&limit=1000`, signal);
    out.push(...page.plots);
    if (page.plots.length < 1000) return out;
    after = page.plots[page.plots.length - 1].id;
  }
}

export async function readSeries(taskId: string, title: string, series: string, maxPoints = 2000, signal?: AbortSignal) {
  return get<Series>(
    `/tasks/${taskId}/scalars/series?title=${q(title)}&series=${q(series)}&max_points=${maxPoints}`,
    signal,
  );
}

// Long-poll: resolves with the new version once `key` changes (or the wait times out).
export async function waitForChange(task: string | null, since: number | null, signal: AbortSignal): Promise<number> {
  const params = [task ? `task=${task}` : "", since === null ? "" : `since=${since}`, "timeout=25"].filter(Boolean);
  const r = await get<{ version: number }>(`/changes?${params.join("&")}`, signal);
  return r.version;
}

export interface Queue {
  id: string;
  name: string;
  created: number;
  requeue_on_lost: boolean;
  waiting: number;
}

export interface QueueEntry {
  task_id: string;
  task_name: string;
  priority: number;
  enqueued: number;
}

export interface Worker {
  name: string;
  host: string;
  queues: string[];
  gpus: string;
  task_id: string;
  registered: number;
  last_heartbeat: number;
}

export interface DatasetSummary {
  files: number;
  bytes: number;
  added: number;
  modified: number;
  removed: number;
  added_bytes: number;
  modified_bytes: number;
  removed_bytes: number;
}

export interface DatasetVersion {
  id: string;
  project: string;
  name: string;
  version: string;
  parents: string[];
  state: "draft" | "final";
  tags: string[];
  manifest: string;
  task_id: string;
  summary: DatasetSummary;
  created: number;
  finalized: number;
}

export interface DatasetFile {
  path: string;
  digest: string;
  size: number;
  mode: number;
}

export interface Trial {
  trial: number;
  task_id: string;
  state: Status;
  message: string;
  until: number;
  reached?: number;
  restarts: number;
  latest_checkpoint: string;
  worker: string;
  hparams: Record<string, unknown>;
  best_metric?: number;
  last_metric?: number;
  validations?: number;
}

export interface Experiment {
  id: string;
  name: string;
  project: string;
  state: Status;
  message: string;
  created: number;
  queue: string;
  priority: number;
  progress: number;
  base_task: string;
  metric_title: string;
  metric_series: string;
  best?: { trial: number; task_id: string; metric: number };
  trials?: Trial[] | number;
  searcher?: { name: string; metric: string; smaller_is_better: boolean; max_length: number; unit: string; max_trials: number };
  warnings?: string[];
}
