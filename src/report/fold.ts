// Folding a trace into the rows a reader needs: a run of one thread's steps
// that touches nothing another thread touches is bookkeeping, not the race,
// so it becomes one row; every step on a shared cell or lock keeps its row.

import type { TraceStep } from "../explore/index.js";

/** One row of the interleaving table: one step, or a folded run of one thread's steps. */
export interface Row {
  readonly tid: number;
  /** The steps of the row, in execution order (one unless folded). */
  readonly steps: readonly TraceStep[];
  /** The row starts with a preemption. */
  readonly preempt: boolean;
}

/** Targets (cells and locks) that steps of at least two different threads touch. */
export function sharedTargets(trace: readonly TraceStep[]): Set<string> {
  const firstTid = new Map<string, number>();
  const shared = new Set<string>();
  for (const s of trace) {
    if (s.target === undefined) continue;
    const t = firstTid.get(s.target);
    if (t === undefined) firstTid.set(s.target, s.tid);
    else if (t !== s.tid) shared.add(s.target);
  }
  return shared;
}

/** Rows of the table: with `fold`, consecutive unshared steps of one thread become one row. */
export function foldTrace(trace: readonly TraceStep[], fold = true): Row[] {
  if (!fold) return trace.map((s) => ({ tid: s.tid, steps: [s], preempt: s.preempt === true }));
  const shared = sharedTargets(trace);
  const isShared = (s: TraceStep) => s.target !== undefined && shared.has(s.target);
  const rows: Row[] = [];
  let run: TraceStep[] = [];
  const flush = () => {
    if (run.length) rows.push({ tid: run[0].tid, steps: run, preempt: run[0].preempt === true });
    run = [];
  };
  for (const s of trace) {
    // A thread switch, a preemption or a shared access ends the current fold.
    if (run.length && (run[0].tid !== s.tid || s.preempt || isShared(s))) flush();
    if (isShared(s)) {
      rows.push({ tid: s.tid, steps: [s], preempt: s.preempt === true });
      continue;
    }
    run.push(s);
  }
  flush();
  return rows;
}
