// Stories are matched against the happens-before order of an execution, not
// the order its steps happened to run in: dpor runs one linearization per
// Mazurkiewicz trace, and a story whose beats are independent steps is told
// by every linearization of the trace or by none.

import assert from "node:assert/strict";
import { test } from "node:test";
import { checkVariant } from "../src/catalogue/run.js";
import type { Scenario } from "../src/catalogue/types.js";
import {
  cell,
  type Execution,
  explore,
  type Loc,
  load,
  NoteOrder,
  note,
  type Program,
  replay,
  store,
} from "../src/explore/index.js";

interface W {
  x: Loc<number>;
  y: Loc<number>;
}

/** A stores x, B stores y: independent. Both are always done at the end, which the invariant reports. */
const independent = (): Program<W> => ({
  name: "independent",
  setup: () => ({ x: cell("x", 0), y: cell("y", 0) }),
  threads: [
    {
      name: "A",
      run: function* (w) {
        yield store(w.x, 1);
        note("A stores x");
      },
    },
    {
      name: "B",
      run: function* (w) {
        yield store(w.y, 1);
        note("B stores y");
      },
    },
  ],
  invariants: [{ name: "not both", check: (w) => (w.x.v + w.y.v === 2 ? "both stored" : null) }],
});

const story = [
  { thread: "B", note: /B stores y/ },
  { thread: "A", note: /A stores x/ },
];

/** The matcher before: the beats as a subsequence of the notes in execution order. */
function toldInOrder(ex: Execution<unknown>): boolean {
  let k = 0;
  for (const n of ex.noteLog ?? [])
    if (k < story.length && n.thread === story[k].thread && story[k].note.test(n.text)) k++;
  return k === story.length;
}

test("a story of two independent steps is told whichever order dpor ran them in, and shown in its order", () => {
  // dpor runs one execution of the one trace, A's store first: the old matcher never finds the story.
  const runs: boolean[] = [];
  const all = explore({ ...independent(), accept: () => true }, "dpor", {
    keepGoing: true,
    onExecution: (ex) => runs.push(toldInOrder(ex)),
  });
  assert.equal(all.executions, 1);
  assert.deepEqual(runs, [false], "in the order dpor ran, B's beat comes after A's");
  const scenario: Scenario = {
    id: "independent",
    title: "t",
    source: "test",
    description: "d",
    variants: [
      { name: "v", source: "test", summary: "s", expected: "violation:invariant", program: independent, story },
    ],
  };
  const r = checkVariant(scenario, scenario.variants[0]);
  assert.equal(r.found, "violation:invariant");
  assert.equal(r.story, "shown");
  // The trace shown is the same trace re-linearized: B's note first.
  const notes = r.trace!.flatMap((st) => st.notes ?? []);
  assert.deepEqual(notes, ["B stores y", "A stores x"]);
  assert.equal(replay(independent(), r.result.schedule!, false).execution.violation?.message, "both stored");
});

test("a story that contradicts happens-before is not told", () => {
  // B reads x: when it read A's store, its note happens after A's and cannot come first.
  const p: Program<W> = {
    name: "ordered",
    setup: () => ({ x: cell("x", 0), y: cell("y", 0) }),
    threads: [
      {
        name: "A",
        run: function* (w) {
          yield store(w.x, 1);
          note("A stores x");
        },
      },
      {
        name: "B",
        run: function* (w) {
          const v: number = yield load(w.x);
          note(`B reads x = ${v}`);
        },
      },
    ],
    accept: () => true,
  };
  const beats = [
    { thread: "B", note: /B reads x/ },
    { thread: "A", note: /A stores x/ },
  ];
  const seen: string[] = [];
  explore(p, "dpor", {
    onExecution: (ex) => {
      const order = new NoteOrder(ex);
      const read = (ex.noteLog ?? []).find((n) => n.thread === "B")!.text;
      seen.push(`${read}: ${order.match(beats) === null ? "not told" : "told"}`);
    },
  });
  assert.deepEqual(seen.sort(), ["B reads x = 0: told", "B reads x = 1: not told"]);
});
