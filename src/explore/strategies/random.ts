// random: each step picks a uniformly random enabled thread (seeded). The
// naive baseline that stress testing resembles.

import { choiceAlt, choiceTid, encodeChoice } from "../execution.js";
import { mulberry32, pick } from "../prng.js";
import type { Program } from "../program.js";
import type { ExploreOptions, ExploreResult } from "../result.js";
import { End, ending, Session } from "./common.js";

export const DEFAULT_RANDOM_EXECUTIONS = 10_000;

export function random<W>(program: Program<W>, opts: ExploreOptions = {}): ExploreResult {
  const s = new Session(program, { ...opts, maxExecutions: opts.maxExecutions ?? DEFAULT_RANDOM_EXECUTIONS });
  const rng = mulberry32(opts.seed ?? 1);
  const en: number[] = [];
  for (;;) {
    const ex = s.newExecution();
    const schedule: number[] = [];
    let prev = -1;
    let pre = 0;
    let end: End;
    for (;;) {
      ex.enabled(en);
      end = ending(ex, en.length);
      if (end !== End.Running) break;
      const tid = en[pick(rng, en.length)];
      const n = ex.alternatives(tid);
      const c = encodeChoice(tid, n > 1 ? pick(rng, n) : 0);
      if (prev !== -1 && tid !== prev && ex.isEnabled(prev)) pre++;
      ex.step(tid, choiceAlt(c));
      schedule.push(c);
      prev = choiceTid(c);
    }
    const stop = s.count(end, schedule.length, ex);
    if (ex.violation && (end === End.Violation || end === End.Blocked)) {
      return s.result("random", false, { violation: ex.violation, schedule, preemptions: pre });
    }
    if (stop) return s.result("random", false);
  }
}
