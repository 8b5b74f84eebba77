// Seeded random programs whose threads allocate, for the differential oracle
// (dpor against dfs): threads make objects (a cell and a lock each) in their
// own code, publish them through shared pointer cells, read and write and
// lock what other threads published, free them directly or from a spawned
// callback (as call_rcu does), spawn children that inherit the object they
// hold, and join them. Object identities must not depend on the interleaving
// (Execution.allocId): with a global allocation counter, dpor confuses the
// objects of two allocating threads once it reorders them.

import { type Access, locOf, makeAccess, writeOf } from "../src/explore/dependence.js";
import {
  cell,
  type Execution,
  free,
  type Gen,
  join,
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
  spawn,
  store,
  type Thread,
  unlock,
  Violation,
} from "../src/explore/index.js";

export interface Obj {
  readonly name: string;
  readonly f: Loc<number>;
  readonly l: LockObj;
}

export type AInstr =
  | { readonly k: "new" }
  | { readonly k: "pub"; readonly p: number }
  | { readonly k: "get"; readonly p: number }
  | { readonly k: "oload" }
  | { readonly k: "ostore"; readonly val: number }
  | { readonly k: "ocs" }
  | { readonly k: "kfree" }
  | { readonly k: "rcufree" }
  | { readonly k: "xload" }
  | { readonly k: "xstore"; readonly val: number }
  | { readonly k: "spawn"; readonly body: readonly AInstr[] }
  | { readonly k: "join" }
  | { readonly k: "assert"; readonly not: number };

export interface ASpec {
  readonly seed: number;
  /** Shared pointer cells. */
  readonly ptrs: number;
  readonly threads: readonly (readonly AInstr[])[];
}

interface TLocal {
  obj: Obj | null;
  reg: number;
  made: number;
  kids: number[];
}

export interface AWorld {
  readonly x: Loc<number>;
  readonly p: Loc<Obj | null>[];
  /** Per thread name: what it last read (the final state includes it). */
  readonly regs: Map<string, number>;
  readonly log: Access[];
}

/**
 * Two families. "dense": three threads that each allocate between shared
 * steps and touch what they made, over one pointer cell: the shape that
 * exposed interleaving-dependent identities (with a global allocation
 * counter dpor runs sleep-set blocked executions here, and loses traces on
 * four threads). "rich": frees (direct and from a spawned callback, as
 * call_rcu does), locks inside objects, spawned children that inherit an
 * object, joins, and assertions.
 */
export type AllocFamily = "dense" | "rich";

/** A random allocating program, determined by its seed and family. */
export function randomAllocSpec(seed: number, family: AllocFamily): ASpec {
  const rng = mulberry32(seed);
  const int = (n: number) => Math.floor(rng() * n);
  const threads: AInstr[][] = [];
  if (family === "dense") {
    for (let t = 0; t < 3; t++) threads.push(denseBlock(rng, 1 + int(3)));
    return { seed, ptrs: 1, threads };
  }
  const ptrs = 1 + int(2);
  const nThreads = 2 + int(2);
  for (let t = 0; t < nThreads; t++) threads.push(richBlock(rng, 1 + int(3), ptrs, 0));
  return { seed, ptrs, threads };
}

function denseBlock(rng: Rng, steps: number): AInstr[] {
  const out: AInstr[] = [];
  for (let i = 0; i < steps; i++) {
    const r = rng();
    if (r < 0.35) out.push({ k: "xload" }, { k: "new" }, { k: "ostore", val: 1 });
    else if (r < 0.5) out.push({ k: "xstore", val: rng() < 0.5 ? 1 : 2 }, { k: "new" });
    else if (r < 0.65) out.push({ k: "pub", p: 0 });
    else if (r < 0.8) out.push({ k: "get", p: 0 }, { k: "ostore", val: 2 });
    else if (r < 0.9) out.push({ k: "oload" });
    else out.push({ k: "xstore", val: 1 });
  }
  return out;
}

function richBlock(rng: Rng, steps: number, ptrs: number, nest: number): AInstr[] {
  const int = (n: number) => Math.floor(rng() * n);
  // A top-level thread starts by sharing: it publishes an object of its own or picks up a published one.
  const out: AInstr[] =
    nest > 0 ? [] : rng() < 0.5 ? [{ k: "new" }, { k: "pub", p: int(ptrs) }] : [{ k: "get", p: int(ptrs) }];
  for (let i = 0; i < steps; i++) {
    const r = rng();
    if (r < 0.2) out.push({ k: "xload" }, { k: "new" }, { k: "ostore", val: 1 });
    else if (r < 0.28) out.push({ k: "new" });
    else if (r < 0.36) out.push({ k: "pub", p: int(ptrs) });
    else if (r < 0.46) out.push({ k: "get", p: int(ptrs) }, rng() < 0.5 ? { k: "ostore", val: 2 } : { k: "ocs" });
    else if (r < 0.52) out.push({ k: "oload" });
    else if (r < 0.6) out.push({ k: "ocs" });
    else if (r < 0.66) out.push({ k: "kfree" });
    else if (r < 0.71) out.push({ k: "rcufree" });
    else if (r < 0.77) out.push({ k: "xstore", val: 1 + int(2) });
    else if (r < 0.87 && nest === 0) {
      out.push({ k: "spawn", body: richBlock(rng, 1 + int(2), ptrs, nest + 1) });
      if (rng() < 0.6) out.push({ k: "join" });
    } else out.push({ k: "get", p: int(ptrs) });
    if (rng() < 0.25) out.push({ k: "assert", not: 1 + int(2) });
  }
  return out;
}

export function allocProgram(spec: ASpec): Program<AWorld> {
  return {
    name: `random-alloc#${spec.seed}`,
    setup: () => ({
      x: cell("x", 0),
      p: Array.from({ length: spec.ptrs }, (_, i) => cell<Obj | null>(`p${i}`, null, (o) => o?.name ?? "NULL")),
      regs: new Map(),
      log: [],
    }),
    // Every step is logged as the dependence relation sees it, a violating one too (its thread never resumes).
    monitors: () => [{ onStep: (ex, tid, op, alt) => (ex.world as AWorld).log.push(stepAccess(ex, tid, op, alt)) }],
    threads: spec.threads.map((body, t) => ({
      name: `T${t}`,
      run: (w: AWorld): Thread => arun(w, `T${t}`, body, null),
    })),
  };
}

function* arun(w: AWorld, name: string, body: readonly AInstr[], inherited: Obj | null): Gen {
  const me: TLocal = { obj: inherited, reg: 0, made: 0, kids: [] };
  for (const ins of body) yield* exec(ins);
  w.regs.set(name, me.reg);

  function* exec(ins: AInstr): Gen {
    const o = me.obj;
    switch (ins.k) {
      case "new": {
        const n = `${name}.o${me.made++}`;
        me.obj = { name: n, f: cell(`${n}.f`, 0), l: newLock(`${n}.l`, LockKind.Mutex, "obj.l") };
        break;
      }
      case "pub":
        yield store(w.p[ins.p], o);
        break;
      case "get":
        me.obj = (yield load(w.p[ins.p])) as Obj | null;
        break;
      case "oload":
        if (o) me.reg = (yield load(o.f)) as number;
        break;
      case "ostore":
        if (o) yield store(o.f, ins.val);
        break;
      case "ocs":
        if (o) {
          yield lock(o.l);
          me.reg = (yield rmw(o.f, (v: number) => v + 1)) as number;
          yield unlock(o.l);
        }
        break;
      case "kfree":
        if (o) yield free([o.f as Loc, o.l as unknown as Loc], `kfree(${o.name})`);
        break;
      case "rcufree":
        // call_rcu: the object is freed later, by a callback thread of its own.
        if (o) yield spawn(`${name}.rcu`, () => arun(w, `${name}.rcu`, [{ k: "kfree" }], o));
        break;
      case "xload":
        me.reg = (yield load(w.x)) as number;
        break;
      case "xstore":
        yield store(w.x, ins.val);
        break;
      case "spawn": {
        const child = `${name}.c${me.kids.length}`;
        me.kids.push((yield spawn(child, () => arun(w, child, ins.body, o))) as number);
        break;
      }
      case "join":
        if (me.kids.length) yield join(me.kids[me.kids.length - 1]);
        break;
      case "assert":
        if (me.reg === ins.not) throw new Violation("assertion", `${name}: reg == ${ins.not}`);
        break;
    }
  }
}

/** The access a step made, from what the executor saw (as dpor's event records have it). */
function stepAccess(ex: Execution<unknown>, tid: number, op: Op, alt: number): Access {
  const freed = ex.lastFreed === null ? null : ex.lastFreed.map((c) => c.id);
  return makeAccess(tid, alt, locOf(op.k, ex.lastTarget), writeOf(op.k, ex.lastWrite), freed, false);
}

/** The final state: x, what each pointer cell points to with its field, and every thread's register. */
export function allocFinalState(w: AWorld): string {
  const ptrs = w.p.map((c) => (c.v === null ? "NULL" : `${c.v.name}=${c.v.f.freed === null ? c.v.f.v : "freed"}`));
  const regs = [...w.regs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([n, r]) => `${n}:${r}`);
  return `${w.x.v}|${ptrs.join(",")}|${regs.join(",")}`;
}
