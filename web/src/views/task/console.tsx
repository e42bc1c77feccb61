// The Console tab: the console lines, followed while the task runs, searchable.
import { useEffect, useRef, useState } from "preact/hooks";
import { allConsole, ConsoleLine, Task } from "../../api";
import { ErrorBox } from "../../common";
import { fmtTime } from "../../format";

export function Console({ task, live }: { task: Task; live: number }) {
  const [lines, setLines] = useState<ConsoleLine[]>([]);
  const [error, setError] = useState<Error | null>(null);
  const [search, setSearch] = useState("");
  const [follow, setFollow] = useState(true);
  const box = useRef<HTMLDivElement>(null);
  const last = useRef(0);
  useEffect(() => {
    setLines([]);
    last.current = 0;
  }, [task.id]);
  useEffect(() => {
    const ctl = new AbortController();
    // Only the lines after the last one shown: a live console costs one small read per change.
    allConsole(task.id, last.current, ctl.signal).then(
      (more) => {
        if (ctl.signal.aborted || !more.length) return;
        last.current = more[more.length - 1].seq;
        setLines((l) => [...l, ...more]);
      },
      (e) => !ctl.signal.aborted && setError(e),
    );
    return () => ctl.abort();
  }, [task.id, live]);
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, follow]);
  const [all, setAll] = useState(false);
  const matching = search ? lines.filter((l) => l.text.toLowerCase().includes(search.toLowerCase())) : lines;
  // The DOM holds the last 5,000 lines unless asked for all (a long log stays responsive).
  const shown = all || matching.length <= 5000 ? matching : matching.slice(matching.length - 5000);
  return (
    <div>
      <div class="toolbar">
        <input type="search" placeholder="Search the console…" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
        <span class="muted">
          {search ? `${matching.length} of ${lines.length} lines` : `${lines.length} lines`}
        </span>
        {shown.length < matching.length && (
          <button onClick={() => setAll(true)}>Show all {matching.length} (the last {shown.length} are shown)</button>
        )}
        <label>
          <input type="checkbox" checked={follow} onChange={() => setFollow(!follow)} /> follow
        </label>
      </div>
      {error && <ErrorBox error={error} />}
      <div class="console" ref={box} id="console">
        {shown.map((l) => (
          <div key={l.seq} class={l.stream === "stderr" ? "line err" : "line"} title={fmtTime(l.time)}>
            {search ? highlight(l.text, search) : l.text}
          </div>
        ))}
      </div>
    </div>
  );
}

function highlight(text: string, needle: string) {
  const out = [];
  const lower = text.toLowerCase();
  const n = needle.toLowerCase();
  let at = 0;
  for (let i = lower.indexOf(n); i >= 0; i = lower.indexOf(n, at)) {
    out.push(text.slice(at, i), <mark>{text.slice(i, i + n.length)}</mark>);
    at = i + n.length;
  }
  out.push(text.slice(at));
  return out;
}
