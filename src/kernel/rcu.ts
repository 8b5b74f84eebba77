// RCU (kernel/rcu/tree.c semantics, not its implementation): readers mark a
// per-thread cell odd inside rcu_read_lock()/rcu_read_unlock();
// synchronize_rcu() waits for every reader that was inside when it started.
// call_rcu() runs its callback in a new thread after a grace period.

import {
  awaitOp,
  currentExecution,
  type Gen,
  keyedCell,
  type Loc,
  load,
  spawn,
  store,
  THREAD_TABLE,
  type Thread,
  threadId,
  threadIds,
} from "../explore/index.js";

/** Thread-local state, by execution and thread (only the owning thread touches its entry). */
const nestings = new WeakMap<object, Map<number, number>>();
const sequences = new WeakMap<object, Map<number, number>>();

function local(of: WeakMap<object, Map<number, number>>): Map<number, number> {
  const ex = currentExecution();
  let m = of.get(ex);
  if (!m) {
    m = new Map();
    of.set(ex, m);
  }
  return m;
}

/** Read-side nesting depth of each thread. */
const nesting = () => local(nestings);
/** The last value each thread stored in its reader count (its own: no other thread writes it). */
const seqs = () => local(sequences);

/**
 * A thread's reader count: a sequence number, odd inside a read-side section.
 * Keyed by thread, so the reader and synchronize_rcu name the same cell
 * whichever of them makes it first.
 */
function readerCell(tid: number): Loc<number> {
  return keyedCell(`rcu_reader[${tid}]`, `rcu_reader[${tid}]`, 0, (v) =>
    v & 1 ? "in read-side section" : "quiescent",
  );
}

export function* rcu_read_lock(): Gen<void> {
  const n = nesting();
  const tid = threadId();
  const depth = n.get(tid) ?? 0;
  n.set(tid, depth + 1);
  if (depth === 0) {
    // Only this thread writes its count: it keeps the next value itself (the kernel's per-CPU state).
    const seq = (seqs().get(tid) ?? 0) + 1;
    seqs().set(tid, seq);
    yield store(readerCell(tid), seq);
  }
}

export function* rcu_read_unlock(): Gen<void> {
  const n = nesting();
  const tid = threadId();
  const depth = n.get(tid) ?? 0;
  if (depth === 0) throw new Error("rcu_read_unlock() without rcu_read_lock()");
  n.set(tid, depth - 1);
  if (depth === 1) {
    const seq = (seqs().get(tid) ?? 0) + 1;
    seqs().set(tid, seq);
    yield store(readerCell(tid), seq);
  }
}

/** True while the running thread is inside a read-side section (rcu_read_lock_held). */
export function rcu_read_lock_held(): boolean {
  return (nesting().get(threadId()) ?? 0) > 0;
}

/** Waits until every read-side section that began before the call has ended. */
export function* synchronize_rcu(): Gen<void> {
  const self = threadId();
  if ((nesting().get(self) ?? 0) > 0) throw new Error("synchronize_rcu() inside rcu_read_lock(): a self-deadlock");
  // Every thread's count is read, in a step each: a thread spawned after this
  // load of the thread table starts its sections after the grace period did.
  yield load(THREAD_TABLE);
  for (const tid of threadIds()) {
    if (tid === self) continue;
    const c = readerCell(tid);
    const seq = (yield load(c)) as number;
    if (seq & 1) yield awaitOp(c, (v: number) => v !== seq, `grace period (reader ${tid})`);
  }
}

/** call_rcu: runs `cb` after a grace period, in a thread of its own. */
export function* call_rcu(name: string, cb: () => Thread): Gen<number> {
  return (yield spawn(name, function* () {
    yield* synchronize_rcu();
    yield* cb();
  })) as number;
}
