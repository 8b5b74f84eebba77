// Kernel locks on top of the explorer's lock ops: spinlock_t
// (include/linux/spinlock.h), struct mutex (kernel/locking/mutex.c) and
// struct rw_semaphore (kernel/locking/rwsem.c). The model's rwsem lets a
// reader in whenever no writer holds it (no writer-waiting fairness).

import {
  downgrade,
  downRead,
  downReadTry,
  downWrite,
  downWriteTry,
  type Gen,
  LockKind,
  type LockObj,
  lock,
  newLock,
  trylock,
  unlock,
  upRead,
  upWrite,
} from "../explore/index.js";

export type spinlock_t = LockObj & { readonly kind: LockKind.Spin };
export type mutex = LockObj & { readonly kind: LockKind.Mutex };
export type rw_semaphore = LockObj & { readonly kind: LockKind.RwSem };

/** spin_lock_init. `cls` is the lockdep class, shared by all locks initialised at one site. */
export const spin_lock_init = (name: string, cls?: string): spinlock_t =>
  newLock(name, LockKind.Spin, cls) as spinlock_t;
export const mutex_init = (name: string, cls?: string): mutex => newLock(name, LockKind.Mutex, cls) as mutex;
export const init_rwsem = (name: string, cls?: string): rw_semaphore =>
  newLock(name, LockKind.RwSem, cls) as rw_semaphore;

export function* spin_lock(l: spinlock_t): Gen<void> {
  yield lock(l);
}
/** spin_lock_nested: the same lock, annotated with a lockdep subclass. */
export function* spin_lock_nested(l: spinlock_t, subclass: number): Gen<void> {
  yield lock(l, subclass);
}
export function* spin_trylock(l: spinlock_t): Gen<boolean> {
  return (yield trylock(l)) as boolean;
}
export function* spin_unlock(l: spinlock_t): Gen<void> {
  yield unlock(l);
}

export function* mutex_lock(l: mutex): Gen<void> {
  yield lock(l);
}
export function* mutex_lock_nested(l: mutex, subclass: number): Gen<void> {
  yield lock(l, subclass);
}
export function* mutex_trylock(l: mutex): Gen<boolean> {
  return (yield trylock(l)) as boolean;
}
export function* mutex_unlock(l: mutex): Gen<void> {
  yield unlock(l);
}

export function* down_read(l: rw_semaphore): Gen<void> {
  yield downRead(l);
}
export function* down_read_nested(l: rw_semaphore, subclass: number): Gen<void> {
  yield downRead(l, subclass);
}
export function* down_read_trylock(l: rw_semaphore): Gen<boolean> {
  return (yield downReadTry(l)) as boolean;
}
export function* up_read(l: rw_semaphore): Gen<void> {
  yield upRead(l);
}
export function* down_write(l: rw_semaphore): Gen<void> {
  yield downWrite(l);
}
export function* down_write_nested(l: rw_semaphore, subclass: number): Gen<void> {
  yield downWrite(l, subclass);
}
export function* down_write_trylock(l: rw_semaphore): Gen<boolean> {
  return (yield downWriteTry(l)) as boolean;
}
export function* up_write(l: rw_semaphore): Gen<void> {
  yield upWrite(l);
}
export function* downgrade_write(l: rw_semaphore): Gen<void> {
  yield downgrade(l);
}
