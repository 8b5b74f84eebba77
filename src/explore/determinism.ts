// Non-determinism, caught: a model must behave the same whenever it is given
// the same schedule (DESIGN.md, "The execution model"). Replays compare each
// step's op and the value it read or wrote with the first run, and the
// world that setup() builds with the first execution's, and a mismatch names
// the step, the thread and both behaviours.

import { fmt } from "./execution.js";
import { isLockOp, K, type Loc, type Op, opNames } from "./ops.js";
import { ModelError } from "./violation.js";

/** A program that did something else on replay than on its first run (a ModelError: exit 2 from the CLI). */
export class NotDeterministic extends ModelError {}

const ADVICE = "keep all state in setup() and use choose() for nondeterminism";

export function notDeterministic(program: string, step: number, thread: string, first: string, again: string): never {
  throw new NotDeterministic(
    `${program} is not deterministic: step ${step} of thread ${thread} did ${first} on the first run and ${again} on replay; ${ADVICE}`,
  );
}

export function setupNotDeterministic(program: string, first: string, again: string): never {
  throw new NotDeterministic(
    `${program} is not deterministic: setup() built ${first} on the first run and ${again} on replay; ${ADVICE}`,
  );
}

/** The value a step of `op` left in its cell (what it read or wrote); undefined for locks and ops without a cell. */
export function stepValue(op: Op): unknown {
  const t = op.t;
  return t === null || isLockOp(op.k) ? undefined : (t as Loc).v;
}

/**
 * A cheap key of a value, to compare a replayed step's value with the first
 * run's: exact for small integers and booleans, Math.random's floats differ,
 * objects by their id (ids do not depend on the interleaving), arrays by length.
 */
export function valueKey(v: unknown): number {
  switch (typeof v) {
    case "number":
      return Number.isInteger(v) ? v | 0 : ((v * 0x3fffffff) | 0) ^ 0x5bd1e995;
    case "boolean":
      return v ? 0x1000001 : 0x1000002;
    case "undefined":
      return 0x1000003;
    case "string":
      return 0x2000000 + v.length * 65599 + (v.length === 0 ? 0 : v.charCodeAt(v.length - 1));
    case "object": {
      if (v === null) return 0x1000004;
      const id = (v as { id?: unknown }).id;
      if (typeof id === "number") return 0x3000000 + id;
      return Array.isArray(v) ? 0x4000000 + v.length : 0x1000005;
    }
    default:
      return 0x1000006;
  }
}

/** A step as a user reads it: "load x (0.37)", "trylock anon_vma2.lock". */
export function showStep(op: Op, value: unknown): string {
  const what = `${opNames[op.k]}${op.t !== null ? ` ${op.t.name}` : ""}`;
  return value === undefined || op.k === K.Await ? what : `${what} (${fmt(value)})`;
}

/** A step known only by its op signature (the prefix of a split exploration, made in another thread). */
export function showSignature(sig: number): string {
  if (sig < 0) return "nothing (the thread had finished)";
  // As Execution's signature() makes it: (id + 1)·32 + kind.
  const k = sig % 32;
  const id = Math.floor(sig / 32) - 1;
  return `${opNames[k] ?? "an op"}${id >= 0 ? ` of object #${id}` : ""}`;
}

const MAX_NODES = 4096;

/**
 * What setup() built, for comparison across executions: the threads and the cells reachable from the world (ids and value keys),
 * visiting at most MAX_NODES objects.
 */
export function worldPrint(world: unknown, threads: readonly { readonly name: string }[]): string {
  let cells = 0;
  let h = 0x811c9dc5;
  const mix = (x: number) => {
    h = Math.imul(h ^ x, 0x01000193);
  };
  const seen = new Set<object>();
  const stack: unknown[] = [world];
  while (stack.length !== 0 && seen.size < MAX_NODES) {
    const v = stack.pop();
    if (typeof v !== "object" || v === null || seen.has(v)) {
      if (typeof v !== "object" && typeof v !== "function") mix(valueKey(v));
      continue;
    }
    seen.add(v);
    const o = v as Record<string, unknown>;
    if (typeof o.id === "number" && "v" in o && "freed" in o) {
      cells++;
      mix(o.id as number);
      mix(valueKey(o.v));
      stack.push(o.v);
    } else if (Array.isArray(v)) {
      mix(v.length);
      for (const x of v) stack.push(x);
    } else if (!("holder" in o)) {
      for (const key of Object.keys(o)) stack.push(o[key]);
    }
  }
  // Threads' first ops are their behaviour, not setup's: a replayed step 0 compares them.
  return `${threads.length} threads (${threads.map((t) => t.name).join(", ")}), ${cells} cells, values #${(h >>> 0).toString(16)}`;
}
