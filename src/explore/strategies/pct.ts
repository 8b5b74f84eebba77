// pct: probabilistic concurrency testing — Burckhardt, Kothari, Musuvathi,
// Nagarakatte, "A Randomized Scheduler with Probabilistic Guarantees of
// Finding Bugs", ASPLOS 2010. Each execution gives the threads random distinct
// priorities d, d+1, ... and picks d-1 random change points among the first k
// steps; the enabled thread with the highest priority runs, and at the i-th
// change point the running thread drops to priority d-i. A bug of depth d
// (d ordering constraints) is found in each execution with probability at
// least 1/(n·k^(d-1)) for n threads and k steps. k is learnt: the longest
// execution seen so far.

import { mulberry32, pick, type Rng } from "../prng.js";
import type { Program } from "../program.js";
import type { ExploreOptions, ExploreResult } from "../result.js";
import { Session } from "./common.js";
import { DEFAULT_RANDOM_EXECUTIONS, sample } from "./sampling.js";

/** Default bug depth: most concurrency bugs need at most 2 ordering constraints, 3 leaves room. */
export const DEFAULT_PCT_DEPTH = 3;

export function pct<W>(program: Program<W>, opts: ExploreOptions = {}): ExploreResult {
  const s = new Session(program, { ...opts, maxExecutions: opts.maxExecutions ?? DEFAULT_RANDOM_EXECUTIONS });
  const rng = mulberry32(opts.seed ?? 1);
  const d = Math.max(1, opts.depth ?? DEFAULT_PCT_DEPTH);
  /** Estimate of the number of steps of an execution (PCT's k). */
  let k = 16;
  let prio: number[] = [];
  let changes: number[] = [];
  return sample(s, "pct", rng, {
    start() {
      prio = [];
      changes = changePoints(rng, d - 1, k);
    },
    pick(ex, en, step) {
      // Threads (also spawned ones) get a random priority at or above d when first seen.
      for (let t = prio.length; t < ex.threads.length; t++) prio.push(d + rng() * ex.threads.length);
      let tid = en[0];
      for (const t of en) if (prio[t] > prio[tid]) tid = t;
      const at = changes.indexOf(step);
      if (at >= 0) {
        prio[tid] = d - 1 - at;
        for (const t of en) if (prio[t] > prio[tid]) tid = t;
      }
      return tid;
    },
    end(steps) {
      if (steps > k) k = steps;
    },
  });
}

/** `m` distinct steps in 0..k-1, uniformly. */
function changePoints(rng: Rng, m: number, k: number): number[] {
  const out: number[] = [];
  while (out.length < Math.min(m, k)) {
    const x = pick(rng, k);
    if (!out.includes(x)) out.push(x);
  }
  return out;
}
