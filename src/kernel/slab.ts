// mm/slab_common.c semantics: kmem_cache_alloc / kmem_cache_free and object
// lifetimes. A slab object is a record of cells; freeing it writes them all,
// and any later access is a use-after-free. A SLAB_TYPESAFE_BY_RCU cache keeps
// freed memory type-stable: a reader may still touch a freed object, and the
// next allocation may hand the same object straight back out.

import { cell, free, type Gen, type Loc, rmw, store } from "../explore/index.js";

export interface kmem_cache<T extends object> {
  readonly name: string;
  readonly typesafe_by_rcu: boolean;
  /** Builds a fresh object's cells (called in setup or by the allocating thread). */
  readonly ctor: (id: number) => T;
  /**
   * Freed objects of a typesafe cache, most recent last: a cell, since which
   * object an allocation gets depends on the frees before it.
   */
  readonly freelist: Loc<readonly T[]>;
  /** For names only (`obj3`): counts fresh objects in the order they are made. */
  nextId: number;
}

export const SLAB_TYPESAFE_BY_RCU = 1;

export function kmem_cache_create<T extends object>(
  name: string,
  flags: number,
  ctor: (id: number) => T,
): kmem_cache<T> {
  const freelist = cell<readonly T[]>(`${name}.freelist`, [], (l) => `${l.length} free`);
  return { name, typesafe_by_rcu: (flags & SLAB_TYPESAFE_BY_RCU) !== 0, ctor, freelist, nextId: 0 };
}

/** The cells of a slab object: its fields that are cells. */
export function objectCells(obj: object): Loc[] {
  const out: Loc[] = [];
  for (const v of Object.values(obj)) {
    if (v !== null && typeof v === "object" && "id" in v && "freed" in v && "name" in v) out.push(v as Loc);
  }
  return out;
}

/**
 * kmem_cache_alloc: a new object, or (typesafe cache) the most recently freed
 * one, whose fields the caller must re-initialise. From a typesafe cache it
 * is a step on the freelist; a fresh object touches no shared state another
 * thread can observe, so it costs no step.
 */
export function* kmem_cache_alloc<T extends object>(c: kmem_cache<T>): Gen<T> {
  if (c.typesafe_by_rcu) {
    const free = (yield rmw(c.freelist, (l: readonly T[]) => (l.length ? l.slice(0, -1) : l))) as readonly T[];
    if (free.length) return free[free.length - 1];
  }
  return c.ctor(c.nextId++);
}

/**
 * kmem_cache_free: one step that writes every cell of the object. In a
 * typesafe cache the object stays readable and goes back on the freelist.
 */
export function* kmem_cache_free<T extends object>(c: kmem_cache<T>, obj: T, what?: string): Gen<void> {
  const cells = objectCells(obj);
  if (c.typesafe_by_rcu) {
    // The free writes the object (its memory goes back to the slab), then puts it on the freelist.
    if (cells.length) yield store(cells[0], cells[0].v);
    yield rmw(c.freelist, (l: readonly T[]) => [...l, obj]);
    return;
  }
  yield free(cells, what ?? `kmem_cache_free(${c.name})`);
}

/** kfree of an object that is not from a named cache. */
export function* kfree(obj: object, what = "kfree"): Gen<void> {
  yield free(objectCells(obj), what);
}
