// The trace counts of benchmarks/dpor-counts.md, GenMC style: one row per
// program and size. dpor must explore exactly one complete execution per
// Mazurkiewicz trace (and never be sleep-set blocked); dfs every interleaving.
// The biggest sizes are left to the benchmark (npm run bench).

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { benchmarkPrograms } from "../src/explore/benchmarks.js";
import { cell, explore, load, type Program, store, type Thread } from "../src/explore/index.js";

interface Row {
  readonly program: string;
  readonly param: number;
  readonly executions: number;
  /** Deadlocked executions (classes, for dpor). */
  readonly blocked?: number;
}

const rows = (program: string, from: number, counts: number[], blocked?: number[]): Row[] =>
  counts.map((executions, i) => ({ program, param: from + i, executions, blocked: blocked?.[i] ?? 0 }));

const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));

// One execution per trace (benchmarks/dpor-counts.md, "optimal").
const optimal: Row[] = [
  ...rows("readers", 1, [2, 4, 8, 16, 32]),
  ...rows("lastzero", 1, [2, 5, 12, 28, 64, 144, 320, 704]),
  ...rows("fib_bench", 1, [11, 140, 1698]),
  { program: "indexer", param: 11, executions: 1 },
  { program: "indexer", param: 12, executions: 8 },
  { program: "filesystem", param: 13, executions: 1 },
  { program: "filesystem", param: 14, executions: 2 },
  ...rows("account", 1, [4, 36, 576]),
  ...rows("casrot", 2, [2, 5, 14, 43, 144]),
  ...rows("wcas", 2, [5, 13, 33, 81]),
  ...rows("casw", 2, [6, 66]),
  ...rows("philosophers", 2, [2, 6, 14], [1, 1, 1]),
];

// Every interleaving ("plain DFS, no reduction").
const plain: Row[] = [
  ...rows("readers", 1, [2, 6, 24, 120, 720]),
  ...rows("lastzero", 1, [3, 35, 920, 44300]),
  ...rows("fib_bench", 1, [560, 84084]),
  ...rows("account", 1, [6, 90, 2520]),
  ...rows(
    "casrot",
    2,
    [2, 3, 4, 5, 6].map((n) => fact(n)),
  ),
  ...rows(
    "wcas",
    2,
    [2, 3, 4, 5].map((n) => fact(n + 1)),
  ),
  ...rows("philosophers", 2, [4, 162], [2, 6]),
];

describe("dpor explores one execution per trace", () => {
  for (const row of optimal) {
    test(`${row.program}(${row.param}) = ${row.executions}`, () => {
      const r = explore(benchmarkPrograms[row.program](row.param), "dpor", { keepGoing: true });
      assert.equal(r.executions, row.executions, "complete executions");
      assert.equal(r.blocked, row.blocked ?? 0, "deadlocked executions");
      assert.equal(r.sleepBlocked, 0, "sleep-set blocked executions");
      assert.equal(r.complete, true);
    });
  }
});

describe("dfs explores every interleaving", () => {
  for (const row of plain) {
    test(`${row.program}(${row.param}) = ${row.executions}`, () => {
      const r = explore(benchmarkPrograms[row.program](row.param), "dfs", { keepGoing: true });
      assert.equal(r.executions, row.executions, "complete executions");
      assert.equal(r.blocked, row.blocked ?? 0, "deadlocked executions");
    });
  }
});

function independent(n: number, m: number): Program<{ a: ReturnType<typeof cell<number>>[] }> {
  const chain = (i: number, steps: number) =>
    function* (w: { a: ReturnType<typeof cell<number>>[] }): Thread {
      for (let k = 0; k < steps; k++) yield store(w.a[i], (yield load(w.a[i])) + 1);
    };
  return {
    name: `independent(${n},${m})`,
    setup: () => ({ a: [cell("a", 0), cell("b", 0)] }),
    threads: [
      { name: "A", run: chain(0, n) },
      { name: "B", run: chain(1, m) },
    ],
  };
}

const binomial = (n: number, k: number): number => {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
};

test("dfs visits C(n+m, n) interleavings of two independent threads; dpor one", () => {
  for (const [n, m] of [
    [1, 1],
    [2, 3],
    [4, 4],
    [5, 2],
  ]) {
    // Each round is a load and a store: 2n and 2m steps.
    const d = explore(independent(n, m), "dfs");
    assert.equal(d.executions, binomial(2 * n + 2 * m, 2 * n), `dfs, ${n} and ${m} rounds`);
    const o = explore(independent(n, m), "dpor");
    assert.equal(o.executions, 1, `dpor, ${n} and ${m} rounds`);
    assert.equal(o.sleepBlocked, 0);
  }
});
