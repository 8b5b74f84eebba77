// Textbook races: the explorer's own smoke tests, written with the kernel
// primitives. Each one explores exhaustively in milliseconds.

import { awaitOp, cell, type Loc, type Program } from "../explore/index.js";
import {
  call_rcu,
  kfree,
  lockdep,
  READ_ONCE,
  REFCOUNT_INIT,
  rcu_read_lock,
  rcu_read_unlock,
  refcount_dec_and_test,
  type refcount_t,
  spin_lock,
  spin_lock_init,
  spin_unlock,
  type spinlock_t,
  synchronize_rcu,
  WRITE_ONCE,
} from "../kernel/index.js";
import type { Scenario } from "./types.js";

interface Counter {
  counter: Loc<number>;
  lock: spinlock_t;
}

function lostUpdate(locked: boolean): Program<Counter> {
  function* inc(w: Counter) {
    if (locked) yield* spin_lock(w.lock);
    const v = yield* READ_ONCE(w.counter);
    yield* WRITE_ONCE(w.counter, v + 1);
    if (locked) yield* spin_unlock(w.lock);
  }
  return {
    name: `lost-update/${locked ? "spinlock" : "no-lock"}`,
    setup: () => ({ counter: cell("counter", 0), lock: spin_lock_init("counter_lock") }),
    threads: [
      { name: "CPU0", run: inc },
      { name: "CPU1", run: inc },
    ],
    invariants: [
      {
        name: "both increments land",
        check: (w) => (w.counter.v !== 2 ? `counter is ${w.counter.v} after two increments: an update was lost` : null),
      },
    ],
    describe: (w) => ({ counter: w.counter.v, lock: w.lock.holder === -1 ? "free" : `held by ${w.lock.holder}` }),
  };
}

interface TwoLocks {
  a: spinlock_t;
  b: spinlock_t;
  /** lock-inversion: set when CPU0 is done, so the two orders never overlap. */
  done: Loc<boolean>;
}

/** CPU0 takes a then b, CPU1 b then a; `serialised` makes CPU1 wait until CPU0 finished. */
function twoLockOrders(serialised: boolean): Program<TwoLocks> {
  return {
    name: serialised ? "lock-inversion" : "abba",
    setup: () => ({ a: spin_lock_init("lock_a"), b: spin_lock_init("lock_b"), done: cell("cpu0_done", false) }),
    threads: [
      {
        name: "CPU0",
        run: function* (w) {
          yield* spin_lock(w.a);
          yield* spin_lock(w.b);
          yield* spin_unlock(w.b);
          yield* spin_unlock(w.a);
          if (serialised) yield* WRITE_ONCE(w.done, true);
        },
      },
      {
        name: "CPU1",
        run: function* (w) {
          if (serialised) yield awaitOp(w.done, (d: boolean) => d, "CPU0 done");
          yield* spin_lock(w.b);
          yield* spin_lock(w.a);
          yield* spin_unlock(w.a);
          yield* spin_unlock(w.b);
        },
      },
    ],
    monitors: serialised ? () => [lockdep()] : undefined,
  };
}

interface Obj {
  data: Loc<number>;
}

interface ListedObj {
  ref: refcount_t;
  on_list: Loc<boolean>;
}

/**
 * The list holds one reference. Two threads each unlink the object and drop
 * the list's reference, checking on_list without a lock: both can see it set.
 */
function refcountUnderflow(): Program<ListedObj> {
  function* unlinkAndPut(w: ListedObj) {
    if (yield* READ_ONCE(w.on_list)) {
      yield* WRITE_ONCE(w.on_list, false);
      yield* refcount_dec_and_test(w.ref);
    }
  }
  return {
    name: "refcount-underflow",
    setup: () => ({ ref: REFCOUNT_INIT("obj.refcount", 1), on_list: cell("obj.on_list", true) }),
    threads: [
      { name: "CPU0", run: unlinkAndPut },
      { name: "CPU1", run: unlinkAndPut },
    ],
  };
}

interface RcuWorld {
  gp: Loc<Obj | null>;
  obj: Obj;
}

/** A reader dereferences under rcu_read_lock while an updater unpublishes and frees. */
function rcuFree(wait: "kfree" | "synchronize_rcu" | "call_rcu"): Program<RcuWorld> {
  return {
    name: `rcu-free/${wait}`,
    setup: () => {
      const obj = { data: cell("obj.data", 42) };
      return { obj, gp: cell<Obj | null>("gp", obj, (o) => (o ? "obj" : "NULL")) };
    },
    threads: [
      {
        name: "reader",
        run: function* (w) {
          yield* rcu_read_lock();
          const p = yield* READ_ONCE(w.gp);
          if (p) yield* READ_ONCE(p.data);
          yield* rcu_read_unlock();
        },
      },
      {
        name: "updater",
        run: function* (w) {
          yield* WRITE_ONCE(w.gp, null);
          if (wait === "call_rcu") {
            yield* call_rcu("rcu_callback", () => kfree(w.obj, "kfree(obj) from call_rcu"));
            return;
          }
          if (wait === "synchronize_rcu") yield* synchronize_rcu();
          yield* kfree(w.obj, "kfree(obj)");
        },
      },
    ],
  };
}

export const textbook: readonly Scenario[] = [
  {
    id: "lost-update",
    title: "counter++ in two threads",
    source: "textbook",
    description:
      "Two CPUs increment a shared counter with a READ_ONCE / WRITE_ONCE pair. Without the lock both can read 0.",
    variants: [
      {
        name: "no-lock",
        source: "textbook",
        expected: "violation:invariant",
        expectedFrom: "history",
        summary: "No lock around the read-modify-write.",
        program: () => lostUpdate(false),
      },
      {
        name: "spinlock",
        source: "textbook",
        expected: "safe",
        expectedFrom: "history",
        summary: "spin_lock around the read-modify-write.",
        program: () => lostUpdate(true),
      },
    ],
  },
  {
    id: "abba",
    title: "two locks taken in opposite orders",
    source: "textbook",
    description:
      "CPU0 takes lock_a then lock_b; CPU1 takes lock_b then lock_a. Each can hold one and spin on the other.",
    variants: [
      {
        name: "abba",
        source: "textbook",
        expected: "violation:deadlock",
        expectedFrom: "history",
        summary: "The classic ABBA deadlock.",
        program: () => twoLockOrders(false),
      },
    ],
  },
  {
    id: "lock-inversion",
    title: "the two orders of abba, never at the same time",
    source: "textbook",
    description:
      "As abba, but CPU1 starts only after CPU0 finished, so no execution deadlocks. lockdep still reports the inversion, from the lock-class order graph it keeps across executions.",
    variants: [
      {
        name: "lockdep",
        source: "kernel/locking/lockdep.c",
        expected: "violation:lockdep",
        expectedFrom: "history",
        summary: "lockdep watches every execution.",
        program: () => twoLockOrders(true),
      },
    ],
  },
  {
    id: "refcount-underflow",
    title: "one reference, two puts",
    source: "textbook",
    description:
      "The list holds the object's one reference. Two threads unlink it and drop that reference, testing on_list without a lock: both see it set and both put, so the count underflows.",
    variants: [
      {
        name: "unlocked-unlink",
        source: "textbook",
        expected: "violation:refcount",
        expectedFrom: "history",
        summary: "refcount_t reports the underflow.",
        program: refcountUnderflow,
      },
    ],
  },
  {
    id: "rcu-free",
    title: "freeing an RCU-protected object",
    source: "Documentation/RCU/whatisRCU.rst",
    description:
      "A reader dereferences gp under rcu_read_lock(); the updater clears gp and frees the object. Without a grace period the reader can touch freed memory.",
    variants: [
      {
        name: "kfree",
        source: "textbook",
        expected: "violation:use-after-free",
        expectedFrom: "history",
        summary: "kfree right after unpublishing.",
        program: () => rcuFree("kfree"),
      },
      {
        name: "synchronize_rcu",
        source: "textbook",
        expected: "safe",
        expectedFrom: "history",
        summary: "synchronize_rcu() between unpublishing and kfree.",
        program: () => rcuFree("synchronize_rcu"),
      },
      {
        name: "call_rcu",
        source: "textbook",
        expected: "safe",
        expectedFrom: "history",
        summary: "kfree from a call_rcu() callback.",
        program: () => rcuFree("call_rcu"),
      },
    ],
  },
];
