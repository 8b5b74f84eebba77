// Minimal counterexamples: the one with the fewest preemptions, then the
// fewest steps, that a bounded search can reach within a budget. Every
// strategy's counterexample goes through here (Session.result), so a user sees
// the same kind of trace whichever strategy found the bug: the preemption
// bounds of CHESS (Musuvathi & Qadeer, PLDI 2007) give the fewest
// preemptions; a depth cut gives the fewest steps at that bound. A candidate
// is kept only if it replays, from its schedule alone, to the same kind of
// violation.

import { choiceAlt, choiceTid, Execution, encodeChoice } from "./execution.js";
import type { Monitor, Program } from "./program.js";
import { End, ending } from "./strategies/common.js";
import { replay } from "./strategies/replay.js";
import type { Violation, ViolationKind } from "./violation.js";

export interface Counterexample {
  readonly violation: Violation;
  /** Encoded choices, one per step. */
  readonly schedule: readonly number[];
  readonly preemptions: number;
}

/** Executions the minimiser may spend by default. */
export const DEFAULT_MINIMIZE_BUDGET = 20_000;

export interface MinimizeOptions {
  /** Executions to spend at most (default DEFAULT_MINIMIZE_BUDGET; 0 only measures). */
  readonly budget?: number;
}

/**
 * Returns the counterexample with the fewest preemptions, then the fewest
 * steps, among `found` and those of the same violation kind that bounded
 * search finds within the budget. Never returns one that does not replay to
 * that kind, unless `found` itself does not (then `found`, measured).
 */
export function minimize<W>(
  program: Program<W>,
  found: { readonly violation: Violation; readonly schedule: readonly number[] },
  opts: MinimizeOptions = {},
): Counterexample {
  const kind = found.violation.kind;
  let best: Counterexample = { ...found, preemptions: countPreemptions(program, found.schedule) };
  let budget = opts.budget ?? DEFAULT_MINIMIZE_BUDGET;
  if (budget <= 0 || !reproduces(program, found.schedule, kind)) return best;
  const monitors: Monitor[] = program.monitors ? program.monitors() : [];
  for (let bound = 0; bound <= best.preemptions && budget > 0; bound++) {
    const r = search(
      program,
      monitors,
      kind,
      bound,
      bound === best.preemptions ? best.schedule.length : Infinity,
      budget,
    );
    budget -= r.used;
    if (r.best && (r.best.preemptions < best.preemptions || r.best.schedule.length < best.schedule.length)) {
      best = r.best;
      return best;
    }
  }
  return best;
}

/** Preemptions in a schedule: switches away from a thread that could have continued. */
export function countPreemptions<W>(program: Program<W>, schedule: readonly number[]): number {
  try {
    return replay(program, schedule, false).preemptions;
  } catch {
    return 0;
  }
}

function reproduces<W>(program: Program<W>, schedule: readonly number[], kind: ViolationKind): boolean {
  try {
    const r = replay(program, schedule, false);
    return r.execution.violation?.kind === kind;
  } catch {
    return false;
  }
}

interface Frame {
  readonly alts: number[];
  idx: number;
}

/**
 * Depth-first over the schedules with at most `bound` preemptions and fewer
 * than `limit` steps, keeping the shortest that ends in a violation of `kind`
 * and replays. The thread that ran last comes first, so non-preempting
 * schedules are tried first.
 */
function search<W>(
  program: Program<W>,
  monitors: Monitor[],
  kind: ViolationKind,
  bound: number,
  limit: number,
  budget: number,
): { best?: Counterexample; used: number } {
  const stack: Frame[] = [];
  const en: number[] = [];
  let used = 0;
  let best: Counterexample | undefined;
  while (used < budget) {
    const ex = new Execution(program, { monitors });
    used++;
    let depth = 0;
    let prev = -1;
    let pre = 0;
    let end: End;
    for (;;) {
      ex.enabled(en);
      end = ending(ex, en.length);
      if (end !== End.Running) break;
      if (depth + 1 >= limit) break;
      if (depth === stack.length) {
        const alts: number[] = [];
        const prevOn = prev !== -1 && en.includes(prev);
        if (prevOn) pushAlts(ex, prev, alts);
        if (!prevOn || pre < bound) for (const t of en) if (t !== prev || !prevOn) pushAlts(ex, t, alts);
        stack.push({ alts, idx: 0 });
      }
      const f = stack[depth];
      const c = f.alts[f.idx];
      const tid = choiceTid(c);
      if (!ex.isEnabled(tid)) break; // a monitor changed course: give up on this branch
      if (prev !== -1 && tid !== prev && ex.isEnabled(prev)) pre++;
      ex.step(tid, choiceAlt(c));
      prev = tid;
      depth++;
    }
    if ((end === End.Violation || end === End.Blocked) && ex.violation?.kind === kind && depth < limit) {
      const schedule = stack.slice(0, depth).map((f) => f.alts[f.idx]);
      if (reproduces(program, schedule, kind)) {
        best = { violation: ex.violation, schedule, preemptions: countPreemptions(program, schedule) };
        limit = depth;
      }
    }
    if (stack.length > depth) stack.length = depth;
    while (stack.length !== 0 && stack[stack.length - 1].idx + 1 >= stack[stack.length - 1].alts.length) stack.pop();
    if (stack.length === 0) break;
    stack[stack.length - 1].idx++;
  }
  return { best, used };
}

function pushAlts<W>(ex: Execution<W>, tid: number, out: number[]): void {
  const n = ex.alternatives(tid);
  for (let a = 0; a < n; a++) out.push(encodeChoice(tid, a));
}
