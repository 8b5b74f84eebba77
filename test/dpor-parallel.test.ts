// Parallel and sharded exploration: shards are disjoint and add up to the
// whole; worker threads give the same counts and verdicts as one thread.

import assert from "node:assert/strict";
import { test } from "node:test";
import { benchmarkPrograms, benchmarkRef, explore, exploreParallel, parseShard } from "../src/explore/index.js";
import { split } from "../src/explore/parallel/split.js";
import { Session } from "../src/explore/strategies/common.js";
import { runDpor } from "../src/explore/strategies/dpor.js";
import { hbClass, randomSpec, specProgram } from "./random-programs.js";
import { divergingRef, randomRef } from "./worker-fixtures.js";

const cases: [string, number][] = [
  ["lastzero", 4],
  ["fib_bench", 2],
  ["account", 3],
  ["casw", 3],
  ["wcas", 4],
  ["readers", 4],
  ["philosophers", 3],
];

for (const strategy of ["dpor", "dfs"] as const) {
  test(`${strategy}: shards are disjoint and add up to the unsharded count`, async () => {
    for (const [name, n] of cases) {
      const whole = explore(benchmarkPrograms[name](n), strategy, { keepGoing: true });
      for (const count of [2, 3]) {
        let executions = 0;
        let blocked = 0;
        for (let i = 1; i <= count; i++) {
          const r = await exploreParallel(
            { program: benchmarkRef(name, n), strategy, options: { keepGoing: true } },
            { shard: parseShard(`${i}/${count}`) },
          );
          executions += r.executions;
          blocked += r.blocked;
        }
        assert.equal(executions, whole.executions, `${name}(${n}) in ${count} shards`);
        assert.equal(blocked, whole.blocked, `${name}(${n}) blocked, in ${count} shards`);
      }
    }
  });
}

test("dpor pieces explore disjoint sets of traces that together are all of them", () => {
  // Random programs log their events: compare the pieces' happens-before classes with dfs's.
  // Seed 191 loses traces unless the races of a piece's sleep-set blocked executions are reversed too.
  const seeds = [...Array.from({ length: 40 }, (_, i) => i + 1), 191];
  for (const [seed, pieces] of seeds.flatMap((seed) => [8, 30].map((n) => [seed, n] as const))) {
    const spec = randomSpec(seed, { asserts: false });
    const program = specProgram(spec);
    const all = new Set<string>();
    explore(program, "dfs", {
      onExecution: (ex, end) => {
        if (end === "complete") all.add(hbClass((ex.world as { log: Parameters<typeof hbClass>[0] }).log));
      },
    });
    const seen = new Set<string>();
    let count = 0;
    for (const piece of split(program, "dpor", pieces).pieces) {
      const s = new Session(program, {
        keepGoing: true,
        onExecution: (ex, end) => {
          if (end !== "complete") return;
          const c = hbClass((ex.world as { log: Parameters<typeof hbClass>[0] }).log);
          assert.ok(!seen.has(c), `seed ${seed}: class ${c} in two pieces`);
          seen.add(c);
          count++;
        },
      });
      runDpor(s, piece);
    }
    assert.equal(count, all.size, `seed ${seed}, ${pieces} pieces: the pieces' executions add up to the classes`);
    assert.deepEqual([...seen].sort(), [...all].sort(), `seed ${seed}, ${pieces} pieces`);
  }
});

test("dpor pieces of programs that violate (keepGoing) find every violation and no class twice", () => {
  type Log = Parameters<typeof hbClass>[0];
  for (let seed = 1; seed <= 40; seed++) {
    const program = specProgram(randomSpec(seed));
    const violations = new Set<string>();
    const d = explore(program, "dfs", {
      keepGoing: true,
      maxExecutions: 20_000,
      minimizeBudget: 0,
      onExecution: (ex) => {
        if (ex.violation) violations.add(ex.violation.message);
      },
    });
    if (d.interrupted) continue;
    const found = new Set<string>();
    const classes = new Set<string>();
    for (const piece of split(program, "dpor", 8).pieces) {
      const s = new Session(program, {
        keepGoing: true,
        onExecution: (ex, end) => {
          if (ex.violation) found.add(ex.violation.message);
          if (end === "blocked") return;
          const c = hbClass((ex.world as { log: Log }).log);
          assert.ok(!classes.has(c), `seed ${seed}: class ${c} in two pieces`);
          classes.add(c);
        },
      });
      runDpor(s, piece);
    }
    assert.deepEqual([...found].sort(), [...violations].sort(), `seed ${seed}: violations`);
  }
});

test("workers give the same counts and verdicts as one thread", async () => {
  for (const [name, n] of [
    ["fib_bench", 3],
    ["lastzero", 4],
    ["philosophers", 3],
  ] as [string, number][]) {
    for (const strategy of ["dpor", "dfs"] as const) {
      if (strategy === "dfs" && name === "fib_bench") continue;
      const one = explore(benchmarkPrograms[name](n), strategy, { keepGoing: true });
      const two = await exploreParallel(
        { program: benchmarkRef(name, n), strategy, options: { keepGoing: true } },
        { workers: 2 },
      );
      assert.equal(two.executions, one.executions, `${strategy} ${name}(${n}) executions`);
      assert.equal(two.blocked, one.blocked, `${strategy} ${name}(${n}) blocked`);
      assert.equal(two.verdict, one.verdict, `${strategy} ${name}(${n}) verdict`);
    }
  }
  // Stopping at the first violation: the same verdict and kind.
  const one = explore(benchmarkPrograms.philosophers(3), "dpor");
  const two = await exploreParallel({ program: benchmarkRef("philosophers", 3), strategy: "dpor" }, { workers: 2 });
  assert.equal(two.verdict, "violation");
  assert.equal(two.violation?.kind, one.violation?.kind);
});

test("workers agree with one thread on random programs (the same workers, reused from one exploration to the next)", async () => {
  for (let seed = 1; seed <= 25; seed++) {
    const o = { asserts: false };
    const one = explore(specProgram(randomSpec(seed, o)), "dpor", { keepGoing: true });
    const two = await exploreParallel(
      { program: randomRef(seed, o), strategy: "dpor", options: { keepGoing: true } },
      { workers: 2 },
    );
    assert.equal(two.executions, one.executions, `seed ${seed} executions`);
    assert.equal(two.blocked, one.blocked, `seed ${seed} blocked`);
  }
});

test("a piece that fails in a worker fails the exploration with its reason; the next exploration runs", async () => {
  for (const strategy of ["dpor", "dfs"] as const) {
    await assert.rejects(
      exploreParallel({ program: divergingRef(), strategy, options: { keepGoing: true } }, { workers: 2 }),
      /diverging is not deterministic: step 0 of thread A did store of object #0 on the first run and store y on replay/,
    );
  }
  const r = await exploreParallel(
    { program: benchmarkRef("lastzero", 4), strategy: "dpor", options: { keepGoing: true } },
    { workers: 2 },
  );
  assert.equal(r.executions, 28);
});

test("bad shard text is refused", () => {
  assert.throws(() => parseShard("0/2"), /bad shard/);
  assert.throws(() => parseShard("3/2"), /bad shard/);
  assert.deepEqual(parseShard("2/4"), { index: 1, count: 4 });
});
