// random: each step picks a uniformly random enabled thread (seeded). The
// naive baseline that stress testing resembles.

import { mulberry32, pick } from "../prng.js";
import type { Program } from "../program.js";
import type { ExploreOptions, ExploreResult } from "../result.js";
import { Session } from "./common.js";
import { DEFAULT_RANDOM_EXECUTIONS, sample } from "./sampling.js";

export function random<W>(program: Program<W>, opts: ExploreOptions = {}): ExploreResult {
  const s = new Session(program, { ...opts, maxExecutions: opts.maxExecutions ?? DEFAULT_RANDOM_EXECUTIONS });
  const rng = mulberry32(opts.seed ?? 1);
  return sample(s, "random", rng, { pick: (_ex, en) => en[pick(rng, en.length)] });
}
