// dpor: optimal dynamic partial order reduction with wakeup trees and sleep
// sets — Abdulla, Aronis, Jonsson, Sagonas, "Source Sets: A Foundation for
// Optimal Dynamic Partial Order Reduction", JACM 64(4), 2017 (Algorithm
// "Optimal-DPOR") — under sequential consistency, with locks, rwsems, awaits,
// spawn/join and `choose`. It explores exactly one complete execution per
// Mazurkiewicz trace of the dependence relation in ../dependence.ts, for
// programs that violate too (keepGoing; the differential oracle checks it).
//
// How it follows the paper, and where it adds to it:
// - Races are found as each new event runs, with vector clocks: a read races
//   with the last write of its location, a write with the reads since the last
//   write (or with that write). For each race (e, e') the sequence
//   v = notdep(e, E).e' (the events after e that do not happen after e, then
//   e') is inserted into the wakeup tree at the node before e, unless a
//   process in that node's sleep set is a weak initial of v.
// - Blocking ops (lock, down_write, down_read, await) race with the latest
//   earlier op on their location before which they would have been enabled:
//   the lock taken before the critical section that made them wait, the write
//   before which an await's condition held. A reversal that is impossible is
//   never inserted.
// - A failed cmpxchg / trylock is a read; whether it would succeed after a
//   reversal is decided from the value its location held before e.
// - A violation ends only the thread that hit it (under keepGoing; without it
//   the first violation ends the search, so nothing follows it): the thread
//   stops there, holding its locks, and the others run on, so a violating step
//   is an ordinary event and its races, and those of what follows it, are
//   reversed like any others. The step that completes an execution while
//   daemon threads are still running ends it: it is dependent with everything
//   (the daemons' events that did not happen before it race with it, and so
//   do the ops they had pending).
// - At the end of a blocked execution the pending, disabled lock or await ops
//   race with the ops that disabled them, as if they had run.
// - A `choose` is local: independent of everything, but its alternatives
//   exclude each other, so each executed choose inserts its other alternatives.
// - An invariant checked after every step (`always`) is checked in every
//   reachable state: every write to a cell or lock it reads also writes one
//   more location, the invariant's view (dependence.ts, view.ts), with its own
//   write history; a race through it keeps each event's own result. The view
//   is learned as the invariant runs; when it grows by a cell written earlier
//   as not visible, the exploration starts over with it.
//
// - Races are examined once per execution, when it is over, with notdep
//   running to the end of the execution (the sleep-set check must see what
//   the rest of the execution does).
// - A piece of a split exploration (../parallel) starts below a prefix with
//   the sleep set there, without the wakeup sequences that its earlier
//   siblings would have inserted. Its executions stop, sleep-set blocked,
//   before an event of that inherited sleep set runs while still asleep (that
//   trace is another piece's); as in Source-DPOR (JACM Alg. 1) the races of a
//   sleep-set blocked execution are reversed too, with what follows unknown,
//   and inherited entries never stop an insertion.
//
// The explorer keeps one event record per position of the current execution
// and undoes them on backtracking, so replaying the prefix costs only the
// generator steps.

import { type Access, conflict, dependent, isBlocking, locOf, makeAccess, NO_LOC, writeOf } from "../dependence.js";
import { showSignature, showStep, stepValue, valueKey } from "../determinism.js";
import { choiceAlt, choiceTid, type Execution, encodeChoice, ID_STRIDE } from "../execution.js";
import { K, type Loc, type LockObj, type Op } from "../ops.js";
import type { Program } from "../program.js";
import type { ExploreOptions, ExploreResult } from "../result.js";
import { InvariantView } from "../view.js";
import type { Violation } from "../violation.js";
import { diverged, End, ending, Session } from "./common.js";
import { checkReplaysAlike } from "./replay.js";

/** A node of a wakeup tree: the event to run next, and the wakeup tree after it. */
interface WNode {
  /** The event: predicted when inserted, the one actually executed once run. */
  acc: Access;
  kids: WNode[];
  /** Inserted by a reversal (its access is a prediction), not picked freshly. */
  readonly predicted: boolean;
}

/** The explorer's state at one position of the current execution (a node E of the paper). */
interface Frame {
  /** wut(E), the same array as the kids of the node executed just before; wut[0] is the child being explored. */
  wut: WNode[];
  /** sleep(E): events whose subtrees were explored (or are covered elsewhere). NONE until it has one. */
  sleep: Access[];
}

/**
 * The empty sleep set and wakeup tree, shared and never written. Arrays are
 * made with their first element (an array grown by a push from empty gets
 * room for 16): one wakeup node and one sleep set per new event, otherwise.
 */
const NONE: never[] = [];

/** What an event did, for races, clocks and undo. One per position, reused across executions. */
class Ev {
  tid = 0;
  alt = 0;
  op: Op = undefined as unknown as Op;
  sig = 0;
  acc: Access = undefined as unknown as Access;
  /** Index of this event among its thread's events. */
  idx = 0;
  /** clock[t] = number of events of thread t that happen before this one, or it (inclusive). */
  clock: Int32Array;
  /** Undo: the thread's previous event. */
  prevThread = -1;
  /** Write history: the previous write of the location (for writes, and the value to restore). */
  prevW = -1;
  /** Reads since the last write: the next older read (for reads); the saved head (for writes). */
  prevR = -1;
  /** The previous write to the invariant's view (for writes to it). */
  prevVis = -1;
  /** Free: saved history heads of every freed cell. */
  savedW: number[] | null = null;
  savedR: number[] | null = null;
  /** Free: each freed object's holder and reader count if it is a lock (-1 and 0 otherwise), what a lock op racing with the free sees before it. */
  freedHolder: number[] | null = null;
  freedReaders: number[] | null = null;
  /** Thread created by a spawn, else -1. */
  child = -1;
  /** The location's state before this event: a cell's value, or a lock's holder and reader count. */
  before: unknown = undefined;
  holderBefore = -1;
  readersBefore = 0;
  /** Completed the execution while daemons still ran: nothing can follow it. */
  stop = false;
  /** The value the event left in its cell, and its key: a replay must see the same. */
  val: unknown = undefined;
  vsig = 0;

  constructor(width: number) {
    this.clock = new Int32Array(width);
  }
}

/** A piece of an exploration: the fixed prefix to start from and the sleep set there. */
export interface DporJob {
  readonly prefix: readonly number[];
  /** The signatures of the prefix ops where the prefix was made (another thread), checked on the first run. */
  readonly sigs?: readonly number[];
  readonly sleep: readonly Access[];
  /** The invariant's view the prefix and sleep set were made with (view.ts), for a program with `always` invariants. */
  readonly view?: readonly number[];
}

export interface Counterexample {
  readonly violation: Violation;
  readonly schedule: number[];
}

const ZERO = new Int32Array(0);

/**
 * Runs optimal DPOR over one job (the whole program for the empty job),
 * counting into `s`. With `always` invariants it starts over while the
 * invariant's view grows stale (view.ts); a piece of a split exploration
 * leaves `s.view.stale` set for its caller, which must start over the split.
 */
export function runDpor<W>(s: Session<W>, job: DporJob = { prefix: [], sleep: [] }): Counterexample | undefined {
  if (s.view === null && s.program.invariants?.some((i) => i.always)) {
    const view = new InvariantView();
    for (const id of job.view ?? []) view.ids.add(id);
    s.view = view;
    // What the invariant reads in the initial state: most invariants read nothing else.
    s.newExecution().probeInvariants();
  }
  for (;;) {
    const cex = new Explorer(s, job).run();
    const view = s.view;
    // A violation found is real whatever the view; a piece's caller starts over.
    if (view === null || !view.stale || (cex !== undefined && !s.opts.keepGoing) || job.prefix.length > 0) return cex;
    view.restart();
    s.phase = `restart ${view.restarts}: the invariant reads ${view.ids.size} cells`;
  }
}

class Explorer<W> {
  /** frames[0..depth) are the nodes of the current execution; the records past them are kept for reuse. */
  private readonly frames: Frame[] = [];
  private nframes = 0;
  private readonly evs: Ev[] = [];
  private width: number;
  /** Per location slot (id + 2): last write and newest read since it, as event positions. */
  private readonly lastW: number[] = [];
  private readonly lastR: number[] = [];
  /** History slots of the objects threads allocated, by id (see slot). */
  private readonly threadSlots = new Map<number, number>();
  private nextSlot = 0;
  /** Per thread: its last event and the spawn that created it, as positions. */
  private readonly lastEv: number[] = [];
  private readonly spawnEv: number[] = [];
  private readonly floor: number;
  private readonly prefixSigs: readonly number[] | undefined;
  private readonly hasDaemons: boolean;
  private en: number[] = [];
  /** The enabled threads before the last new step (swapped with `en`, never copied). */
  private enBefore: number[] = [];
  /** The execution ended in a stop (completion while daemons ran) or sleep-set blocked. */
  private truncated = false;
  /** Where E ends for notdep: before a stopping event, which comes after everything. */
  private endOfE = 0;
  /** Positions 0..live-1 hold event records that are applied to the location histories. */
  private live = 0;
  private readonly pending = new Pending();
  /** Scratch for the sequence of a reversal (see notdep). */
  private readonly vbuf: Access[] = [];
  /** The first execution was replayed to check that the program is deterministic. */
  private checked = false;
  /** Predicted events that did otherwise when run (stopped, or not, where the prediction said otherwise). */
  mispredicted = 0;
  /** The invariant's view, with `always` invariants. */
  private readonly view: InvariantView | null;
  /** The last write to the invariant's view, as a position. */
  private visLast = -1;

  constructor(
    private readonly s: Session<W>,
    job: DporJob,
  ) {
    const n = s.program.threads.length;
    this.width = Math.max(4, n + 2);
    this.floor = job.prefix.length;
    this.prefixSigs = job.sigs;
    this.hasDaemons = s.program.threads.some((t) => t.daemon === true);
    for (const c of job.prefix) {
      this.frames.push({
        wut: [{ acc: placeholder(choiceTid(c), choiceAlt(c)), kids: NONE, predicted: false }],
        sleep: NONE,
      });
    }
    this.frames.push({ wut: NONE, sleep: job.sleep.length === 0 ? NONE : job.sleep.slice() });
    this.nframes = this.frames.length;
    this.inherited = new Set(job.sleep);
    this.view = s.view;
  }

  /**
   * The sleep set a piece of a split exploration starts with: the traces in
   * which one of these events runs while still asleep belong to other pieces,
   * so an execution stops (sleep-set blocked) before running one. But the
   * wakeup sequences that would guide this piece come from those other
   * pieces' races, so these entries never stop an insertion (see insertAt).
   */
  private readonly inherited: Set<Access>;

  run(): Counterexample | undefined {
    const s = this.s;
    let cex: Counterexample | undefined;
    /** First position of the next execution that is not a replay. */
    let b = 0;
    for (;;) {
      const ex = s.newExecution();
      // Replay the prefix (its event records are still valid), then extend it.
      let depth = this.replayPrefix(ex, b);
      let end = End.Violation;
      let sleepBlocked = false;
      if (depth === b) {
        depth = this.extend(ex, b);
        end = this.end;
        sleepBlocked = end === End.Running;
      }
      // Races, as in the paper, once the execution is over.
      // A stop is dependent with everything: it happens after every other event of E.
      const stopped = !sleepBlocked && depth > 0 && this.evs[depth - 1].stop;
      this.endOfE = stopped ? depth - 1 : depth;
      // What would follow a stop, or the sleeping events that blocked E, is unknown (see insertAt).
      this.truncated = stopped || sleepBlocked || end === End.Cut;
      for (let j = Math.max(b, this.floor); j < depth && j < this.live; j++) this.races(j);
      if (depth > this.floor) this.endRaces(ex, end, depth);
      // An exploration may replay nothing (one execution, or reversals from the root): the first execution replays twice.
      if (!this.checked) {
        this.checked = true;
        checkReplaysAlike(s.program, this.schedule(depth), ex.allViolations);
      }
      let stop: boolean;
      if (sleepBlocked) stop = s.countSleepBlocked(depth);
      else {
        if ((end === End.Violation || end === End.Blocked) && ex.violation !== null && cex === undefined) {
          cex = { violation: ex.violation, schedule: this.schedule(ex.violationAt[0]) };
          if (!s.opts.keepGoing) {
            s.count(end, depth, ex);
            return cex;
          }
        }
        stop = s.count(end, depth, ex, this.scheduleOf);
      }
      if (stop) return cex;
      // The invariant read a cell written earlier as not visible: what was explored does not count (runDpor).
      if (this.view?.stale) return cex;
      const next = this.backtrack(depth);
      if (next < 0) return cex;
      b = next;
    }
  }

  /** Replays positions 0..b-1; returns b, or fewer steps when a monitor (lockdep) raised a violation on the way. */
  private replayPrefix(ex: Execution<W>, b: number): number {
    const evs = this.evs;
    for (let depth = 0; depth < b; depth++) {
      // The event records of the prefix are those of the last execution.
      const e = evs[depth];
      const op = ex.threads[e.tid]?.op ?? null;
      if (!ex.replayStep(e.tid, e.alt, e.sig)) diverged(this.s, ex, depth, e.tid, showStep(e.op, e.val));
      // Same op, same value read or written: a value from Math.random or a clock shows here.
      const v = stepValue(op as Op);
      if (valueKey(v) !== e.vsig) diverged(this.s, ex, depth, e.tid, showStep(e.op, e.val), showStep(op as Op, v));
      // Only a monitor that learns across executions can do this (and under keepGoing it ends nothing).
      if (ex.violation !== null && !ex.allViolations) return depth + 1;
    }
    return b;
  }

  /** How the last `extend` ended (Running: sleep-set blocked). */
  private end: End = End.Running;

  /** Runs new steps from position `depth` until the execution ends; returns its length. */
  private extend(ex: Execution<W>, depth: number): number {
    for (;;) {
      ex.enabled(this.en);
      const end = ending(ex, this.en.length);
      if (end !== End.Running) {
        this.end = end;
        return depth;
      }
      const frame = depth < this.nframes ? this.frames[depth] : this.enter(depth);
      // A branch that starts with an inherited sleeping event holds other pieces' traces only.
      while (frame.wut.length !== 0 && this.inheritedAsleep(frame.sleep, frame.wut[0].acc)) frame.wut.shift();
      if (frame.wut.length === 0) {
        const pick = this.freshPick(ex, frame.sleep);
        if (pick === null) {
          this.end = End.Running;
          return depth;
        }
        this.setWut(depth, [{ acc: pick, kids: NONE, predicted: false }]);
      }
      const node = frame.wut[0];
      const tid = node.acc.tid;
      if (depth < this.floor && this.prefixSigs !== undefined && ex.opSignature(tid) !== this.prefixSigs[depth]) {
        diverged(this.s, ex, depth, tid, showSignature(this.prefixSigs[depth]));
      }
      if (!ex.isEnabled(tid)) {
        if (depth < this.floor)
          diverged(this.s, ex, depth, tid, `${showSignature(this.prefixSigs?.[depth] ?? -1)}, enabled`);
        throw new Error(`dpor: internal error: ${ex.describeOp(tid)} is not enabled at step ${depth}`);
      }
      const en = this.en;
      this.en = this.enBefore;
      this.enBefore = en;
      const acc = this.execute(ex, depth, tid, node.acc.alt);
      if (node.predicted && acc.stop !== node.acc.stop) this.mispredicted++;
      node.acc = acc;
      depth++;
    }
  }

  /** The frame on arriving at position `depth` for the first time: the child's wakeup subtree, the filtered sleep set. */
  private enter(depth: number): Frame {
    const parent = this.frames[depth - 1];
    const done = parent.wut[0].acc;
    let sleep: Access[] = NONE;
    for (const q of parent.sleep) {
      if (dependent(q, done)) continue;
      if (sleep === NONE) sleep = [q];
      else sleep.push(q);
    }
    let f = this.frames[depth];
    if (f === undefined) {
      f = { wut: NONE, sleep: NONE };
      this.frames.push(f);
    }
    f.wut = parent.wut[0].kids;
    f.sleep = sleep;
    this.nframes = depth + 1;
    return f;
  }

  /** Gives the frame at `depth` a new wakeup tree array, which is also the kids of the node before it. */
  private setWut(depth: number, wut: WNode[]): void {
    this.frames[depth].wut = wut;
    if (depth > 0) this.frames[depth - 1].wut[0].kids = wut;
  }

  private inheritedAsleep(sleep: readonly Access[], a: Access): boolean {
    if (this.inherited.size === 0) return false;
    for (const q of sleep) if (q.tid === a.tid && q.alt === a.alt && this.inherited.has(q)) return true;
    return false;
  }

  /** Any enabled event not asleep; null when every one is (sleep-set blocked). */
  private freshPick(ex: Execution<W>, sleep: readonly Access[]): Access | null {
    const en = this.en;
    const y = ex.justYielded();
    if (y !== -1) return this.pickAfterYield(ex, sleep, y);
    for (let i = 0; i < en.length; i++) {
      const tid = en[i];
      const n = ex.alternatives(tid);
      for (let alt = 0; alt < n; alt++) if (!asleep(sleep, tid, alt)) return placeholder(tid, alt);
    }
    return null;
  }

  /** The first steps of the current execution's schedule (for Session.count). */
  private readonly scheduleOf = (steps: number): number[] => this.schedule(steps);

  /**
   * After thread y failed a retry or yielded, the others first, in turn from y
   * (PLDI 2008's fair scheduler: a yielding thread gives way), so that the
   * execution explored first is a fair one, not one cut for starving a lock
   * holder (fairness.ts). Any enabled event that is not asleep may be picked
   * here (JACM Alg. 2), so this changes the order, not what is explored.
   */
  private pickAfterYield(ex: Execution<W>, sleep: readonly Access[], y: number): Access | null {
    const en = this.en;
    for (let pass = 0; pass < 3; pass++) {
      for (let i = 0; i < en.length; i++) {
        const tid = en[i];
        if (pass === 0 ? tid <= y : pass === 1 ? tid >= y : tid !== y) continue;
        const n = ex.alternatives(tid);
        for (let alt = 0; alt < n; alt++) if (!asleep(sleep, tid, alt)) return placeholder(tid, alt);
      }
    }
    return null;
  }

  private schedule(depth: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < depth; i++) {
      const a = this.frames[i].wut[0].acc;
      out.push(encodeChoice(a.tid, a.alt));
    }
    return out;
  }

  // ---- events: record, clocks, undo ----

  private evAt(j: number): Ev {
    let e = this.evs[j];
    if (e === undefined) {
      e = new Ev(this.width);
      this.evs[j] = e;
    }
    return e;
  }

  private growWidth(n: number): void {
    let w = this.width;
    while (w < n) w *= 2;
    for (const e of this.evs) {
      const c = new Int32Array(w);
      c.set(e.clock);
      e.clock = c;
    }
    this.width = w;
  }

  /** The clock of `tid` before its event `e` (its previous event, or the spawn that created it). */
  private clockBefore(tid: number, prev: number): Int32Array {
    if (prev >= 0) return this.evs[prev].clock;
    const sp = this.spawnEv[tid] ?? -1;
    return sp >= 0 ? this.evs[sp].clock : ZERO;
  }

  /**
   * The history slot of a location: setup's objects (ids below ID_STRIDE) and
   * the pseudo-locations sit at id + 2; an object a thread allocated, whose id
   * is sparse, gets the next free slot past setup's on first sight, kept for
   * the whole exploration (its id names the same object in every execution).
   */
  private slot(loc: number): number {
    let i: number;
    if (loc < ID_STRIDE) i = loc + 2;
    else {
      const known = this.threadSlots.get(loc);
      if (known !== undefined) return known;
      if (this.threadSlots.size === 0) this.nextSlot = Math.max(this.nextSlot, this.s.setupAllocs + 2);
      i = this.nextSlot++;
      this.threadSlots.set(loc, i);
    }
    while (this.lastW.length <= i) {
      this.lastW.push(-1);
      this.lastR.push(-1);
    }
    return i;
  }

  /** Steps `tid` at position j and records the event: clock, location history, result history. */
  private execute(ex: Execution<W>, j: number, tid: number, alt: number): Access {
    const t = ex.threads[tid];
    const op = t.op as Op;
    const e = this.evAt(j);
    this.live = j + 1;
    e.tid = tid;
    e.alt = alt;
    e.op = op;
    e.sig = ex.opSignature(tid);
    e.child = -1;
    const target = op.t;
    if (target !== null) {
      if (isLockOp(op)) {
        const l = target as LockObj;
        e.holderBefore = l.holder;
        e.readersBefore = l.readers.length;
      } else e.before = (target as Loc).v;
    }
    const nThreads = ex.threads.length;
    ex.step(tid, alt);
    e.val = stepValue(op);
    e.vsig = valueKey(e.val);
    if (ex.threads.length > nThreads) {
      e.child = ex.threads.length - 1;
      if (ex.threads.length > this.width) this.growWidth(ex.threads.length);
    }
    // A violating step stops only its thread (keepGoing) or the whole search: never a stop to race with.
    e.stop = this.hasDaemons && !ex.cut && ex.finished();
    const loc = locOf(op.k, ex.lastTarget);
    const write = writeOf(op.k, ex.lastWrite);
    const freed = ex.lastFreed === null ? null : ex.lastFreed.map((c) => c.id);
    const vis = this.view?.vis(loc, write, freed) === true;
    const acc = makeAccess(tid, alt, loc, write, freed, e.stop, vis);
    e.acc = acc;

    const prev = this.lastEv[tid] ?? -1;
    const own = this.clockBefore(tid, prev);
    e.idx = prev >= 0 ? this.evs[prev].idx + 1 : 0;
    const c = e.clock;
    const w = own.length;
    for (let i = 0; i < w; i++) c[i] = own[i];
    for (let i = w; i < c.length; i++) c[i] = 0;
    if (loc !== NO_LOC) this.access(e, j, loc, write);
    if (freed !== null) {
      e.savedW = [];
      e.savedR = [];
      e.freedHolder = [];
      e.freedReaders = [];
      for (const o of op.a as readonly (Loc | LockObj)[]) {
        const lock = "holder" in o;
        e.freedHolder.push(lock ? o.holder : -1);
        e.freedReaders.push(lock ? o.readers.length : 0);
      }
      for (const id of freed) {
        const sl = this.slot(id);
        e.savedW.push(this.lastW[sl]);
        e.savedR.push(this.lastR[sl]);
        this.joinWriteDeps(c, this.lastW[sl], this.lastR[sl]);
        this.lastW[sl] = j;
        this.lastR[sl] = -1;
      }
    } else e.savedW = e.savedR = e.freedHolder = e.freedReaders = null;
    if (vis) {
      // The invariant's view: a location that only writes.
      e.prevVis = this.visLast;
      if (e.prevVis >= 0) join(c, this.evs[e.prevVis].clock);
      this.visLast = j;
    }
    if (op.k === K.Join) {
      const last = this.lastEv[op.a as number] ?? -1;
      if (last >= 0) join(c, this.evs[last].clock);
    }
    c[tid] = e.idx + 1;
    e.prevThread = prev;
    this.lastEv[tid] = j;
    if (e.child >= 0) {
      this.spawnEv[e.child] = j;
      this.lastEv[e.child] = -1;
    }
    return acc;
  }

  /** Clock join and history update for an access to `loc`. */
  private access(e: Ev, j: number, loc: number, write: boolean): void {
    const sl = this.slot(loc);
    const c = e.clock;
    e.prevW = this.lastW[sl];
    e.prevR = this.lastR[sl];
    if (write) {
      this.joinWriteDeps(c, e.prevW, e.prevR);
      this.lastW[sl] = j;
      this.lastR[sl] = -1;
    } else {
      if (e.prevW >= 0) join(c, this.evs[e.prevW].clock);
      this.lastR[sl] = j;
    }
  }

  private joinWriteDeps(c: Int32Array, w: number, rHead: number): void {
    if (w >= 0) join(c, this.evs[w].clock);
    for (let r = rHead; r >= 0; r = this.evs[r].prevR) join(c, this.evs[r].clock);
  }

  /** Undoes the event at position j (the newest one). */
  private undo(j: number): void {
    const e = this.evs[j];
    this.lastEv[e.tid] = e.prevThread;
    if (e.child >= 0) {
      this.spawnEv[e.child] = -1;
      this.lastEv[e.child] = -1;
    }
    const a = e.acc;
    if (a.freed !== null) {
      for (let i = a.freed.length - 1; i >= 0; i--) {
        const sl = this.slot(a.freed[i]);
        this.lastW[sl] = (e.savedW as number[])[i];
        this.lastR[sl] = (e.savedR as number[])[i];
      }
    }
    if (a.loc !== NO_LOC) {
      const sl = this.slot(a.loc);
      if (a.write) this.lastW[sl] = e.prevW;
      this.lastR[sl] = e.prevR;
    }
    if (a.vis) this.visLast = e.prevVis;
  }

  // ---- races ----

  /** Races of the recorded event at position j with earlier events. */
  private races(j: number): void {
    const e = this.evs[j];
    const op = e.op;
    const acc = e.acc;
    if (op.k === K.Choose) {
      // The other alternatives of a local choice: each starts a different trace.
      const n = op.a as number;
      for (let alt = 0; alt < n; alt++) {
        if (alt === acc.alt) continue;
        // As for any race, the rest of the execution that does not depend on the choice comes first.
        const n = this.notdep(e, j);
        const v = this.vbuf;
        v[n] = makeAccess(acc.tid, alt, NO_LOC, false, null, false);
        this.insertAt(j, v, this.truncated, n + 1);
      }
      return;
    }
    // One record, refilled for every event (races never keep it).
    const pending = this.pending;
    pending.op = op;
    pending.acc = acc;
    pending.own = this.clockBefore(e.tid, e.prevThread);
    pending.seen = e.before;
    if (acc.loc !== NO_LOC) this.raceLoc(pending, e.prevW, e.prevR, acc.write);
    if (acc.freed !== null) {
      for (let i = 0; i < acc.freed.length; i++) {
        this.raceLoc(pending, (e.savedW as number[])[i], (e.savedR as number[])[i], true);
      }
    }
    if (acc.vis) this.raceVis(pending, e.prevVis);
  }

  /**
   * The race of a write to the invariant's view with the last one before it,
   * unless they touch one location (raceLoc has it) or happen in order.
   * Moved before it, x still sees what it saw: nothing between them that x
   * depends on comes after that write, or they would not race.
   */
  private raceVis(x: Pending, w: number): void {
    if (w < 0) return;
    const we = this.evs[w];
    const a = x.acc;
    if (we.tid === a.tid || x.own[we.tid] > we.idx) return;
    if (conflict({ ...a, vis: false }, { ...we.acc, vis: false })) return;
    this.race(we, w, x, true);
  }

  /**
   * Races of `x` (an event of x.acc.tid doing x.op), as if it ran at the end,
   * on a location whose last write was `wHead` and newest read since `rHead`.
   */
  private raceLoc(x: Pending, wHead: number, rHead: number, write: boolean): void {
    const { op, own } = x;
    const p = x.acc.tid;
    const evs = this.evs;
    let found = false;
    let back: number;
    if (write && rHead >= 0) {
      for (let r = rHead; r >= 0; r = evs[r].prevR) {
        const re = evs[r];
        if (re.tid === p || own[re.tid] > re.idx) continue;
        if (enabledBefore(op, re, x.seen)) {
          this.race(re, r, x);
          found = true;
        }
      }
      back = wHead;
    } else {
      if (wHead < 0) return;
      const we = evs[wHead];
      if (we.tid === p || own[we.tid] > we.idx) return;
      if (enabledBefore(op, we, x.seen)) {
        this.race(we, wHead, x);
        return;
      }
      back = isBlocking(op) ? prevWrite(we, (op.t as Loc).id) : -1;
    }
    if (found || !isBlocking(op)) return;
    // A blocked op: race with the latest write before which it could have run.
    const loc = (op.t as Loc).id;
    for (let w = back; w >= 0; w = prevWrite(evs[w], loc)) {
      const we = evs[w];
      if (we.tid === p || own[we.tid] > we.idx) return;
      if (enabledBefore(op, we, x.seen)) {
        this.race(we, w, x);
        return;
      }
    }
  }

  /**
   * Reverses the race (event `c` at position i, then `x`): inserts notdep(c, E).x
   * before c. notdep runs to the end of E, not just to x: the sleep-set check
   * must see what the rest of the execution does (JACM Alg. 2).
   */
  private race(c: Ev, i: number, x: Pending, viaView = false): void {
    if (i < this.floor) return;
    const n = this.notdep(c, i);
    const v = this.vbuf;
    v[n] = this.reversed(x, c, viaView);
    this.insertAt(i, v, this.truncated, n + 1);
  }

  /**
   * notdep(c, E): the events after c (at position i) that do not happen after
   * it, in order, into vbuf[0..n); returns n. vbuf is scratch, reused by every
   * race (insertions copy what they keep), and its length means nothing.
   */
  private notdep(c: Ev, i: number): number {
    const v = this.vbuf;
    const t = c.tid;
    const k = c.idx;
    let n = 0;
    for (let m = i + 1; m < this.endOfE; m++) {
      const em = this.evs[m];
      if (em.clock[t] <= k) v[n++] = em.acc;
    }
    return n;
  }

  /** The access x makes when run just before event `c` at position i, after `v`: a cmpxchg or trylock may then succeed or fail, a read may see another value. */
  private reversed(x: Pending, c: Ev, viaView = false): Access {
    const { op, acc } = x;
    let write = acc.write;
    // Raced through the invariant's view, c is on another location: what x would do there is what it did.
    if (!viaView) {
      if (isLockOp(op)) write = lockOpWrites(op.k, holderBefore(c, op), readersBefore(c, op));
      else if (op.k === K.Cas && c.acc.freed === null) write = c.before === op.a;
    }
    const vis = this.view?.vis(acc.loc, write, acc.freed) === true;
    return write === acc.write && !acc.stop && vis === acc.vis
      ? acc
      : makeAccess(acc.tid, acc.alt, acc.loc, write, acc.freed, false, vis);
  }

  /**
   * Inserts v into wut(E_i) unless a sleeping event is a weak initial of it.
   * `open`: v comes from an execution that a stop cut short (completion while daemons ran), or that
   * every enabled event being asleep blocked, so what follows v is unknown and
   * may stop before a sleeping thread runs; then only events in v count as its
   * weak initials (complete, at the price of some sleep-set blocked executions).
   */
  private insertAt(i: number, v: readonly Access[], open = this.truncated, n = v.length): void {
    if (i < this.floor) return;
    const f = this.frames[i];
    for (const q of f.sleep) if (weakInitial(q, v, open, n) && !this.inherited.has(q)) return;
    if (f.wut.length === 0) this.setWut(i, [chain(v, n)]);
    else insert(f.wut, v, open, n);
  }

  /** Races that only the end of an execution reveals: of a stopping step, and of ops left pending. */
  private endRaces(ex: Execution<W>, end: End, depth: number): void {
    const last = this.evs[depth - 1];
    let j = depth;
    if (last.stop) {
      j = depth - 1;
      const p = last.tid;
      // The daemons' events that did not happen before the stop: without them the stop comes earlier.
      for (let r = 0; r < ex.threads.length; r++) {
        if (r === p || !ex.threads[r].daemon) continue;
        const x = this.lastEv[r] ?? -1;
        if (x < 0 || x >= j || x < this.floor) continue;
        const xe = this.evs[x];
        if (last.clock[r] > xe.idx) continue;
        const v: Access[] = [];
        for (let m = x + 1; m < j; m++) if (this.evs[m].clock[r] <= xe.idx) v.push(this.evs[m].acc);
        v.push(last.acc);
        this.insertAt(x, v, false);
      }
      // Ops enabled just before the stop could have run first; then the stop still comes, unless they changed it.
      for (const q of this.enBefore) {
        if (q === p || !ex.threads[q].daemon) continue;
        for (let alt = 0; alt < ex.alternatives(q); alt++) {
          const a = this.pendingAccess(ex, q, alt, last);
          if (conflict(a, last.acc)) this.insertAt(j, [a], true);
          else this.insertAt(j, [a, last.acc], false);
        }
      }
    }
    if (end === End.Cut) this.cutRaces(ex);
    // Running: sleep-set blocked, and the threads that wait would run later in the trace that continues E.
    if (end !== End.Blocked && end !== End.Violation && end !== End.Running) return;
    // Lock and await ops disabled at the end (or just before the stop) race with the ops that disabled them.
    for (const t of ex.threads) {
      const op = t.op;
      if (t.done || op === null || op.t === null || !isBlocking(op)) continue;
      if (j === depth ? ex.isEnabled(t.id) : t.id === last.tid || this.enBefore.includes(t.id)) continue;
      const prev = this.lastEv[t.id] ?? -1;
      const x = new Pending();
      x.op = op;
      const write = op.k !== K.Await;
      x.acc = makeAccess(t.id, 0, op.t.id, write, null, false, this.view?.vis(op.t.id, write, null) === true);
      x.own = this.clockBefore(t.id, prev);
      const sl = this.slot(op.t.id);
      this.raceLoc(x, this.lastW[sl], this.lastR[sl], x.acc.write);
    }
  }

  /**
   * An execution cut at a step bound (a daemon's, or an unfair one: fairness.ts)
   * stops before the others' pending ops run, and a fair continuation runs
   * each of them: they race, as if run at the end, with the events before.
   * Whether a pending cmpxchg or trylock would write is not known, so it
   * counts as a write (more reversals, none missed).
   */
  private cutRaces(ex: Execution<W>): void {
    for (const t of ex.threads) {
      const op = t.op;
      if (t.done || op === null || op.t === null || op.k === K.Join) continue;
      const prev = this.lastEv[t.id] ?? -1;
      const x = new Pending();
      x.op = op;
      x.acc = makeAccess(t.id, 0, op.t.id, op.k !== K.Load && op.k !== K.Await, null, false);
      x.own = this.clockBefore(t.id, prev);
      x.seen = (op.t as Loc).v;
      const sl = this.slot(op.t.id);
      this.raceLoc(x, this.lastW[sl], this.lastR[sl], x.acc.write);
    }
  }

  /** The access `tid`'s pending op would make just before the stopping event. */
  private pendingAccess(ex: Execution<W>, tid: number, alt: number, stop: Ev): Access {
    const op = ex.threads[tid].op as Op;
    const target = op.t;
    let loc = NO_LOC;
    let write = false;
    let freed: number[] | null = null;
    if (op.k === K.Spawn) {
      loc = locOf(K.Spawn, NO_LOC);
      write = true;
    } else if (op.k === K.Free) {
      freed = (op.a as readonly Loc[]).map((c) => c.id);
    } else if (target !== null) {
      loc = target.id;
      const sameLoc = stop.acc.loc === loc;
      if (isLockOp(op)) {
        const l = target as LockObj;
        const holder = sameLoc ? stop.holderBefore : l.holder;
        const readers = sameLoc ? stop.readersBefore : l.readers.length;
        write = lockOpWrites(op.k, holder, readers);
      } else {
        const seen = sameLoc ? stop.before : (target as Loc).v;
        write = op.k === K.Store || op.k === K.Rmw || (op.k === K.Cas && seen === op.a);
      }
    }
    const vis = this.view?.vis(loc, write, freed) === true;
    return makeAccess(tid, alt, loc, write, freed, false, vis);
  }

  /** Backtracks from an execution of `depth` steps; returns the position to explore next, or -1 when done. */
  private backtrack(depth: number): number {
    const frames = this.frames;
    // Records past a replay that a monitor cut short are stale.
    for (let t = this.live - 1; t >= depth; t--) this.undo(t);
    // The deepest position whose wakeup tree has another child; the frames below it are dropped whole.
    for (let t = depth - 1; t >= 0; t--) {
      this.undo(t);
      const f = frames[t];
      if (f.wut.length > 1 && t >= this.floor) {
        const done = f.wut.shift() as WNode;
        if (f.sleep === NONE) f.sleep = [done.acc];
        else f.sleep.push(done.acc);
        this.nframes = t + 1;
        this.live = t;
        return t;
      }
    }
    this.nframes = 0;
    return -1;
  }
}

/** An event to race: an executed one, or an op left pending at the end. */
class Pending {
  op: Op = undefined as unknown as Op;
  acc: Access = undefined as unknown as Access;
  /** Its thread's clock before it. */
  own: Int32Array = ZERO;
  /** The value it read, if any. */
  seen: unknown = undefined;
}

const placeholders: Access[][] = [];

/** A child not yet run: only its thread and alternative are known (one shared, immutable object per pair). */
function placeholder(tid: number, alt: number): Access {
  const row = (placeholders[alt] ??= []);
  return (row[tid] ??= makeAccess(tid, alt, NO_LOC, false, null, false));
}

function asleep(sleep: readonly Access[], tid: number, alt: number): boolean {
  for (let i = 0; i < sleep.length; i++) if (sleep[i].tid === tid && sleep[i].alt === alt) return true;
  return false;
}

function isLockOp(op: Op): boolean {
  return op.k >= K.Lock && op.k <= K.Downgrade;
}

function join(into: Int32Array, from: Int32Array): void {
  const n = Math.min(into.length, from.length);
  for (let i = 0; i < n; i++) if (from[i] > into[i]) into[i] = from[i];
}

/** Whether a lock op writes the lock, given the lock's state when it runs. */
function lockOpWrites(k: K, holder: number, readers: number): boolean {
  switch (k) {
    case K.Trylock:
    case K.DownWriteTry:
      return holder === -1 && readers === 0;
    case K.DownReadTry:
      return holder === -1;
    default:
      return true;
  }
}

/** Could `op` run in the state just before event `c` on the same location? */
/** The write to `loc` before event w (a write to it, or a free of it, whose history heads are saved per freed object). */
function prevWrite(w: Ev, loc: number): number {
  const freed = w.acc.freed;
  return freed === null ? w.prevW : (w.savedW as number[])[freed.indexOf(loc)];
}

/** The holder of lock op.t just before event c (c is an op on it, or a free of it). */
function holderBefore(c: Ev, op: Op): number {
  const freed = c.acc.freed;
  if (freed === null) return c.holderBefore;
  return (c.freedHolder as number[])[freed.indexOf((op.t as LockObj).id)];
}

/** The reader count of lock op.t just before event c (c is an op on it, or a free of it). */
function readersBefore(c: Ev, op: Op): number {
  const freed = c.acc.freed;
  if (freed === null) return c.readersBefore;
  return (c.freedReaders as number[])[freed.indexOf((op.t as LockObj).id)];
}

function enabledBefore(op: Op, c: Ev, seen: unknown): boolean {
  switch (op.k) {
    case K.Lock:
    case K.DownWrite:
      return holderBefore(c, op) === -1 && readersBefore(c, op) === 0;
    case K.DownRead:
      return holderBefore(c, op) === -1;
    case K.Await:
      return (op.a as (v: unknown) => boolean)(c.acc.freed !== null ? seen : c.before);
    default:
      return true;
  }
}

/**
 * Is q a weak initial of v (JACM Def. 4.4)? Either q's thread first appears in
 * v with q's event, independent of everything before it, or q is independent
 * of all of v.
 */
export function weakInitial(q: Access, v: readonly Access[], open = false, n = v.length): boolean {
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (x.tid === q.tid) return x.alt === q.alt;
    if (dependent(q, x)) return false;
  }
  return !open;
}

/** The branch w[0..n) as a chain of new, predicted wakeup nodes. */
function chain(w: readonly Access[], n: number): WNode {
  let kids: WNode[] = NONE;
  for (let i = n - 1; i > 0; i--) kids = [{ acc: w[i], kids, predicted: true }];
  return { acc: w[0], kids, predicted: true };
}

/**
 * insert_[E](v, wut) (JACM Sec. 6): follow the leftmost children that are weak
 * initials of what is left of v; stop at a leaf (v is already covered), or add
 * the rest of v as a new rightmost branch.
 */
function insert(kids: WNode[], v: readonly Access[], open: boolean, vn: number): void {
  let w = v;
  let n = vn;
  let level = kids;
  descend: for (;;) {
    for (const child of level) {
      if (!weakInitial(child.acc, w, open, n)) continue;
      if (child.kids.length === 0) return;
      w = without(w, n, child.acc.tid);
      n = w.length;
      level = child.kids;
      continue descend;
    }
    // A non-empty level is never a leaf's kids (the descent stops there), so it is a real array.
    if (n !== 0) level.push(chain(w, n));
    return;
  }
}

/** w[0..n) without the first event of thread `tid`, as a new array. */
function without(w: readonly Access[], n: number, tid: number): Access[] {
  const out: Access[] = [];
  let skipped = false;
  for (let i = 0; i < n; i++) {
    if (!skipped && w[i].tid === tid) skipped = true;
    else out.push(w[i]);
  }
  return out;
}

export function dpor<W>(program: Program<W>, opts: ExploreOptions = {}): ExploreResult {
  const s = new Session(program, opts);
  const cex = runDpor(s);
  // Stopping at the first violation leaves the rest unexplored.
  return s.result(
    "dpor",
    cex === undefined || opts.keepGoing === true,
    cex === undefined ? undefined : { ...cex, preemptions: -1 },
  );
}
