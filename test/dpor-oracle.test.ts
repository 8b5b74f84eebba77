// The differential oracle: on hundreds of seeded random programs dpor must
// reach exactly the final states and violations that dfs reaches, and explore
// exactly one execution per happens-before class of dfs's executions (the same
// classes, none twice, never sleep-set blocked). Under keepGoing a violation
// stops only the thread that hit it and the others run on, so programs that
// violate are held to the same: every violation of every execution (kind and
// message) is the same set for both, and so are the classes. Value-dependent
// dependence (cmpxchg and trylock that may fail), blocking (locks, awaits),
// local choices and violations each get programs of their own.

import assert from "node:assert/strict";
import { test } from "node:test";
import { type Execution, explore } from "../src/explore/index.js";
import { finalState, type GenOptions, hbClass, randomSpec, specProgram } from "./random-programs.js";

interface Seen {
  finals: Set<string>;
  violations: Set<string>;
  classes: Set<string>;
  blockedClasses: Set<string>;
  visits: number;
}

type World = Parameters<typeof finalState>[0] & { log: Parameters<typeof hbClass>[0] };

function observe(strategy: string, seed: number, o: GenOptions, maxExecutions: number) {
  const seen: Seen = {
    finals: new Set(),
    violations: new Set(),
    classes: new Set(),
    blockedClasses: new Set(),
    visits: 0,
  };
  const onExecution = (ex: Execution<unknown>, end: string) => {
    const w = ex.world as World;
    seen.visits++;
    for (const v of ex.violations) seen.violations.add(`${v.kind}: ${v.message}`);
    if (end === "blocked") seen.blockedClasses.add(hbClass(w.log));
    else {
      if (end !== "violation") seen.finals.add(finalState(w));
      seen.classes.add(hbClass(w.log));
    }
  };
  const r = explore(specProgram(randomSpec(seed, o)), strategy, {
    keepGoing: true,
    onExecution,
    maxExecutions,
    minimizeBudget: 0,
  });
  return { r, seen };
}

const sorted = (s: Set<string>) => [...s].sort();

function family(name: string, o: GenOptions, programs: number, firstSeed: number) {
  test(`dpor agrees with dfs: ${name}`, () => {
    let checked = 0;
    let classes = 0;
    let violating = 0;
    for (let seed = firstSeed; checked < programs; seed++) {
      const d = observe("dfs", seed, o, 20_000);
      if (d.r.interrupted) continue; // too big for the oracle
      const p = observe("dpor", seed, o, 1_000_000);
      const where = `seed ${seed} (${name}): ${JSON.stringify(randomSpec(seed, o).threads)}`;
      assert.deepEqual(sorted(p.seen.violations), sorted(d.seen.violations), `violations, ${where}`);
      assert.deepEqual(sorted(p.seen.finals), sorted(d.seen.finals), `final states, ${where}`);
      // Exactly one execution per class, violating or not: the same classes, none twice, none sleep-set blocked.
      assert.equal(p.r.executions, p.seen.classes.size, `no class twice, ${where}`);
      assert.equal(p.r.sleepBlocked, 0, `sleep-set blocked, ${where}`);
      assert.deepEqual(sorted(p.seen.classes), sorted(d.seen.classes), `happens-before classes, ${where}`);
      assert.deepEqual(sorted(p.seen.blockedClasses), sorted(d.seen.blockedClasses), `blocked classes, ${where}`);
      assert.equal(p.r.blocked, d.seen.blockedClasses.size, `one blocked execution per class, ${where}`);
      if (d.seen.violations.size !== 0) violating++;
      checked++;
      classes += p.r.executions;
    }
    assert.ok(classes > programs, "the programs have some concurrency");
    if (o.asserts !== false) assert.ok(violating >= programs / 10, `only ${violating} programs violate`);
  });
}

family("loads and stores", { cas: false, locks: false }, 120, 1);
family("cmpxchg that may fail", { locks: false }, 120, 1000);
family("locks and trylocks", { cas: false }, 120, 2000);
family("everything, with awaits and choices", { awaits: true, choose: true }, 120, 3000);
family("no assertions", { asserts: false, awaits: true }, 60, 4000);
