// Programs that worker threads rebuild by reference (src/explore/registry.ts),
// for the parallel tests: the oracle's random programs, and one that behaves
// differently in a worker thread than in the thread that split it.

import { isMainThread } from "node:worker_threads";
import {
  cell,
  type Loc,
  load,
  type Program,
  type ProgramRef,
  registerProgramResolver,
  store,
} from "../src/explore/index.js";
import { type GenOptions, randomSpec, specProgram } from "./random-programs.js";

export const randomRef = (seed: number, o: GenOptions = {}): ProgramRef => ({
  kind: "test-random",
  module: import.meta.url,
  params: { seed, o },
});

export const divergingRef = (): ProgramRef => ({ kind: "test-diverging", module: import.meta.url, params: {} });

// A resolver returns a program over any world.
const anyWorld = <W>(p: Program<W>): Program => p as unknown as Program;
registerProgramResolver("test-random", (p) => anyWorld(specProgram(randomSpec(Number(p.seed), p.o as GenOptions))));
registerProgramResolver("test-diverging", () => anyWorld(diverging()));

/** Two threads store to x and y; in a worker thread the first one stores to y first (not deterministic). */
function diverging(): Program<{ x: Loc<number>; y: Loc<number> }> {
  return {
    name: "diverging",
    setup: () => ({ x: cell("x", 0), y: cell("y", 0) }),
    threads: [
      {
        name: "A",
        *run(w) {
          const [first, second] = isMainThread ? [w.x, w.y] : [w.y, w.x];
          yield store(first, 1);
          yield store(second, 1);
        },
      },
      {
        name: "B",
        *run(w) {
          yield load(w.x);
          yield load(w.y);
        },
      },
    ],
  };
}
