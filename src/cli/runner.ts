// The main thread's side of the worker: sends check jobs, draws progress on a
// TTY, and turns the first Ctrl-C into a clean stop.

import { Worker } from "node:worker_threads";
import type { CheckResult } from "../catalogue/index.js";
import type { CheckJob, WorkerMessage } from "./worker.js";

export interface Runner {
  check(job: Omit<CheckJob, "id">, label: string): Promise<CheckResult>;
  /** True once the user pressed Ctrl-C. */
  readonly interrupted: () => boolean;
  close(): Promise<void>;
}

export class CheckError extends Error {
  constructor(
    message: string,
    readonly kind: string,
  ) {
    super(message);
    this.name = kind;
  }
}

/**
 * A check that reports nothing for this long is stuck in thread-local code (a
 * loop with no yield, or a setup() that loops): the explorer polls and reports
 * every few hundred milliseconds while it makes progress.
 */
export const STUCK_AFTER_MS = 20_000;

export function startRunner(opts: { progress: boolean; stuckAfterMs?: number }): Runner {
  const stopBuf = new SharedArrayBuffer(4);
  const stop = new Int32Array(stopBuf);
  const worker = new Worker(new URL("./worker.js", import.meta.url), { workerData: { stop: stopBuf } });
  let nextId = 1;
  const pending = new Map<
    number,
    { resolve: (r: CheckResult) => void; reject: (e: Error) => void; label: string; lastBeat: number }
  >();
  const stuckAfter = opts.stuckAfterMs ?? (Number(process.env.MMRACE_STUCK_AFTER_MS) || STUCK_AFTER_MS);
  const watchdog = setInterval(() => {
    const now = Date.now();
    for (const [id, p] of pending) {
      if (now - p.lastBeat < stuckAfter) continue;
      pending.delete(id);
      clear();
      p.reject(
        new CheckError(
          `${p.label}: no step for ${Math.round(stuckAfter / 1000)} s: the scenario loops in thread-local code (a loop without a yield, or a setup() that never returns)`,
          "ModelError",
        ),
      );
      void worker.terminate();
    }
  }, 500);
  watchdog.unref();
  let interrupted = false;
  const tty = opts.progress && process.stderr.isTTY;
  let drawn = false;
  const clear = () => {
    if (drawn) process.stderr.write("\r\x1b[K");
    drawn = false;
  };

  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    Atomics.store(stop, 0, 1);
    clear();
    process.stderr.write(
      "interrupted: stopping the exploration, reporting what was found so far (Ctrl-C again to quit)\n",
    );
  };
  process.on("SIGINT", onSigint);

  worker.on("message", (m: WorkerMessage) => {
    const p = pending.get(m.id);
    if (!p) return;
    p.lastBeat = Date.now();
    if (m.type === "progress") {
      if (!tty) return;
      const rate = m.elapsedMs > 0 ? Math.round((m.executions + m.blocked) / (m.elapsedMs / 1000)) : 0;
      process.stderr.write(
        `\r\x1b[K${p.label}: ${m.executions} executions, ${m.blocked} blocked, ${rate}/s, depth ${m.maxDepth}${m.phase ? `, ${m.phase}` : ""}, ${(m.elapsedMs / 1000).toFixed(1)} s`,
      );
      drawn = true;
      return;
    }
    clear();
    pending.delete(m.id);
    if (m.type === "result") p.resolve(m.result);
    else p.reject(new CheckError(m.message, m.kind));
  });
  worker.on("error", (e) => {
    clear();
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  });

  return {
    check(job, label) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, label, lastBeat: Date.now() });
        worker.postMessage({ ...job, id } satisfies CheckJob);
      });
    },
    interrupted: () => interrupted,
    async close() {
      clearInterval(watchdog);
      process.off("SIGINT", onSigint);
      await worker.terminate();
    },
  };
}
