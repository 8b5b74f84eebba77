// What an exploration reports.

import type { Execution } from "./execution.js";
import type { ViolationKind } from "./violation.js";

export interface ViolationReport {
  readonly kind: ViolationKind;
  readonly message: string;
  readonly detail?: unknown;
}

/** One distinct violation (kind and message) of a keepGoing exploration. */
export interface ViolationClass extends ViolationReport {
  /** Executions that raised it. */
  readonly executions: number;
  /** A minimal schedule that raises it, ending with the step that does (replay it in all-violations mode). */
  readonly schedule: readonly number[];
  readonly preemptions: number;
}

export interface Progress {
  readonly executions: number;
  readonly blocked: number;
  readonly steps: number;
  readonly elapsedMs: number;
  /** Deepest execution so far, in steps. */
  readonly maxDepth: number;
  /** What the strategy is doing, e.g. "preemption bound 2". */
  readonly phase?: string;
}

export interface ExploreResult {
  readonly strategy: string;
  readonly verdict: "safe" | "violation";
  /** True only when the strategy explored everything within its bounds. */
  readonly complete: boolean;
  /** Executions that ran to the end (or to a violation). */
  readonly executions: number;
  /** Executions in which no thread could run before the program finished. */
  readonly blocked: number;
  /** Executions cut short by a sleep set (zero for an optimal explorer). */
  readonly sleepBlocked: number;
  /** Executions cut where a daemon thread passed its step bound (then the exploration is not complete). */
  readonly cut?: number;
  readonly steps: number;
  readonly elapsedMs: number;
  /** The exploration was stopped (Ctrl-C or a budget) before it finished. */
  readonly interrupted?: boolean;
  /**
   * dpor started over because an invariant checked after every step read a
   * cell that earlier executions had written as not visible to it (view.ts);
   * the counts are those of all runs together.
   */
  readonly restarts?: number;
  readonly violation?: ViolationReport;
  /** Schedule of the counterexample: encoded choices, one per step. */
  readonly schedule?: readonly number[];
  /** Preemptions in that schedule. */
  readonly preemptions?: number;
  /**
   * keepGoing: every distinct violation, in the order found. Under keepGoing a
   * thread that hits a violation stops there and the others run on, so these
   * include what happens after a first violation.
   */
  readonly violations?: readonly ViolationClass[];
}

export interface ExploreOptions {
  /** Stop after this many executions (the result is then incomplete). */
  readonly maxExecutions?: number;
  /** Preemption bound (bounded strategy: the largest bound to try). */
  readonly preemptionBound?: number;
  readonly seed?: number;
  /** PCT bug depth. */
  readonly depth?: number;
  /**
   * Keep exploring after a violation (counts every execution), and within an
   * execution let the threads that did not hit it run on: a thread that hits a
   * violation stops there, holding its locks, as a task that oopses does. Then
   * `violations` lists every distinct violation. Default false: the first
   * violation ends the execution and the search.
   */
  readonly keepGoing?: boolean;
  /**
   * Development check (`mmrace check --strict`): model code that reads or
   * writes a cell's value outside an op (`cell.v` in thread code instead of
   * READ_ONCE/WRITE_ONCE or load/store) stops the exploration with a
   * ModelError naming the cell and the thread, and so does a write to a field
   * of a shared object that is not a cell. Slower; for developing models.
   */
  readonly strict?: boolean;
  readonly onProgress?: (p: Progress) => void;
  /**
   * Sees every counted execution as it ended (tests and statistics): its world,
   * its violation, how it ended. Must not step it.
   */
  readonly onExecution?: (ex: Execution<unknown>, end: "complete" | "blocked" | "violation" | "cut") => void;
  /** Executions the counterexample minimiser may spend (default 20,000; 0 turns it off). */
  readonly minimizeBudget?: number;
  /** Polled between executions; true stops cleanly with what was found. */
  readonly shouldStop?: () => boolean;
}
