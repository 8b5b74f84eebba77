// Checks one variant of a scenario: explores it, compares the verdict found
// with the one expected, and replays the counterexample to record its trace.

import {
  defaultStrategy,
  type Execution,
  type ExploreOptions,
  type ExploreResult,
  explore,
  exploreParallel,
  NoteOrder,
  type Program,
  type ReplayResult,
  replay,
  type TraceStep,
  type ViolationClass,
} from "../explore/index.js";
import { catalogueRef } from "./refs.js";
import type { Expected, Scenario, StoryStep, Variant } from "./types.js";

export interface CheckOptions extends ExploreOptions {
  readonly strategy?: string;
  /**
   * Explore with keepGoing (a violation stops only its thread) and report
   * every distinct violation, each with a minimal trace. Needs an exhaustive
   * strategy: dpor or dfs (the variant's own strategy otherwise gives way to
   * the default one).
   */
  readonly allViolations?: boolean;
}

/** One distinct violation of an all-violations check, with the trace of a minimal schedule that raises it. */
export interface ViolationClassResult extends ViolationClass {
  readonly threads: readonly string[];
  readonly trace: readonly TraceStep[];
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
  /** The exploration was one shard of a split one: its verdict covers that part (0-based index of count). */
  readonly shard?: { readonly index: number; readonly count: number };
  /** With a story: whether the counterexample shown tells it ("shown"), or no execution does ("not found"). */
  readonly story?: "shown" | "not found";
  /** allViolations: every distinct violation, in the order found. */
  readonly violations?: readonly ViolationClassResult[];
}

/**
 * Does an execution tell the story: are the beats notes of it in an order
 * that some linearization of its trace has (notes.ts)? Not only the order it
 * ran in: dpor runs one linearization per trace, and a story's beats may be
 * independent steps. Needs the logs that Program.accept keeps.
 */
export function tellsStory(ex: Execution<unknown>, story: readonly StoryStep[]): boolean {
  return new NoteOrder(ex).match(story) !== null;
}

/**
 * Replays `schedule` and, when its execution tells the story, returns it
 * re-linearized so that the trace shows the beats in the story's order (the
 * same trace, so the same violation); null when it does not tell it.
 */
function tellStory(
  program: Program<unknown>,
  schedule: readonly number[],
  story: readonly StoryStep[],
): { rep: ReplayResult<unknown>; schedule: readonly number[] } | null {
  // Every violation accepted: a query's logs, the same execution.
  const rep = replay({ ...program, accept: () => true }, schedule, false);
  const order = new NoteOrder(rep.execution);
  const matched = order.match(story);
  if (matched === null) return null;
  // A violation that a step raised stays last; one found by the end-of-run invariants comes after every order.
  const ex = rep.execution;
  const stopped = rep.end === "violation" && !(ex.finished() && ex.violation?.kind === "invariant");
  try {
    const told = order.schedule(matched, stopped);
    const shown = replay(program, told, true);
    if (shown.end === rep.end && shown.execution.violation?.kind === rep.execution.violation?.kind)
      return { rep: shown, schedule: told };
  } catch {
    // An `always` invariant may fail earlier in the new order: show the execution as it ran.
  }
  return { rep: replay(program, schedule, true), schedule };
}

export function foundVerdict(r: ExploreResult): string {
  if (r.violation) return `violation:${r.violation.kind}`;
  return r.complete ? "safe" : "unknown";
}

/** The strategies that explore everything, so that "every violation" means every one. */
export const exhaustiveStrategies: readonly string[] = ["dpor", "dfs"];

export function checkVariant(s: Scenario, v: Variant, opts: CheckOptions = {}): CheckResult {
  const program: Program<unknown> = v.program();
  let strategy = opts.strategy ?? v.strategy;
  if (opts.allViolations) {
    strategy ??= defaultStrategy(program);
    if (!exhaustiveStrategies.includes(strategy)) {
      if (opts.strategy !== undefined)
        throw new Error(`--all-violations needs an exhaustive strategy (dpor or dfs), not ${strategy}`);
      strategy = defaultStrategy(program);
    }
  }
  const eo: ExploreOptions = { ...v.options, ...opts, ...(opts.allViolations ? { keepGoing: true } : {}) };
  return finish(s, v, program, explore(program, strategy, eo), opts);
}

export interface SplitOptions {
  /** Worker threads sharing the exploration. */
  readonly workers?: number;
  /** Explore only this part of it (0-based index of count). */
  readonly shard?: { readonly index: number; readonly count: number };
}

/** checkVariant, with the exploration split across worker threads or cut into a shard (dpor and dfs). */
export async function checkVariantSplit(
  s: Scenario,
  v: Variant,
  opts: CheckOptions & SplitOptions = {},
): Promise<CheckResult> {
  if ((opts.workers ?? 1) <= 1 && !opts.shard) return checkVariant(s, v, opts);
  const program: Program<unknown> = v.program();
  const strategy = opts.strategy ?? v.strategy ?? defaultStrategy(program);
  if (strategy !== "dpor" && strategy !== "dfs")
    throw new Error(`--workers and --shard split a dpor or dfs exploration, not ${strategy}`);
  const result = await exploreParallel(
    { program: catalogueRef(s.id, v.name), strategy, options: { maxExecutions: opts.maxExecutions } },
    { workers: opts.workers, shard: opts.shard, shouldStop: opts.shouldStop },
  );
  const r = finish(s, v, program, result, opts);
  return opts.shard ? { ...r, shard: opts.shard } : r;
}

/** The recorded trace of a schedule (all-violations mode: a violation stops only its thread). */
function traceOf(program: Program<unknown>, schedule: readonly number[], allViolations = false) {
  const rep = replay(program, schedule, true, { allViolations });
  return { threads: rep.execution.threads.map((t) => t.name), trace: rep.trace };
}

/** Compares the verdict with the expected one and records the counterexample (the story's, when asked). */
function finish(
  s: Scenario,
  v: Variant,
  program: Program<unknown>,
  result: ExploreResult,
  opts: CheckOptions,
): CheckResult {
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
  if (opts.allViolations && result.violations) {
    const violations = result.violations.map((c) => ({ ...c, ...traceOf(program, c.schedule, true) }));
    return { ...base, ...traceOf(program, result.schedule), violations };
  }
  if (!v.story) return { ...base, ...traceOf(program, result.schedule) };
  const story = v.story;
  const shownAs = ({ rep, schedule }: NonNullable<ReturnType<typeof tellStory>>): CheckResult => ({
    ...base,
    result: { ...result, schedule, preemptions: rep.preemptions },
    threads: rep.execution.threads.map((t) => t.name),
    trace: rep.trace,
    story: "shown",
  });
  const first = tellStory(program, result.schedule, story);
  if (first !== null) return shownAs(first);
  // Ask the explorer for the execution the source thread describes (still the fewest preemptions among those).
  const query: Program<unknown> = { ...program, accept: (ex) => tellsStory(ex, story) };
  const told = explore(query, undefined, { maxExecutions: opts.maxExecutions, shouldStop: opts.shouldStop });
  const shown =
    told.schedule && told.violation?.kind === result.violation?.kind && tellStory(program, told.schedule, story);
  if (shown) return shownAs(shown);
  const rep = replay(program, result.schedule, true);
  return { ...base, threads: rep.execution.threads.map((t) => t.name), trace: rep.trace, story: "not found" };
}
