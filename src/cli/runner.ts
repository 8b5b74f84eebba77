// The main thread's side of the workers: a small pool that runs check jobs,
// draws progress on a TTY, notices a scenario stuck in thread-local code, and
// turns the first Ctrl-C into a clean stop (a shared flag every exploration
// polls), so that what was found so far is still reported.

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { CheckResult } from "../catalogue/index.js";
import type { CheckJob, WorkerMessage } from "./worker.js";

export interface Runner {
  /** Queues a check; results of concurrent checks arrive in any order. */
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

interface Pending {
  readonly job: CheckJob;
  readonly label: string;
  readonly resolve: (r: CheckResult) => void;
  readonly reject: (e: Error) => void;
  lastBeat: number;
}

interface Slot {
  readonly worker: Worker;
  current: Pending | null;
}

export interface RunnerOptions {
  readonly progress: boolean;
  /** Worker threads (default: the machine's cores, at most 4). */
  readonly workers?: number;
  readonly stuckAfterMs?: number;
}

export function startRunner(opts: RunnerOptions): Runner {
  const stopBuf = new SharedArrayBuffer(4);
  const stop = new Int32Array(stopBuf);
  const stuckAfter = opts.stuckAfterMs ?? (Number(process.env.MMRACE_STUCK_AFTER_MS) || STUCK_AFTER_MS);
  const size = Math.max(1, opts.workers ?? Math.min(4, availableParallelism()));
  const queue: Pending[] = [];
  const slots: Slot[] = [];
  let nextId = 1;
  let interrupted = false;
  const tty = opts.progress && process.stderr.isTTY;
  let drawn = false;
  const clear = () => {
    if (drawn) process.stderr.write("\r\x1b[K");
    drawn = false;
  };

  const dispatch = () => {
    for (const slot of slots) {
      if (slot.current || queue.length === 0) continue;
      const p = queue.shift() as Pending;
      p.lastBeat = Date.now();
      slot.current = p;
      slot.worker.postMessage(p.job);
    }
  };

  const finish = (slot: Slot, settle: (p: Pending) => void) => {
    const p = slot.current;
    if (!p) return;
    slot.current = null;
    clear();
    settle(p);
    dispatch();
  };

  const spawnSlot = (): Slot => {
    const worker = new Worker(new URL("./worker.js", import.meta.url), { workerData: { stop: stopBuf } });
    const slot: Slot = { worker, current: null };
    worker.on("message", (m: WorkerMessage) => {
      const p = slot.current;
      if (!p || p.job.id !== m.id) return;
      p.lastBeat = Date.now();
      if (m.type === "progress") {
        if (!tty) return;
        const rate = m.elapsedMs > 0 ? Math.round((m.executions + m.blocked) / (m.elapsedMs / 1000)) : 0;
        process.stderr.write(
          `\r\x1b[K${p.label}: ${m.executions} executions, ${m.blocked} blocked, ${rate}/s, depth ${m.maxDepth}${m.phase ? `, ${m.phase}` : ""}, ${(m.elapsedMs / 1000).toFixed(1)} s`,
        );
        drawn = true;
      } else if (m.type === "result") finish(slot, (x) => x.resolve(m.result));
      else finish(slot, (x) => x.reject(new CheckError(m.message, m.kind)));
    });
    worker.on("error", (e) => finish(slot, (x) => x.reject(e)));
    return slot;
  };
  for (let i = 0; i < size; i++) slots.push(spawnSlot());

  const watchdog = setInterval(() => {
    const now = Date.now();
    for (let i = 0; i < slots.length; i++) {
      const p = slots[i].current;
      if (!p || now - p.lastBeat < stuckAfter) continue;
      const dead = slots[i];
      slots[i] = spawnSlot();
      void dead.worker.terminate();
      clear();
      p.reject(
        new CheckError(
          `${p.label}: no step for ${Math.round(stuckAfter / 1000)} s: the scenario loops in thread-local code (a loop without a yield, or a setup() that never returns)`,
          "ModelError",
        ),
      );
      dispatch();
    }
  }, 250);
  watchdog.unref();

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

  return {
    check(job, label) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        queue.push({ job: { ...job, id }, label, resolve, reject, lastBeat: Date.now() });
        dispatch();
      });
    },
    interrupted: () => interrupted,
    async close() {
      clearInterval(watchdog);
      process.off("SIGINT", onSigint);
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
