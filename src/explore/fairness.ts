// Liveness under fairness: what a thread that passes its step bound means.
//
// A livelock is a thread that makes no progress in a *fair* execution, one in
// which a thread that keeps being enabled keeps being scheduled (strong
// fairness, as in Musuvathi & Qadeer, "Fair stateless model checking", PLDI
// 2008). The kernel cannot starve a thread that holds a spinlock (its CPU runs
// with preemption off), so an execution in which a retry loop spins while the
// lock holder waits for a CPU shows nothing about the kernel.
//
// PLDI 2008 enforces fairness while it schedules: a thread that yields without
// progress gives way to the threads it ran ahead of. Here every strategy shares
// one decision instead, taken where a thread passes its bound: the thread's
// last WINDOW steps are the finite stand-in for "forever", and
// - a thread that was enabled at STARVE of those steps without running in
//   between was starved: the execution is unfair, and it is cut (the
//   exploration is incomplete, never wrong; fair executions of the same loop
//   are other schedules, which the strategy explores or samples as well);
// - a thread that ran alone in its window, every other thread blocked all
//   along, and that only failed its retries (a trylock or cmpxchg that failed,
//   a yield) or wrote nothing, waits for what nobody can change: a deadlock,
//   reported with the wait-for cycle through it;
// - a thread that is not a daemon ran in the window and finished, or is far
//   from its own bound: it is getting somewhere, and the loop may end once it
//   has; the bound came too early to tell, and the execution is cut;
// - otherwise the others ran (daemons, or threads looping too) and the loop
//   still made no headway: a livelock.
//
// Bookkeeping happens only at a thread's own steps inside its window, so
// programs whose threads stay far below the bound pay nothing per step.

import type { Execution, TState } from "./execution.js";
import { K, type Op } from "./ops.js";

/** The watched steps of a thread: the last half of its bound. */
export const windowOf = (maxSteps: number): number => Math.max(1, Math.floor(maxSteps / 2));
/** A thread enabled at this many watched steps of another thread, without running, was starved (half the window). */
const starveOf = (maxSteps: number): number => Math.max(2, Math.floor(maxSteps / 4));

/** What a thread did in its window, sampled at each of its steps there. */
class Window {
  /** Steps of every thread when the window opened, and at this thread's last step. */
  readonly startSteps: number[];
  readonly lastSteps: number[];
  /** Per thread: this thread's steps at which it was enabled since it last ran. */
  readonly starved: number[];
  /** Per thread: enabled at one of this thread's steps at least. */
  readonly everEnabled: boolean[];
  /** The first thread found starved, or -1. */
  starvedTid = -1;
  /** This thread wrote shared state in the window (a successful trylock or cmpxchg, a store, a lock, ...). */
  wrote = false;
  /** The last retry that failed (trylock, cmpxchg) or yield, else the last read: what the thread waits for. */
  retry: Op | null = null;
  failedRetry = false;

  constructor(threads: readonly TState[]) {
    this.startSteps = threads.map((u) => u.steps);
    this.lastSteps = this.startSteps.slice();
    this.starved = threads.map(() => 0);
    this.everEnabled = threads.map(() => false);
  }
}

export type Judgement =
  | { readonly kind: "unfair"; readonly starved: string }
  | { readonly kind: "premature"; readonly progressing: string }
  | { readonly kind: "deadlock"; readonly spin: Op }
  | { readonly kind: "livelock" };

/** The windows of the threads near their bound, in one execution; made when the first thread gets there. */
export class Fairness {
  private readonly windows: (Window | undefined)[] = [];
  private readonly starve: number;
  private readonly watchFrom: number;

  constructor(maxSteps: number) {
    this.starve = starveOf(maxSteps);
    this.watchFrom = maxSteps - windowOf(maxSteps);
  }

  /** After `t`'s step of `op` (which wrote shared state or not, returned `res`) inside its window. */
  sample(ex: Execution, t: TState, op: Op, wrote: boolean, res: unknown): void {
    const threads = ex.threads;
    let w = this.windows[t.id];
    if (w === undefined) {
      w = new Window(threads);
      this.windows[t.id] = w;
    }
    const failed =
      op.k === K.Yield ||
      ((op.k === K.Trylock || op.k === K.DownReadTry || op.k === K.DownWriteTry) && res === false) ||
      (op.k === K.Cas && !wrote);
    if (failed) {
      // A yield names nothing: the trylock or cmpxchg that failed says what the loop waits for.
      if (op.t !== null || !w.failedRetry) w.retry = op;
      w.failedRetry = true;
    } else if (wrote) w.wrote = true;
    else if (!w.failedRetry && op.t !== null) w.retry = op;
    for (let u = 0; u < threads.length; u++) {
      if (u === t.id) continue;
      const x = threads[u];
      if (w.lastSteps[u] === undefined) {
        // Spawned during the window.
        w.startSteps[u] = w.lastSteps[u] = 0;
        w.starved[u] = 0;
        w.everEnabled[u] = false;
      }
      if (x.done || x.steps !== w.lastSteps[u]) {
        w.lastSteps[u] = x.steps;
        w.starved[u] = 0;
      } else if (ex.isEnabled(u)) {
        w.everEnabled[u] = true;
        if (++w.starved[u] >= this.starve && w.starvedTid === -1) w.starvedTid = u;
      }
    }
  }

  /** Decides what `t` passing its bound means (see the top of this file). */
  judge(ex: Execution, t: TState): Judgement {
    const w = this.windows[t.id];
    if (w === undefined) return { kind: "livelock" };
    if (w.starvedTid !== -1) return { kind: "unfair", starved: ex.threads[w.starvedTid].name };
    let alone = true;
    for (let u = 0; u < ex.threads.length; u++) {
      if (u === t.id) continue;
      const x = ex.threads[u];
      const ran = x.steps !== (w.startSteps[u] ?? 0);
      if (w.everEnabled[u] || ran) alone = false;
      // A thread that ran and is itself far from its bound, or finished, is getting somewhere: t may get through once it has.
      if (ran && !x.daemon && (x.done || x.steps <= this.watchFrom)) return { kind: "premature", progressing: x.name };
    }
    if (alone && w.retry !== null && (w.failedRetry || !w.wrote)) return { kind: "deadlock", spin: w.retry };
    return { kind: "livelock" };
  }
}
