// Live updates by long-poll on /api/v1/changes: an open page holds one
// request that the server parks (no thread, no work) until the task changes.
// After a change the page waits a moment before asking again, so a task
// logging thousands of points a second costs at most one refresh a second.
import { useEffect, useState } from "preact/hooks";
import { waitForChange } from "./api";

export function useChanges(task: string | null, active: boolean, minIntervalMs = 1000): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!active) return;
    const ctl = new AbortController();
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    (async () => {
      let since: number | null = null;
      while (!ctl.signal.aborted) {
        try {
          const v = await waitForChange(task, since, ctl.signal);
          if (since !== null && v !== since) {
            setTick((t) => t + 1);
            await sleep(minIntervalMs);
          }
          since = v;
        } catch {
          if (ctl.signal.aborted) return;
          await sleep(3000);
        }
      }
    })();
    return () => ctl.abort();
  }, [task, active, minIntervalMs]);
  return tick;
}
