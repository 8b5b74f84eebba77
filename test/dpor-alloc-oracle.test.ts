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
import { allocFinalState, allocProgram, type AWorld, randomAllocSpec } from "./random-alloc-programs.js";
import { hbClass } from "./random-programs.js";

const PROGRAMS = Number(process.env.MMRACE_ORACLE_PROGRAMS ?? 1000);

function observe(seed: number, strategy: string, maxExecutions: number) {
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
  const r = explore(allocProgram(randomAllocSpec(seed)), strategy, {
    keepGoing: true,
    onExecution,
    maxExecutions,
    minimizeBudget: 0,
  });
  return { r, finals, violations, classes, blockedClasses };
}

const sorted = (s: Set<string>) => [...s].sort();

/** Compares dpor with dfs on one program; false when the program is too big for dfs. */
export function checkAllocProgram(seed: number): { checked: boolean; classes: number; violating: boolean } {
  const d = observe(seed, "dfs", 20_000);
  if (d.r.interrupted) return { checked: false, classes: 0, violating: false };
  const p = observe(seed, "dpor", 1_000_000);
  const where = `seed ${seed}: ${JSON.stringify(randomAllocSpec(seed).threads)}`;
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

test(`dpor agrees with dfs on ${PROGRAMS} programs whose threads allocate, publish, free and spawn`, () => {
  let checked = 0;
  let classes = 0;
  let violating = 0;
  for (let seed = 1; checked < PROGRAMS; seed++) {
    const r = checkAllocProgram(seed);
    if (!r.checked) continue;
    checked++;
    classes += r.classes;
    if (r.violating) violating++;
  }
  // The family must exercise both halves of the oracle.
  assert.ok(classes > 3 * PROGRAMS, `the programs have some concurrency (${classes} classes)`);
  assert.ok(violating > PROGRAMS / 10 && violating < PROGRAMS - PROGRAMS / 10, `${violating} violate`);
});
