// Command-line parsing shared by the commands: flags with values, booleans,
// and clear usage errors.

import { parseArgs } from "node:util";
import { UsageError } from "./scenarios.js";

export type FlagSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

export function parse(
  argv: string[],
  flags: FlagSpec,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options: flags, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function intFlag(v: string | boolean | undefined, name: string, min = 0): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !/^\d+$/.test(v) || Number(v) < min)
    throw new UsageError(`--${name} takes a whole number${min > 0 ? ` >= ${min}` : ""}, not "${String(v)}"`);
  return Number(v);
}
