// A program: a fresh world per execution, threads over it, and checks.

import type { Execution } from "./execution.js";
import type { Op, Thread } from "./ops.js";
import type { Violation } from "./violation.js";

export interface ThreadSpec<W> {
  /** Column name in traces: "mremap", "migration". */
  readonly name: string;
  readonly run: (w: W) => Thread;
  /**
   * A daemon may run forever (a background thread that keeps taking a lock);
   * an execution is complete when every non-daemon thread has finished.
   */
  readonly daemon?: boolean;
}

export interface Invariant<W> {
  readonly name: string;
  /** Returns a message when the invariant is broken. */
  readonly check: (w: W) => string | null | undefined;
  /** Check after every step as well as at the end. */
  readonly always?: boolean;
}

/** Sees every step of every execution of one exploration; persists across executions (lockdep). */
export interface Monitor {
  /** Called after a lock op was applied. Returns a violation to report. */
  onLock?(ex: Execution<unknown>, tid: number, op: Op, held: readonly number[]): Violation | null;
  /** Called before each execution starts. */
  onExecutionStart?(): void;
  /** Called after every step, a violating one too, with the executor's lastTarget/lastWrite/lastFreed set (tests log executions with it). */
  onStep?(ex: Execution<unknown>, tid: number, op: Op, alt: number): void;
}

export interface Program<W = unknown> {
  readonly name: string;
  /** Builds all shared state for one execution; must be deterministic. */
  readonly setup: () => W;
  readonly threads: readonly ThreadSpec<W>[];
  readonly invariants?: readonly Invariant<W>[];
  /** Created once per exploration. */
  readonly monitors?: () => Monitor[];
  /** Per-thread step bound; past it a thread is reported as a livelock. Default 1000. */
  readonly maxSteps?: number;
  /** Model state for the step viewer; the explorer does not interpret it. */
  readonly describe?: (w: W) => unknown;
  /**
   * A counterexample query: when set, a violation counts only in an execution
   * for which this returns true (say, the interleaving a mailing-list post
   * describes, read from `ex.noteLog` in happens-before order with
   * NoteOrder, notes.ts); other executions are explored past as if nothing
   * were wrong. Every strategy, the minimiser and replay honour it.
   */
  readonly accept?: (ex: Execution<W>) => boolean;
}
