// Shared by the strategies: ending an execution, counting, progress and stopping.

import { Execution } from "../execution.js";
import { minimize } from "../minimize.js";
import type { Monitor, Program } from "../program.js";
import type { ExploreOptions, ExploreResult, Progress, ViolationReport } from "../result.js";
import type { InvariantView } from "../view.js";
import { ModelError, type Violation } from "../violation.js";

/** How an execution ended. */
export enum End {
  Running = 0,
  Complete = 1,
  Blocked = 2,
  Violation = 3,
  /** Cut at a daemon's step bound: neither complete nor wrong, and the exploration is no longer exhaustive. */
  Cut = 4,
}

/**
 * Decides whether `ex` has ended, given the enabled threads: a violation, every
 * non-daemon thread finished (then the end-of-run invariants), or no thread
 * able to run (a deadlock, with its wait-for cycle).
 */
export function ending<W>(ex: Execution<W>, enabledCount: number): End {
  if (ex.violation !== null) return End.Violation;
  if (ex.cut) return End.Cut;
  if (ex.finished()) {
    ex.checkInvariants(false);
    return ex.violation !== null ? End.Violation : End.Complete;
  }
  if (enabledCount === 0) {
    ex.fail(ex.deadlock());
    return End.Blocked;
  }
  return End.Running;
}

/** A replayed step found another op than the earlier execution did. */
export function diverged<W>(s: Session<W>, ex: Execution<W>, depth: number, tid: number): never {
  throw new ModelError(
    `${s.program.name} is not deterministic: replaying step ${depth}, expected ${ex.threads[tid]?.name ?? `thread ${tid}`} ` +
      `to perform the same op again, found ${ex.describeOp(tid)} (no Math.random, clocks, I/O or state kept across executions)`,
  );
}

export function endName(end: End): "complete" | "blocked" | "violation" | "cut" {
  return end === End.Blocked ? "blocked" : end === End.Violation ? "violation" : end === End.Cut ? "cut" : "complete";
}

export function report(v: Violation): ViolationReport {
  return v.detail === undefined
    ? { kind: v.kind, message: v.message }
    : { kind: v.kind, message: v.message, detail: v.detail };
}

const PROGRESS_EVERY_MS = 250;

/** Counters of one exploration, with progress reporting and cooperative stopping. */
export class Session<W> {
  executions = 0;
  blocked = 0;
  /** Executions cut at a daemon's step bound. */
  cut = 0;
  sleepBlocked = 0;
  steps = 0;
  maxDepth = 0;
  interrupted = false;
  phase: string | undefined;
  /** What `always` invariants read, recorded in every execution (dpor's invariant view); null: not recorded. */
  view: InvariantView | null = null;
  readonly monitors: Monitor[];
  private readonly t0 = performance.now();
  private lastProgress = this.t0;
  private lastPoll = 0;

  constructor(
    readonly program: Program<W>,
    readonly opts: ExploreOptions,
    /** Monitors to share with another session (the minimiser keeps lockdep's graph across its searches). */
    monitors?: Monitor[],
  ) {
    this.monitors = monitors ?? (program.monitors ? program.monitors() : []);
  }

  newExecution(record = false): Execution<W> {
    const ex = new Execution(this.program, { monitors: this.monitors, record });
    ex.view = this.view;
    return ex;
  }

  /**
   * Counts an ended execution. Returns true when the exploration should stop (budget or Ctrl-C).
   * `ex` is shown to the `onExecution` observer (tests, statistics).
   */
  count(end: End, depth: number, ex?: Execution<W>): boolean {
    if (end === End.Blocked) this.blocked++;
    else if (end === End.Cut) this.cut++;
    else this.executions++;
    if (ex !== undefined && this.opts.onExecution) this.opts.onExecution(ex as Execution<unknown>, endName(end));
    return this.tally(depth);
  }

  /** Counts an execution cut short because every enabled thread was in the sleep set. */
  countSleepBlocked(depth: number): boolean {
    this.sleepBlocked++;
    return this.tally(depth);
  }

  private tally(depth: number): boolean {
    this.steps += depth;
    if (depth > this.maxDepth) this.maxDepth = depth;
    const total = this.executions + this.blocked + this.sleepBlocked + this.cut;
    if (this.opts.maxExecutions !== undefined && total >= this.opts.maxExecutions) {
      this.interrupted = true;
      return true;
    }
    if (total - this.lastPoll >= 64) {
      this.lastPoll = total;
      if (this.opts.shouldStop?.()) {
        this.interrupted = true;
        return true;
      }
      if (this.opts.onProgress) {
        const now = performance.now();
        if (now - this.lastProgress >= PROGRESS_EVERY_MS) {
          this.lastProgress = now;
          this.opts.onProgress(this.progress());
        }
      }
    }
    return false;
  }

  progress(): Progress {
    return {
      executions: this.executions,
      blocked: this.blocked,
      steps: this.steps,
      elapsedMs: performance.now() - this.t0,
      maxDepth: this.maxDepth,
      phase: this.phase,
    };
  }

  result(
    strategy: string,
    complete: boolean,
    cex?: { violation: Violation; schedule: readonly number[]; preemptions: number },
  ): ExploreResult {
    const base = {
      strategy,
      complete: complete && !this.interrupted && this.cut === 0,
      executions: this.executions,
      blocked: this.blocked,
      sleepBlocked: this.sleepBlocked,
      steps: this.steps,
      elapsedMs: Math.round((performance.now() - this.t0) * 100) / 100,
      ...(this.cut ? { cut: this.cut } : {}),
      ...(this.interrupted ? { interrupted: true } : {}),
      ...(this.view?.restarts ? { restarts: this.view.restarts } : {}),
    };
    if (!cex) return { ...base, verdict: "safe" };
    // Every strategy's counterexample is shown minimal: fewest preemptions, then fewest steps.
    const min = minimize(this.program, cex, { budget: this.opts.minimizeBudget });
    return {
      ...base,
      elapsedMs: Math.round((performance.now() - this.t0) * 100) / 100,
      verdict: "violation",
      violation: report(min.violation),
      schedule: min.schedule,
      preemptions: min.preemptions,
    };
  }
}
