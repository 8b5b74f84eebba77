// The worker threads of parallel explorations, kept for the life of the
// thread that uses them: starting a worker costs tens of milliseconds, and a
// fresh one runs the explorer cold until its JIT has compiled it again, which
// on a one-second exploration is most of what a second thread could save.
// Explorations lease workers (never two at once on one worker) and give them
// back; an idle worker does not keep the process alive, and one that fails
// while idle leaves the pool.

import { Worker } from "node:worker_threads";

const idle: Worker[] = [];

/** `n` workers for one exploration: idle ones first, new ones for the rest. */
export function lease(n: number): Worker[] {
  const out: Worker[] = [];
  while (out.length < n && idle.length !== 0) out.push(idle.pop() as Worker);
  while (out.length < n) out.push(new Worker(new URL("./worker.js", import.meta.url)));
  for (const w of out) {
    w.removeAllListeners();
    w.ref();
  }
  return out;
}

/** Gives back workers that finished their pieces and are waiting for the next message. */
export function release(workers: readonly Worker[]): void {
  for (const w of workers) {
    w.removeAllListeners();
    const drop = () => {
      const i = idle.indexOf(w);
      if (i >= 0) idle.splice(i, 1);
    };
    w.on("error", drop);
    w.on("exit", drop);
    w.unref();
    idle.push(w);
  }
}

/** Ends workers that failed or were left in an unknown state. */
export function discard(workers: readonly Worker[]): void {
  for (const w of workers) {
    w.removeAllListeners();
    void w.terminate();
  }
}
