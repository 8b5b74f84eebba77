// Exploring one piece of a split exploration, in whichever thread holds the program.

import type { Program } from "../program.js";
import type { ViolationReport } from "../result.js";
import { report, Session } from "../strategies/common.js";
import { runDfs } from "../strategies/dfs.js";
import { runDpor } from "../strategies/dpor.js";
import type { Piece, SplitStrategy } from "./split.js";

/** Options that cross a thread boundary (plain data). */
export interface PieceOptions {
  readonly keepGoing?: boolean;
  readonly maxExecutions?: number;
}

export interface PieceResult {
  readonly executions: number;
  readonly blocked: number;
  readonly sleepBlocked: number;
  readonly cut: number;
  readonly steps: number;
  readonly interrupted: boolean;
  /** dpor with `always` invariants: the invariant's view learned, and whether it went stale (the split must be redone). */
  readonly view?: readonly number[];
  readonly stale?: boolean;
  readonly cex?: { readonly violation: ViolationReport; readonly schedule: readonly number[] };
}

export function explorePiece<W>(
  program: Program<W>,
  strategy: SplitStrategy,
  piece: Piece,
  opts: PieceOptions,
  shouldStop?: () => boolean,
): PieceResult {
  const s = new Session(program, { keepGoing: opts.keepGoing, maxExecutions: opts.maxExecutions, shouldStop });
  const cex = strategy === "dpor" ? runDpor(s, piece) : runDfs(s, piece.prefix, piece.sigs);
  return {
    executions: s.executions,
    blocked: s.blocked,
    sleepBlocked: s.sleepBlocked,
    cut: s.cut,
    steps: s.steps,
    interrupted: s.interrupted,
    ...(s.view ? { view: [...s.view.ids], stale: s.view.stale } : {}),
    ...(cex ? { cex: { violation: report(cex.violation), schedule: cex.schedule } } : {}),
  };
}
