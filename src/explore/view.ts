// The invariant's view: the cells and locks that an invariant checked after
// every step (`always`) reads, so that dpor can treat every write to one of
// them as dependent with every write to another (dependence.ts). A trace then
// fixes the order of the writes the invariant can see, and the one
// linearization dpor explores passes through every state of the view that any
// other linearization does: checking the invariant after each of its steps
// checks it in every reachable state.
//
// The view is learned, not declared: the invariant runs against a proxy of the
// world that records every cell whose `v` or `freed`, and every lock whose
// holder or readers, it reads. An invariant that follows pointers may read new
// cells in a state explored later; if such a cell had already been written as
// not visible, the reduction so far may have skipped states, and the
// exploration restarts with the larger view (a fixpoint: the view only grows).
//
// Why a proxy and not cells with an accessor for `v`: the executor reads and
// writes `cell.v` millions of times a second, and one plain object shape for
// every cell keeps those accesses monomorphic in every program, with step
// invariants or without; the proxy costs only while an invariant runs. Its
// limits: shared state is read through cells (as everywhere in a model) and
// plain fields are taken as fixed after setup; built-ins with internal slots
// (Map, Set, their iterators) run their methods on the real object, with
// proxied results; a class with #private fields cannot be read through it.

import { isVisible } from "./dependence.js";

export class InvariantView {
  /** The ids of the cells and locks an `always` invariant was seen to read. */
  readonly ids = new Set<number>();
  /** Ids that some access since the (re)start wrote while they were not visible. */
  private readonly written = new Set<number>();
  /** A newly read id had been written as not visible: the exploration must restart. */
  stale = false;
  /** Restarts so far. */
  restarts = 0;

  /** Records that the invariant read cell or lock `id`. */
  read(id: number): void {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    if (this.written.has(id)) this.stale = true;
  }

  /** Whether an access is a write to the view (dependence.ts isVisible), remembering the writes that are not. */
  vis(loc: number, write: boolean, freed: readonly number[] | null): boolean {
    if (isVisible(this.ids, loc, write, freed)) return true;
    if (write && loc >= 0) this.written.add(loc);
    if (freed !== null) for (const c of freed) this.written.add(c);
    return false;
  }

  /** Starts over with what was learned: nothing explored so far counts. */
  restart(): void {
    this.stale = false;
    this.written.clear();
    this.restarts++;
  }
}

let sink: InvariantView | null = null;
/** One proxy per object, so that identity comparisons between what the invariant reads still hold. */
const proxies = new WeakMap<object, object>();
const targets = new WeakMap<object, object>();

/** Runs `f` on `world` through a proxy that records what it reads into `view`. */
export function readThrough<W, R>(world: W, view: InvariantView, f: (w: W) => R): R {
  const prev = sink;
  sink = view;
  try {
    return f(wrap(world));
  } finally {
    sink = prev;
  }
}

function wrap<T>(v: T): T {
  if (typeof v !== "object" || v === null) return v;
  let p = proxies.get(v);
  if (p === undefined) {
    p = new Proxy(v, slotted(v) ? SLOTTED : PLAIN);
    proxies.set(v, p);
    targets.set(p, v);
  }
  return p as T;
}

function unwrap(v: unknown): unknown {
  if (typeof v === "function") return (...a: unknown[]) => (v as (...a: unknown[]) => unknown)(...a.map(wrap));
  if (typeof v !== "object" || v === null) return v;
  return targets.get(v) ?? v;
}

/** Objects whose methods need the real object as `this` (Map, Set, iterators, Date, ...); arrays and plain or class objects do not. */
function slotted(o: object): boolean {
  const tag = Object.prototype.toString.call(o);
  return tag !== "[object Object]" && tag !== "[object Array]" && tag !== "[object Error]";
}

function record(t: object, key: string | symbol): void {
  if (sink === null || typeof key !== "string") return;
  const o = t as { id?: unknown };
  if (typeof o.id !== "number") return;
  if ((key === "v" || key === "freed") && "v" in t && "freed" in t) sink.read(o.id);
  else if ((key === "holder" || key === "readers") && "holder" in t) sink.read(o.id);
}

const PLAIN: ProxyHandler<object> = {
  get(t, key, receiver) {
    record(t, key);
    const v = Reflect.get(t, key, receiver);
    if (typeof v !== "object" || v === null) return v;
    // A proxy must return a frozen property's own value: everything reachable from it counts as read.
    const d = Reflect.getOwnPropertyDescriptor(t, key);
    if (d !== undefined && !d.configurable && !d.writable && "value" in d) {
      readAll(v, new Set());
      return v;
    }
    return wrap(v);
  },
  set(t, key, value) {
    return Reflect.set(t, key, unwrap(value));
  },
};

const SLOTTED: ProxyHandler<object> = {
  get(t, key) {
    const v = Reflect.get(t, key, t);
    if (typeof v !== "function") return wrap(v);
    return (...args: unknown[]) => wrap((v as (...a: unknown[]) => unknown).apply(t, args.map(unwrap)));
  },
};

/** Records every cell and lock reachable from `v` (what a frozen object hides from the proxy). */
function readAll(v: unknown, seen: Set<object>): void {
  if (typeof v !== "object" || v === null || seen.has(v)) return;
  seen.add(v);
  record(v, "v");
  record(v, "holder");
  if (v instanceof Map) {
    for (const [k, x] of v) {
      readAll(k, seen);
      readAll(x, seen);
    }
  } else if (v instanceof Set) for (const x of v) readAll(x, seen);
  else for (const k of Object.keys(v)) readAll((v as Record<string, unknown>)[k], seen);
}
