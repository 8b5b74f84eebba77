// Minimal counterexamples: the one with the fewest preemptions, then the
// fewest steps, that a bounded search can reach within a budget. Every
// strategy's counterexample goes through here (Session.result), so a user sees
// the same kind of trace whichever strategy found the bug: the preemption
// bounds of CHESS (Musuvathi & Qadeer, PLDI 2007) give the fewest
// preemptions; a depth cut gives the fewest steps at that bound. A candidate
// is kept only if it replays, from its schedule alone, to the same kind of
// violation.

import type { Monitor, Program } from "./program.js";
import { Session } from "./strategies/common.js";
import { type PassOptions, pass } from "./strategies/dfs.js";
import { checkReplaysAlike, replay } from "./strategies/replay.js";
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
  // A counterexample that does not replay alike is a non-deterministic model, not a bug to show.
  checkReplaysAlike(program, found.schedule);
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

/**
 * Depth-first over the schedules with at most `bound` preemptions and fewer
 * than `limit` steps (dfs's pass, non-preempting schedules first), keeping
 * the shortest that ends in a violation of `kind` and replays.
 */
function search<W>(
  program: Program<W>,
  monitors: Monitor[],
  kind: ViolationKind,
  bound: number,
  limit: number,
  budget: number,
): { best?: Counterexample; used: number } {
  const s = new Session(program, { maxExecutions: budget }, monitors);
  let best: Counterexample | undefined;
  const o: PassOptions = {
    bound,
    limit,
    onCex: (cex) => {
      if (
        cex.violation.kind === kind &&
        cex.schedule.length < (o.limit ?? Infinity) &&
        reproduces(program, cex.schedule, kind)
      ) {
        best = {
          violation: cex.violation,
          schedule: cex.schedule,
          preemptions: countPreemptions(program, cex.schedule),
        };
        o.limit = cex.schedule.length;
      }
      return false;
    },
  };
  pass(s, o);
  return { best, used: s.executions + s.blocked + s.cut + s.sleepBlocked };
}
