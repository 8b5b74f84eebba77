// dfs: every interleaving (the oracle), and bounded: iterative preemption
// bounding as in CHESS (Musuvathi & Qadeer, PLDI 2007), so the first
// counterexample found has the fewest preemptions.

import { showSignature, showStep, stepValue, valueKey } from "../determinism.js";
import { choiceAlt, choiceTid, encodeChoice } from "../execution.js";
import type { Op } from "../ops.js";
import type { Program } from "../program.js";
import type { ExploreOptions, ExploreResult } from "../result.js";
import type { Violation } from "../violation.js";
import { diverged, End, ending, Session } from "./common.js";
import { checkReplaysAlike } from "./replay.js";

interface Frame {
  /** Encoded choices to try at this step, in order. */
  readonly alts: number[];
  idx: number;
  /** Signature of the op taken, to notice a program that diverges on replay; -2 until known. */
  sig: number;
  /** The op taken and the value it left in its cell, with its key, once run (not for a prefix made elsewhere). */
  op: Op | null;
  val: unknown;
  vsig: number;
}

export interface Cex {
  /** The execution's first violation, and the schedule up to the step that raised it. */
  violation: Violation;
  schedule: number[];
  preemptions: number;
  /** Every distinct violation of the execution, and after how many steps of `full` each was raised. */
  all: readonly Violation[];
  at: readonly number[];
  /** The schedule of the whole execution (all-violations mode runs on past the first violation). */
  full: number[];
}

interface PassResult {
  cex?: Cex;
  /** Some branch was cut by the preemption bound. */
  pruned: boolean;
}

export interface PassOptions {
  /** Only schedules with at most this many preemptions. */
  readonly bound?: number;
  /** Only schedules that start with this prefix (one job of a split exploration). */
  readonly prefix?: readonly number[];
  /** The signatures of the prefix ops where the prefix was made (another thread), checked on replay. */
  readonly prefixSigs?: readonly number[];
  /** Cut every execution before it reaches this many steps; may shrink during the pass (the minimiser's). */
  limit?: number;
  /**
   * Sees each counterexample; returning true ends the pass. Without it the
   * first counterexample ends the pass, unless the session keeps going.
   */
  readonly onCex?: (cex: Cex) => boolean;
}

/** Depth-first over every schedule (within the options' bound, prefix and limit). */
export function pass<W>(s: Session<W>, o: PassOptions = {}): PassResult {
  const bound = o.bound;
  // A fixed prefix is a stack of frames without alternatives.
  const stack: Frame[] = (o.prefix ?? []).map((c, i) => ({
    alts: [c],
    idx: 0,
    sig: o.prefixSigs?.[i] ?? -2,
    op: null,
    val: undefined,
    vsig: 0,
  }));
  const en: number[] = [];
  let pruned = false;
  let cex: Cex | undefined;
  const sched = (n: number) => stack.slice(0, n).map((f) => f.alts[f.idx]);
  let first = true;
  for (;;) {
    const ex = s.newExecution();
    let depth = 0;
    let prev = -1;
    let pre = 0;
    let end: End;
    for (;;) {
      ex.enabled(en);
      end = ending(ex, en.length);
      if (end !== End.Running) break;
      if (o.limit !== undefined && depth + 1 >= o.limit) break;
      let frame: Frame;
      if (depth < stack.length) {
        frame = stack[depth];
        const tid = choiceTid(frame.alts[frame.idx]);
        if (!ex.isEnabled(tid) || (frame.sig !== -2 && frame.sig !== ex.opSignature(tid)))
          diverged(s, ex, depth, tid, frame.op !== null ? showStep(frame.op, frame.val) : showSignature(frame.sig));
      } else {
        const alts: number[] = [];
        const prevEnabled = prev !== -1 && en.includes(prev);
        if (prevEnabled) pushAlts(ex.alternatives(prev), prev, alts);
        if (!prevEnabled || bound === undefined || pre < bound) {
          for (const tid of en) if (tid !== prev || !prevEnabled) pushAlts(ex.alternatives(tid), tid, alts);
        } else if (en.length > 1) pruned = true;
        frame = { alts, idx: 0, sig: -2, op: null, val: undefined, vsig: 0 };
        stack.push(frame);
      }
      const c = frame.alts[frame.idx];
      const tid = choiceTid(c);
      if (frame.sig === -2) frame.sig = ex.opSignature(tid);
      if (prev !== -1 && tid !== prev && ex.isEnabled(prev)) pre++;
      const op = ex.threads[tid].op as Op;
      ex.step(tid, choiceAlt(c));
      // A replayed step must leave the value its first run did (Math.random, clocks); the first run records it.
      const v = stepValue(op);
      if (frame.op === null) {
        frame.op = op;
        frame.val = v;
        frame.vsig = valueKey(v);
      } else if (frame.vsig !== valueKey(v))
        diverged(s, ex, depth, tid, showStep(frame.op, frame.val), showStep(op, v));
      prev = tid;
      depth++;
    }
    // An exploration may replay nothing (one execution, or alternatives at the root only): the first one replays twice.
    if (first) {
      first = false;
      checkReplaysAlike(s.program, sched(depth), ex.allViolations);
    }
    // All-violations mode: an execution that the limit cut may have raised some before.
    if (ex.violation && (end === End.Violation || end === End.Blocked || ex.allViolations)) {
      const full = sched(depth);
      const found: Cex = {
        violation: ex.violation,
        schedule: full.slice(0, ex.violationAt[0]),
        preemptions: pre,
        all: ex.violations,
        at: ex.violationAt,
        full,
      };
      cex ??= found;
      if (o.onCex ? o.onCex(found) : !s.opts.keepGoing) {
        s.count(end, depth, ex, sched);
        return { cex, pruned };
      }
    }
    if (s.count(end, depth, ex, sched)) return { cex, pruned };
    // An execution that ended early (a violation, a limit) leaves deeper frames of the last one.
    if (stack.length > depth) stack.length = depth;
    while (stack.length !== 0 && stack[stack.length - 1].idx + 1 >= stack[stack.length - 1].alts.length) stack.pop();
    if (stack.length === 0) return { cex, pruned };
    const top = stack[stack.length - 1];
    top.idx++;
    top.sig = -2;
    top.op = null;
  }
}

function pushAlts(n: number, tid: number, out: number[]): void {
  for (let a = 0; a < n; a++) out.push(encodeChoice(tid, a));
}

/** Every schedule that starts with `prefix` (a job of a split exploration), counted into `s`. */
export function runDfs<W>(s: Session<W>, prefix: readonly number[], prefixSigs?: readonly number[]): Cex | undefined {
  return pass(s, { prefix, prefixSigs }).cex;
}

export function dfs<W>(program: Program<W>, opts: ExploreOptions = {}): ExploreResult {
  const s = new Session(program, opts);
  const r = pass(s);
  // Stopping at the first violation leaves the rest unexplored.
  return s.result("dfs", !r.cex || opts.keepGoing === true, r.cex);
}

/** Default largest preemption bound for `bounded` (CHESS: most bugs need at most 2). */
export const DEFAULT_PREEMPTION_BOUND = 3;

export function bounded<W>(program: Program<W>, opts: ExploreOptions = {}): ExploreResult {
  const s = new Session(program, opts);
  const max = opts.preemptionBound ?? DEFAULT_PREEMPTION_BOUND;
  for (let b = 0; b <= max; b++) {
    s.phase = `preemption bound ${b}`;
    const r = pass(s, { bound: b });
    if (r.cex) return s.result("bounded", false, r.cex);
    if (s.interrupted) break;
    if (!r.pruned) return s.result("bounded", true);
  }
  return s.result("bounded", false);
}
