// Counterexamples are minimal (fewest preemptions, then fewest steps) whichever
// strategy found them, and always replay to the same kind of violation.

import assert from "node:assert/strict";
import { test } from "node:test";
import { cell, explore, type Loc, load, type Program, replay, store, type Thread } from "../src/explore/index.js";

/** Two unlocked increments of one counter: the lost update needs one preemption and four steps. */
function lostUpdate(extra = 0): Program<{ n: Loc<number>; noise: Loc<number> }> {
  const inc = function* (w: { n: Loc<number>; noise: Loc<number> }): Thread {
    for (let i = 0; i < extra; i++) yield store(w.noise, i);
    const t: number = yield load(w.n);
    yield store(w.n, t + 1);
  };
  return {
    name: "lost-update",
    setup: () => ({ n: cell("n", 0), noise: cell("noise", 0) }),
    threads: [
      { name: "A", run: inc },
      { name: "B", run: inc },
    ],
    invariants: [{ name: "both increments", check: (w) => (w.n.v === 2 ? null : `n = ${w.n.v}, not 2`) }],
  };
}

for (const strategy of ["dfs", "dpor", "bounded", "random", "pct"]) {
  test(`${strategy}: the counterexample is minimal and replays`, () => {
    for (const extra of [0, 2]) {
      const r = explore(lostUpdate(extra), strategy, { seed: 1 });
      assert.equal(r.verdict, "violation", `${strategy} finds the lost update`);
      assert.equal(r.violation?.kind, "invariant");
      assert.equal(r.preemptions, 1, "one preemption suffices");
      assert.equal(r.schedule?.length, 4 + 2 * extra, "the shortest schedule with one preemption");
      const again = replay(lostUpdate(extra), r.schedule ?? []);
      assert.equal(again.end, "violation");
      assert.equal(again.execution.violation?.kind, "invariant");
      assert.equal(again.preemptions, r.preemptions);
    }
  });
}

test("pct finds the lost update within a few executions", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const r = explore(lostUpdate(3), "pct", { seed, minimizeBudget: 0 });
    assert.equal(r.verdict, "violation", `seed ${seed}`);
    assert.ok(r.executions <= 50, `seed ${seed}: ${r.executions} executions`);
  }
});

test("minimizeBudget 0 keeps the schedule found, still replayable", () => {
  const r = explore(lostUpdate(2), "dfs", { minimizeBudget: 0 });
  assert.equal(r.verdict, "violation");
  assert.equal(replay(lostUpdate(2), r.schedule ?? []).execution.violation?.kind, "invariant");
});
