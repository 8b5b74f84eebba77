// The strategies by name.

import type { Program } from "../program.js";
import type { ExploreOptions, ExploreResult } from "../result.js";
import { bounded, dfs } from "./dfs.js";
import { dpor } from "./dpor.js";
import { pct } from "./pct.js";
import { random } from "./random.js";

export type Strategy = <W>(program: Program<W>, opts?: ExploreOptions) => ExploreResult;

export const strategies: Record<string, Strategy> = {
  dfs,
  dpor,
  bounded,
  random,
  pct,
};

export const strategyNames = (): string[] => Object.keys(strategies);

/** The default strategy: exhaustive, one execution per Mazurkiewicz trace. */
export const DEFAULT_STRATEGY = "dpor";

/**
 * The strategy used when none is named: dpor, also for an invariant checked
 * after every step (`always`), whose writes dpor orders so that it visits
 * every state the invariant can see (view.ts).
 */
export function defaultStrategy<W>(_program: Program<W>): string {
  return DEFAULT_STRATEGY;
}

export function explore<W>(program: Program<W>, strategy?: string, opts: ExploreOptions = {}): ExploreResult {
  strategy ??= defaultStrategy(program);
  const s = strategies[strategy];
  if (!s) throw new Error(`unknown strategy "${strategy}" (known: ${strategyNames().join(", ")})`);
  return s(program, opts);
}
