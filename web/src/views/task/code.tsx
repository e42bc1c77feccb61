// The Code tab: repository, commit, entry point and the uncommitted diff.
import { Task } from "../../api";
import { KeyValues } from "../../common";

export function Code({ task }: { task: Task }) {
  const s = task.script;
  return (
    <div>
      <KeyValues
        rows={[
          ["Repository", s.repository || "—"],
          ["Branch", s.branch || "—"],
          ["Commit", s.commit ? <span class="mono">{s.commit}</span> : "—"],
          ["Working dir", s.working_dir || "—"],
          ["Entry point", s.entry_point || "—"],
          ["Command line", s.argv.length ? <span class="mono">{s.argv.join(" ")}</span> : "—"],
        ]}
      />
      {s.diff ? (
        <>
          <h3>Uncommitted changes</h3>
          <Diff text={s.diff} />
        </>
      ) : s.repository ? (
        <p class="muted">No uncommitted changes.</p>
      ) : null}
      {s.content && (
        <>
          <h3>Script</h3>
          <pre class="code" id="script">{s.content}</pre>
        </>
      )}
    </div>
  );
}

function Diff({ text }: { text: string }) {
  const lines = text.split("\n");
  return (
    <pre class="code diff" id="diff">
      {lines.map((l, i) => {
        const cls = l.startsWith("diff --git") || l.startsWith("index ") || l.startsWith("+++") || l.startsWith("---") ? "d-file" : l.startsWith("@@") ? "d-hunk" : l.startsWith("+") ? "d-add" : l.startsWith("-") ? "d-del" : "";
        return (
          <div key={i} class={cls}>
            {l || " "}
          </div>
        );
      })}
    </pre>
  );
}
