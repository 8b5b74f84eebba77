// What random and pct share: independent executions, each scheduled by a
// seeded policy, until one violates or the budget runs out. Never complete.

import { choiceAlt, type Execution, encodeChoice } from "../execution.js";
import { pick, type Rng } from "../prng.js";
import type { ExploreResult } from "../result.js";
import { End, ending, type Session } from "./common.js";

export const DEFAULT_RANDOM_EXECUTIONS = 10_000;

export interface Policy<W> {
  /** Called before each execution. */
  start?(): void;
  /** Picks the thread to run among the enabled ones (`step`: steps taken so far). */
  pick(ex: Execution<W>, en: readonly number[], step: number): number;
  /** Called after each execution with its number of steps. */
  end?(steps: number): void;
}

/** Runs executions under `policy` (alternatives of a `choose` drawn uniformly) until a violation or the budget. */
export function sample<W>(s: Session<W>, name: string, rng: Rng, policy: Policy<W>): ExploreResult {
  const en: number[] = [];
  for (;;) {
    const ex = s.newExecution();
    const schedule: number[] = [];
    let end: End;
    policy.start?.();
    for (;;) {
      ex.enabled(en);
      end = ending(ex, en.length);
      if (end !== End.Running) break;
      const tid = policy.pick(ex, en, schedule.length);
      const n = ex.alternatives(tid);
      const c = encodeChoice(tid, n > 1 ? pick(rng, n) : 0);
      ex.step(tid, choiceAlt(c));
      schedule.push(c);
    }
    policy.end?.(schedule.length);
    const stop = s.count(end, schedule.length, ex, (n) => schedule.slice(0, n));
    // Preemptions are counted when the counterexample is minimised (Session.result).
    if (ex.violation && (end === End.Violation || end === End.Blocked))
      return s.result(name, false, {
        violation: ex.violation,
        schedule: schedule.slice(0, ex.violationAt[0]),
        preemptions: -1,
      });
    if (stop) return s.result(name, false);
  }
}
