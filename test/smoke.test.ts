import assert from "node:assert/strict";
import { test } from "node:test";
import { cell, explore, load, type Program, store } from "../src/explore/index.js";

test("smoke", () => {
  const p: Program<{ x: ReturnType<typeof cell<number>> }> = {
    name: "readers",
    setup: () => ({ x: cell("x", 0) }),
    threads: [
      {
        name: "W",
        run: function* (w) {
          yield store(w.x, 42);
        },
      },
      {
        name: "R1",
        run: function* (w) {
          yield load(w.x);
        },
      },
      {
        name: "R2",
        run: function* (w) {
          yield load(w.x);
        },
      },
    ],
  };
  const r = explore(p, "dfs");
  assert.equal(r.executions, 6);
});
