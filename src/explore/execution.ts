// One execution of a program: the threads, their pending ops, and the
// scheduler's primitive `step(tid)`. Strategies decide which thread steps.

import { type Access, locOf, makeAccess, writeOf } from "./dependence.js";
import { Fairness, windowOf } from "./fairness.js";
import { type Gen, isLockOp, K, type Loc, type LockObj, type Op, opNames, type Thread } from "./ops.js";
import type { Monitor, Program } from "./program.js";
import { type InvariantView, readThrough } from "./view.js";
import { ModelError, Violation } from "./violation.js";

export interface TState {
  readonly id: number;
  readonly name: string;
  readonly daemon: boolean;
  gen: Thread;
  /** The op the thread will perform next; null once finished. */
  op: Op | null;
  done: boolean;
  /** Stopped at a violation it hit (all-violations mode), holding what it held, as an oopsed task does. */
  died: boolean;
  steps: number;
  /** Kernel call stack, innermost last (maintained by `traced`); a CallStack when recording. */
  readonly stack: string[];
  /** Ids of the locks held, in acquisition order. */
  readonly held: number[];
  /** Stack at the time the pending op was yielded (recording only). */
  opStack: string[] | null;
  /** Objects this thread has allocated: the second half of their identity (see Execution.allocId). */
  allocs: number;
}

/** One step of a recorded trace. */
export interface TraceStep {
  readonly i: number;
  readonly tid: number;
  /** The op: "load", "lock", ... */
  readonly op: string;
  /** Cell or lock name. */
  readonly target?: string;
  /** What the step read, wrote or returned, rendered. */
  readonly value?: string;
  /** Kernel call stack, innermost first. */
  readonly stack: readonly string[];
  /** What model code said about this step (`note`). */
  notes?: string[];
  /** This step switched away from a thread that could have continued. */
  preempt?: boolean;
  /** Model state after the step (`describe`). */
  state?: unknown;
  /** Locks each thread holds after the step. */
  held?: Record<string, string[]>;
}

export interface ExecOptions {
  readonly record?: boolean;
  readonly monitors?: readonly Monitor[];
  /** Strict mode (ExploreOptions.strict): cells guard their value against thread code, the world is frozen. */
  readonly strict?: boolean;
}

/** Choice encoding in schedules: thread id plus alternative for `choose` ops. */
export const CHOICE_STRIDE = 1024;
export const encodeChoice = (tid: number, alt: number): number => alt * CHOICE_STRIDE + tid;
export const choiceTid = (c: number): number => c % CHOICE_STRIDE;
export const choiceAlt = (c: number): number => Math.floor(c / CHOICE_STRIDE);

let cur: Execution | null = null;

/** The execution being set up or stepped (for cell allocation and call stacks). */
export function currentExecution(): Execution {
  if (cur === null) throw new ModelError("shared state must be created inside setup() or a running thread");
  return cur;
}

const DEFAULT_MAX_STEPS = 1000;
/** Ids below ID_STRIDE are setup's; a thread's objects get ids from (tid + 1)·ID_STRIDE (see Execution.allocId). */
export const ID_STRIDE = 2 ** 21;
/** Keyed objects (Execution.keyed) get ids from here: past every thread's range (thread ids stay below 1024). */
const KEYED_BASE = 1025 * ID_STRIDE;
const NO_VIOLATIONS: readonly Violation[] = [];
const NO_STEPS: readonly number[] = [];
/** Thread id of the code run by runInline (not a schedulable thread). */
const SETUP_TID = -2;

export class Execution<W = unknown> {
  readonly world: W;
  readonly threads: TState[] = [];
  /** Number of steps taken. */
  depth = 0;
  /** The first violation (the finding; most callers need only this one). */
  violation: Violation | null = null;
  /**
   * Every distinct violation (kind and message) of this execution, in order;
   * more than one only when `allViolations` lets the others run on.
   */
  violations: readonly Violation[] = NO_VIOLATIONS;
  /** For each of `violations`, the number of steps after which it was raised (a schedule that long reproduces it). */
  violationAt: readonly number[] = NO_STEPS;
  /**
   * All-violations mode: a thread that hits a violation stops there (as a task
   * that oopses does, keeping its locks) and the others run on, so that what
   * follows a violation is explored too. Off: the first violation ends the
   * execution. Set before the first step (strategies set it under keepGoing).
   */
  allViolations = false;
  /** Violations raised so far, duplicates included (tells step() whether the thread stepping hit one). */
  private raised = 0;
  /** A daemon passed the step bound: the execution stops here, unfinished but not wrong. */
  cut = false;
  /** Access of the last step, for dependence: target id or -1, and whether it wrote. */
  lastTarget = -1;
  lastWrite = false;
  /** Cells freed by the last step (Free ops), else null. */
  lastFreed: readonly Loc[] | null = null;
  readonly trace: TraceStep[] | null;
  /** Every note said so far, by thread, when the program asks for a counterexample by its story (Program.accept). */
  readonly noteLog: LoggedNote[] | null;
  /** What each step touched, kept with noteLog: the happens-before order of the notes (notes.ts). */
  stepLog: LoggedStep[] | null = null;
  /** Records what `always` invariants read (dpor's invariant view, view.ts); null: not recorded. */
  view: InvariantView | null = null;
  /** Objects setup() has allocated (their ids are 0..setupAllocs-1). */
  setupAllocs = 0;
  private readonly maxSteps: number;
  /** A thread past this many steps is near its bound: its steps are watched for fairness (fairness.ts). */
  private readonly watchFrom: number;
  private fairness: Fairness | null = null;
  /** The step (depth) of the last failed retry or yield, and its thread. */
  private yieldDepth = -2;
  private yielder = -1;
  private readonly monitors: readonly Monitor[];
  /** The monitors that see every step: most explorations have none, so step() pays one length check. */
  private readonly stepMonitors: readonly Monitor[];
  /** Locks by id, for names in messages; made on the first lock (most executions of a benchmark have none). */
  private locks: Map<number, LockObj> | null = null;
  private running: TState | null = null;
  private setupThread: TState | undefined;
  /** Some invariant is checked after every step. */
  private readonly stepInvariants: boolean;
  private lastRan = -1;

  constructor(
    readonly program: Program<W>,
    opts: ExecOptions = {},
  ) {
    this.maxSteps = program.maxSteps ?? DEFAULT_MAX_STEPS;
    this.watchFrom = this.maxSteps - windowOf(this.maxSteps);
    this.stepInvariants = program.invariants !== undefined && hasStepInvariant(program.invariants);
    this.monitors = opts.monitors ?? [];
    this.stepMonitors = this.monitors.filter((m) => m.onStep !== undefined);
    this.strict = opts.strict === true;
    this.trace = opts.record ? [] : null;
    this.noteLog = program.accept ? [] : null;
    for (const m of this.monitors) m.onExecutionStart?.();
    const prev = cur;
    cur = this as Execution;
    try {
      this.world = program.setup();
      for (const spec of program.threads) this.addThread(spec.name, () => spec.run(this.world), spec.daemon ?? false);
    } catch (e) {
      if (e instanceof Violation || e instanceof ModelError) throw e;
      throw new ModelError(`${program.name}: setup() threw: ${errText(e)}`);
    } finally {
      cur = prev;
    }
  }

  /**
   * The identity of a new cell or lock: setup's k-th allocation is k; the k-th
   * allocation of thread t is (t + 1)·ID_STRIDE + k. It depends only on the
   * allocating thread's own history, never on how the threads interleave, so
   * the same object has the same id in every execution that dpor reorders and
   * in every process that replays it (a global counter gives an object another
   * thread's id once two allocating threads swap). Thread ids follow spawn
   * order, which is fixed within a trace because spawns are dependent
   * (dependence.ts), so (thread, count) names one object in every execution
   * that shares the prefix that created it.
   */
  allocId(): number {
    const t = this.running;
    if (t === null) {
      if (this.setupAllocs === ID_STRIDE) throw new ModelError(`setup: more than ${ID_STRIDE} objects`);
      return this.setupAllocs++;
    }
    if (t.allocs === ID_STRIDE) throw new ModelError(`thread ${t.name}: more than ${ID_STRIDE} objects`);
    return (t.id + 1) * ID_STRIDE + t.allocs++;
  }

  /** Keyed objects of this execution, by key (see keyed). */
  private keyedObjs: Map<string, unknown> | null = null;
  private keyedIds: Map<number, string> | null = null;

  /**
   * The object named `key` in this execution, made by `make(id)` on first use
   * by whichever thread or setup gets there first. Its identity is a hash of
   * the key, so it is the same whoever makes it: for per-thread or global
   * state that kernel primitives create lazily (RCU's reader counts), where an
   * allocation identity would depend on which thread came first.
   */
  keyed<T>(key: string, make: (id: number) => T): T {
    const objs = (this.keyedObjs ??= new Map());
    if (objs.has(key)) return objs.get(key) as T;
    const id = KEYED_BASE + fnv1a(key);
    const ids = (this.keyedIds ??= new Map());
    const other = ids.get(id);
    if (other !== undefined) throw new ModelError(`keyed objects "${other}" and "${key}" hash alike; rename one`);
    ids.set(id, key);
    const obj = make(id);
    objs.set(key, obj);
    return obj;
  }

  registerLock(l: LockObj): void {
    (this.locks ??= new Map()).set(l.id, l);
  }

  lockById(id: number): LockObj | undefined {
    return this.locks?.get(id);
  }

  /** The thread whose code is running now (inside a resume), or null in setup. */
  runningThread(): TState | null {
    return this.running;
  }

  /** The thread whose op the executor applies now, or last applied (null before the first step: setup). */
  steppingThread(): TState | null {
    return this.lastRan >= 0 ? this.threads[this.lastRan] : null;
  }

  /** Strict mode: cells guard their values (see ExploreOptions.strict). */
  readonly strict: boolean;
  /** A note's text is being made: it may read what it describes. */
  private inspecting = false;

  /**
   * Strict mode: the thread whose model code is running outside an op, which
   * must not touch a cell's value directly (the executor, setup(), invariants
   * and notes may); null when none is.
   */
  threadCodeRunning(): TState | null {
    return this.inspecting ? null : this.running;
  }

  private addThread(name: string, body: () => Thread, daemon: boolean): number {
    const id = this.threads.length;
    const t = newThreadState(id, name, daemon, this.trace !== null);
    this.threads.push(t);
    const prevRunning = this.running;
    this.running = t;
    try {
      t.gen = body();
      this.advance(t, undefined);
    } finally {
      this.running = prevRunning;
    }
    return id;
  }

  /** Can thread `tid` perform its pending op now? */
  isEnabled(tid: number): boolean {
    const op = this.threads[tid].op;
    return op !== null && this.opEnabled(op);
  }

  private opEnabled(op: Op): boolean {
    switch (op.k) {
      case K.Lock:
      case K.DownWrite: {
        const l = op.t as LockObj;
        return l.holder === -1 && l.readers.length === 0;
      }
      case K.DownRead:
        return (op.t as LockObj).holder === -1;
      case K.Await:
        return (op.a as (v: unknown) => boolean)((op.t as Loc).v);
      case K.Join:
        return this.threads[op.a as number].done;
      default:
        return true;
    }
  }

  /** Fills `out` with the enabled thread ids, in id order; returns it. */
  enabled(out: number[] = []): number[] {
    // Overwritten in place: emptying an array and pushing again would reallocate its storage every step.
    let n = 0;
    const ts = this.threads;
    for (let i = 0; i < ts.length; i++) if (this.isEnabled(i)) out[n++] = i;
    if (out.length !== n) out.length = n;
    return out;
  }

  /** Every non-daemon thread has finished. */
  finished(): boolean {
    for (const t of this.threads) if (!t.done && !t.daemon) return false;
    return true;
  }

  /** Number of alternatives of the pending op of `tid` (1 unless it is a `choose`). */
  alternatives(tid: number): number {
    const op = this.threads[tid].op;
    return op !== null && op.k === K.Choose ? (op.a as number) : 1;
  }

  /** Performs the pending op of `tid` (which must be enabled) and runs the thread to its next op. */
  step(tid: number, alt = 0): void {
    const t = this.threads[tid];
    const op = t.op as Op;
    // Preemptions are only shown in recorded traces; strategies count their own.
    const preempt = this.trace !== null && this.lastRan !== -1 && this.lastRan !== tid && this.isRunnable(this.lastRan);
    this.lastRan = tid;
    const r0 = this.raised;
    const n0 = this.violations.length;
    const res = this.apply(t, op, alt);
    // The executor's violations (use after free, a bad unlock) are the stepping thread's own.
    const hit = this.raised !== r0;
    const all = this.allViolations;
    if (this.noteLog !== null) this.logStep(tid, alt, op);
    for (let i = 0; i < this.stepMonitors.length; i++)
      this.stepMonitors[i].onStep?.(this as Execution<unknown>, tid, op, alt);
    if (this.monitors.length !== 0 && isLockOp(op.k) && (all || this.violation === null)) {
      // Lockdep only warns (kernel/locking/lockdep.c prints and goes on), and what it says depends on
      // what earlier executions taught it: it never changes what the thread does next.
      for (const m of this.monitors) {
        const v = m.onLock?.(this as Execution<unknown>, tid, op, t.held);
        if (v) this.fail(v);
      }
    }
    if (this.trace !== null) this.recordStep(t, op, res, preempt);
    this.depth++;
    if (all ? !hit : this.violation === null) {
      t.steps++;
      // Far from its bound a step costs this one comparison; near it, see nearBound.
      if (t.steps <= this.watchFrom) this.advance(t, res);
      else this.nearBound(t, op, res);
    } else if (all) die(t);
    if (this.stepInvariants && (all || this.violation === null)) this.checkInvariants(true);
    if (this.raised !== r0) {
      // Whatever this step raised, a schedule that ends with it reproduces.
      const at = this.violationAt as number[];
      for (let i = n0; i < at.length; i++) at[i] = this.depth;
    }
  }

  /**
   * A step in the last part of a thread's bound: watched for fairness, and
   * past the bound judged (fairness.ts): an unfair execution is cut, a retry
   * loop that nothing can unblock is a deadlock, a fair one a livelock.
   */
  private nearBound(t: TState, op: Op, res: unknown): void {
    if (t.daemon) {
      // A daemon may run forever; past its bound the execution is cut, which makes the exploration incomplete.
      if (t.steps <= this.maxSteps) this.advance(t, res);
      else this.cut = true;
      return;
    }
    const f = (this.fairness ??= new Fairness(this.maxSteps));
    f.sample(this as Execution, t, op, this.lastWrite, res);
    if (t.steps <= this.maxSteps) {
      this.advance(t, res);
      return;
    }
    const j = f.judge(this as Execution, t);
    if (j.kind === "unfair" || j.kind === "premature") {
      this.cut = true;
      return;
    }
    if (j.kind === "deadlock") this.fail(this.deadlock({ tid: t.id, op: j.spin }));
    else
      this.fail(
        new Violation(
          "livelock",
          `thread ${t.name} passed ${this.maxSteps} steps in a fair execution: a livelock (every thread that could run ran, and it never got through)`,
        ),
      );
    // All-violations mode: the thread stops there, the others run on.
    if (this.allViolations) die(t);
  }

  /**
   * Runs model code to completion from setup(): op by op, with the same
   * semantics as a thread's steps but no scheduling and no trace. This is how
   * a scenario builds the history it starts from (mmap, faults, an earlier
   * mremap) with the same kernel functions its threads run.
   */
  runInline<R>(g: Gen<R>): R {
    this.setupThread ??= newThreadState(SETUP_TID, "setup", false);
    const t = this.setupThread;
    let res: unknown;
    for (;;) {
      const r = g.next(res);
      if (r.done) {
        if (t.held.length !== 0)
          throw new ModelError(
            `setup: returned holding ${t.held.map((id) => this.lockById(id)?.name ?? id).join(", ")}`,
          );
        return r.value;
      }
      const op = r.value;
      if (op.k === K.Spawn || op.k === K.Join) throw new ModelError(`setup: ${opNames[op.k]} needs running threads`);
      if (!this.opEnabled(op)) throw new ModelError(`setup: ${opNames[op.k]} ${op.t?.name ?? ""} would block`);
      res = this.apply(t, op, 0);
      const v = this.violation;
      if (v !== null) {
        this.violation = null;
        throw new ModelError(`setup: ${v.kind}: ${v.message}`);
      }
    }
  }

  /** Applies one op for thread `t`: the semantics of every op kind, in one place. */
  private apply(t: TState, op: Op, alt: number): unknown {
    const tid = t.id;
    this.lastFreed = null;
    let res: unknown;
    const target = op.t;
    this.lastTarget = target === null ? -1 : target.id;
    this.lastWrite = true;
    if (target !== null && target.freed !== null) {
      this.fail(new Violation("use-after-free", `${t.name}: ${opNames[op.k]} of ${target.name} after ${target.freed}`));
    }
    switch (op.k) {
      case K.Load:
        res = (target as Loc).v;
        this.lastWrite = false;
        break;
      case K.Store:
        (target as Loc).v = op.a;
        break;
      case K.Rmw: {
        const c = target as Loc;
        res = c.v;
        c.v = (op.a as (v: unknown) => unknown)(res);
        break;
      }
      case K.Cas: {
        const c = target as Loc;
        res = c.v;
        if (res === op.a) c.v = op.b;
        else this.yielded(tid);
        break;
      }
      case K.Lock:
      case K.DownWrite:
        (target as LockObj).holder = tid;
        t.held.push(target!.id);
        break;
      case K.Trylock:
      case K.DownWriteTry: {
        const l = target as LockObj;
        res = l.holder === -1 && l.readers.length === 0;
        if (res) {
          l.holder = tid;
          t.held.push(l.id);
        } else this.yielded(tid);
        break;
      }
      case K.DownRead:
        (target as LockObj).readers.push(tid);
        t.held.push(target!.id);
        break;
      case K.DownReadTry: {
        const l = target as LockObj;
        res = l.holder === -1;
        if (res) {
          l.readers.push(tid);
          t.held.push(l.id);
        } else this.yielded(tid);
        break;
      }
      case K.Unlock:
      case K.UpWrite: {
        const l = target as LockObj;
        if (l.holder !== tid)
          this.fail(new Violation("lockdep", `${t.name}: releases ${l.name}, which it does not hold`));
        l.holder = -1;
        removeOne(t.held, l.id);
        break;
      }
      case K.UpRead: {
        const l = target as LockObj;
        if (!removeOne(l.readers, tid))
          this.fail(new Violation("lockdep", `${t.name}: up_read of ${l.name}, which it does not hold for read`));
        removeOne(t.held, l.id);
        break;
      }
      case K.Downgrade: {
        const l = target as LockObj;
        if (l.holder !== tid)
          this.fail(
            new Violation("lockdep", `${t.name}: downgrade_write of ${l.name}, which it does not hold for write`),
          );
        l.holder = -1;
        l.readers.push(tid);
        break;
      }
      case K.Await:
        res = (target as Loc).v;
        this.lastWrite = false;
        break;
      case K.Spawn:
        this.lastWrite = false;
        res = this.addThread(op.b as string, op.a as () => Thread, false);
        break;
      case K.Join:
        this.lastWrite = false;
        break;
      case K.Yield:
        this.yielded(tid);
        break;
      case K.Choose:
        this.lastWrite = false;
        res = alt;
        break;
      case K.Free: {
        const cells = op.a as readonly Loc[];
        for (const c of cells) {
          if (c.freed !== null)
            this.fail(new Violation("use-after-free", `${t.name}: double free of ${c.name} (${c.freed})`));
          else if ("holder" in c) this.checkNoLocksFreed(t, c as unknown as LockObj, op.b as string);
          c.freed = `${op.b as string} by ${t.name}`;
        }
        this.lastFreed = cells;
        break;
      }
    }
    return res;
  }

  /**
   * Freeing a lock that a thread holds is a bug the kernel's lockdep reports
   * (debug_check_no_locks_freed, kernel/locking/lockdep.c, v6.1): the memory
   * goes, the holder later unlocks freed memory.
   */
  private checkNoLocksFreed(t: TState, l: LockObj, what: string): void {
    const holders = l.holder !== -1 ? [l.holder] : l.readers;
    if (holders.length === 0) return;
    const names = holders.map((h) => this.threads[h]?.name ?? `thread ${h}`).join(", ");
    this.fail(new Violation("lockdep", `${t.name}: ${what} frees ${l.name}, held by ${names}`));
  }

  /**
   * A failed trylock or cmpxchg, or a yield: a retry loop going round without
   * progress (not a write). Strategies let the other threads run next
   * (`justYielded`), as the fair scheduler of Musuvathi & Qadeer (PLDI 2008)
   * lowers a yielding thread below those it ran ahead of.
   */
  private yielded(tid: number): void {
    this.lastWrite = false;
    this.yieldDepth = this.depth;
    this.yielder = tid;
  }

  /** The thread whose last step (the execution's last) was a failed retry or a yield, else -1. */
  justYielded(): number {
    return this.yieldDepth === this.depth - 1 ? this.yielder : -1;
  }

  /** Records a violation: the first one wins, unless all-violations mode lists every distinct one. */
  fail(v: Violation): void {
    if (this.violation !== null && !this.allViolations) return;
    // A counterexample query (Program.accept) passes over the violations of executions it does not ask for.
    if (this.program.accept && !this.program.accept(this)) return;
    this.raised++;
    this.violation ??= v;
    for (const x of this.violations) if (x.kind === v.kind && x.message === v.message) return;
    // Made on the first violation: most executions have none.
    this.violations = [...this.violations, v];
    this.violationAt = [...this.violationAt, this.depth];
  }

  /** Whether some thread stopped at a violation (all-violations mode). */
  someDied(): boolean {
    for (const t of this.threads) if (t.died) return true;
    return false;
  }

  /** Runs thread-local code up to the thread's next op. */
  private advance(t: TState, res: unknown): void {
    const prevRunning = this.running;
    const prevCur = cur;
    this.running = t;
    cur = this as Execution;
    // Only a recorded execution (a counterexample being shown) names where an oops happened: a CallStack per thread
    // per execution would cost the search a tenth of its speed.
    if (this.trace !== null) (t.stack as CallStack).resumed();
    let r: IteratorResult<Op, void>;
    try {
      r = t.gen.next(res);
    } catch (e) {
      if (e instanceof ModelError) throw e;
      // Code that runs before any step (a thread's code before its first yield, run as the execution is built)
      // throws the same way in every execution: the scenario is broken, not racy.
      if (!(e instanceof Violation) && this.lastRan === -1)
        throw new ModelError(`${this.program.name}: thread ${t.name} threw before its first step: ${errText(e)}`);
      // Otherwise a thread that throws in some interleaving has oopsed (a NULL dereference): a finding.
      this.fail(e instanceof Violation ? e : oops(t, e));
      t.op = null;
      t.done = true;
      t.died = true;
      return;
    } finally {
      this.running = prevRunning;
      cur = prevCur;
    }
    if (r.done) {
      t.op = null;
      t.done = true;
      if (t.held.length !== 0) {
        const names = t.held.map((id) => this.lockById(id)?.name ?? `lock#${id}`);
        this.fail(new Violation("lockdep", `thread ${t.name} exited holding ${names.join(", ")}`));
      }
    } else {
      const op = r.value;
      if (op === null || typeof op !== "object" || typeof op.k !== "number")
        throw new ModelError(
          `${this.program.name}: thread ${t.name} yielded ${String(op)}, not an op (use yield* for model functions)`,
        );
      t.op = op;
      if (this.trace !== null) t.opStack = t.stack.slice().reverse();
    }
  }

  private isRunnable(tid: number): boolean {
    return !this.threads[tid].done && this.isEnabled(tid);
  }

  /** Checks invariants; `stepOnly` checks only those marked `always`. */
  checkInvariants(stepOnly: boolean): void {
    const invs = this.program.invariants;
    if (!invs) return;
    for (const inv of invs) {
      if (stepOnly && !inv.always) continue;
      let msg: string | null | undefined;
      try {
        msg = this.view !== null && inv.always ? readThrough(this.world, this.view, inv.check) : inv.check(this.world);
      } catch (e) {
        if (e instanceof Violation) {
          this.fail(e);
          return;
        }
        throw new ModelError(`${this.program.name}: invariant ${inv.name} threw: ${errText(e)}`);
      }
      if (msg) {
        this.fail(new Violation("invariant", msg));
        return;
      }
    }
  }

  /** Records what the `always` invariants read in the current state, without judging it (seeds the view). */
  probeInvariants(): void {
    const view = this.view;
    if (view === null || !this.program.invariants) return;
    for (const inv of this.program.invariants) {
      try {
        if (inv.always) readThrough(this.world, view, inv.check);
      } catch {
        // The check after the first step reports it.
      }
    }
  }

  /** Logs what the step just applied touched (see stepLog). */
  private logStep(tid: number, alt: number, op: Op): void {
    const freed = this.lastFreed === null ? null : this.lastFreed.map((c) => c.id);
    const acc = makeAccess(tid, alt, locOf(op.k, this.lastTarget), writeOf(op.k, this.lastWrite), freed, false);
    const link = op.k === K.Spawn ? this.threads.length - 1 : op.k === K.Join ? (op.a as number) : -1;
    (this.stepLog ??= []).push({ acc, spawned: op.k === K.Spawn ? link : -1, joined: op.k === K.Join ? link : -1 });
  }

  /**
   * Called by strategies when no thread is enabled before the program finished: names the wait-for cycle.
   * `spinning`: a thread that retries `op` while every other thread waits (fairness.ts) waits for its target too.
   */
  deadlock(spinning?: { readonly tid: number; readonly op: Op }): Violation {
    const waits = new Map<number, { on: string; holders: number[] }>();
    for (const t of this.threads) {
      const spin = spinning !== undefined && spinning.tid === t.id;
      if (t.done || t.op === null || (!spin && this.isEnabled(t.id))) continue;
      const op = spin ? spinning.op : t.op;
      if (spin) {
        const target = op.t;
        const what = `${opNames[op.k]}${target !== null ? ` ${target.name}` : ""}`;
        const holders =
          target !== null && isLockOp(op.k)
            ? (target as LockObj).holder !== -1
              ? [(target as LockObj).holder]
              : [...(target as LockObj).readers]
            : [];
        waits.set(t.id, { on: `${what} (retrying; no thread that can run changes it)`, holders });
      } else if (op.k === K.Join) {
        waits.set(t.id, { on: `join(${this.threads[op.a as number].name})`, holders: [op.a as number] });
      } else if (op.k === K.Await) {
        const label = (op.b as string | undefined) ?? `${(op.t as Loc).name}`;
        waits.set(t.id, { on: `await ${label}`, holders: [] });
      } else {
        const l = op.t as LockObj;
        const holders = l.holder !== -1 ? [l.holder] : [...l.readers];
        waits.set(t.id, { on: l.name, holders });
      }
    }
    // Find a cycle in the wait-for graph.
    for (const start of waits.keys()) {
      const path: number[] = [];
      const seen = new Set<number>();
      let x: number | undefined = start;
      while (x !== undefined && waits.has(x) && !seen.has(x)) {
        seen.add(x);
        path.push(x);
        x = waits.get(x)?.holders.find((h) => waits.has(h));
      }
      if (x !== undefined && seen.has(x)) {
        const cyc = path.slice(path.indexOf(x));
        const parts = cyc.map((tid) => {
          const w = waits.get(tid)!;
          const t = this.threads[tid];
          const held = t.held.map((id) => this.lockById(id)?.name ?? `lock#${id}`);
          return { thread: t.name, holds: held, wants: w.on };
        });
        const text = parts.map((p) => `${p.thread} holds [${p.holds.join(", ")}] and waits for ${p.wants}`).join("; ");
        return new Violation("deadlock", `deadlock: ${text}`, { cycle: parts });
      }
    }
    const parts = [...waits.entries()].map(([tid, w]) => {
      const t = this.threads[tid];
      const held = t.held.map((id) => this.lockById(id)?.name ?? `lock#${id}`);
      return { thread: t.name, holds: held, wants: w.on };
    });
    const text = parts.map((p) => `${p.thread} holds [${p.holds.join(", ")}] and waits for ${p.wants}`).join("; ");
    const none = spinning === undefined ? "no thread can run" : "no thread can make progress";
    return new Violation("deadlock", `${none}: ${text}`, { cycle: [], blocked: parts });
  }

  /** A signature of the pending op of `tid`, to detect non-determinism on replay. */
  opSignature(tid: number): number {
    const op = this.threads[tid].op;
    return op === null ? -1 : signature(op);
  }

  /**
   * Steps `tid` again as an earlier execution did, if its pending op has the
   * signature that execution saw and is enabled; false (and no step) if not:
   * the program is not deterministic.
   */
  replayStep(tid: number, alt: number, sig: number): boolean {
    const t = this.threads[tid];
    if (t === undefined || t.op === null || signature(t.op) !== sig || !this.opEnabled(t.op)) return false;
    this.step(tid, alt);
    return true;
  }

  describeOp(tid: number): string {
    const t = this.threads[tid];
    const op = t.op;
    if (op === null) return `${t.name}: finished`;
    return `${t.name}: ${opNames[op.k]}${op.t ? ` ${op.t.name}` : ""}`;
  }

  private recordStep(t: TState, op: Op, res: unknown, preempt: boolean): void {
    const target = op.t;
    let value: string | undefined;
    switch (op.k) {
      case K.Load:
      case K.Await:
        value = showVal(target as Loc, res);
        break;
      case K.Store:
        value = showVal(target as Loc, op.a);
        break;
      case K.Rmw:
        value = `${showVal(target as Loc, res)} -> ${showVal(target as Loc, (target as Loc).v)}`;
        break;
      case K.Cas:
        value = this.lastWrite
          ? `${showVal(target as Loc, res)} -> ${showVal(target as Loc, op.b)}`
          : `${showVal(target as Loc, res)} (failed, expected ${showVal(target as Loc, op.a)})`;
        break;
      case K.Trylock:
      case K.DownReadTry:
      case K.DownWriteTry:
        value = res ? "acquired" : "failed";
        break;
      case K.Spawn:
        value = `${op.b as string}`;
        break;
      case K.Join:
        value = this.threads[op.a as number].name;
        break;
      case K.Choose:
        value = `${(op.b as string | undefined) ?? "choice"} = ${res as number}`;
        break;
      case K.Free:
        value = op.b as string;
        break;
    }
    const step: TraceStep = {
      i: this.depth,
      tid: t.id,
      op: opNames[op.k],
      target: target?.name,
      value,
      stack: t.opStack ?? [],
    };
    if (preempt) step.preempt = true;
    (this.trace as TraceStep[]).push(step);
  }

  /** Attaches a note to the last recorded step of the running thread (no-op unless recording). */
  note(text: string | (() => string)): void {
    if (this.noteLog === null && this.trace === null) return;
    let s: string;
    if (typeof text === "string") s = text;
    else {
      this.inspecting = true;
      try {
        s = text();
      } finally {
        this.inspecting = false;
      }
    }
    if (this.noteLog !== null) {
      const t = this.running;
      // The step just taken by the running thread (notes follow the step they describe); a spawned thread's
      // first code runs in its spawn step; code before any step, in setup, is -1.
      const step =
        t === null ? -1 : t.steps > 0 ? this.depth - 1 : t.id >= this.program.threads.length ? this.depth : -1;
      this.noteLog.push({ thread: t?.name ?? "setup", tid: t?.id ?? -1, step, text: s });
    }
    if (this.trace === null || this.trace.length === 0) return;
    const last = this.trace[this.trace.length - 1];
    (last.notes ??= []).push(s);
  }

  /** Snapshot of the locks each thread holds, by thread name (recording). */
  heldLocks(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const t of this.threads) {
      if (t.held.length) out[t.name] = t.held.map((id) => this.lockById(id)?.name ?? `lock#${id}`);
    }
    return out;
  }
}

/** FNV-1a, 32 bits: a key's hash, the same in every process. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A thread stops at the violation it hit, keeping its locks (an oopsed task never releases them). */
function die(t: TState): void {
  t.op = null;
  t.done = true;
  t.died = true;
}

/**
 * A thread's kernel call stack (`traced` pushes and pops it) that remembers
 * where it last was deepest since it resumed: by the time an exception reaches
 * the executor, `traced` has unwound the stack, and an oops must name the
 * function it happened in (or, when that function had just returned from a
 * traced callee and then threw, that callee too).
 */
export class CallStack extends Array<string> {
  static override get [Symbol.species]() {
    return Array;
  }
  /** The stack before the first pop since the last push or resume, innermost last. */
  readonly peak: string[] = [];
  private rising = true;

  override push(name: string): number {
    this.rising = true;
    return super.push(name);
  }

  override pop(): string | undefined {
    if (this.rising) {
      this.rising = false;
      const p = this.peak;
      for (let i = 0; i < this.length; i++) p[i] = this[i];
      p.length = this.length;
    }
    return super.pop();
  }

  /** The thread runs again from a yield: what it does now starts at the stack it yielded with. */
  resumed(): void {
    this.rising = true;
    if (this.peak.length !== 0) this.peak.length = 0;
  }
}

/** The violation of a thread whose code threw: the message, and (recording) the kernel call stack where it happened. */
function oops(t: TState, e: unknown): Violation {
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const stack = t.stack instanceof CallStack ? t.stack.peak.slice().reverse() : undefined;
  return new Violation("oops", `${t.name}: ${what}`, stack ? { thread: t.name, stack } : { thread: t.name });
}

/** A note as logged for a counterexample query: who said it, after which step (-1: before its thread's first). */
export interface LoggedNote {
  readonly thread: string;
  readonly tid: number;
  readonly step: number;
  readonly text: string;
}

/** One step as logged for a counterexample query: its access, and the thread it spawned or joined (else -1). */
export interface LoggedStep {
  readonly acc: Access;
  readonly spawned: number;
  readonly joined: number;
}

function signature(op: Op): number {
  // Ids reach (1024 + 1)·2^21, so the kind goes in the low bits (exact below 2^53).
  return (op.t === null ? 0 : op.t.id + 1) * 32 + op.k;
}

function hasStepInvariant(invs: readonly { readonly always?: boolean }[]): boolean {
  for (const i of invs) if (i.always) return true;
  return false;
}

function newThreadState(id: number, name: string, daemon: boolean, record = false): TState {
  return {
    id,
    name,
    daemon,
    gen: undefined as unknown as Thread,
    op: null,
    done: false,
    died: false,
    steps: 0,
    stack: record ? new CallStack() : [],
    held: [],
    opStack: null,
    allocs: 0,
  };
}

function showVal(c: Loc, v: unknown): string {
  if (c.show) {
    try {
      return c.show(v);
    } catch {
      return String(v);
    }
  }
  return fmt(v);
}

export function fmt(v: unknown): string {
  if (v === undefined) return "undefined";
  if (v === null) return "null";
  if (typeof v === "object") {
    const name = (v as { name?: unknown }).name;
    if (typeof name === "string") return name;
    try {
      return JSON.stringify(v);
    } catch {
      return String(v);
    }
  }
  return String(v);
}

function removeOne(a: number[], x: number): boolean {
  const i = a.indexOf(x);
  if (i < 0) return false;
  a.splice(i, 1);
  return true;
}

export function errText(e: unknown): string {
  if (e instanceof Error) return e.stack ? `${e.message}\n${e.stack.split("\n").slice(1, 4).join("\n")}` : e.message;
  return String(e);
}
