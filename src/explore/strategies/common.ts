// Shared by the strategies: ending an execution, counting, progress and stopping.

import { notDeterministic, setupNotDeterministic, showStep, worldPrint } from "../determinism.js";
import { Execution } from "../execution.js";
import { minimize } from "../minimize.js";
import type { Monitor, Program } from "../program.js";
import type { ExploreOptions, ExploreResult, Progress, ViolationClass, ViolationReport } from "../result.js";
import type { InvariantView } from "../view.js";
import type { Violation } from "../violation.js";

/** One distinct violation (kind and message) of a keepGoing exploration, as the strategies met it. */
interface ClassSeen {
  readonly violation: Violation;
  /** Executions in which it was raised. */
  executions: number;
  /** The first schedule that raised it, ending with the step that did. */
  readonly schedule: readonly number[];
}

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
 * Decides whether `ex` has ended, given the enabled threads: a violation
 * (unless all-violations mode lets the other threads run on), every
 * non-daemon thread finished (then the end-of-run invariants), or no thread
 * able to run (a deadlock, with its wait-for cycle).
 */
export function ending<W>(ex: Execution<W>, enabledCount: number): End {
  if (ex.violation !== null && !ex.allViolations) return End.Violation;
  if (ex.cut) return End.Cut;
  if (ex.finished()) {
    // A run in which a thread died did not complete: its end-of-run invariants would only restate that.
    if (!ex.allViolations || !ex.someDied()) ex.checkInvariants(false);
    return ex.violation !== null ? End.Violation : End.Complete;
  }
  if (enabledCount === 0) {
    const d = ex.deadlock();
    // Threads stuck behind one that died (on the locks it still holds, or awaiting what it never stored) are
    // that violation's consequence, not a finding of their own; a wait-for cycle among living threads is one.
    if (!ex.allViolations || !isStall(d) || !ex.someDied()) ex.fail(d);
    return End.Blocked;
  }
  return End.Running;
}

/** A deadlock without a wait-for cycle: threads that wait for something no living thread will do. */
function isStall(d: Violation): boolean {
  return (d.detail as { cycle?: readonly unknown[] } | undefined)?.cycle?.length === 0;
}

/**
 * A replayed step of `tid` found another op than the first run did (`first`
 * describes that one), or, with `again`, left another value.
 */
export function diverged<W>(
  s: Session<W>,
  ex: Execution<W>,
  depth: number,
  tid: number,
  first: string,
  again?: string,
): never {
  const t = ex.threads[tid];
  const now =
    again ??
    (t === undefined
      ? "nothing (no such thread)"
      : t.op === null
        ? "nothing (it had finished)"
        : showStep(t.op, undefined));
  return notDeterministic(s.program.name, depth, t?.name ?? `${tid}`, first, now);
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
/** Executions whose setup() is compared with the first one's. */
const SETUP_CHECKS = 16;

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
  /** keepGoing: every distinct violation met, by kind and message, in the order met. */
  private readonly classes: Map<string, ClassSeen> | null;
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
    this.classes = opts.keepGoing ? new Map() : null;
  }

  /** Objects the first execution's setup() allocated: every execution's setup must allocate as many. */
  setupAllocs = -1;

  /** A fresh execution; under keepGoing a violation stops only the thread that hit it (all-violations mode). */
  newExecution(record = false): Execution<W> {
    const ex = new Execution(this.program, { monitors: this.monitors, record, strict: this.opts.strict === true });
    if (this.setupAllocs < 0) this.setupAllocs = ex.setupAllocs;
    else if (ex.setupAllocs !== this.setupAllocs)
      setupNotDeterministic(this.program.name, `${this.setupAllocs} objects`, `${ex.setupAllocs} objects`);
    if (this.opts.keepGoing) ex.allViolations = true;
    ex.view = this.view;
    if (this.setupChecks < SETUP_CHECKS) this.checkSetup(ex);
    return ex;
  }

  /** What the first execution's setup() built, to compare the next ones' with. */
  private firstWorld: string | undefined;
  private setupChecks = 0;

  /**
   * setup() must build the same world every time: its first SETUP_CHECKS
   * executions are compared with the first (a world that varies from run to
   * run shows within a few; the rest of the exploration pays nothing).
   */
  private checkSetup(ex: Execution<W>): void {
    this.setupChecks++;
    const print = worldPrint(ex.world, ex.threads);
    if (this.firstWorld === undefined) this.firstWorld = print;
    else if (print !== this.firstWorld) setupNotDeterministic(this.program.name, this.firstWorld, print);
  }

  /**
   * Counts an ended execution. Returns true when the exploration should stop (budget or Ctrl-C).
   * `ex` is shown to the `onExecution` observer (tests, statistics); under keepGoing its violations
   * are tallied by class, `schedule(n)` giving the first n steps of its schedule.
   */
  count(end: End, depth: number, ex?: Execution<W>, schedule?: (steps: number) => number[]): boolean {
    if (end === End.Blocked) this.blocked++;
    else if (end === End.Cut) this.cut++;
    else this.executions++;
    if (ex !== undefined) {
      if (this.classes !== null && ex.violations.length !== 0 && schedule) this.tallyClasses(ex, schedule);
      if (this.opts.onExecution) this.opts.onExecution(ex as Execution<unknown>, endName(end));
    }
    return this.tally(depth);
  }

  private tallyClasses(ex: Execution<W>, schedule: (steps: number) => number[]): void {
    const classes = this.classes as Map<string, ClassSeen>;
    ex.violations.forEach((v, i) => {
      const key = `${v.kind}\0${v.message}`;
      const c = classes.get(key);
      if (c) c.executions++;
      else classes.set(key, { violation: v, executions: 1, schedule: schedule(ex.violationAt[i]) });
    });
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
    const violations = this.classes !== null ? this.violationClasses() : undefined;
    return {
      ...base,
      elapsedMs: Math.round((performance.now() - this.t0) * 100) / 100,
      verdict: "violation",
      violation: report(min.violation),
      schedule: min.schedule,
      preemptions: min.preemptions,
      ...(violations ? { violations } : {}),
    };
  }

  /** Every distinct violation met, each with one minimal schedule that raises it (wherever in its execution). */
  private violationClasses(): ViolationClass[] {
    return [...(this.classes as Map<string, ClassSeen>).values()].map((c) => {
      const min = minimize(this.program, c, { budget: this.opts.minimizeBudget, anywhere: true });
      return {
        ...report(min.violation),
        executions: c.executions,
        schedule: min.schedule,
        preemptions: min.preemptions,
      };
    });
  }
}
