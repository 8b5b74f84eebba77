import assert from "node:assert/strict";
import { test } from "node:test";
import { findScenario, findVariant } from "../src/catalogue/index.js";
import { cell, explore, type Loc, type Program, runInSetup } from "../src/explore/index.js";
import {
  atomic_dec,
  atomic_inc,
  down_read,
  down_write,
  downgrade_write,
  init_rwsem,
  kmem_cache_alloc,
  kmem_cache_create,
  kmem_cache_free,
  lockdep,
  READ_ONCE,
  REFCOUNT_INIT,
  read_seqcount_begin,
  read_seqcount_retry,
  refcount_dec_and_test,
  refcount_inc,
  refcount_inc_not_zero,
  type rw_semaphore,
  SLAB_TYPESAFE_BY_RCU,
  seqcount_init,
  spin_lock,
  spin_lock_init,
  spin_lock_nested,
  spin_unlock,
  up_read,
  up_write,
  WRITE_ONCE,
  write_seqcount_begin,
  write_seqcount_end,
} from "../src/kernel/index.js";

const run = <W>(p: Program<W>) => explore(p, "dfs");

test("refcount_inc on zero is a refcount violation; inc_not_zero refuses it", () => {
  const p = (notZero: boolean): Program<{ r: Loc<number> }> => ({
    name: "ref",
    setup: () => ({ r: REFCOUNT_INIT("r", 1) }),
    threads: [
      {
        name: "put",
        run: function* (w) {
          yield* refcount_dec_and_test(w.r);
        },
      },
      {
        name: "get",
        run: function* (w) {
          if (notZero) yield* refcount_inc_not_zero(w.r);
          else yield* refcount_inc(w.r);
        },
      },
    ],
  });
  const bad = run(p(false));
  assert.equal(bad.violation?.kind, "refcount");
  assert.match(bad.violation!.message, /addition on 0/);
  assert.equal(run(p(true)).verdict, "safe");
});

test("rw_semaphore: readers share, a writer excludes, downgrade keeps it held for read", () => {
  interface W {
    sem: rw_semaphore;
    inside: Loc<number>;
  }
  const reader = function* (w: W) {
    yield* down_read(w.sem);
    yield* atomic_inc(w.inside);
    yield* atomic_dec(w.inside);
    yield* up_read(w.sem);
  };
  let sawTwoReaders = false;
  const p: Program<W> = {
    name: "rwsem",
    setup: () => ({ sem: init_rwsem("sem"), inside: cell("inside", 0) }),
    threads: [
      { name: "r1", run: reader },
      { name: "r2", run: reader },
      {
        name: "w",
        run: function* (w) {
          yield* down_write(w.sem);
          const n = yield* READ_ONCE(w.inside);
          if (n !== 0) throw new Error("writer saw a reader inside");
          yield* downgrade_write(w.sem);
          yield* up_read(w.sem);
        },
      },
    ],
    invariants: [
      {
        name: "readers overlap",
        always: true,
        check: (w) => {
          if (w.sem.readers.length === 2) sawTwoReaders = true;
          return null;
        },
      },
    ],
  };
  assert.equal(run(p).verdict, "safe");
  assert.ok(sawTwoReaders, "two readers were inside at once in some execution");
});

test("seqcount readers retry when a writer ran in between", () => {
  interface W {
    seq: Loc<number>;
    a: Loc<number>;
    b: Loc<number>;
  }
  const p: Program<W> = {
    name: "seq",
    setup: () => ({ seq: seqcount_init("seq"), a: cell("a", 0), b: cell("b", 0) }),
    threads: [
      {
        name: "writer",
        run: function* (w) {
          yield* write_seqcount_begin(w.seq);
          yield* WRITE_ONCE(w.a, 1);
          yield* WRITE_ONCE(w.b, 1);
          yield* write_seqcount_end(w.seq);
        },
      },
      {
        name: "reader",
        run: function* (w) {
          for (;;) {
            const s = yield* read_seqcount_begin(w.seq);
            const a = yield* READ_ONCE(w.a);
            const b = yield* READ_ONCE(w.b);
            if (!(yield* read_seqcount_retry(w.seq, s))) {
              if (a !== b) throw new Error(`torn read ${a} ${b}`);
              return;
            }
          }
        },
      },
    ],
  };
  assert.equal(run(p).verdict, "safe");
});

test("synchronize_rcu waits for a reader that was inside; without it the reader can touch freed memory", () => {
  const rcu = findScenario("rcu-free");
  const variant = (name: string) => findVariant(rcu, name).program();
  const waited = run(variant("synchronize_rcu"));
  assert.equal(waited.verdict, "safe");
  assert.ok(waited.executions > 3, "the reader and the updater interleave");
  assert.equal(run(variant("call_rcu")).verdict, "safe");
  assert.equal(run(variant("kfree")).violation?.kind, "use-after-free");
});

test("kmem_cache_free makes later accesses use-after-free; a typesafe cache hands the object back out", () => {
  interface Obj {
    val: Loc<number>;
  }
  const p = (
    flags: number,
  ): Program<{ obj: Obj; cache: ReturnType<typeof kmem_cache_create<Obj>>; again: Loc<Obj | null> }> => ({
    name: "slab",
    setup: () => {
      const cache = kmem_cache_create<Obj>("obj_cache", flags, (id) => ({ val: cell(`obj${id}.val`, 0) }));
      return { cache, obj: runInSetup(kmem_cache_alloc(cache)), again: cell<Obj | null>("again", null) };
    },
    threads: [
      {
        name: "T",
        run: function* (w) {
          yield* kmem_cache_free(w.cache, w.obj);
          const o = yield* kmem_cache_alloc(w.cache);
          yield* WRITE_ONCE(w.again, o);
          yield* READ_ONCE(w.obj.val);
        },
      },
    ],
    invariants: [
      { name: "reuse", check: (w) => (flags && w.again.v !== w.obj ? "typesafe cache did not reuse" : null) },
    ],
  });
  assert.equal(run(p(0)).violation?.kind, "use-after-free");
  assert.equal(run(p(SLAB_TYPESAFE_BY_RCU)).verdict, "safe");
});

test("lockdep: same-class nesting needs a subclass; spin_lock_nested is accepted", () => {
  const p = (
    nested: boolean,
  ): Program<{ a: ReturnType<typeof spin_lock_init>; b: ReturnType<typeof spin_lock_init> }> => ({
    name: "nest",
    setup: () => ({ a: spin_lock_init("av1.lock", "anon_vma->lock"), b: spin_lock_init("av2.lock", "anon_vma->lock") }),
    threads: [
      {
        name: "T",
        run: function* (w) {
          yield* spin_lock(w.a);
          if (nested) yield* spin_lock_nested(w.b, 1);
          else yield* spin_lock(w.b);
          yield* spin_unlock(w.b);
          yield* spin_unlock(w.a);
        },
      },
    ],
    monitors: () => [lockdep()],
  });
  const bad = run(p(false));
  assert.equal(bad.violation?.kind, "lockdep");
  assert.match(bad.violation!.message, /recursive locking/);
  assert.equal(run(p(true)).verdict, "safe");
});

test("up_write by a thread that holds the rwsem only for read is reported", () => {
  const p: Program<{ sem: rw_semaphore }> = {
    name: "bad-up",
    setup: () => ({ sem: init_rwsem("sem") }),
    threads: [
      {
        name: "T",
        run: function* (w) {
          yield* down_read(w.sem);
          yield* up_write(w.sem);
        },
      },
    ],
  };
  assert.equal(run(p).violation?.kind, "lockdep");
});
