// Splitting one exploration into disjoint pieces: the first levels of the
// tree are explored eagerly, each piece is one prefix, and the pieces are
// explored separately (worker threads, shards on other machines). For dfs a
// piece is every schedule that starts with its prefix. For dpor the first
// levels are a plain sleep-set search over every enabled event, and each piece
// carries the sleep set at its prefix; below it runs optimal DPOR, whose
// races never reach above the piece (the levels above already take every
// event) and which stops an execution before an event of that sleep set runs
// while still asleep (dpor.ts). So the pieces' traces are disjoint and
// together they are all the traces; the price is some sleep-set blocked
// executions, where a piece lacks the wakeup sequences its siblings' races
// would have given it. Each piece also carries the signatures of its prefix
// ops, so that a thread that rebuilds the program checks it made the same one.
// With an invariant checked after every step, the split and every piece use
// one invariant's view (view.ts); a piece that finds it stale makes the caller
// split again with the larger one.

import { type Access, dependent, locOf, makeAccess, writeOf } from "../dependence.js";
import { choiceAlt, choiceTid, Execution, encodeChoice } from "../execution.js";
import type { Op } from "../ops.js";
import type { Program } from "../program.js";
import { End, ending } from "../strategies/common.js";
import { InvariantView } from "../view.js";

/** One piece of an exploration: the schedule prefix it starts from, and (dpor) the sleep set there. */
export interface Piece {
  readonly prefix: readonly number[];
  /** The signature of each prefix op when the split ran it: a thread that explores the piece checks them. */
  readonly sigs: readonly number[];
  readonly sleep: readonly Access[];
  /** The invariant's view the sleep set was made with (dpor, `always` invariants). */
  readonly view?: readonly number[];
}

export type SplitStrategy = "dfs" | "dpor";

/** How deep the eager levels may go. */
const MAX_SPLIT_DEPTH = 12;

/**
 * Splits the exploration of `program` into at least `minPieces` pieces where
 * the program branches enough (fewer when it does not), deterministically:
 * the same program and count always give the same pieces in the same order.
 * `sleepBlocked` counts prefixes dropped because every event there was asleep.
 */
export function split<W>(
  program: Program<W>,
  strategy: SplitStrategy,
  minPieces: number,
  viewIds: readonly number[] = [],
): { pieces: Piece[]; sleepBlocked: number } {
  if (strategy === "dfs" || !program.invariants?.some((i) => i.always))
    return splitWith(program, strategy, minPieces, null);
  const view = new InvariantView();
  for (const id of viewIds) view.ids.add(id);
  replayPrefix(program, [], view).probeInvariants();
  for (;;) {
    const r = splitWith(program, strategy, minPieces, view);
    if (!view.stale) {
      const ids = [...view.ids];
      return { pieces: r.pieces.map((p) => ({ ...p, view: ids })), sleepBlocked: r.sleepBlocked };
    }
    view.restart();
  }
}

function splitWith<W>(
  program: Program<W>,
  strategy: SplitStrategy,
  minPieces: number,
  view: InvariantView | null,
): { pieces: Piece[]; sleepBlocked: number } {
  let level: Piece[] = [{ prefix: [], sigs: [], sleep: [] }];
  let sleepBlocked = 0;
  for (let depth = 0; level.length < minPieces && depth < MAX_SPLIT_DEPTH; depth++) {
    const next: Piece[] = [];
    let grew = false;
    for (const piece of level) {
      const kids = expand(program, strategy, piece, view);
      if (kids === null) next.push(piece);
      else {
        grew = true;
        if (kids.length === 0) sleepBlocked++;
        next.push(...kids);
      }
    }
    level = next;
    if (!grew) break;
  }
  return { pieces: level, sleepBlocked };
}

/** The children of a piece one level down, or null when its prefix already ended the execution. */
function expand<W>(
  program: Program<W>,
  strategy: SplitStrategy,
  piece: Piece,
  view: InvariantView | null,
): Piece[] | null {
  const ex = replayPrefix(program, piece.prefix, view);
  const en = ex.enabled();
  if (ending(ex, en.length) !== End.Running) return null;
  const kids: Piece[] = [];
  const done: Access[] = [];
  for (const tid of en) {
    for (let alt = 0; alt < ex.alternatives(tid); alt++) {
      const c = encodeChoice(tid, alt);
      const sigs = [...piece.sigs, ex.opSignature(tid)];
      if (strategy === "dfs") {
        kids.push({ prefix: [...piece.prefix, c], sigs, sleep: [] });
        continue;
      }
      if (piece.sleep.some((q) => q.tid === tid && q.alt === alt)) continue;
      const acc = accessOf(program, piece.prefix, tid, alt, view);
      const sleep = [...piece.sleep, ...done].filter((q) => !dependent(q, acc));
      kids.push({ prefix: [...piece.prefix, c], sigs, sleep });
      done.push(acc);
    }
  }
  return kids;
}

function replayPrefix<W>(program: Program<W>, prefix: readonly number[], view: InvariantView | null): Execution<W> {
  const ex = new Execution(program, { monitors: program.monitors ? program.monitors() : [] });
  ex.view = view;
  for (const c of prefix) ex.step(choiceTid(c), choiceAlt(c));
  return ex;
}

/** The access of (tid, alt) right after `prefix`, by running it. */
function accessOf<W>(
  program: Program<W>,
  prefix: readonly number[],
  tid: number,
  alt: number,
  view: InvariantView | null,
): Access {
  const ex = replayPrefix(program, prefix, view);
  const op = ex.threads[tid].op as Op;
  ex.step(tid, alt);
  const freed = ex.lastFreed === null ? null : ex.lastFreed.map((c) => c.id);
  const daemons = program.threads.some((t) => t.daemon === true);
  // A violation stops only its thread (keepGoing) or the search: only completion while daemons run is a stop.
  const stop = daemons && !ex.cut && ex.finished();
  const loc = locOf(op.k, ex.lastTarget);
  const write = writeOf(op.k, ex.lastWrite);
  return makeAccess(tid, alt, loc, write, freed, stop, view?.vis(loc, write, freed) === true);
}
