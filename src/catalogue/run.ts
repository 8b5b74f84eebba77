// Checks one variant of a scenario: explores it, compares the verdict found
// with the one expected, and replays the counterexample to record its trace.

import {
  type ExploreOptions,
  type ExploreResult,
  explore,
  type Program,
  replay,
  type TraceStep,
} from "../explore/index.js";
import type { Expected, Scenario, Variant } from "./types.js";

export interface CheckOptions extends ExploreOptions {
  readonly strategy?: string;
}

export interface CheckResult {
  readonly scenario: string;
  readonly variant: string;
  readonly expected?: Expected;
  /** `safe` (complete exploration, no violation), `violation:<kind>`, or `unknown` (bounded, nothing found). */
  readonly found: string;
  /** found equals expected (with no expectation: no violation found). */
  readonly ok: boolean;
  readonly strategy: string;
  readonly result: ExploreResult;
  /** Thread names, in id order, of the counterexample's execution. */
  readonly threads?: readonly string[];
  readonly trace?: readonly TraceStep[];
}

export function foundVerdict(r: ExploreResult): string {
  if (r.violation) return `violation:${r.violation.kind}`;
  return r.complete ? "safe" : "unknown";
}

export function checkVariant(s: Scenario, v: Variant, opts: CheckOptions = {}): CheckResult {
  const strategy = opts.strategy ?? v.strategy;
  const program: Program<unknown> = v.program();
  const result = explore(program, strategy, { ...v.options, ...opts });
  const found = foundVerdict(result);
  const base = {
    scenario: s.id,
    variant: v.name,
    expected: v.expected,
    found,
    ok: v.expected ? found === v.expected : !result.violation,
    strategy: result.strategy,
    result,
  };
  if (!result.schedule) return base;
  const rep = replay(program, result.schedule, true);
  return { ...base, threads: rep.execution.threads.map((t) => t.name), trace: rep.trace };
}
