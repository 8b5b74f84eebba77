// RCU (kernel/rcu/tree.c semantics, not its implementation): readers mark a
// per-thread cell odd inside rcu_read_lock()/rcu_read_unlock();
// synchronize_rcu() waits for every reader that was inside when it started.
// call_rcu() runs its callback in a new thread after a grace period.

import {
  awaitOp,
  cell,
  currentExecution,
  type Gen,
  type Loc,
  load,
  spawn,
  store,
  type Thread,
  threadId,
} from "../explore/index.js";

interface RcuState {
  /** Per thread: a sequence number, odd while inside a read-side section. */
  readonly readers: Map<number, Loc<number>>;
  /** Thread-local nesting depth (only the owning thread touches its entry). */
  readonly nesting: Map<number, number>;
}

const states = new WeakMap<object, RcuState>();

function rcu(): RcuState {
  const ex = currentExecution();
  let s = states.get(ex);
  if (!s) {
    s = { readers: new Map(), nesting: new Map() };
    states.set(ex, s);
  }
  return s;
}

function readerCell(s: RcuState, tid: number): Loc<number> {
  let c = s.readers.get(tid);
  if (!c) {
    c = cell(`rcu_reader[${tid}]`, 0, (v) => (v & 1 ? "in read-side section" : "quiescent"));
    s.readers.set(tid, c);
  }
  return c;
}

export function* rcu_read_lock(): Gen<void> {
  const s = rcu();
  const tid = threadId();
  const depth = s.nesting.get(tid) ?? 0;
  s.nesting.set(tid, depth + 1);
  if (depth === 0) {
    const c = readerCell(s, tid);
    yield store(c, c.v + 1);
  }
}

export function* rcu_read_unlock(): Gen<void> {
  const s = rcu();
  const tid = threadId();
  const depth = s.nesting.get(tid) ?? 0;
  if (depth === 0) throw new Error("rcu_read_unlock() without rcu_read_lock()");
  s.nesting.set(tid, depth - 1);
  if (depth === 1) {
    const c = readerCell(s, tid);
    yield store(c, c.v + 1);
  }
}

/** True while the running thread is inside a read-side section (rcu_read_lock_held). */
export function rcu_read_lock_held(): boolean {
  return (rcu().nesting.get(threadId()) ?? 0) > 0;
}

/** Waits until every read-side section that began before the call has ended. */
export function* synchronize_rcu(): Gen<void> {
  const s = rcu();
  const self = threadId();
  if ((s.nesting.get(self) ?? 0) > 0) throw new Error("synchronize_rcu() inside rcu_read_lock(): a self-deadlock");
  for (const [tid, c] of [...s.readers.entries()]) {
    if (tid === self) continue;
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
