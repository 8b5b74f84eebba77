// Invariants checked after every step, under dpor: every write to a cell the
// invariant reads is dependent with every other such write (the invariant's
// view, view.ts), so the one linearization dpor explores per trace passes
// through every state of those cells that any linearization does. Checked
// against dfs on seeded random programs whose invariant over x0 and x1 can
// fail in intermediate states only, and on a three-thread fixture.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  cell,
  type Execution,
  explore,
  InvariantView,
  type Loc,
  load,
  type Program,
  rmw,
  store,
} from "../src/explore/index.js";
import { type finalState, hbClass, randomSpec, specProgram } from "./random-programs.js";

type World = Parameters<typeof finalState>[0] & { log: Parameters<typeof hbClass>[0] };

function observe(strategy: string, seed: number, asserts: boolean, maxExecutions: number) {
  const spec = randomSpec(seed, { always: true, asserts, awaits: true, choose: true });
  const states = new Set<string>(["0,0"]);
  const violations = new Set<string>();
  const classes = new Set<string>();
  let finals = 0;
  let visible: Set<number> | undefined;
  const onExecution = (ex: Execution<unknown>, end: string) => {
    const w = ex.world as World;
    visible ??= new Set([w.c[0].id, w.c[1].id]);
    for (const v of ex.violations) violations.add(`${v.kind}: ${v.message}`);
    if (end !== "violation") finals++;
    if (end !== "blocked") classes.add(hbClass(w.log, visible));
  };
  const program = specProgram(spec, (x0, x1) => states.add(`${x0},${x1}`));
  const r = explore(program, strategy, { keepGoing: true, onExecution, maxExecutions, minimizeBudget: 0 });
  return { spec, r, states, violations, classes, finals };
}

const sorted = (s: Set<string>) => [...s].sort();

test("dpor agrees with dfs on invariants checked after every step (random programs)", () => {
  let checked = 0;
  let midOnly = 0;
  for (let seed = 5000; checked < 200; seed++) {
    // A third of the programs assert too (a thread whose assertion fails stops there; the others run on).
    const asserts = seed % 3 === 0;
    const d = observe("dfs", seed, asserts, 5_000);
    if (d.r.interrupted) continue; // too big for the oracle
    const p = observe("dpor", seed, asserts, 1_000_000);
    const where = `seed ${seed}: ${JSON.stringify(d.spec)}`;
    assert.equal(p.r.strategy, "dpor");
    assert.deepEqual(sorted(p.violations), sorted(d.violations), `violations, ${where}`);
    // dfs's classes (of the dependence with the view), each once: under keepGoing a violation stops only its
    // thread, so executions that violate are whole traces too.
    assert.equal(p.r.executions, p.classes.size, `no class twice, ${where}`);
    assert.deepEqual(sorted(p.classes), sorted(d.classes), `classes, ${where}`);
    // The states of x0 and x1 the invariant saw: all of those some interleaving reaches.
    assert.deepEqual(sorted(p.states), sorted(d.states), `states of x0, x1, ${where}`);
    // Without keepGoing, the default strategy finds a violation exactly when there is one.
    const first = explore(specProgram(d.spec), undefined, { minimizeBudget: 0 });
    assert.equal(first.strategy, "dpor");
    const wrong = d.violations.size > 0 || d.r.blocked > 0;
    assert.equal(first.verdict, wrong ? "violation" : "safe", `first violation, ${where}`);
    if (first.verdict === "safe") assert.equal(first.complete, true);
    // Broken in some interleavings only: others run to the end.
    if ([...d.violations].some((m) => /^invariant: x0/.test(m)) && d.finals > 0) midOnly++;
    checked++;
  }
  assert.ok(midOnly >= 30, `programs whose invariant some interleaving breaks: ${midOnly}`);
});

test("the view is learned as the invariant follows a pointer, and dpor starts over when it grows stale", () => {
  // The invariant reads `a` or `b`, whichever `which` names; `b` is written before `which` flips to it.
  interface W {
    which: Loc<number>;
    a: Loc<number>;
    b: Loc<number>;
  }
  const program: Program<W> = {
    name: "pointer",
    setup: () => ({ which: cell("which", 0), a: cell("a", 0), b: cell("b", 0) }),
    threads: [
      {
        name: "P",
        run: function* (w) {
          yield store(w.b, 1);
          yield store(w.which, 1);
          yield store(w.b, 0);
        },
      },
      {
        name: "Q",
        run: function* (w) {
          yield load(w.a);
          yield rmw(w.b, (v: number) => v + 1);
        },
      },
    ],
    invariants: [
      {
        name: "the cell chosen is not 2",
        always: true,
        check: (w) => ((w.which.v === 0 ? w.a.v : w.b.v) === 2 ? "the cell chosen is 2" : null),
      },
    ],
  };
  const d = explore(program, "dfs");
  const p = explore(program);
  assert.equal(d.verdict, "violation");
  assert.equal(p.strategy, "dpor");
  assert.equal(p.verdict, "violation", "b = 2 while which = 1: P's first store, Q's increment, P's flip");
  assert.equal(p.violation?.message, "the cell chosen is 2");
  // The first executions do not read b: when the invariant first follows `which` to b, b was written already.
  assert.ok((p.restarts ?? 0) >= 1, `restarts: ${p.restarts}`);
});

test("InvariantView: a newly read cell makes the view stale only if it was written as not visible", () => {
  const v = new InvariantView();
  v.read(1);
  assert.equal(v.vis(1, true, null), true);
  assert.equal(v.vis(2, true, null), false);
  assert.equal(v.vis(3, false, null), false);
  v.read(3);
  assert.equal(v.stale, false, "3 was only read");
  v.read(2);
  assert.equal(v.stale, true, "2 was written while not visible");
  v.restart();
  assert.equal(v.stale, false);
  assert.equal(v.restarts, 1);
  assert.equal(v.vis(2, true, null), true);
  assert.equal(v.vis(4, false, [2]), true, "a free writes every cell it frees");
});

// The acceptance fixture: a COW write fault on a page that a child still maps.
// The racy fault makes the PTE writable before it points it at the copy, so in
// the interleavings where the child has not yet unmapped the page a writable
// PTE maps a page mapped elsewhere, for one step; the fixed fault publishes
// the new PTE with one store. A third thread (reclaim) reads the PTE and
// clears its young bit. The invariant follows the PTE to its page's mapcount
// through a Map. Checked by the CLI with the default strategy.
const cowFixture = (api: string) => `import { cell, load, store, rmw } from ${JSON.stringify(api)};
const fault = (racy) => function* (w) {
  const shared = (yield load(w.pages.get(1).mapcount)) > 1;
  if (!shared) { yield store(w.pte, { pfn: 1, write: true }); return; }
  if (racy) yield store(w.pte, { pfn: 1, write: true });
  yield store(w.pte, { pfn: 2, write: true });
  yield rmw(w.pages.get(1).mapcount, (m) => m - 1);
};
const program = (racy) => () => ({
  name: "cow",
  setup: () => ({
    pte: cell("pte", { pfn: 1, write: false }, (p) => (p.write ? "w" : "r") + p.pfn),
    young: cell("young", 1),
    pages: new Map([[1, { mapcount: cell("page1.mapcount", 2) }], [2, { mapcount: cell("page2.mapcount", 1) }]]),
  }),
  threads: [
    { name: "child-exit", run: function* (w) { yield rmw(w.pages.get(1).mapcount, (m) => m - 1); } },
    { name: "fault", run: fault(racy) },
    { name: "reclaim", run: function* (w) { yield load(w.pte); yield store(w.young, 0); } },
  ],
  invariants: [{
    name: "a writable PTE maps an exclusive page", always: true,
    check: (w) => {
      const pte = w.pte.v;
      const m = w.pages.get(pte.pfn).mapcount.v;
      return pte.write && m > 1 ? "writable PTE maps page " + pte.pfn + ", mapcount " + m : null;
    },
  }],
});
export default { id: "cow-publish", title: "t", source: "test", description: "d", variants: [
  { name: "racy", source: "test", summary: "s", expected: "violation:invariant", program: program(true) },
  { name: "fixed", source: "test", summary: "s", expected: "safe", program: program(false) },
] };
`;

test("a COW fixture whose invariant fails only mid-execution: found by the default strategy, its fix a complete safe", () => {
  const api = pathToFileURL(fileURLToPath(new URL("../src/index.js", import.meta.url))).href;
  const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), "mmrace-"));
  const file = join(dir, "cow.mjs");
  writeFileSync(file, cowFixture(api));
  const r = spawnSync(process.execPath, [main, "check", file, "--json"], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const lines = r.stdout
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
  const racy = lines.find((l) => l.variant === "racy");
  const fixed = lines.find((l) => l.variant === "fixed");
  assert.equal(racy.strategy, "dpor");
  assert.equal(racy.found, "violation:invariant");
  assert.match(racy.violation.message, /writable PTE maps page 1, mapcount 2/);
  assert.equal(fixed.strategy, "dpor");
  assert.equal(fixed.found, "safe");
  assert.equal(fixed.complete, true);
});
