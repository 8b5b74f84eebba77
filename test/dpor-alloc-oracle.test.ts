// The differential oracle for programs whose threads allocate: dpor against
// dfs on seeded random programs (random-alloc-programs.ts) that make objects in
// thread code, publish, lock and free them, and spawn and join threads. dpor
// must find every violation dfs finds and reach only final states and
// happens-before classes that dfs reaches, each class once; on programs that
// do not violate, exactly dfs's classes. Object identities that followed the
// global allocation order failed this (dpor stopped with "internal error: ...
// is not enabled", or lost classes). MMRACE_ORACLE_PROGRAMS sets how many
// programs (npm run oracle runs more).

import assert from "node:assert/strict";
import { test } from "node:test";
import { type Execution, explore } from "../src/explore/index.js";
import {
  type AllocFamily,
  type ASpec,
  type AWorld,
  allocFinalState,
  allocProgram,
  randomAllocSpec,
} from "./random-alloc-programs.js";
import { hbClass } from "./random-programs.js";

const PROGRAMS = Number(process.env.MMRACE_ORACLE_PROGRAMS ?? 1000);

function observe(seed: number, family: AllocFamily, strategy: string, maxExecutions: number) {
  const finals = new Set<string>();
  const violations = new Set<string>();
  const classes = new Set<string>();
  const blockedClasses = new Set<string>();
  const onExecution = (ex: Execution<unknown>, end: string) => {
    const w = ex.world as AWorld;
    if (end === "blocked") blockedClasses.add(hbClass(w.log, false));
    else if (end === "violation") {
      violations.add(ex.violation?.message ?? "?");
      classes.add(hbClass(w.log, true));
    } else {
      finals.add(allocFinalState(w));
      classes.add(hbClass(w.log, false));
    }
  };
  const r = explore(allocProgram(randomAllocSpec(seed, family)), strategy, {
    keepGoing: true,
    onExecution,
    maxExecutions,
    minimizeBudget: 0,
  });
  return { r, finals, violations, classes, blockedClasses };
}

const sorted = (s: Set<string>) => [...s].sort();

/** Compares dpor with dfs on one program; false when the program is too big for dfs. */
export function checkAllocProgram(
  seed: number,
  family: AllocFamily,
): { checked: boolean; classes: number; violating: boolean } {
  const d = observe(seed, family, "dfs", 20_000);
  if (d.r.interrupted) return { checked: false, classes: 0, violating: false };
  const p = observe(seed, family, "dpor", 1_000_000);
  const where = `seed ${seed} (${family}): ${JSON.stringify(randomAllocSpec(seed, family).threads)}`;
  assert.deepEqual(sorted(p.violations), sorted(d.violations), `violations, ${where}`);
  for (const f of p.finals) assert.ok(d.finals.has(f), `final state ${f} unknown to dfs, ${where}`);
  assert.equal(p.r.executions, p.classes.size, `no class twice, ${where}`);
  for (const c of p.classes) assert.ok(d.classes.has(c), `class ${c} unknown to dfs, ${where}`);
  if (d.violations.size === 0) {
    assert.deepEqual(sorted(p.finals), sorted(d.finals), `final states, ${where}`);
    assert.equal(p.r.sleepBlocked, 0, `sleep-set blocked, ${where}`);
    assert.deepEqual(sorted(p.classes), sorted(d.classes), `happens-before classes, ${where}`);
    assert.deepEqual(sorted(p.blockedClasses), sorted(d.blockedClasses), `blocked classes, ${where}`);
  }
  return { checked: true, classes: p.r.executions, violating: d.violations.size !== 0 };
}

function family(name: AllocFamily, programs: number, violating: [number, number]) {
  test(`dpor agrees with dfs on ${programs} ${name} programs whose threads allocate`, () => {
    let checked = 0;
    let classes = 0;
    let violated = 0;
    for (let seed = 1; checked < programs; seed++) {
      const r = checkAllocProgram(seed, name);
      if (!r.checked) continue;
      checked++;
      classes += r.classes;
      if (r.violating) violated++;
    }
    assert.ok(classes > 3 * programs, `the programs have some concurrency (${classes} classes)`);
    // Each family exercises the halves of the oracle it is meant to.
    assert.ok(violated >= violating[0] * programs && violated <= violating[1] * programs, `${violated} violate`);
  });
}

family("dense", Math.ceil(PROGRAMS / 2), [0, 0]);
family("rich", Math.ceil(PROGRAMS / 2), [0.1, 0.9]);

test("regression: four threads that allocate between shared steps; allocation-order identities lost a trace here", () => {
  // Found by a search of random dense programs: with ids in global allocation
  // order, dpor explored 38 of these 39 traces (the reordered allocations gave
  // predicted wakeup-tree events other objects' ids than they had when run).
  const spec = {
    seed: 712,
    ptrs: 1,
    threads: [
      [{ k: "oload" }, { k: "pub", p: 0 }],
      [{ k: "xload" }, { k: "new" }, { k: "ostore", val: 1 }, { k: "xstore", val: 2 }, { k: "new" }],
      [{ k: "get", p: 0 }, { k: "ostore", val: 2 }, { k: "xstore", val: 1 }, { k: "new" }],
      [{ k: "xload" }, { k: "new" }, { k: "ostore", val: 1 }, { k: "pub", p: 0 }],
    ],
  } as const satisfies ASpec;
  const classesOf = (strategy: string) => {
    const classes = new Set<string>();
    const r = explore(allocProgram(spec), strategy, {
      keepGoing: true,
      minimizeBudget: 0,
      onExecution: (ex) => classes.add(hbClass((ex.world as AWorld).log, false)),
    });
    return { r, classes };
  };
  const d = classesOf("dfs");
  const p = classesOf("dpor");
  assert.equal(d.classes.size, 39);
  assert.deepEqual(sorted(p.classes), sorted(d.classes));
  assert.equal(p.r.executions, 39);
  assert.equal(p.r.sleepBlocked, 0);
});
