// include/linux/seqlock.h: seqcount_t. The writer makes the count odd for the
// duration of the update; readers wait for an even count and retry when it
// changed under them.

import { awaitOp, cell, type Gen, type Loc, load, rmw } from "../explore/index.js";

export type seqcount_t = Loc<number>;

export const seqcount_init = (name: string): seqcount_t => cell(name, 0);

export function* write_seqcount_begin(s: seqcount_t): Gen<void> {
  yield rmw(s, (v: number) => v + 1);
}
export function* write_seqcount_end(s: seqcount_t): Gen<void> {
  yield rmw(s, (v: number) => v + 1);
}
/** read_seqcount_begin: spins (awaits) while a writer is inside. */
export function* read_seqcount_begin(s: seqcount_t): Gen<number> {
  return (yield awaitOp(s, (v: number) => (v & 1) === 0, `${s.name} even`)) as number;
}
export function* read_seqcount_retry(s: seqcount_t, start: number): Gen<boolean> {
  return ((yield load(s)) as number) !== start;
}
