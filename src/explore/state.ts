// Creating shared state and annotating threads, from setup() or thread code.

import { SPAWN_LOC } from "./dependence.js";
import { currentExecution } from "./execution.js";
import type { Gen, Loc, LockKind, LockObj } from "./ops.js";

/** A new shared cell in the current execution. */
export function cell<T>(name: string, v: T, show?: (v: T) => string): Loc<T> {
  const ex = currentExecution();
  // One object shape for every cell (show always present) keeps the executor's accesses monomorphic.
  return { id: ex.allocId(), name, v, freed: null, show };
}

/**
 * The cell named `key` in the current execution, made with value `v` on first
 * use by whoever gets there first; the same cell, with the same identity,
 * whichever thread that is (see Execution.keyed).
 */
export function keyedCell<T>(key: string, name: string, v: T, show?: (v: T) => string): Loc<T> {
  return currentExecution().keyed(key, (id): Loc<T> => ({ id, name, v, freed: null, show }));
}

/**
 * The thread table as a location: spawns write it (thread ids follow spawn
 * order), so a load of it orders a scan of every thread (synchronize_rcu's)
 * against every spawn. Its value means nothing.
 */
export const THREAD_TABLE: Loc<null> = { id: SPAWN_LOC, name: "thread table", v: null, freed: null, show: undefined };

/** The ids of every thread the current execution has, in spawn order (after a load of THREAD_TABLE). */
export function threadIds(): number[] {
  return currentExecution().threads.map((t) => t.id);
}

/** A new lock in the current execution; `cls` is its lockdep class (defaults to the name). */
export function newLock(name: string, kind: LockKind, cls: string = name): LockObj {
  const ex = currentExecution();
  const l: LockObj = { id: ex.allocId(), name, cls, kind, holder: -1, readers: [], freed: null };
  ex.registerLock(l);
  return l;
}

/**
 * Wraps a model function so that traces show it on the call stack:
 * `const move_ptes = traced("move_ptes", function* (...) { ... })`.
 */
export function traced<A extends unknown[], R>(name: string, f: (...args: A) => Gen<R>): (...args: A) => Gen<R> {
  return function* (...args: A): Gen<R> {
    const t = currentExecution().runningThread();
    t?.stack.push(name);
    try {
      return yield* f(...args);
    } finally {
      t?.stack.pop();
    }
  };
}

/** Says what the step just taken means, in kernel words; shown in traces. Free unless recording. */
export function note(text: string | (() => string)): void {
  currentExecution().note(text);
}

/** The name of the thread running now. */
export function threadName(): string {
  return currentExecution().runningThread()?.name ?? "setup";
}

/** The id of the thread running now (-1 in setup). */
export function threadId(): number {
  return currentExecution().runningThread()?.id ?? -1;
}

/** Runs model code to completion inside setup(), with the semantics of thread steps (see Execution.runInline). */
export function runInSetup<R>(g: Gen<R>): R {
  return currentExecution().runInline(g);
}
