// include/asm-generic/rwonce.h: READ_ONCE / WRITE_ONCE. Every shared access in
// the model is one, since the model is sequentially consistent.

import { type Gen, type Loc, load, store } from "../explore/index.js";

export function* READ_ONCE<T>(c: Loc<T>): Gen<T> {
  return (yield load(c)) as T;
}

export function* WRITE_ONCE<T>(c: Loc<T>, v: T): Gen<void> {
  yield store(c, v);
}
