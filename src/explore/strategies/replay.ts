// Replay: runs one schedule, optionally recording a trace of every step.

import { notDeterministic, setupNotDeterministic, showStep, stepValue, worldPrint } from "../determinism.js";
import { choiceAlt, choiceTid, type Execution, type TraceStep } from "../execution.js";
import type { Op } from "../ops.js";
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
  /** Filled with what setup() built and each step did, to compare two replays (`checkReplaysAlike`). */
  readonly log?: string[];
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
  const log = opts.log;
  const s = new Session(program, { keepGoing: opts.allViolations === true });
  const ex = s.newExecution(record);
  if (log !== undefined) log.push(worldPrint(ex.world, ex.threads));
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
    const op = ex.threads[tid].op as Op;
    ex.step(tid, alt);
    if (log !== undefined) log.push(`${tid}:${showStep(op, stepValue(op))}`);
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

/**
 * Replays `schedule` twice and compares what setup() built and what each step
 * did: a counterexample that does not replay alike is a non-deterministic
 * model, whatever the strategy that found it (random and pct never replay
 * otherwise), and a trace file replayed by another process is checked too.
 */
export function checkReplaysAlike<W>(program: Program<W>, schedule: readonly number[], allViolations = false): void {
  const run = (log: string[]): string | null => {
    try {
      replay(program, schedule, false, { log, allViolations });
      return null;
    } catch (e) {
      if (e instanceof ModelError) return e.message;
      throw e;
    }
  };
  const a: string[] = [];
  const b: string[] = [];
  const ea = run(a);
  const eb = run(b);
  if (a[0] !== b[0]) setupNotDeterministic(program.name, a[0], b[0]);
  const n = Math.min(a.length, b.length);
  // a[0] is setup's world; a[i] is step i - 1, as "tid:what it did".
  const did = (x: string) => x.slice(x.indexOf(":") + 1);
  const who = (step: number) => threadName(program, choiceTid(schedule[step] ?? 0));
  for (let i = 1; i < n; i++)
    if (a[i] !== b[i]) notDeterministic(program.name, i - 1, who(i - 1), did(a[i]), did(b[i]));
  if (a.length !== b.length || ea !== eb) {
    const what = (log: string[], err: string | null) =>
      log.length > n ? did(log[n]) : `nothing (${err ?? "the execution had ended"})`;
    notDeterministic(program.name, n - 1, who(n - 1), what(a, ea), what(b, eb));
  }
}

function threadName<W>(program: Program<W>, tid: number): string {
  return program.threads[tid]?.name ?? `${tid}`;
}
