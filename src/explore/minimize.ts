// Minimal counterexamples: the one with the fewest preemptions, then the
// fewest steps, that a bounded search can reach within a budget. Every
// strategy's counterexample goes through here (Session.result), so a user sees
// the same kind of trace whichever strategy found the bug: the preemption
// bounds of CHESS (Musuvathi & Qadeer, PLDI 2007) give the fewest
// preemptions; a depth cut gives the fewest steps at that bound. A candidate
// is kept only if it replays, from its schedule alone, to the same kind of
// violation. For one class of an all-violations search (`anywhere`), the
// candidates run in all-violations mode, match kind and message wherever the
// violation comes in their execution, and end with the step that raised it.

import type { Execution } from "./execution.js";
import type { Monitor, Program } from "./program.js";
import { Session } from "./strategies/common.js";
import { type PassOptions, pass } from "./strategies/dfs.js";
import { checkReplaysAlike, replay } from "./strategies/replay.js";
import type { Violation } from "./violation.js";

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
  /**
   * All-violations mode (see ExploreOptions.keepGoing): the violation may come
   * after another one in its execution; match its kind and message.
   */
  readonly anywhere?: boolean;
}

/** Which violations count as the one being minimised. */
interface Target {
  readonly kind: string;
  /** Set in all-violations mode, where the message must match too. */
  readonly message?: string;
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
  const all = opts.anywhere === true;
  // A counterexample that does not replay alike is a non-deterministic model, not a bug to show.
  checkReplaysAlike(program, found.schedule, all);
  const target: Target = opts.anywhere
    ? { kind: found.violation.kind, message: found.violation.message }
    : { kind: found.violation.kind };
  let best: Counterexample = {
    violation: found.violation,
    schedule: found.schedule,
    preemptions: countPreemptions(program, found.schedule, all),
  };
  let budget = opts.budget ?? DEFAULT_MINIMIZE_BUDGET;
  if (budget <= 0 || !reproduces(program, found.schedule, target)) return located(program, best, all);
  const monitors: Monitor[] = program.monitors ? program.monitors() : [];
  for (let bound = 0; bound <= best.preemptions && budget > 0; bound++) {
    const r = search(
      program,
      monitors,
      target,
      bound,
      bound === best.preemptions ? best.schedule.length : Infinity,
      budget,
    );
    budget -= r.used;
    if (r.best && (r.best.preemptions < best.preemptions || r.best.schedule.length < best.schedule.length)) {
      best = r.best;
      break;
    }
  }
  return located(program, best, all);
}

/**
 * An oops names the kernel call stack where it happened, which only a
 * recorded execution keeps (see Execution's CallStack): one recorded replay
 * of the counterexample finds it.
 */
function located<W>(program: Program<W>, c: Counterexample, allViolations: boolean): Counterexample {
  if (c.violation.kind !== "oops") return c;
  try {
    const ex = replay(program, c.schedule, true, { allViolations }).execution;
    const v = ex.violations.find((x) => x.kind === "oops" && x.message === c.violation.message);
    return v ? { ...c, violation: v } : c;
  } catch {
    return c;
  }
}

/** Preemptions in a schedule: switches away from a thread that could have continued. */
export function countPreemptions<W>(program: Program<W>, schedule: readonly number[], allViolations = false): number {
  try {
    return replay(program, schedule, false, { allViolations }).preemptions;
  } catch {
    return 0;
  }
}

/** The violation of `target` that `schedule` raises at its last step, if it does. */
function raised(ex: Execution<unknown>, steps: number, target: Target): Violation | undefined {
  if (target.message === undefined) return ex.violation?.kind === target.kind ? ex.violation : undefined;
  const i = ex.violations.findIndex((v) => v.kind === target.kind && v.message === target.message);
  return i >= 0 && ex.violationAt[i] === steps ? ex.violations[i] : undefined;
}

function reproduces<W>(program: Program<W>, schedule: readonly number[], target: Target): boolean {
  try {
    const r = replay(program, schedule, false, { allViolations: target.message !== undefined });
    return raised(r.execution as Execution<unknown>, schedule.length, target) !== undefined;
  } catch {
    return false;
  }
}

/**
 * Depth-first over the schedules with at most `bound` preemptions and fewer
 * than `limit` steps (dfs's pass, non-preempting schedules first), keeping
 * the shortest that raises the target violation and replays.
 */
function search<W>(
  program: Program<W>,
  monitors: Monitor[],
  target: Target,
  bound: number,
  limit: number,
  budget: number,
): { best?: Counterexample; used: number } {
  const all = target.message !== undefined;
  const s = new Session(program, { maxExecutions: budget, keepGoing: all }, monitors);
  let best: Counterexample | undefined;
  const o: PassOptions = {
    bound,
    limit,
    onCex: (cex) => {
      const i = all
        ? cex.all.findIndex((v) => v.kind === target.kind && v.message === target.message)
        : cex.violation.kind === target.kind
          ? 0
          : -1;
      if (i < 0) return false;
      const schedule = all ? cex.full.slice(0, cex.at[i]) : cex.schedule;
      if (schedule.length < (o.limit ?? Infinity) && reproduces(program, schedule, target)) {
        best = {
          violation: cex.all[i],
          schedule,
          preemptions: countPreemptions(program, schedule, all),
        };
        o.limit = schedule.length;
      }
      return false;
    },
  };
  pass(s, o);
  return { best, used: s.executions + s.blocked + s.cut + s.sleepBlocked };
}
