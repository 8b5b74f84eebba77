// Creating shared state and annotating threads, from setup() or thread code.

import { SPAWN_LOC } from "./dependence.js";
import { currentExecution, type Execution, type TState } from "./execution.js";
import type { Gen, Loc, LockKind, LockObj } from "./ops.js";
import { ModelError } from "./violation.js";

/**
 * A new shared cell in the current execution. `guard`: a lock that every
 * writer of the cell holds exclusively, so that a thread holding it may read
 * `cell.v` without a step (vma fields under mmap_sem): the lock ops order the
 * read against every write. Strict mode checks both halves of that claim.
 */
export function cell<T>(name: string, v: T, show?: (v: T) => string, guard?: LockObj): Loc<T> {
  const ex = currentExecution();
  if (ex.strict) return guarded(ex, ex.allocId(), name, v, show, guard ?? null);
  // One object shape for every cell (show always present) keeps the executor's accesses monomorphic.
  return { id: ex.allocId(), name, v, freed: null, show };
}

const ADVICE = "use yield* READ_ONCE/WRITE_ONCE (or load/store) so that the access is a step";

/**
 * A cell that checks, in strict mode, every access that is not a step: thread
 * code may touch `cell.v` directly only (a) in the code run that made the
 * cell, before its thread takes another step (nobody else can see it yet),
 * (b) to read it while holding its guard lock, or (c) to read it when no
 * thread writes it after it was made (then reads of it commute with
 * everything). Anything else is shared state the explorer does not see, so
 * dependence, races and replays would be wrong.
 */
function guarded<T>(
  ex: Execution,
  id: number,
  name: string,
  v: T,
  show: ((v: T) => string) | undefined,
  guard: LockObj | null,
): Loc<T> {
  let value = v;
  const owner = ex.runningThread();
  const bornAt = owner === null ? -1 : owner.steps;
  let written = false;
  let plainReader: string | null = null;
  // Guarded: a thread that read it without a step holding the guard only for read, and one that wrote it so.
  let sharedReader: string | null = null;
  let sharedWriter: string | null = null;
  const fail = (msg: string): never => {
    throw new ModelError(`strict: ${msg}`);
  };
  const where = (t: TState) => (t.stack.length ? ` (in ${t.stack.join(" > ")})` : "");
  const c = { id, name, freed: null, show } as Loc<T>;
  Object.defineProperty(c, "v", {
    enumerable: true,
    get: () => {
      const t = ex.threadCodeRunning();
      if (t === null || (t === owner && t.steps === bornAt)) return value;
      if (guard !== null) {
        if (guard.holder === t.id) return value;
        if (!guard.readers.includes(t.id))
          fail(`thread ${t.name} read ${name} outside an op without holding ${guard.name}${where(t)}; ${ADVICE}`);
        // Held for read: exact only while no writer holds it just for read as well.
        if (sharedWriter !== null)
          fail(
            `thread ${t.name} read ${name} outside an op holding ${guard.name} for read, but thread ${sharedWriter} ` +
              `writes it holding ${guard.name} for read too${where(t)}; ${ADVICE}`,
          );
        sharedReader ??= t.name;
        return value;
      }
      if (written) fail(`thread ${t.name} read ${name} outside an op, and threads write it${where(t)}; ${ADVICE}`);
      plainReader ??= t.name;
      return value;
    },
    set: (x: T) => {
      const t = ex.threadCodeRunning();
      if (t !== null) {
        if (t !== owner || t.steps !== bornAt)
          fail(`thread ${t.name} wrote ${name} outside an op${where(t)}; ${ADVICE}`);
      } else {
        // The executor, applying an op of the thread that ran last (none yet: setup).
        const u = ex.steppingThread();
        if (u !== null && (u !== owner || u.steps !== bornAt)) {
          if (guard !== null && guard.holder !== u.id) {
            if (!guard.readers.includes(u.id))
              fail(
                `thread ${u.name} wrote ${name} without holding ${guard.name}, which its readers without a step rely on`,
              );
            if (sharedReader !== null)
              fail(
                `thread ${u.name} wrote ${name} holding ${guard.name} for read, while thread ${sharedReader} reads it ` +
                  `without a step holding ${guard.name} for read too`,
              );
            sharedWriter = u.name;
          }
          if (guard === null && plainReader !== null)
            fail(
              `thread ${plainReader} reads ${name} outside an op as if nothing wrote it, but thread ${u.name} writes it`,
            );
          written = true;
        }
      }
      value = x;
    },
  });
  return c;
}

/**
 * The cell named `key` in the current execution, made with value `v` on first
 * use by whoever gets there first; the same cell, with the same identity,
 * whichever thread that is (see Execution.keyed).
 */
export function keyedCell<T>(key: string, name: string, v: T, show?: (v: T) => string): Loc<T> {
  const ex = currentExecution();
  return ex.keyed(
    key,
    (id): Loc<T> => (ex.strict ? guarded(ex, id, name, v, show, null) : { id, name, v, freed: null, show }),
  );
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
