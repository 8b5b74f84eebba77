// Non-determinism is caught by every strategy, and named: the step, the
// thread, and what it did on the first run and on replay.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  cell,
  explore,
  type Loc,
  load,
  mulberry32,
  NotDeterministic,
  type Program,
  store,
} from "../src/explore/index.js";

/** Runs `f` with Math.random drawing from a seeded sequence, so that the test itself is deterministic. */
function withRandom<T>(seed: number, f: () => T): T {
  const real = Math.random;
  Math.random = mulberry32(seed);
  try {
    return f();
  } finally {
    Math.random = real;
  }
}

const MESSAGE =
  /coin is not deterministic: step \d+ of thread (A|B) did (load|store) \w+( \([^)]*\))? on the first run and (load|store) \w+( \([^)]*\))? on replay; keep all state in setup\(\) and use choose\(\) for nondeterminism/;

type W = { x: Loc<number>; y: Loc<number> };

/** Math.random decides which cell each thread touches, and what it stores. */
const coin: Program<W> = {
  name: "coin",
  setup: () => ({ x: cell("x", 0), y: cell("y", 0) }),
  threads: ["A", "B"].map((name) => ({
    name,
    run: function* (w: W) {
      yield load(Math.random() < 0.5 ? w.x : w.y);
      yield store(Math.random() < 0.5 ? w.x : w.y, Math.random() < 0.5 ? 1 : 2);
      yield load(w.x);
    },
  })),
};

test("Math.random in a thread is caught by dpor, dfs and bounded in every run, naming step, thread and both ops", () => {
  for (const strategy of ["dpor", "dfs", "bounded"] as const) {
    for (let seed = 1; seed <= 20; seed++) {
      assert.throws(
        () => withRandom(seed, () => explore(coin, strategy)),
        (e: unknown) => e instanceof NotDeterministic && MESSAGE.test(e.message),
        `${strategy}, seed ${seed}`,
      );
    }
  }
});

test("a random value stored (same ops, other values) is caught on replay", () => {
  const p: Program<W> = {
    name: "value",
    setup: () => ({ x: cell("x", 0), y: cell("y", 0) }),
    threads: [
      {
        name: "A",
        run: function* (w) {
          yield store(w.x, Math.random());
        },
      },
      {
        name: "B",
        run: function* (w) {
          yield load(w.x);
        },
      },
    ],
  };
  for (const strategy of ["dpor", "dfs"] as const)
    assert.throws(
      () => withRandom(3, () => explore(p, strategy)),
      (e: unknown) =>
        e instanceof NotDeterministic &&
        /value is not deterministic: step 0 of thread A did store x \(0\.\d+\) on the first run and store x \(0\.\d+\) on replay/.test(
          e.message,
        ),
      strategy,
    );
});

test("Math.random in setup is caught, naming setup, for every strategy", () => {
  // An initial value that only the invariant reads: no step's op or value differs. (A coin flip in
  // setup could agree with itself in every execution of a small exploration, and then changes nothing.)
  const p: Program<W> = {
    name: "seeded",
    setup: () => ({ x: cell("x", Math.random()), y: cell("y", 0) }),
    threads: [
      {
        name: "A",
        run: function* (w) {
          yield store(w.y, 1);
        },
      },
      {
        name: "B",
        run: function* (w) {
          yield load(w.y);
        },
      },
    ],
    invariants: [{ name: "x is below 1", check: (w) => (w.x.v < 1 ? null : "x is 1") }],
  };
  for (const strategy of ["dpor", "dfs", "bounded", "random", "pct"] as const)
    for (let seed = 1; seed <= 5; seed++)
      assert.throws(
        () => withRandom(seed, () => explore(p, strategy, { maxExecutions: 100 })),
        (e: unknown) =>
          e instanceof NotDeterministic &&
          /seeded is not deterministic: setup\(\) built 2 threads \(A, B\), 2 cells, values #\w+ on the first run and 2 threads \(A, B\), 2 cells, values #\w+ on replay/.test(
            e.message,
          ),
        `${strategy}, seed ${seed}`,
      );
});

test("random and pct counterexamples are replayed before they are shown: a model that does not replay alike is named", () => {
  // Thread A's Math.random decides whether it breaks the invariant; B is there to be scheduled.
  const p: Program<W> = {
    name: "flip",
    setup: () => ({ x: cell("x", 0), y: cell("y", 0) }),
    threads: [
      {
        name: "A",
        run: function* (w) {
          yield store(w.x, Math.random() < 0.5 ? 1 : 0);
          yield load(Math.random() < 0.5 ? w.x : w.y);
        },
      },
      {
        name: "B",
        run: function* (w) {
          yield load(w.y);
        },
      },
    ],
    invariants: [{ name: "x is 0", check: (w) => (w.x.v === 0 ? null : "x is 1") }],
  };
  for (const strategy of ["random", "pct"] as const) {
    let caught = 0;
    for (let seed = 1; seed <= 20; seed++) {
      try {
        withRandom(seed, () => explore(p, strategy, { seed }));
      } catch (e) {
        assert.ok(e instanceof NotDeterministic, String(e));
        assert.match(e.message, /flip is not deterministic: step \d of thread A did/);
        caught++;
      }
    }
    // Each replay draws anew: a counterexample replays alike only when all four draws agree.
    assert.ok(caught >= 12, `${strategy}: caught ${caught} of 20`);
  }
});
