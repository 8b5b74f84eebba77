// include/linux/atomic.h and include/linux/refcount.h (lib/refcount.c, v6.x
// semantics): atomic_t and refcount_t as cells updated by atomic ops.
// refcount_t saturates on overflow and warns on increment-from-zero and
// underflow; in the model each warning is a refcount violation.

import { cas, cell, type Gen, type Loc, load, rmw, store, Violation } from "../explore/index.js";

export type atomic_t = Loc<number>;
export type refcount_t = Loc<number>;

export const ATOMIC_INIT = (name: string, v: number): atomic_t => cell(name, v);

export function* atomic_read(a: atomic_t): Gen<number> {
  return (yield load(a)) as number;
}
export function* atomic_set(a: atomic_t, v: number): Gen<void> {
  yield store(a, v);
}
export function* atomic_add_return(a: atomic_t, n: number): Gen<number> {
  return ((yield rmw(a, (v: number) => v + n)) as number) + n;
}
export function* atomic_inc(a: atomic_t): Gen<void> {
  yield rmw(a, (v: number) => v + 1);
}
export function* atomic_dec(a: atomic_t): Gen<void> {
  yield rmw(a, (v: number) => v - 1);
}
export function* atomic_inc_return(a: atomic_t): Gen<number> {
  return yield* atomic_add_return(a, 1);
}
export function* atomic_dec_and_test(a: atomic_t): Gen<boolean> {
  return (yield* atomic_add_return(a, -1)) === 0;
}
/** Returns the old value; stores `nv` iff the old value was `old`. */
export function* atomic_cmpxchg(a: atomic_t, old: number, nv: number): Gen<number> {
  return (yield cas(a, old, nv)) as number;
}

/** REFCOUNT_SATURATED: a refcount that overflowed stays here and is never freed. */
export const REFCOUNT_SATURATED = 0xc0000000 | 0;
/** The model's refcount limit (the kernel's is INT_MAX; nothing here gets near it). */
export const REFCOUNT_MAX = 0x7fffffff;

export const REFCOUNT_INIT = (name: string, v: number): refcount_t => cell(name, v);

export function* refcount_read(r: refcount_t): Gen<number> {
  return (yield load(r)) as number;
}
export function* refcount_set(r: refcount_t, v: number): Gen<void> {
  yield store(r, v);
}

/** refcount_inc: increment from zero is a use-after-free in the making. */
export function* refcount_inc(r: refcount_t): Gen<void> {
  const old = (yield rmw(r, (v: number) => (v === 0 ? 0 : v + 1))) as number;
  if (old === 0) throw new Violation("refcount", `refcount_t: addition on 0 of ${r.name}; use-after-free`);
}

/**
 * refcount_inc_not_zero: the kernel's try_cmpxchg loop; each attempt is a
 * read then a cmpxchg, so a racing decrement to zero is visible between them.
 */
export function* refcount_inc_not_zero(r: refcount_t): Gen<boolean> {
  let old = (yield load(r)) as number;
  for (;;) {
    if (old === 0) return false;
    const seen = (yield cas(r, old, old + 1)) as number;
    if (seen === old) return true;
    old = seen;
  }
}

/** refcount_dec_and_test: true when the count reached zero (the caller frees). */
export function* refcount_dec_and_test(r: refcount_t): Gen<boolean> {
  const old = (yield rmw(r, (v: number) => v - 1)) as number;
  if (old <= 0) throw new Violation("refcount", `refcount_t: underflow of ${r.name}; use-after-free`);
  return old === 1;
}

/** refcount_dec: must not reach zero (that would leak the object). */
export function* refcount_dec(r: refcount_t): Gen<void> {
  const old = (yield rmw(r, (v: number) => v - 1)) as number;
  if (old <= 0) throw new Violation("refcount", `refcount_t: underflow of ${r.name}; use-after-free`);
  if (old === 1) throw new Violation("refcount", `refcount_t: decrement hit 0 of ${r.name}; leaking memory`);
}
