// Replay: runs one schedule, optionally recording a trace of every step.

import { choiceAlt, choiceTid, type Execution, type TraceStep } from "../execution.js";
import type { Program } from "../program.js";
import { ModelError } from "../violation.js";
import { End, ending, Session } from "./common.js";

export interface ReplayResult<W> {
  readonly execution: Execution<W>;
  readonly end: "complete" | "blocked" | "violation" | "cut";
  readonly trace: TraceStep[];
  readonly preemptions: number;
}

export interface ReplayOptions {
  /**
   * All-violations mode (ExploreOptions.keepGoing): a violation stops only its
   * thread, and the schedule may end before the execution does, with the step
   * that raised the violation it reproduces.
   */
  readonly allViolations?: boolean;
}

/**
 * Replays `schedule` from a fresh setup. Throws ModelError, naming the step,
 * when the schedule asks for a thread that cannot run there (the model changed,
 * or it is not deterministic). With `record`, each step carries the model
 * state (`describe`) and the locks held.
 */
export function replay<W>(
  program: Program<W>,
  schedule: readonly number[],
  record = true,
  opts: ReplayOptions = {},
): ReplayResult<W> {
  const s = new Session(program, { keepGoing: opts.allViolations === true });
  const ex = s.newExecution(record);
  const en: number[] = [];
  let end: End = End.Running;
  let prev = -1;
  let pre = 0;
  for (let i = 0; ; i++) {
    ex.enabled(en);
    end = ending(ex, en.length);
    if (end !== End.Running) {
      if (i < schedule.length)
        throw new ModelError(
          `schedule has ${schedule.length} steps but the execution ended after ${i}: it no longer replays`,
        );
      break;
    }
    if (i >= schedule.length) {
      if (ex.allViolations && ex.violationAt.includes(i)) {
        end = End.Violation;
        break;
      }
      throw new ModelError(`schedule ended after ${i} steps but the execution had not: it no longer replays`);
    }
    const c = schedule[i];
    const tid = choiceTid(c);
    if (tid >= ex.threads.length || !ex.isEnabled(tid)) {
      const who = tid < ex.threads.length ? ex.describeOp(tid) : `thread ${tid} (there are ${ex.threads.length})`;
      throw new ModelError(`schedule step ${i} asks for ${who}, which cannot run there: it no longer replays`);
    }
    const alt = choiceAlt(c);
    if (alt >= ex.alternatives(tid))
      throw new ModelError(
        `schedule step ${i} takes alternative ${alt} of ${ex.describeOp(tid)}, which has ${ex.alternatives(tid)}`,
      );
    if (prev !== -1 && tid !== prev && ex.isEnabled(prev)) pre++;
    ex.step(tid, alt);
    prev = tid;
    if (record) {
      const last = ex.trace![ex.trace!.length - 1];
      const held = ex.heldLocks();
      if (Object.keys(held).length) last.held = held;
      if (program.describe) last.state = snapshot(program.describe(ex.world));
    }
  }
  return {
    execution: ex,
    end: end === End.Complete ? "complete" : end === End.Blocked ? "blocked" : end === End.Cut ? "cut" : "violation",
    trace: ex.trace ?? [],
    preemptions: pre,
  };
}

function snapshot(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
