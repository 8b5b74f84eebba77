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
 * The strategy used when none is named: dpor where it applies. An invariant
 * checked after every step (`always`) looks at intermediate states, which dpor
 * does not promise to visit (it visits one execution per trace, so every final
 * state); such a program gets dfs.
 */
export function defaultStrategy<W>(program: Program<W>): string {
  return program.invariants?.some((i) => i.always) ? "dfs" : DEFAULT_STRATEGY;
}

export function explore<W>(program: Program<W>, strategy?: string, opts: ExploreOptions = {}): ExploreResult {
  strategy ??= defaultStrategy(program);
  const s = strategies[strategy];
  if (!s) throw new Error(`unknown strategy "${strategy}" (known: ${strategyNames().join(", ")})`);
  return s(program, opts);
}
