// The dependence relation: when two events do not commute. Defined once, here,
// and used by dpor (races, sleep sets, wakeup trees), by the job splitter and
// by the differential oracle's happens-before classes, so that "one execution
// per Mazurkiewicz trace" means the same thing everywhere.
//
// As in benchmarks/dpor-counts.md: two events of different threads are
// dependent when they touch the same location and at least one writes. A
// failed cmpxchg and a failed trylock are reads; every other lock and rwsem op
// writes the lock. A free writes every cell it frees. Spawns write one shared
// "thread table" location, because thread ids follow spawn order. An event that
// ends the execution (the last non-daemon thread finishing while daemons run)
// is dependent with everything; a violation ends only its thread, or the search.
//
// A program with an invariant checked after every step (`always`) adds one
// more location, the invariant's view: every write to a cell or lock the
// invariant reads (`vis`) also writes it. A trace then fixes the order of all
// those writes, so the one linearization dpor explores passes through every
// state of the view that any linearization does (the invariant's value only
// changes there); reads need nothing. Which cells are visible is learned as
// the invariant runs (view.ts).

import { K, type Op } from "./ops.js";

/** The location of every spawn: thread ids are handed out in spawn order. */
export const SPAWN_LOC = -2;
/** No location (yield, join, choose). */
export const NO_LOC = -1;

/** What one event touched: enough to decide dependence. Immutable once built. */
export interface Access {
  readonly tid: number;
  /** Alternative taken at a `choose` (0 otherwise). */
  readonly alt: number;
  /** Cell or lock id, SPAWN_LOC, or NO_LOC. */
  readonly loc: number;
  readonly write: boolean;
  /** Ids of the cells a free wrote, else null. */
  readonly freed: readonly number[] | null;
  /** The event ended the execution while daemons ran: nothing can follow it. */
  readonly stop: boolean;
  /** A write to something an `always` invariant reads: dependent with every other such write. */
  readonly vis: boolean;
}

/** The location an op touches, given the executor's `lastTarget` after it ran. */
export function locOf(k: K, lastTarget: number): number {
  return k === K.Spawn ? SPAWN_LOC : lastTarget;
}

/** Whether an op wrote, given the executor's `lastWrite` after it ran (spawn writes the thread table). */
export function writeOf(k: K, lastWrite: boolean): boolean {
  return k === K.Spawn ? true : k === K.Free ? false : lastWrite;
}

export function makeAccess(
  tid: number,
  alt: number,
  loc: number,
  write: boolean,
  freed: readonly number[] | null,
  stop: boolean,
  vis = false,
): Access {
  return { tid, alt, loc, write, freed, stop, vis };
}

/**
 * Do `a` and `b` not commute? Events of one thread are always dependent
 * (program order, and two alternatives of one `choose` exclude each other).
 */
export function dependent(a: Access, b: Access): boolean {
  if (a.tid === b.tid) return true;
  if (a.stop || b.stop) return true;
  return conflict(a, b);
}

/** Do `a` and `b` touch a common location, one of them writing it (whatever their threads and violations)? */
export function conflict(a: Access, b: Access): boolean {
  if (a.vis && b.vis) return true;
  if (a.loc !== NO_LOC && a.loc === b.loc && (a.write || b.write)) return true;
  if (a.freed !== null && touchesAny(b, a.freed)) return true;
  if (b.freed !== null && touchesAny(a, b.freed)) return true;
  return false;
}

function touchesAny(x: Access, cells: readonly number[]): boolean {
  if (x.loc !== NO_LOC && cells.includes(x.loc)) return true;
  if (x.freed !== null) for (const c of x.freed) if (cells.includes(c)) return true;
  return false;
}

/**
 * Is an event that touched `loc` (writing it when `write`) and freed `freed` a
 * write to the invariant's view `visible` (null: no `always` invariant)?
 */
export function isVisible(
  visible: ReadonlySet<number> | null,
  loc: number,
  write: boolean,
  freed: readonly number[] | null,
): boolean {
  if (visible === null) return false;
  if (write && loc !== NO_LOC && visible.has(loc)) return true;
  if (freed !== null) for (const c of freed) if (visible.has(c)) return true;
  return false;
}

/** Does an op block until some condition holds (so that reversing a race may be impossible)? */
export function isBlocking(op: Op): boolean {
  const k = op.k;
  return k === K.Lock || k === K.DownWrite || k === K.DownRead || k === K.Await || k === K.Join;
}
