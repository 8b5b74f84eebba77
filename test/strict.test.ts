// Strict mode (ExploreOptions.strict, `mmrace check --strict`): model code
// that touches a cell's value outside an op is shared state the explorer does
// not see. The whole catalogue runs under it; the rules (a new object's first
// code run, a guard lock, cells no thread writes) each get a program that
// keeps them and one that breaks them.

import assert from "node:assert/strict";
import { test } from "node:test";
import { catalogue, checkVariant } from "../src/catalogue/index.js";
import {
  cell,
  explore,
  type Gen,
  type Loc,
  LockKind,
  type LockObj,
  load,
  lock,
  ModelError,
  newLock,
  type Program,
  store,
  unlock,
} from "../src/explore/index.js";

test("the catalogue runs under strict mode: no model code touches a cell outside an op, and every verdict holds", () => {
  for (const s of catalogue)
    for (const v of s.variants) {
      const r = checkVariant(s, v, { strict: true });
      assert.ok(r.ok, `${s.id}/${v.name}: found ${r.found}, expected ${v.expected}`);
    }
});

interface W {
  x: Loc<number>;
  p: Loc<Loc<number> | null>;
  m: LockObj;
  g: Loc<number>;
}

function program(a: (w: W) => Gen<void>, b: (w: W) => Gen<void>): Program<W> {
  return {
    name: "strict",
    setup: () => {
      const m = newLock("m", LockKind.Mutex);
      return { x: cell("x", 0), p: cell<Loc<number> | null>("p", null), m, g: cell("g", 0, undefined, m) };
    },
    threads: [
      { name: "A", run: a },
      { name: "B", run: b },
    ],
  };
}

const strictError = (p: Program<W>) => {
  try {
    explore(p, "dfs", { strict: true });
  } catch (e) {
    assert.ok(e instanceof ModelError, String(e));
    return e.message;
  }
  return null;
};

test("strict: an assignment to cell.v in thread code is caught, naming the cell and the thread", () => {
  const p = program(
    function* (w) {
      yield load(w.x);
      w.x.v = 1;
    },
    function* (w) {
      yield load(w.x);
    },
  );
  assert.match(strictError(p) ?? "", /^strict: thread A wrote x outside an op/);
  // Without strict mode the assignment goes unseen: this is what the check is for.
  assert.equal(explore(p, "dfs").verdict, "safe");
});

test("strict: a read of a cell that threads write is caught; of one that nothing writes after setup it is not", () => {
  const racy = program(
    function* (w) {
      yield store(w.x, 1);
    },
    function* (w) {
      yield load(w.p);
      if (w.x.v === 1) yield store(w.p, null);
    },
  );
  assert.match(strictError(racy) ?? "", /^strict: thread B reads? x outside an op/);
  const constant = program(
    function* (w) {
      yield load(w.p);
    },
    function* (w) {
      yield load(w.p);
      if (w.x.v === 0) yield store(w.p, null);
    },
  );
  assert.equal(strictError(constant), null);
});

test("strict: a thread initializes what it made until its next step, then the object is shared", () => {
  const init = program(
    function* (w) {
      const c = cell("new", 0);
      c.v = 7; // nobody can see it yet
      yield store(w.p, c);
    },
    function* (w) {
      const c = (yield load(w.p)) as Loc<number> | null;
      if (c) yield load(c);
    },
  );
  assert.equal(strictError(init), null);
  const late = program(
    function* (w) {
      const c = cell("new", 0);
      yield store(w.p, c);
      c.v = 7; // published: another thread may be reading it
    },
    function* (w) {
      yield load(w.p);
    },
  );
  assert.match(strictError(late) ?? "", /^strict: thread A wrote new outside an op/);
});

test("strict: a guarded cell is read without a step under its lock, and written only by holders", () => {
  const held = program(
    function* (w) {
      yield lock(w.m);
      yield store(w.g, w.g.v + 1);
      yield unlock(w.m);
    },
    function* (w) {
      yield lock(w.m);
      yield store(w.g, w.g.v + 1);
      yield unlock(w.m);
    },
  );
  assert.equal(strictError(held), null);
  const unheld = program(
    function* (w) {
      yield load(w.x);
      yield store(w.g, w.g.v + 1);
    },
    function* (w) {
      yield load(w.x);
    },
  );
  assert.match(strictError(unheld) ?? "", /thread A read g outside an op without holding m/);
  const writerWithout = program(
    function* (w) {
      yield store(w.g, 5);
    },
    function* (w) {
      yield load(w.x);
    },
  );
  assert.match(strictError(writerWithout) ?? "", /thread A wrote g without holding m/);
});
