// Running model code inside setup(): the history a scenario starts from
// (mmap, faults, an earlier mremap, fork, walk 1 of a migration) is built by
// the same kernel functions the threads run, executed sequentially before
// any thread starts. Locks are taken and released as in a single-threaded
// run; a `choose` takes alternative 0 (no allocation failure).

import { type Gen, K, type Loc, type LockObj, ModelError, type Op } from "../explore/index.js";

export function run_to_completion<R>(g: Gen<R>): R {
  let res: unknown;
  for (;;) {
    const r = g.next(res);
    if (r.done) return r.value;
    res = apply(r.value);
  }
}

function apply(op: Op): unknown {
  const t = op.t;
  switch (op.k) {
    case K.Load:
    case K.Await: {
      const c = t as Loc;
      if (op.k === K.Await && !(op.a as (v: unknown) => boolean)(c.v)) throw new ModelError(`setup: await on ${c.name} would block`);
      return c.v;
    }
    case K.Store:
      (t as Loc).v = op.a;
      return undefined;
    case K.Rmw: {
      const c = t as Loc;
      const old = c.v;
      c.v = (op.a as (v: unknown) => unknown)(old);
      return old;
    }
    case K.Cas: {
      const c = t as Loc;
      const old = c.v;
      if (old === op.a) c.v = op.b;
      return old;
    }
    case K.Lock:
    case K.DownWrite:
    case K.DownRead:
    case K.Trylock:
    case K.DownWriteTry:
    case K.DownReadTry: {
      const l = t as LockObj;
      if (l.holder !== -1) throw new ModelError(`setup: ${l.name} taken twice`);
      if (op.k === K.DownRead || op.k === K.DownReadTry) l.readers.push(-2);
      else l.holder = -2;
      return true;
    }
    case K.Unlock:
    case K.UpWrite:
      (t as LockObj).holder = -1;
      return undefined;
    case K.UpRead:
      (t as LockObj).readers.pop();
      return undefined;
    case K.Choose:
    case K.Yield:
      return 0;
    case K.Free:
      for (const c of op.a as readonly Loc[]) c.freed = `${op.b as string} (in setup)`;
      return undefined;
    default:
      throw new ModelError(`setup: op ${op.k} cannot run before the threads start`);
  }
}
