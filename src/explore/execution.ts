// One execution of a program: the threads, their pending ops, and the
// scheduler's primitive `step(tid)`. Strategies decide which thread steps.

import { type Access, locOf, makeAccess, writeOf } from "./dependence.js";
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
  steps: number;
  /** Kernel call stack, innermost last (maintained by `traced`). */
  readonly stack: string[];
  /** Ids of the locks held, in acquisition order. */
  readonly held: number[];
  /** Stack at the time the pending op was yielded (recording only). */
  opStack: string[] | null;
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
/** Thread id of the code run by runInline (not a schedulable thread). */
const SETUP_TID = -2;

export class Execution<W = unknown> {
  readonly world: W;
  readonly threads: TState[] = [];
  /** Number of steps taken. */
  depth = 0;
  violation: Violation | null = null;
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
  private nextId = 0;
  private readonly maxSteps: number;
  private readonly monitors: readonly Monitor[];
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
    this.stepInvariants = program.invariants !== undefined && hasStepInvariant(program.invariants);
    this.monitors = opts.monitors ?? [];
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

  /** Allocates a location id; ids follow allocation order, so they are stable under replay. */
  allocId(): number {
    return this.nextId++;
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

  private addThread(name: string, body: () => Thread, daemon: boolean): number {
    const id = this.threads.length;
    const t = newThreadState(id, name, daemon);
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
    const res = this.apply(t, op, alt);
    if (this.noteLog !== null) this.logStep(tid, alt, op);
    if (this.monitors.length !== 0 && isLockOp(op.k) && this.violation === null) {
      for (const m of this.monitors) {
        const v = m.onLock?.(this as Execution<unknown>, tid, op, t.held);
        if (v) this.fail(v);
      }
    }
    if (this.trace !== null) this.recordStep(t, op, res, preempt);
    this.depth++;
    if (this.violation === null) {
      t.steps++;
      if (t.steps <= this.maxSteps) this.advance(t, res);
      else if (t.daemon) {
        // A daemon may run forever; past its bound the execution is cut, which makes the exploration incomplete.
        this.cut = true;
      } else {
        this.fail(
          new Violation(
            "livelock",
            `thread ${t.name} passed ${this.maxSteps} steps: a livelock, or a loop that should await`,
          ),
        );
      }
    }
    if (this.stepInvariants && this.violation === null) this.checkInvariants(true);
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
        else this.lastWrite = false;
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
        } else this.lastWrite = false;
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
        } else this.lastWrite = false;
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
      case K.Yield:
        this.lastWrite = false;
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
          c.freed = `${op.b as string} by ${t.name}`;
        }
        this.lastFreed = cells;
        break;
      }
    }
    return res;
  }

  /** Records a violation; the first one wins. */
  fail(v: Violation): void {
    if (this.violation !== null) return;
    // A counterexample query (Program.accept) passes over the violations of executions it does not ask for.
    if (this.program.accept && !this.program.accept(this)) return;
    this.violation = v;
  }

  /** Runs thread-local code up to the thread's next op. */
  private advance(t: TState, res: unknown): void {
    const prevRunning = this.running;
    const prevCur = cur;
    this.running = t;
    cur = this as Execution;
    let r: IteratorResult<Op, void>;
    try {
      r = t.gen.next(res);
    } catch (e) {
      if (e instanceof Violation) {
        this.fail(e);
        t.op = null;
        t.done = true;
        return;
      }
      if (e instanceof ModelError) throw e;
      throw new ModelError(`${this.program.name}: thread ${t.name} threw: ${errText(e)}`);
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

  /** Called by strategies when no thread is enabled before the program finished: names the wait-for cycle. */
  deadlock(): Violation {
    const waits = new Map<number, { on: string; holders: number[] }>();
    for (const t of this.threads) {
      if (t.done || t.op === null || this.isEnabled(t.id)) continue;
      const op = t.op;
      if (op.k === K.Join) {
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
    return new Violation("deadlock", `no thread can run: ${text}`, { cycle: [], blocked: parts });
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
    const s = typeof text === "string" ? text : text();
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
  return op.k * 1_000_003 + (op.t === null ? 0 : op.t.id + 1);
}

function hasStepInvariant(invs: readonly { readonly always?: boolean }[]): boolean {
  for (const i of invs) if (i.always) return true;
  return false;
}

function newThreadState(id: number, name: string, daemon: boolean): TState {
  return {
    id,
    name,
    daemon,
    gen: undefined as unknown as Thread,
    op: null,
    done: false,
    steps: 0,
    stack: [],
    held: [],
    opStack: null,
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
