// Ops: what a thread yields each time it is about to touch shared state.
//
// A thread is a generator; `yield op` hands the op to the scheduler, which
// decides who runs next, applies the op and resumes the thread with its
// result. Code between two yields is thread-local and atomic.

/** A shared memory cell: one location for dependence and for traces. */
export interface Loc<T = unknown> {
  readonly id: number;
  /** Name in traces: `vma1.vm_start`, `pte[0x21000]`. */
  readonly name: string;
  v: T;
  /** Non-null once the object owning this cell was freed: the reason, for the report. */
  freed: string | null;
  /** Renders the value in traces. */
  show?: (v: T) => string;
}

export enum LockKind {
  Spin = 0,
  Mutex = 1,
  RwSem = 2,
}

/** A sleeping or spinning lock. Every lock operation writes the lock. */
export interface LockObj {
  readonly id: number;
  readonly name: string;
  /** Lock class (lockdep): locks of one class share an order in the class graph. */
  readonly cls: string;
  readonly kind: LockKind;
  /** Thread holding it exclusively, or -1. */
  holder: number;
  /** Threads holding it for read (rwsem). */
  readers: number[];
  freed: string | null;
}

export enum K {
  Load = 0,
  Store = 1,
  Rmw = 2,
  Cas = 3,
  Lock = 4,
  Trylock = 5,
  Unlock = 6,
  DownRead = 7,
  DownReadTry = 8,
  UpRead = 9,
  DownWrite = 10,
  DownWriteTry = 11,
  UpWrite = 12,
  Downgrade = 13,
  Await = 14,
  Spawn = 15,
  Join = 16,
  Yield = 17,
  Choose = 18,
  Free = 19,
}

export const opNames: readonly string[] = [
  "load",
  "store",
  "rmw",
  "cmpxchg",
  "lock",
  "trylock",
  "unlock",
  "down_read",
  "down_read_trylock",
  "up_read",
  "down_write",
  "down_write_trylock",
  "up_write",
  "downgrade_write",
  "await",
  "spawn",
  "join",
  "yield",
  "choose",
  "free",
];

/**
 * One op. A single shape for every kind keeps the scheduler's hot path
 * monomorphic; `a` and `b` carry the kind's operands.
 */
export interface Op {
  readonly k: K;
  /** The cell or lock touched, or null. */
  readonly t: Loc | LockObj | null;
  /** Store: value. Rmw: update function. Cas: expected. Await: predicate. Spawn: body. Choose: count. Free: cells. */
  readonly a: unknown;
  /** Cas: new value. Spawn: thread name. Await / Choose: label for traces. */
  readonly b: unknown;
}

/** A thread body: a generator of ops, resumed with each op's result. */
// biome-ignore lint/suspicious/noExplicitAny: the value sent back depends on the op yielded.
export type Thread = Generator<Op, void, any>;
/** A model function called from a thread with `yield*`. */
// biome-ignore lint/suspicious/noExplicitAny: the value sent back depends on the op yielded.
export type Gen<R = void> = Generator<Op, R, any>;

const op = (k: K, t: Loc | LockObj | null, a?: unknown, b?: unknown): Op => ({ k, t, a, b });

/** Plain load of a cell (READ_ONCE). Resumes with the value. */
export const load = <T>(c: Loc<T>): Op => op(K.Load, c as Loc);
/** Plain store (WRITE_ONCE). */
export const store = <T>(c: Loc<T>, v: T): Op => op(K.Store, c as Loc, v);
/** Atomic read-modify-write: stores f(old), resumes with old. Always a write. */
export const rmw = <T>(c: Loc<T>, f: (old: T) => T): Op => op(K.Rmw, c as Loc, f);
/** cmpxchg: stores nv iff the cell holds exp; resumes with the old value. A failed cmpxchg is a read. */
export const cas = <T>(c: Loc<T>, exp: T, nv: T): Op => op(K.Cas, c as Loc, exp, nv);
/** Blocks until the lock is free, then takes it. `sub` is a lockdep subclass (spin_lock_nested). */
export const lock = (l: LockObj, sub?: number): Op => op(K.Lock, l, undefined, sub);
/** Takes the lock if free; resumes with true or false. A failed trylock is a read. */
export const trylock = (l: LockObj): Op => op(K.Trylock, l);
export const unlock = (l: LockObj): Op => op(K.Unlock, l);
export const downRead = (l: LockObj, sub?: number): Op => op(K.DownRead, l, undefined, sub);
export const downReadTry = (l: LockObj): Op => op(K.DownReadTry, l);
export const upRead = (l: LockObj): Op => op(K.UpRead, l);
export const downWrite = (l: LockObj, sub?: number): Op => op(K.DownWrite, l, undefined, sub);
export const downWriteTry = (l: LockObj): Op => op(K.DownWriteTry, l);
export const upWrite = (l: LockObj): Op => op(K.UpWrite, l);
export const downgrade = (l: LockObj): Op => op(K.Downgrade, l);
/**
 * Blocks until `pred(c.v)` holds, then reads the cell: the op for spin and
 * retry loops, so that the explorer never unrolls a spin.
 */
export const awaitOp = <T>(c: Loc<T>, pred: (v: T) => boolean, label?: string): Op =>
  op(K.Await, c as Loc, pred, label);
/** Starts a thread; resumes with its id. */
export const spawn = (name: string, body: () => Thread): Op => op(K.Spawn, null, body, name);
/** Blocks until thread `tid` has finished. */
export const join = (tid: number): Op => op(K.Join, null, tid);
/** A scheduling point that touches nothing. */
export const yieldOp = (): Op => op(K.Yield, null);
/** A nondeterministic choice among n alternatives (allocation failure, ...); resumes with 0..n-1. */
export const choose = (n: number, label?: string): Op => op(K.Choose, null, n, label);
/** Frees an object: writes all of its cells; any later access to them is a use after free. */
export const free = (cells: readonly Loc[], what: string): Op => op(K.Free, null, cells, what);

/** Lock, trylock, unlock and the rwsem ops. */
export function isLockOp(k: K): boolean {
  return k >= K.Lock && k <= K.Downgrade;
}
