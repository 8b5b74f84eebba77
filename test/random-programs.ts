// Seeded random programs for the differential oracle (dpor against dfs), in the
// spirit of dscheck's random-program harness: 2-4 threads of a few loads,
// stores, cmpxchgs, fetch-adds, critical sections, trylocks, awaits and local
// choices over 1-3 cells and 1-2 locks, some with assertions that can fail.
// Each program logs the events it performs, so that a test can compute the
// happens-before class of every execution with the explorer's own dependence.
// Optionally an invariant over x0 and x1 is checked after every step, one that
// intermediate states can break while final states keep it.

import { type Access, dependent, isVisible, makeAccess, NO_LOC } from "../src/explore/dependence.js";
import {
  awaitOp,
  cas,
  cell,
  choose,
  type Gen,
  K,
  type Loc,
  LockKind,
  type LockObj,
  load,
  lock,
  mulberry32,
  newLock,
  type Op,
  type Program,
  type Rng,
  rmw,
  store,
  type Thread,
  trylock,
  unlock,
  Violation,
} from "../src/explore/index.js";

export type Instr =
  | { readonly k: "load"; readonly loc: number; readonly reg: number }
  | { readonly k: "store"; readonly loc: number; readonly val: number; readonly reg?: number }
  | { readonly k: "cas"; readonly loc: number; readonly exp: number; readonly nv: number; readonly reg: number }
  | { readonly k: "add"; readonly loc: number; readonly reg: number }
  | { readonly k: "cs"; readonly lock: number; readonly body: readonly Instr[] }
  | { readonly k: "try"; readonly lock: number; readonly body: readonly Instr[]; readonly reg: number }
  | { readonly k: "await"; readonly loc: number; readonly val: number }
  | { readonly k: "choose"; readonly reg: number }
  | { readonly k: "assert"; readonly reg: number; readonly not: number };

export interface Spec {
  readonly seed: number;
  readonly cells: number;
  readonly locks: number;
  readonly threads: readonly (readonly Instr[])[];
  /** An invariant checked after every step: 0 "x0 + x1 != 2", 1 "not (x0 == 1 and x1 == 0)". */
  readonly always?: 0 | 1;
}

interface World {
  readonly c: Loc<number>[];
  readonly l: LockObj[];
  readonly regs: number[][];
  /** Events in execution order, as the dependence relation sees them. */
  readonly log: Access[];
}

const REGS = 3;

export interface GenOptions {
  /** Allow cmpxchg (value-dependent dependence). */
  readonly cas?: boolean;
  readonly locks?: boolean;
  readonly awaits?: boolean;
  readonly choose?: boolean;
  readonly asserts?: boolean;
  /** Add an invariant over x0 and x1 checked after every step (then 2-3 cells). */
  readonly always?: boolean;
}

/** A random program specification, determined by its seed. */
export function randomSpec(seed: number, o: GenOptions = {}): Spec {
  const rng = mulberry32(seed);
  const int = (n: number) => Math.floor(rng() * n);
  const cells = o.always ? 2 + int(2) : 1 + int(3);
  const locks = o.locks === false ? 0 : int(3);
  const nThreads = 2 + int(3);
  const threads: Instr[][] = [];
  for (let t = 0; t < nThreads; t++) {
    const steps = 1 + int(6 - nThreads);
    threads.push(block(rng, steps, cells, locks, o, 0));
  }
  if (o.always) return { seed, cells, locks, threads, always: int(2) as 0 | 1 };
  return { seed, cells, locks, threads };
}

function block(rng: Rng, steps: number, cells: number, locks: number, o: GenOptions, nest: number): Instr[] {
  const int = (n: number) => Math.floor(rng() * n);
  const out: Instr[] = [];
  for (let i = 0; i < steps; i++) {
    const loc = int(cells);
    const reg = int(REGS);
    const r = rng();
    if (r < 0.3) out.push({ k: "load", loc, reg });
    else if (r < 0.5) out.push(rng() < 0.5 ? { k: "store", loc, val: 1 + int(2) } : { k: "store", loc, val: 1, reg });
    else if (r < 0.62 && o.cas !== false) out.push({ k: "cas", loc, exp: int(2), nv: 1 + int(2), reg });
    else if (r < 0.68) out.push({ k: "add", loc, reg });
    else if (r < 0.8 && locks > 0 && nest < 1) {
      const body = block(rng, 1 + int(2), cells, locks, o, nest + 1);
      if (rng() < 0.25) out.push({ k: "try", lock: int(locks), body, reg });
      else out.push({ k: "cs", lock: int(locks), body });
    } else if (r < 0.84 && o.awaits === true) out.push({ k: "await", loc, val: int(2) });
    else if (r < 0.88 && o.choose === true) out.push({ k: "choose", reg });
    else out.push({ k: "load", loc, reg });
    if (o.asserts !== false && rng() < 0.15) out.push({ k: "assert", reg, not: 1 + int(2) });
  }
  return out;
}

/** The step invariant of a spec: a message for a bad state of x0 and x1, else null. */
export function stepInvariant(kind: 0 | 1, x0: number, x1: number): string | null {
  if (kind === 0) return x0 + x1 === 2 ? `x0 + x1 == 2 (x0 = ${x0})` : null;
  return x0 === 1 && x1 === 0 ? "x0 == 1 while x1 == 0" : null;
}

/** The program a spec describes; `onCheck` sees x0 and x1 whenever the step invariant is checked. */
export function specProgram(spec: Spec, onCheck?: (x0: number, x1: number) => void): Program<World> {
  const kind = spec.always;
  return {
    ...(kind === undefined
      ? {}
      : {
          invariants: [
            {
              name: "x0 and x1",
              always: true,
              check: (w: World) => {
                onCheck?.(w.c[0].v, w.c[1].v);
                return stepInvariant(kind, w.c[0].v, w.c[1].v);
              },
            },
          ],
        }),
    name: `random#${spec.seed}`,
    setup: () => ({
      c: Array.from({ length: spec.cells }, (_, i) => cell(`x${i}`, 0)),
      l: Array.from({ length: spec.locks }, (_, i) => newLock(`L${i}`, LockKind.Mutex)),
      regs: spec.threads.map(() => new Array<number>(REGS).fill(0)),
      log: [],
    }),
    threads: spec.threads.map((body, tid) => ({
      name: `T${tid}`,
      run: (w: World): Thread => run(w, tid, body),
    })),
  };
}

function* run(w: World, tid: number, body: readonly Instr[]): Gen {
  const regs = w.regs[tid];
  /** Performs one op and logs the event it was. */
  function* step(op: Op, alt = -1): Gen<unknown> {
    const res: unknown = yield op;
    let loc = op.t === null ? NO_LOC : op.t.id;
    let write: boolean;
    switch (op.k) {
      case K.Load:
      case K.Await:
        write = false;
        break;
      case K.Cas:
        write = res === op.a;
        break;
      case K.Trylock:
        write = res === true;
        break;
      case K.Choose:
        write = false;
        loc = NO_LOC;
        break;
      default:
        write = true;
    }
    w.log.push(makeAccess(tid, op.k === K.Choose ? (res as number) : Math.max(alt, 0), loc, write, null, false));
    return res;
  }
  for (const ins of body) yield* exec(ins);

  function* exec(ins: Instr): Gen {
    switch (ins.k) {
      case "load":
        regs[ins.reg] = (yield* step(load(w.c[ins.loc]))) as number;
        break;
      case "store":
        yield* step(store(w.c[ins.loc], ins.reg === undefined ? ins.val : regs[ins.reg] + ins.val));
        break;
      case "cas":
        regs[ins.reg] = (yield* step(cas(w.c[ins.loc], ins.exp, ins.nv))) as number;
        break;
      case "add":
        regs[ins.reg] = (yield* step(rmw(w.c[ins.loc], (v: number) => v + 1))) as number;
        break;
      case "cs":
        yield* step(lock(w.l[ins.lock]));
        for (const b of ins.body) yield* exec(b);
        yield* step(unlock(w.l[ins.lock]));
        break;
      case "try":
        if ((yield* step(trylock(w.l[ins.lock]))) === true) {
          regs[ins.reg] = 1;
          for (const b of ins.body) yield* exec(b);
          yield* step(unlock(w.l[ins.lock]));
        }
        break;
      case "await":
        yield* step(awaitOp(w.c[ins.loc], (v: number) => v === ins.val));
        break;
      case "choose":
        regs[ins.reg] = (yield* step(choose(2))) as number;
        break;
      case "assert":
        if (regs[ins.reg] === ins.not) throw new Violation("assertion", `T${tid}: r${ins.reg} == ${ins.not}`);
        break;
    }
  }
}

/** The final state of an execution: every cell and register. */
export function finalState(w: World): string {
  return `${w.c.map((c) => c.v).join(",")}|${w.regs.map((r) => r.join(",")).join(";")}`;
}

/**
 * The happens-before class of a logged execution, as its canonical
 * linearization: repeatedly the lowest thread whose next event has every
 * dependent earlier event already placed. A violation stops only its thread
 * (keepGoing), so its step is an event like any other.
 */
export function hbClass(log: readonly Access[], visible?: ReadonlySet<number>): string {
  // With an `always` invariant, writes to what it reads are dependent with each other (its view).
  const evs =
    visible === undefined
      ? log
      : log.map((a) =>
          makeAccess(a.tid, a.alt, a.loc, a.write, a.freed, false, isVisible(visible, a.loc, a.write, a.freed)),
        );
  const preds = evs.map((e, k) => {
    const p: number[] = [];
    for (let i = 0; i < k; i++) if (dependent(evs[i], e)) p.push(i);
    return p;
  });
  const placed = new Array<boolean>(evs.length).fill(false);
  const out: string[] = [];
  for (let n = 0; n < evs.length; n++) {
    let best = -1;
    for (let k = 0; k < evs.length; k++) {
      if (placed[k] || !preds[k].every((i) => placed[i])) continue;
      if (best < 0 || evs[k].tid < evs[best].tid) best = k;
    }
    placed[best] = true;
    out.push(`${evs[best].tid}/${evs[best].alt}`);
  }
  return out.join(" ");
}
