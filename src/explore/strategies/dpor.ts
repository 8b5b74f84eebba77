// dpor: optimal dynamic partial order reduction with wakeup trees and sleep
// sets — Abdulla, Aronis, Jonsson, Sagonas, "Source Sets: A Foundation for
// Optimal Dynamic Partial Order Reduction", JACM 64(4), 2017 (Algorithm
// "Optimal-DPOR") — under sequential consistency, with locks, rwsems, awaits,
// spawn/join and `choose`. It explores exactly one complete execution per
// Mazurkiewicz trace of the dependence relation in ../dependence.ts.
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
// - A step that raises a violation ends the execution: it is dependent with
//   everything (other threads' events that did not happen before it race with
//   it, and so do the ops they had pending). The same holds for the step that
//   completes an execution while daemon threads are still running.
// - At the end of a blocked execution the pending, disabled lock or await ops
//   race with the ops that disabled them, as if they had run.
// - A `choose` is local: independent of everything, but its alternatives
//   exclude each other, so each executed choose inserts its other alternatives.
//
// - Races are examined once per execution, when it is over, with notdep
//   running to the end of the execution (the sleep-set check must see what
//   the rest of the execution does).
//
// The explorer keeps one event record per position of the current execution
// and undoes them on backtracking, so replaying the prefix costs only the
// generator steps.
//
// Known limitation: under keepGoing, an execution cut short by a violation
// hides what would have followed; dpor then inserts conservatively (some
// sleep-set blocked executions) and, rarely, misses executions that only
// follow a cut (the differential oracle checks that every violation is still
// found). Without keepGoing the first violation ends the search, so this
// never matters; nor for programs without violations.

import { type Access, conflict, dependent, isBlocking, locOf, makeAccess, NO_LOC, writeOf } from "../dependence.js";
import { choiceAlt, choiceTid, type Execution, encodeChoice } from "../execution.js";
import { K, type Loc, type LockObj, type Op } from "../ops.js";
import type { Program } from "../program.js";
import type { ExploreOptions, ExploreResult } from "../result.js";
import { ModelError, type Violation } from "../violation.js";
import { End, ending, Session } from "./common.js";

/** A node of a wakeup tree: the event to run next, and the wakeup tree after it. */
interface WNode {
  /** The event: predicted when inserted, the one actually executed once run. */
  acc: Access;
  readonly kids: WNode[];
  /** Inserted by a reversal (its access is a prediction), not picked freshly. */
  readonly predicted: boolean;
}

/** The explorer's state at one position of the current execution (a node E of the paper). */
interface Frame {
  /** wut(E); wut[0] is the child being explored. */
  readonly wut: WNode[];
  /** sleep(E): events whose subtrees were explored (or are covered elsewhere). */
  readonly sleep: Access[];
}

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
  /** Free: saved history heads of every freed cell. */
  savedW: number[] | null = null;
  savedR: number[] | null = null;
  /** Thread created by a spawn, else -1. */
  child = -1;
  /** The location's state before this event: a cell's value, or a lock's holder and reader count. */
  before: unknown = undefined;
  holderBefore = -1;
  readersBefore = 0;
  /** The target had been freed before this event. */
  freedBefore = false;
  /** 1: raised a violation; 2: completed the execution while daemons still ran. */
  stopKind = 0;
  /** Interned history of the results its thread received, this one included (exact mode). */
  hist = 0;

  constructor(width: number) {
    this.clock = new Int32Array(width);
  }
}

/** A piece of an exploration: the fixed prefix to start from and the sleep set there. */
export interface DporJob {
  readonly prefix: readonly number[];
  readonly sleep: readonly Access[];
}

export interface Counterexample {
  readonly violation: Violation;
  readonly schedule: number[];
}

const ZERO = new Int32Array(0);

/** Runs optimal DPOR over one job (the whole program for the empty job), counting into `s`. */
export function runDpor<W>(s: Session<W>, job: DporJob = { prefix: [], sleep: [] }): Counterexample | undefined {
  return new Explorer(s, job).run();
}

class Explorer<W> {
  private readonly frames: Frame[] = [];
  private readonly evs: Ev[] = [];
  private width: number;
  /** Per location slot (id + 2): last write and newest read since it, as event positions. */
  private readonly lastW: number[] = [];
  private readonly lastR: number[] = [];
  /** Per thread: its last event and the spawn that created it, as positions. */
  private readonly lastEv: number[] = [];
  private readonly spawnEv: number[] = [];
  private readonly floor: number;
  private readonly hasDaemons: boolean;
  private readonly en: number[] = [];
  private readonly enBefore: number[] = [];
  /** The execution ended in a stop (a violation, or completion while daemons ran). */
  private truncated = false;
  /** Where E ends for notdep: before a stopping event, which comes after everything. */
  private endOfE = 0;
  /** Positions 0..live-1 hold event records that are applied to the location histories. */
  private live = 0;
  /**
   * With keepGoing, whether a reversed event raises a violation must be known
   * exactly (a violation ends the execution, so it is dependent with
   * everything): a thread's behaviour follows from the results it received, so
   * each history of results is interned and remembered as stopping or not; an
   * unknown one is decided by replaying the reversal once.
   */
  private readonly exact: boolean;
  private readonly stops = new Set<number>();
  private readonly oks = new Set<number>();
  /** Predicted events that did otherwise when run (a monitor or an `always` invariant decided). */
  mispredicted = 0;

  constructor(
    private readonly s: Session<W>,
    job: DporJob,
  ) {
    const n = s.program.threads.length;
    this.width = Math.max(4, n + 2);
    this.floor = job.prefix.length;
    this.hasDaemons = s.program.threads.some((t) => t.daemon === true);
    this.exact = s.opts.keepGoing === true;
    for (const c of job.prefix) {
      this.frames.push({
        wut: [{ acc: placeholder(choiceTid(c), choiceAlt(c)), kids: [], predicted: false }],
        sleep: [],
      });
    }
    this.frames.push({ wut: [], sleep: job.sleep.slice() });
    this.inherited = new Set(job.sleep);
  }

  /**
   * The sleep set a piece of a split exploration starts with: the traces in
   * which one of these events runs while still asleep belong to other pieces.
   * A subtree of optimal DPOR is complete only without a sleep set (the
   * wakeup sequences that guide it come from its earlier siblings), so these
   * entries neither stop insertions nor cut branches: such an execution runs
   * on (its races guide the search) and is counted as sleep-set blocked, not
   * as an execution of this piece.
   */
  private readonly inherited: Set<Access>;
  /** Position of the first event that ran an inherited sleeping event (another piece's trace), or Infinity. */
  private firstForeign = Number.POSITIVE_INFINITY;

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
      // Races, as in the paper, once the execution is over (between executions, a reversal may be replayed).
      if (!sleepBlocked) {
        // A stop is dependent with everything: it happens after every other event of E.
        this.truncated = depth > 0 && this.evs[depth - 1].stopKind !== 0;
        this.endOfE = this.truncated ? depth - 1 : depth;
        for (let j = Math.max(b, this.floor); j < depth && j < this.live; j++) this.races(j);
        if (depth > this.floor) this.endRaces(ex, end, depth);
      }
      let stop: boolean;
      if (sleepBlocked || this.firstForeign < depth) stop = s.countSleepBlocked(depth);
      else {
        if ((end === End.Violation || end === End.Blocked) && ex.violation !== null && cex === undefined) {
          cex = { violation: ex.violation, schedule: this.schedule(depth) };
          if (!s.opts.keepGoing) {
            s.count(end, depth, ex);
            return cex;
          }
        }
        stop = s.count(end, depth, ex);
      }
      if (stop) return cex;
      const next = this.backtrack(depth);
      if (next < 0) return cex;
      b = next;
    }
  }

  /** Replays positions 0..b-1; returns b, or fewer steps when a monitor (lockdep) raised a violation on the way. */
  private replayPrefix(ex: Execution<W>, b: number): number {
    for (let depth = 0; depth < b; depth++) {
      const acc = this.frames[depth].wut[0].acc;
      if (!ex.isEnabled(acc.tid) || this.evs[depth].sig !== ex.opSignature(acc.tid)) this.diverged(ex, depth, acc.tid);
      ex.step(acc.tid, acc.alt);
      // Only a monitor that learns across executions can do this.
      if (ex.violation !== null) return depth + 1;
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
      const frame = depth < this.frames.length ? this.frames[depth] : this.enter(depth);
      if (frame.wut.length === 0) {
        const pick = this.freshPick(ex, frame.sleep);
        if (pick === null) {
          this.end = End.Running;
          return depth;
        }
        frame.wut.push({ acc: pick, kids: [], predicted: false });
      }
      const node = frame.wut[0];
      const tid = node.acc.tid;
      if (
        this.inherited.size !== 0 &&
        frame.sleep.some((q) => q.tid === tid && q.alt === node.acc.alt && this.inherited.has(q))
      ) {
        if (depth < this.firstForeign) this.firstForeign = depth;
      }
      if (!ex.isEnabled(tid)) {
        if (depth < this.floor) this.diverged(ex, depth, tid);
        throw new Error(`dpor: internal error: ${ex.describeOp(tid)} is not enabled at step ${depth}`);
      }
      this.enBefore.length = 0;
      for (const q of this.en) this.enBefore.push(q);
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
    const sleep: Access[] = [];
    for (const q of parent.sleep) if (!dependent(q, done)) sleep.push(q);
    const f: Frame = { wut: parent.wut[0].kids, sleep };
    this.frames.push(f);
    return f;
  }

  /** Any enabled event not asleep; null when every one is (sleep-set blocked). */
  private freshPick(ex: Execution<W>, sleep: readonly Access[]): Access | null {
    let foreign: Access | null = null;
    for (const tid of this.en) {
      const n = ex.alternatives(tid);
      for (let alt = 0; alt < n; alt++) {
        const q = sleep.find((x) => x.tid === tid && x.alt === alt);
        if (q === undefined) return placeholder(tid, alt);
        if (foreign === null && this.inherited.has(q)) foreign = placeholder(tid, alt);
      }
    }
    return foreign;
  }

  private diverged(ex: Execution<W>, depth: number, tid: number): never {
    throw new ModelError(
      `${this.s.program.name} is not deterministic: replaying step ${depth}, expected ${ex.threads[tid]?.name ?? `thread ${tid}`} ` +
        `to perform the same op again, found ${ex.describeOp(tid)} (no Math.random, clocks, I/O or state kept across executions)`,
    );
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

  private histBefore(tid: number, prev: number): number {
    return prev >= 0 ? this.evs[prev].hist : -1 - tid;
  }

  private slot(loc: number): number {
    const i = loc + 2;
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
    e.freedBefore = target !== null && target.freed !== null;
    if (target !== null) {
      if (isLockOp(op)) {
        const l = target as LockObj;
        e.holderBefore = l.holder;
        e.readersBefore = l.readers.length;
      } else e.before = (target as Loc).v;
    }
    const nThreads = ex.threads.length;
    ex.step(tid, alt);
    if (ex.threads.length > nThreads) {
      e.child = ex.threads.length - 1;
      if (ex.threads.length > this.width) this.growWidth(ex.threads.length);
    }
    e.stopKind = ex.violation !== null ? 1 : this.hasDaemons && !ex.cut && ex.finished() ? 2 : 0;
    const loc = locOf(op.k, ex.lastTarget);
    const write = writeOf(op.k, ex.lastWrite);
    const freed = ex.lastFreed === null ? null : ex.lastFreed.map((c) => c.id);
    const acc = makeAccess(tid, alt, loc, write, freed, e.stopKind !== 0);
    e.acc = acc;

    const prev = this.lastEv[tid] ?? -1;
    const own = this.clockBefore(tid, prev);
    e.idx = prev >= 0 ? this.evs[prev].idx + 1 : 0;
    if (this.exact) {
      const res = resultOf(op, e.before, ex.lastWrite, e.child, alt);
      e.hist = this.intern(this.histBefore(tid, prev), resultKey(res, e.freedBefore));
      (e.stopKind === 1 ? this.stops : this.oks).add(e.hist);
    }
    const c = e.clock;
    c.fill(0);
    c.set(own);
    if (loc !== NO_LOC) this.access(e, j, loc, write);
    if (freed !== null) {
      e.savedW = [];
      e.savedR = [];
      for (const id of freed) {
        const sl = this.slot(id);
        e.savedW.push(this.lastW[sl]);
        e.savedR.push(this.lastR[sl]);
        this.joinWriteDeps(c, this.lastW[sl], this.lastR[sl]);
        this.lastW[sl] = j;
        this.lastR[sl] = -1;
      }
    } else e.savedW = e.savedR = null;
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
    if (j === this.firstForeign) this.firstForeign = Number.POSITIVE_INFINITY;
    this.lastEv[e.tid] = e.prevThread;
    if (e.child >= 0) {
      this.spawnEv[e.child] = -1;
      this.lastEv[e.child] = -1;
    }
    const a = e.acc;
    if (a.freed !== null) {
      for (let i = a.freed.length - 1; i >= 0; i--) {
        const sl = a.freed[i] + 2;
        this.lastW[sl] = (e.savedW as number[])[i];
        this.lastR[sl] = (e.savedR as number[])[i];
      }
    }
    if (a.loc !== NO_LOC) {
      const sl = a.loc + 2;
      if (a.write) this.lastW[sl] = e.prevW;
      this.lastR[sl] = e.prevR;
    }
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
      const hist = this.histBefore(e.tid, e.prevThread);
      for (let alt = 0; alt < n; alt++) {
        if (alt === acc.alt) continue;
        // As for any race, the rest of the execution that does not depend on the choice comes first.
        const v = this.notdep(e, j);
        const stop = this.predictStop(hist, resultKey(alt, false), j, v, acc.tid, alt);
        v.push(makeAccess(acc.tid, alt, NO_LOC, false, null, stop));
        this.insertAt(j, v);
      }
      return;
    }
    const own = this.clockBefore(e.tid, e.prevThread);
    const pending: Pending = {
      op,
      acc,
      own,
      seen: e.before,
      hist: this.exact ? this.histBefore(e.tid, e.prevThread) : 0,
    };
    if (acc.loc !== NO_LOC) this.raceLoc(pending, e.prevW, e.prevR, acc.write);
    if (acc.freed !== null) {
      for (let i = 0; i < acc.freed.length; i++) {
        this.raceLoc(pending, (e.savedW as number[])[i], (e.savedR as number[])[i], true);
      }
    }
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
      back = we.prevW;
    }
    if (found || !isBlocking(op)) return;
    // A blocked op: race with the latest write before which it could have run.
    for (let w = back; w >= 0; w = evs[w].prevW) {
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
  private race(c: Ev, i: number, x: Pending): void {
    if (i < this.floor) return;
    const v = this.notdep(c, i);
    v.push(this.reversed(x, c, i, v));
    this.insertAt(i, v);
  }

  /** notdep(c, E): the events after c (at position i) that do not happen after it, in order. */
  private notdep(c: Ev, i: number): Access[] {
    const v: Access[] = [];
    const t = c.tid;
    const k = c.idx;
    for (let m = i + 1; m < this.endOfE; m++) {
      const em = this.evs[m];
      if (em.clock[t] <= k) v.push(em.acc);
    }
    return v;
  }

  /** The access x makes when run just before event `c` at position i, after `v`: a cmpxchg or trylock may then succeed or fail, a read may see another value. */
  private reversed(x: Pending, c: Ev, i: number, v: Access[]): Access {
    const { op, acc } = x;
    let write = acc.write;
    const fromFree = c.acc.freed !== null;
    if (!fromFree) {
      if (op.k === K.Cas) write = c.before === op.a;
      else if (isLockOp(op)) write = lockOpWrites(op.k, c.holderBefore, c.readersBefore);
    }
    let stop = false;
    if (this.exact) {
      const seen = fromFree ? x.seen : c.before;
      const res = resultOf(op, seen, write, op.k === K.Spawn ? c.child : -1, acc.alt);
      stop = this.predictStop(x.hist, resultKey(res, fromFree ? false : c.freedBefore), i, v, acc.tid, acc.alt);
    }
    return write === acc.write && stop === acc.stop
      ? acc
      : makeAccess(acc.tid, acc.alt, acc.loc, write, acc.freed, stop);
  }

  /** Inserts v into wut(E_i) unless a sleeping event is a weak initial of it. */
  /**
   * Inserts v into wut(E_i) unless a sleeping event is a weak initial of it.
   * `open`: v comes from an execution that a violation cut short, so what
   * follows v is unknown and may stop before a sleeping thread runs; then only
   * events in v count as its weak initials (complete, at the price of some
   * sleep-set blocked executions in programs that violate under keepGoing).
   */
  private insertAt(i: number, v: Access[], open = this.truncated): void {
    if (i < this.floor) return;
    const f = this.frames[i];
    for (const q of f.sleep) if (weakInitial(q, v, open) && !this.inherited.has(q)) return;
    insert(f.wut, v, open);
  }

  /** Races that only the end of an execution reveals: of a stopping step, and of ops left pending. */
  private endRaces(ex: Execution<W>, end: End, depth: number): void {
    const last = this.evs[depth - 1];
    let j = depth;
    if (last.stopKind !== 0) {
      j = depth - 1;
      const onlyDaemons = last.stopKind === 2;
      const p = last.tid;
      // Events that did not happen before the stop: without them the stop comes earlier.
      for (let r = 0; r < ex.threads.length; r++) {
        if (r === p || (onlyDaemons && !ex.threads[r].daemon)) continue;
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
        if (q === p || (onlyDaemons && !ex.threads[q].daemon)) continue;
        for (let alt = 0; alt < ex.alternatives(q); alt++) {
          const a = this.pendingAccess(ex, q, alt, last, j);
          if (conflict(a, last.acc) || a.stop) this.insertAt(j, [a], !a.stop);
          else this.insertAt(j, [a, last.acc], false);
        }
      }
    }
    if (end !== End.Blocked && end !== End.Violation) return;
    // Lock and await ops disabled at the end (or just before the stop) race with the ops that disabled them.
    for (const t of ex.threads) {
      const op = t.op;
      if (t.done || op === null || op.t === null || !isBlocking(op)) continue;
      if (j === depth ? ex.isEnabled(t.id) : t.id === last.tid || this.enBefore.includes(t.id)) continue;
      const prev = this.lastEv[t.id] ?? -1;
      const x: Pending = {
        op,
        acc: makeAccess(t.id, 0, op.t.id, op.k !== K.Await, null, false),
        own: this.clockBefore(t.id, prev),
        seen: undefined,
        hist: this.exact ? this.histBefore(t.id, prev) : 0,
      };
      const sl = this.slot(op.t.id);
      this.raceLoc(x, this.lastW[sl], this.lastR[sl], x.acc.write);
    }
  }

  /** The access `tid`'s pending op would make just before the stopping event at position j. */
  private pendingAccess(ex: Execution<W>, tid: number, alt: number, stop: Ev, j: number): Access {
    const op = ex.threads[tid].op as Op;
    const target = op.t;
    let loc = NO_LOC;
    let write = false;
    let freed: number[] | null = null;
    let seen: unknown;
    let freedBefore = false;
    if (op.k === K.Spawn) {
      loc = locOf(K.Spawn, NO_LOC);
      write = true;
    } else if (op.k === K.Free) {
      freed = (op.a as readonly Loc[]).map((c) => c.id);
    } else if (target !== null) {
      loc = target.id;
      const sameLoc = stop.acc.loc === loc;
      freedBefore = sameLoc ? stop.freedBefore : target.freed !== null;
      if (isLockOp(op)) {
        const l = target as LockObj;
        const holder = sameLoc ? stop.holderBefore : l.holder;
        const readers = sameLoc ? stop.readersBefore : l.readers.length;
        write = lockOpWrites(op.k, holder, readers);
      } else {
        seen = sameLoc ? stop.before : (target as Loc).v;
        write = op.k === K.Store || op.k === K.Rmw || (op.k === K.Cas && seen === op.a);
      }
    }
    let stops = false;
    if (this.exact) {
      const prev = this.lastEv[tid] ?? -1;
      const res = resultOf(op, seen, write, ex.threads.length, alt);
      stops = this.predictStop(this.histBefore(tid, prev), resultKey(res, freedBefore), j, [], tid, alt);
    }
    return makeAccess(tid, alt, loc, write, freed, stops);
  }

  // ---- exact violation prediction (keepGoing) ----

  /** The history after `before` and one more result: a 53-bit hash (collisions are negligible at these sizes). */
  private intern(before: number, key: number): number {
    const a = Math.imul((before | 0) ^ key, 0x9e3779b1) ^ Math.imul((before / 4294967296) | 0, 0x85ebca6b);
    const b = Math.imul(a ^ (a >>> 15), 0x2c1b3c6d) ^ key;
    return (a >>> 0) * 2097152 + ((b >>> 0) & 0x1fffff);
  }

  /**
   * Does the event of `tid` (alternative `alt`) raise a violation when its
   * thread, with result history `hist`, receives the result `key` — run at
   * position i after the events v? Remembered; an unknown case is replayed.
   */
  private predictStop(hist: number, key: number, i: number, v: readonly Access[], tid: number, alt: number): boolean {
    if (!this.exact) return false;
    const h = this.intern(hist, key);
    if (this.stops.has(h)) return true;
    if (this.oks.has(h)) return false;
    const ex = this.s.newExecution();
    for (let m = 0; m < i; m++) {
      const a = this.frames[m].wut[0].acc;
      ex.step(a.tid, a.alt);
    }
    for (const a of v) ex.step(a.tid, a.alt);
    let stop = false;
    if (ex.violation === null && ex.isEnabled(tid)) {
      ex.step(tid, alt);
      stop = ex.violation !== null;
    }
    (stop ? this.stops : this.oks).add(h);
    return stop;
  }

  /** Backtracks from an execution of `depth` steps; returns the position to explore next, or -1 when done. */
  private backtrack(depth: number): number {
    const frames = this.frames;
    // Records past a replay that a monitor cut short are stale.
    for (let t = this.live - 1; t >= depth; t--) this.undo(t);
    if (frames.length > depth) frames.length = depth;
    for (let t = depth - 1; t >= 0; t--) {
      this.undo(t);
      const f = frames[t];
      const done = f.wut.shift() as WNode;
      f.sleep.push(done.acc);
      if (f.wut.length !== 0 && t >= this.floor) {
        this.live = t;
        return t;
      }
      frames.length = t;
    }
    return -1;
  }
}

/** An event to race: an executed one, or an op left pending at the end. */
interface Pending {
  readonly op: Op;
  readonly acc: Access;
  /** Its thread's clock before it. */
  readonly own: Int32Array;
  /** The value it read, if any. */
  readonly seen: unknown;
  /** Its thread's result history before it (exact mode). */
  readonly hist: number;
}

/** What `op` returned to its thread. */
function resultOf(op: Op, seen: unknown, wrote: boolean, child: number, alt: number): unknown {
  switch (op.k) {
    case K.Load:
    case K.Await:
    case K.Rmw:
    case K.Cas:
      return seen;
    case K.Trylock:
    case K.DownReadTry:
    case K.DownWriteTry:
      return wrote;
    case K.Spawn:
      return child;
    case K.Choose:
      return alt;
    default:
      return undefined;
  }
}

/** A result as a 32-bit key: exact for small integers, booleans and undefined; hashed otherwise (objects by id). */
function resultKey(v: unknown, freedBefore: boolean): number {
  const f = freedBefore ? 0x40000000 : 0;
  switch (typeof v) {
    case "undefined":
      return f ^ 0x1000001;
    case "boolean":
      return f ^ (v ? 0x1000002 : 0x1000003);
    case "number":
      return f ^ (Number.isInteger(v) && Math.abs(v) < 0x800000 ? v + 0x800000 : strHash(`n${v}`));
    case "object": {
      if (v === null) return f ^ 0x1000004;
      const id = (v as { id?: unknown }).id;
      if (typeof id === "number") return f ^ strHash(`o${id}`);
      try {
        return f ^ strHash(`j${JSON.stringify(v)}`);
      } catch {
        return f ^ 0x1000005;
      }
    }
    default:
      return f ^ strHash(`${typeof v}${String(v)}`);
  }
}

function strHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) | 0x2000000;
}

/** A child not yet run: only its thread and alternative are known. */
function placeholder(tid: number, alt: number): Access {
  return makeAccess(tid, alt, NO_LOC, false, null, false);
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
function enabledBefore(op: Op, c: Ev, seen: unknown): boolean {
  switch (op.k) {
    case K.Lock:
    case K.DownWrite:
      return c.holderBefore === -1 && c.readersBefore === 0;
    case K.DownRead:
      return c.holderBefore === -1;
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
export function weakInitial(q: Access, v: readonly Access[], open = false): boolean {
  for (const x of v) {
    if (x.tid === q.tid) return x.alt === q.alt;
    if (dependent(q, x)) return false;
  }
  return !open;
}

/**
 * insert_[E](v, wut) (JACM Sec. 6): follow the leftmost children that are weak
 * initials of what is left of v; stop at a leaf (v is already covered), or add
 * the rest of v as a new rightmost branch.
 */
function insert(kids: WNode[], v: Access[], open: boolean): void {
  let w = v;
  let level = kids;
  descend: for (;;) {
    for (const child of level) {
      if (!weakInitial(child.acc, w, open)) continue;
      if (child.kids.length === 0) return;
      const at = w.findIndex((x) => x.tid === child.acc.tid);
      if (at >= 0) w = w.slice(0, at).concat(w.slice(at + 1));
      level = child.kids;
      continue descend;
    }
    for (const x of w) {
      const n: WNode = { acc: x, kids: [], predicted: true };
      level.push(n);
      level = n.kids;
    }
    return;
  }
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
