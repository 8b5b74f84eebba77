// mm/rmap.c: anon_vma locking, linking and the anon rmap walk.

import { type Gen, note, rmw, traced } from "../explore/index.js";
import {
  BUG_ON,
  type mutex,
  mutex_lock,
  mutex_unlock,
  READ_ONCE,
  spin_lock,
  spin_trylock,
  spin_unlock,
  type spinlock_t,
  WRITE_ONCE,
} from "../kernel/index.js";
import { page_remove_rmap, pmd_read, ptep_get_and_clear, put_page, set_pte_at } from "./memory.js";
import {
  type anon_vma,
  anon_vma_alloc,
  type anon_vma_chain,
  anon_vma_chain_alloc,
  hex,
  type MmWorld,
  PAGE_SIZE,
  type page,
  pte_of,
  VM_STACK_INCOMPLETE_SETUP,
  type vm_area_struct,
} from "./mm_types.js";
import { make_migration_entry } from "./swapops.js";

export const EFAULT = -14;

/** The lock anon_vma_lock(av) takes in this era. */
export function anon_vma_lockptr(w: MmWorld, av: anon_vma): spinlock_t | mutex {
  return w.cfg.anon_vma_lock === "own" ? av.lock : av.root.lock;
}

// include/linux/rmap.h, v2.6.34 / v2.6.36 / v3.0: anon_vma_lock — own spinlock, root spinlock, root mutex
export function* anon_vma_lock(w: MmWorld, av: anon_vma): Gen<void> {
  const l = anon_vma_lockptr(w, av);
  if (w.cfg.anon_vma_lock === "root-mutex") yield* mutex_lock(l as mutex);
  else yield* spin_lock(l as spinlock_t);
}

export function* anon_vma_unlock(w: MmWorld, av: anon_vma): Gen<void> {
  const l = anon_vma_lockptr(w, av);
  if (w.cfg.anon_vma_lock === "root-mutex") yield* mutex_unlock(l as mutex);
  else yield* spin_unlock(l as spinlock_t);
}

// include/linux/mm.h, v2.6.35: is_vma_temporary_stack
export function is_vma_temporary_stack(flags: number): boolean {
  return (flags & VM_STACK_INCOMPLETE_SETUP) === VM_STACK_INCOMPLETE_SETUP;
}

// mm/rmap.c, v3.0 (v2.6.34 plus Kamezawa's adjust_lock as a variant): vma_address
export const vma_address = traced("vma_address", function* (_w: MmWorld, p: page, vma: vm_area_struct): Gen<number> {
  const pgoff = yield* READ_ONCE(p.index);
  if (vma.adjust_lock) yield* spin_lock(vma.adjust_lock);
  const start = yield* READ_ONCE(vma.vm_start);
  const vm_pgoff = yield* READ_ONCE(vma.vm_pgoff);
  const address = start + (pgoff - vm_pgoff) * PAGE_SIZE;
  let ok = address >= start;
  let end = -1;
  if (ok) {
    end = yield* READ_ONCE(vma.vm_end);
    ok = address < end;
  }
  if (vma.adjust_lock) yield* spin_unlock(vma.adjust_lock);
  note(() =>
    ok
      ? `vma_address: ${vma.name} -> ${hex(address)}`
      : `vma_address: ${vma.name}: ${hex(address)} outside [${hex(start)}, ${end < 0 ? "?" : hex(end)}) -> -EFAULT, skip`,
  );
  return ok ? address : EFAULT;
});

export type RmapOne = (p: page, vma: vm_area_struct, address: number) => Gen<void>;

/** The same_anon_vma walk order (read under the anon_vma lock, which every writer of the list holds). */
function* walk_order(w: MmWorld, head: readonly anon_vma_chain[]): Gen<readonly anon_vma_chain[]> {
  if (w.cfg.same_anon_vma === "list") return head;
  // v3.7 interval tree: ordered by vm_pgoff (which changes under the same lock in 3.7), ties by insertion.
  const keyed: { pgoff: number; avc: anon_vma_chain }[] = [];
  for (const avc of head) keyed.push({ pgoff: yield* READ_ONCE(avc.vma.vm_pgoff), avc });
  // The sort is stable: ties stay in list (insertion) order, whatever ids the chains got.
  return keyed.sort((a, b) => a.pgoff - b.pgoff).map((k) => k.avc);
}

/**
 * mm/rmap.c, v3.0: rmap_walk_anon. The walker holds anon_vma_lock(page's
 * anon_vma) for the whole walk; the list is read once under it (every list
 * writer holds the same lock). Variants: the nested vma->anon_vma lock of
 * seed 003 (spin or trylock+retry). try_to_unmap_anon (walk 1) also skips the
 * exec temporary stack from v2.6.35 (a8bef8ff6ea1); remove_migration_ptes does not.
 */
export const rmap_walk_anon = traced(
  "rmap_walk_anon",
  function* (w: MmWorld, p: page, rmap_one: RmapOne, what: string, skip_temporary_stack = false): Gen<void> {
    const av = yield* READ_ONCE(p.mapping); // page_anon_vma: of a locked page, pinned by the migration's reference
    if (!av) return;
    retry: for (;;) {
      yield* anon_vma_lock(w, av);
      const head: readonly anon_vma_chain[] = yield* walk_order(w, yield* READ_ONCE(av.head));
      note(() => `${what}: ${av.name} list [${head.map((c) => c.vma.name).join(", ")}]`);
      for (const avc of head) {
        const vma = avc.vma;
        if (skip_temporary_stack) {
          const flags = yield* READ_ONCE(vma.vm_flags);
          if (is_vma_temporary_stack(flags)) {
            note(`${what}: ${vma.name} is the exec temporary stack, skip`);
            continue;
          }
        }
        let nested: anon_vma | null = null;
        if (w.cfg.walker_nested !== "none") {
          const vav = yield* READ_ONCE(vma.anon_vma);
          if (vav && vav !== av) {
            if (w.cfg.walker_nested === "spin") {
              yield* spin_lock(vav.lock as spinlock_t);
              note(`${what}: also takes ${vav.name}->lock for ${vma.name}`);
            } else if (!(yield* spin_trylock(vav.lock as spinlock_t))) {
              note(
                `${what}: spin_trylock(${vav.name}->lock) failed for ${vma.name}: drop ${av.name}->lock and retry the walk`,
              );
              yield* anon_vma_unlock(w, av);
              continue retry;
            }
            nested = vav;
          }
        }
        const address = yield* vma_address(w, p, vma);
        if (w.cfg.walker_nested === "spin" && nested) {
          // Minchan's sketch drops the nested lock before rmap_one.
          yield* spin_unlock(nested.lock as spinlock_t);
          nested = null;
        }
        if (address !== EFAULT) yield* rmap_one(p, vma, address);
        if (nested) yield* spin_unlock(nested.lock as spinlock_t);
      }
      yield* anon_vma_unlock(w, av);
      return;
    }
  },
);

// mm/rmap.c, v2.6.34: anon_vma_chain_link — list_add on same_vma, list_add_tail on same_anon_vma under the lock
export const anon_vma_chain_link = traced(
  "anon_vma_chain_link",
  function* (w: MmWorld, vma: vm_area_struct, av: anon_vma): Gen<void> {
    const avc = anon_vma_chain_alloc(w, vma, av);
    vma.anon_vma_chain = [avc, ...vma.anon_vma_chain]; // list_add: vma not yet visible or mmap_sem W held
    yield* anon_vma_lock(w, av);
    // list_add_tail under the lock every reader and writer of the list holds: one step.
    yield rmw(av.head, (h: readonly anon_vma_chain[]) => [...h, avc]);
    note(`anon_vma_chain_link: ${vma.name} added at the tail of ${av.name}`);
    yield* anon_vma_unlock(w, av);
  },
);

/**
 * mm/rmap.c, v3.0: anon_vma_prepare — give a faulting vma its anon_vma.
 * find_mergeable_anon_vma (reusing a compatible neighbour's anon_vma) is not
 * modeled: a vma without one always gets a new anon_vma.
 */
export const anon_vma_prepare = traced("anon_vma_prepare", function* (w: MmWorld, vma: vm_area_struct): Gen<void> {
  if (yield* READ_ONCE(vma.anon_vma)) return;
  const mm = vma.vm_mm;
  const av = anon_vma_alloc(w, null); // private until published below
  const avc = anon_vma_chain_alloc(w, vma, av);
  yield* anon_vma_lock(w, av);
  // page_table_lock protects vma->anon_vma against threads of the same mm faulting at once.
  yield* spin_lock(mm.page_table_lock);
  if (!(yield* READ_ONCE(vma.anon_vma))) {
    yield* WRITE_ONCE(vma.anon_vma, av);
    vma.anon_vma_chain = [avc, ...vma.anon_vma_chain]; // list_add on same_vma (mmap_sem held)
    yield rmw(av.head, (h: readonly anon_vma_chain[]) => [...h, avc]); // list_add_tail on same_anon_vma
    note(`anon_vma_prepare: ${vma.name} gets ${av.name}`);
  }
  yield* spin_unlock(mm.page_table_lock);
  yield* anon_vma_unlock(w, av);
});

// mm/rmap.c, v2.6.34: anon_vma_clone — walks src's same_vma in reverse (oldest first), linking dst at each tail
export const anon_vma_clone = traced(
  "anon_vma_clone",
  function* (w: MmWorld, dst: vm_area_struct, src: vm_area_struct): Gen<void> {
    for (const pavc of [...src.anon_vma_chain].reverse()) yield* anon_vma_chain_link(w, dst, pavc.anon_vma);
  },
);

// mm/rmap.c, v2.6.34 (root and refcount of v2.6.36): anon_vma_fork
export const anon_vma_fork = traced(
  "anon_vma_fork",
  function* (w: MmWorld, vma: vm_area_struct, pvma: vm_area_struct): Gen<void> {
    const pav = pvma.anon_vma.v; // parent's vma, under the parent's mmap_sem W
    if (!pav) return;
    yield* anon_vma_clone(w, vma, pvma);
    const av = anon_vma_alloc(w, pav);
    if (av.root !== av) yield rmw(av.root.refcount, (v: number) => v + 1); // get_anon_vma(anon_vma->root)
    yield* WRITE_ONCE(vma.anon_vma, av);
    yield* anon_vma_chain_link(w, vma, av);
  },
);

// mm/rmap.c, v3.0: unlink_anon_vmas — each avc off its anon_vma's list under the lock
export const unlink_anon_vmas = traced("unlink_anon_vmas", function* (w: MmWorld, vma: vm_area_struct): Gen<void> {
  for (const avc of vma.anon_vma_chain) {
    const av = avc.anon_vma;
    yield* anon_vma_lock(w, av);
    yield rmw(av.head, (h: readonly anon_vma_chain[]) => h.filter((c) => c !== avc)); // list_del
    note(`unlink_anon_vmas: ${vma.name} off ${av.name}`);
    yield* anon_vma_unlock(w, av);
  }
  vma.anon_vma_chain = [];
});

/**
 * mm/rmap.c, v3.3-rc1: anon_vma_moveto_tail (Andrea's v1 anon_vma_order_tail is
 * the same function). For each anon_vma of dst's chain, oldest first, under
 * the root lock: list_del + list_add_tail of dst's avc.
 */
export const anon_vma_moveto_tail = traced(
  "anon_vma_moveto_tail",
  function* (w: MmWorld, dst: vm_area_struct): Gen<void> {
    let locked: anon_vma | null = null;
    for (const pavc of [...dst.anon_vma_chain].reverse()) {
      const av = pavc.anon_vma;
      BUG_ON(pavc.vma !== dst, "anon_vma_moveto_tail: avc of another vma");
      // lock_anon_vma_root: one root lock for the whole chain
      if (!locked || anon_vma_lockptr(w, locked) !== anon_vma_lockptr(w, av)) {
        if (locked) yield* anon_vma_unlock(w, locked);
        yield* anon_vma_lock(w, av);
        locked = av;
      }
      yield rmw(av.head, (h: readonly anon_vma_chain[]) => [...h.filter((c) => c !== pavc), pavc]); // list_del + list_add_tail
      note(`anon_vma_moveto_tail: ${dst.name} moved to the tail of ${av.name}`);
    }
    if (locked) yield* anon_vma_unlock(w, locked);
  },
);

// mm/rmap.c, v3.0: try_to_unmap_one with TTU_MIGRATION for an anon page
export const try_to_unmap_one = traced(
  "try_to_unmap_one",
  function* (_w: MmWorld, p: page, vma: vm_area_struct, address: number): Gen<void> {
    const mm = vma.vm_mm;
    // page_check_address: the pmd read (pmd_present), then the PT lock, then a check that the pte maps this page
    const pt = yield* pmd_read(mm, address);
    if (!pt) return;
    const ptep = pte_of(pt, address);
    const ptl = pt.ptl;
    yield* spin_lock(ptl);
    const pte = yield* READ_ONCE(ptep);
    if (pte.k !== "present" || pte.pfn !== p.pfn) {
      yield* spin_unlock(ptl);
      return;
    }
    const pteval = yield* ptep_get_and_clear(ptep); // ptep_clear_flush_notify
    yield* set_pte_at(ptep, make_migration_entry(p, pteval.k === "present" && pteval.write));
    note(`try_to_unmap_one: ${mm.name} ${hex(address)} <- migration(page ${p.pfn})`);
    yield* page_remove_rmap(p);
    yield* put_page(p);
    yield* spin_unlock(ptl);
  },
);

/**
 * mm/rmap.c, v3.0: try_to_unmap(page, TTU_MIGRATION) → try_to_unmap_anon: walk 1
 * of a migration. Same walk as rmap_walk_anon (anon_vma lock for the whole
 * walk, vma_address, temporary-stack skip); the model does not stop early
 * once the page is unmapped, which only matters for speed.
 */
export const try_to_unmap = traced("try_to_unmap", function* (w: MmWorld, p: page): Gen<boolean> {
  yield* rmap_walk_anon(
    w,
    p,
    (pg, vma, addr) => try_to_unmap_one(w, pg, vma, addr),
    "try_to_unmap_anon",
    w.cfg.skip_temporary_stack,
  );
  const mapcount = yield* READ_ONCE(p._mapcount);
  return mapcount < 0; // SWAP_SUCCESS when !page_mapped
});
