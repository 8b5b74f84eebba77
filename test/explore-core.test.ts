import assert from "node:assert/strict";
import { test } from "node:test";
import { catalogue, checkVariant } from "../src/catalogue/index.js";
import {
  awaitOp,
  cell,
  choose,
  explore,
  free,
  type Loc,
  LockKind,
  type LockObj,
  load,
  lock,
  ModelError,
  newLock,
  type Program,
  replay,
  spawn,
  store,
  traced,
  unlock,
} from "../src/explore/index.js";

test("every catalogue counterexample replays from its schedule alone to the same violation", () => {
  let seen = 0;
  for (const s of catalogue) {
    for (const v of s.variants) {
      if (!v.expected?.startsWith("violation")) continue;
      const r = checkVariant(s, v);
      assert.ok(r.result.schedule, `${s.id}/${v.name} has a counterexample`);
      const rep = replay(v.program(), r.result.schedule!, false);
      assert.equal(rep.execution.violation?.kind, r.result.violation?.kind, `${s.id}/${v.name} replays`);
      seen++;
    }
  }
  assert.ok(seen >= 5);
});

test("a deadlock names both threads and both locks", () => {
  const s = catalogue.find((x) => x.id === "abba")!;
  const r = checkVariant(s, s.variants[0], { strategy: "dfs" });
  assert.equal(r.result.violation?.kind, "deadlock");
  const msg = r.result.violation!.message;
  for (const word of ["CPU0", "CPU1", "lock_a", "lock_b"]) assert.match(msg, new RegExp(word));
  const cycle = (r.result.violation!.detail as { cycle: { thread: string; holds: string[]; wants: string }[] }).cycle;
  assert.deepEqual(cycle.map((c) => [c.thread, c.holds.join(), c.wants]).sort(), [
    ["CPU0", "lock_a", "lock_b"],
    ["CPU1", "lock_b", "lock_a"],
  ]);
});

test("lockdep reports the inversion although no execution deadlocks", () => {
  const s = catalogue.find((x) => x.id === "lock-inversion")!;
  const v = s.variants[0];
  // Without lockdep the program is deadlock-free: every execution completes.
  const plain = explore({ ...v.program(), monitors: undefined }, "dfs");
  assert.equal(plain.verdict, "safe");
  assert.equal(plain.blocked, 0);
  const r = checkVariant(s, v, { strategy: "dfs" });
  assert.equal(r.result.violation?.kind, "lockdep");
  assert.match(r.result.violation!.message, /circular locking dependency/);
});

test("bounded finds the lost update with exactly one preemption", () => {
  const s = catalogue.find((x) => x.id === "lost-update")!;
  const r = checkVariant(s, s.variants.find((v) => v.name === "no-lock")!, { strategy: "bounded" });
  assert.equal(r.result.violation?.kind, "invariant");
  assert.equal(r.result.preemptions, 1);
  assert.equal(r.found, "violation:invariant");
});

test("bounded proves the locked counter safe, exhaustively", () => {
  const s = catalogue.find((x) => x.id === "lost-update")!;
  const r = checkVariant(s, s.variants.find((v) => v.name === "spinlock")!, { strategy: "bounded" });
  assert.equal(r.found, "safe");
  assert.equal(r.result.complete, true);
});

test("a non-deterministic program is reported, naming the diverging step", () => {
  let calls = 0;
  const p: Program<{ x: Loc<number>; y: Loc<number> }> = {
    name: "flaky",
    setup: () => ({ x: cell("x", 0), y: cell("y", 0) }),
    threads: [
      {
        name: "A",
        run: function* (w) {
          // State kept across executions: the second execution does something else.
          calls++;
          yield load(calls === 1 ? w.x : w.y);
          yield store(w.x, 1);
        },
      },
      {
        name: "B",
        run: function* (w) {
          yield store(w.x, 2);
        },
      },
    ],
  };
  assert.throws(
    () => explore(p, "dfs"),
    (e: unknown) =>
      e instanceof ModelError &&
      /flaky is not deterministic: step 0 of thread A did load x \(0\) on the first run and load y on replay; keep all state in setup\(\) and use choose\(\) for nondeterminism/.test(
        e.message,
      ),
  );
});

/** A reader that dereferences the pointer it loads: null until the writer publishes it. */
function nullDeref(): Program<{ p: Loc<{ v: number } | null> }> {
  const deref = traced("deref_ptr", function* (w: { p: Loc<{ v: number } | null> }) {
    const ptr = (yield load(w.p)) as { v: number } | null;
    return (ptr as { v: number }).v;
  });
  const reader = traced("reader_fn", function* (w: { p: Loc<{ v: number } | null> }) {
    return yield* deref(w);
  });
  return {
    name: "null-deref",
    setup: () => ({ p: cell<{ v: number } | null>("p", null) }),
    threads: [
      {
        name: "writer",
        run: function* (w) {
          yield store(w.p, { v: 1 });
        },
      },
      {
        name: "reader",
        run: function* (w) {
          yield* reader(w);
        },
      },
    ],
  };
}

test("a thread that throws in one interleaving oopses: the message, the kernel call stack and a replayable schedule", () => {
  for (const strategy of ["dfs", "dpor", "bounded"]) {
    const r = explore(nullDeref(), strategy);
    assert.equal(r.violation?.kind, "oops", strategy);
    assert.match(r.violation?.message ?? "", /^reader: TypeError: Cannot read properties of null/);
    assert.deepEqual((r.violation?.detail as { stack?: string[] } | undefined)?.stack, ["deref_ptr", "reader_fn"]);
    const rep = replay(nullDeref(), r.schedule ?? []);
    assert.equal(rep.end, "violation");
    assert.equal(rep.execution.violation?.kind, "oops");
    // The reader ran first, before the writer published the pointer.
    assert.deepEqual(
      rep.trace.map((st) => st.tid),
      [1],
    );
  }
});

test("a throw before any step is bad input; a spawned thread's, after steps, is an oops", () => {
  const early: Program<{ x: Loc<number> }> = {
    name: "early",
    setup: () => ({ x: cell("x", 0) }),
    threads: [
      {
        name: "broken",
        // biome-ignore lint/correctness/useYield: it throws before its first yield, which is the point.
        run: function* () {
          throw new TypeError("boom");
        },
      },
    ],
  };
  assert.throws(
    () => explore(early, "dfs"),
    (e: unknown) => e instanceof ModelError && /thread broken threw before its first step: boom/.test(e.message),
  );
  const spawned: Program<{ x: Loc<number> }> = {
    name: "spawned",
    setup: () => ({ x: cell("x", 0) }),
    threads: [
      {
        name: "parent",
        run: function* (w) {
          yield load(w.x);
          // biome-ignore lint/correctness/useYield: it throws before its first yield.
          yield spawn("child", function* () {
            throw new RangeError("bad index");
          });
        },
      },
    ],
  };
  const r = explore(spawned, "dfs");
  assert.equal(r.violation?.kind, "oops");
  assert.equal(r.violation?.message, "child: RangeError: bad index");
});

test("keepGoing: an oopsed thread keeps its lock, the others run on, and a stall behind it is not a second finding", () => {
  const p: Program<{ x: Loc<number>; l: ReturnType<typeof newLock> }> = {
    name: "dies-holding",
    setup: () => ({ x: cell("x", 0), l: newLock("L", LockKind.Mutex) }),
    threads: [
      {
        name: "A",
        run: function* (w) {
          yield lock(w.l);
          if ((yield load(w.x)) === 0) throw new TypeError("null");
          yield unlock(w.l);
        },
      },
      {
        name: "B",
        run: function* (w) {
          yield store(w.x, 1);
          yield lock(w.l);
          yield unlock(w.l);
        },
      },
    ],
  };
  for (const strategy of ["dfs", "dpor"]) {
    const ends: string[] = [];
    const r = explore(p, strategy, {
      keepGoing: true,
      onExecution: (ex, end) => ends.push(`${end}:${ex.violations.map((v) => v.kind).join(",")}`),
    });
    // A oopses when it reads x before B stores it; B then blocks on the lock A died holding.
    assert.ok(ends.includes("blocked:oops"), `${strategy}: ${ends.join(" ")}`);
    assert.ok(ends.includes("complete:"), `${strategy}: ${ends.join(" ")}`);
    assert.deepEqual(
      r.violations?.map((v) => v.kind),
      ["oops"],
      strategy,
    );
    assert.equal(r.violations?.[0].executions, ends.filter((e) => e.endsWith("oops")).length);
  }
});

test("a spin without await on a cell nobody writes passes the step bound and is reported as a deadlock", () => {
  const p: Program<{ flag: Loc<boolean> }> = {
    name: "spinner",
    maxSteps: 50,
    setup: () => ({ flag: cell("flag", false) }),
    threads: [
      {
        name: "spinner",
        run: function* (w) {
          while (!(yield load(w.flag))) {
            /* spin */
          }
        },
      },
    ],
  };
  const r = explore(p, "dfs");
  // Nothing else can run, so nothing will change what it reads (test/liveness.test.ts has the fair and unfair cases).
  assert.equal(r.violation?.kind, "deadlock");
  assert.match(r.violation!.message, /spinner holds \[\] and waits for load flag \(retrying/);
});

test("await blocks until its condition holds; a condition that never holds is a stuck execution", () => {
  const p = (setter: boolean): Program<{ flag: Loc<boolean> }> => ({
    name: "await",
    setup: () => ({ flag: cell("flag", false) }),
    threads: [
      {
        name: "waiter",
        run: function* (w) {
          yield awaitOp(w.flag, (v: boolean) => v, "flag set");
        },
      },
      ...(setter
        ? [
            {
              name: "setter",
              run: function* (w: { flag: Loc<boolean> }) {
                yield store(w.flag, true);
              },
            },
          ]
        : []),
    ],
  });
  const ok = explore(p(true), "dfs");
  assert.equal(ok.verdict, "safe");
  assert.equal(ok.executions, 1, "the await cannot run before the store");
  const stuck = explore(p(false), "dfs");
  assert.equal(stuck.violation?.kind, "deadlock");
  assert.match(stuck.violation!.message, /waiter holds \[\] and waits for await flag set/);
});

test("choose explores every alternative", () => {
  const seen = new Set<number>();
  const p: Program<{ x: Loc<number> }> = {
    name: "choice",
    setup: () => ({ x: cell("x", 0) }),
    threads: [
      {
        name: "T",
        run: function* (w) {
          const c = (yield choose(3, "alloc")) as number;
          seen.add(c);
          yield store(w.x, c);
        },
      },
    ],
  };
  const r = explore(p, "dfs");
  assert.equal(r.executions, 3);
  assert.deepEqual([...seen].sort(), [0, 1, 2]);
});

test("traced functions appear on the recorded call stack, innermost first", () => {
  const inner = traced("move_ptes", function* (x: Loc<number>) {
    yield store(x, 1);
  });
  const outer = traced("move_page_tables", function* (x: Loc<number>) {
    yield* inner(x);
  });
  const p: Program<{ x: Loc<number> }> = {
    name: "stack",
    setup: () => ({ x: cell("x", 0) }),
    threads: [
      {
        name: "mremap",
        run: function* (w) {
          yield* outer(w.x);
        },
      },
    ],
  };
  const rep = replay(p, [0], true);
  assert.deepEqual(rep.trace[0].stack, ["move_ptes", "move_page_tables"]);
});

test("releasing a lock one does not hold, and exiting with a lock held, are lockdep reports", () => {
  const p = (bad: "release" | "exit"): Program<{ l: ReturnType<typeof newLock> }> => ({
    name: "bad-unlock",
    setup: () => ({ l: newLock("l", LockKind.Spin) }),
    threads: [
      {
        name: "T",
        run: function* (w) {
          if (bad === "release") yield unlock(w.l);
          else yield lock(w.l);
        },
      },
    ],
  });
  assert.match(explore(p("release"), "dfs").violation!.message, /releases l, which it does not hold/);
  assert.match(explore(p("exit"), "dfs").violation!.message, /exited holding l/);
});

test("random finds the lost update and is reproducible from its seed", () => {
  const s = catalogue.find((x) => x.id === "lost-update")!;
  const v = s.variants.find((x) => x.name === "no-lock")!;
  const a = checkVariant(s, v, { strategy: "random", seed: 7 });
  const b = checkVariant(s, v, { strategy: "random", seed: 7 });
  assert.equal(a.found, "violation:invariant");
  assert.deepEqual(a.result.schedule, b.result.schedule);
  assert.equal(a.result.complete, false, "random never claims completeness");
});

test("a daemon may run forever: past its bound the execution is cut and the exploration is incomplete", () => {
  const p: Program<{ x: Loc<number> }> = {
    name: "daemon",
    maxSteps: 5,
    setup: () => ({ x: cell("x", 0) }),
    threads: [
      {
        name: "worker",
        run: function* (w) {
          yield store(w.x, 1);
        },
      },
      {
        name: "kthread",
        daemon: true,
        run: function* (w) {
          for (;;) yield load(w.x);
        },
      },
    ],
  };
  const r = explore(p, "dfs");
  assert.equal(r.verdict, "safe");
  assert.equal(r.complete, false);
  assert.ok((r.cut ?? 0) > 0);
  assert.ok(r.executions > 0, "executions where the worker finished first are complete");
});

test("the default strategy is dpor, also for a program with an invariant checked after every step", () => {
  const p = (always: boolean): Program<{ x: Loc<number> }> => ({
    name: "default",
    setup: () => ({ x: cell("x", 0) }),
    threads: [
      {
        name: "A",
        run: function* (w) {
          yield store(w.x, 1);
          yield store(w.x, 0);
        },
      },
      {
        name: "B",
        run: function* (w) {
          yield load(w.x);
        },
      },
    ],
    invariants: [{ name: "x is never 1 while B runs", always, check: (w) => (w.x.v === 1 ? "x is 1" : null) }],
  });
  const end = explore(p(false));
  assert.equal(end.strategy, "dpor");
  assert.equal(end.verdict, "safe", "x is 0 at the end of every execution");
  const step = explore(p(true));
  assert.equal(step.strategy, "dpor");
  assert.equal(step.verdict, "violation", "an intermediate state has x = 1");
});

test("kfree of an object whose lock a thread holds is a lockdep violation (debug_check_no_locks_freed)", () => {
  interface W {
    l: LockObj;
    f: Loc<number>;
  }
  const p: Program<W> = {
    name: "free-held-lock",
    setup: () => ({ l: newLock("obj.lock", LockKind.Spin), f: cell("obj.f", 0) }),
    threads: [
      {
        name: "holder",
        run: function* (w) {
          yield lock(w.l);
          yield store(w.f, 1);
          yield unlock(w.l);
        },
      },
      {
        name: "freer",
        run: function* (w) {
          yield free([w.f as Loc, w.l as unknown as Loc], "kfree(obj)");
        },
      },
    ],
  };
  const r = explore(p, "dpor", { keepGoing: true, minimizeBudget: 0 });
  const kinds = (r.violations ?? []).map((v) => `${v.kind}: ${v.message}`);
  assert.ok(kinds.includes("lockdep: freer: kfree(obj) frees obj.lock, held by holder"), kinds.join("\n"));
  // Freed before the holder takes it, the lock op is a use after free instead.
  assert.ok(
    kinds.some((k) => k.startsWith("use-after-free: holder: lock of obj.lock")),
    kinds.join("\n"),
  );
});
