// mm/memory.c: page faults, zap, copy_page_range; pte accessors of
// include/asm-generic/pgtable.h. Each pte access is one step: ptes are read
// locklessly by the pre-3.1 remove_migration_pte peek and by handle_pte_fault.

import { type Gen, type Loc, ModelError, note, rmw, traced } from "../explore/index.js";
import { READ_ONCE, spin_lock, spin_lock_nested, spin_unlock, WRITE_ONCE } from "../kernel/index.js";
import {
  alloc_page,
  hex,
  type MmWorld,
  type mm_struct,
  PAGE_SIZE,
  PTE_NONE,
  type page,
  pfn_to_page,
  pmd_offset,
  pte_alloc_one,
  pte_of,
  type pte_page,
  type pte_t,
  showPte,
  VM_WRITE,
  type vm_area_struct,
} from "./mm_types.js";
import { anon_vma_prepare } from "./rmap.js";
import { is_migration_entry, migration_entry_to_page } from "./swapops.js";

export const SINGLE_DEPTH_NESTING = 1;

/**
 * The lockless pmd read of pte_offset_map, page_check_address and the page
 * walkers (pmd_none / pmd_present): the page-table page, or null. A step,
 * since __pte_alloc populates pmds under page_table_lock, which no reader holds.
 */
export function* pmd_read(mm: mm_struct, addr: number): Gen<pte_page | null> {
  return yield* READ_ONCE(pmd_offset(mm, addr));
}

// mm/memory.c, v3.0: __pte_alloc
/**
 * Allocates a page-table page, then under page_table_lock populates the pmd
 * unless another thread did first ("Has another populated it ?"), in which
 * case the new page is freed (pte_free). Returns the page-table page in place.
 */
export const __pte_alloc = traced("__pte_alloc", function* (w: MmWorld, mm: mm_struct, addr: number): Gen<pte_page> {
  const pmd = pmd_offset(mm, addr);
  const fresh = pte_alloc_one(w, mm, addr);
  yield* spin_lock(mm.page_table_lock);
  const cur = yield* READ_ONCE(pmd);
  if (cur === null) {
    yield* WRITE_ONCE(pmd, fresh); // pmd_populate
    note(`__pte_alloc: ${mm.name} pmd ${hex(fresh.base)} populated`);
  }
  yield* spin_unlock(mm.page_table_lock);
  return cur ?? fresh;
});

// include/linux/mm.h, v3.0: pte_alloc_map
/** The lockless pmd_none check, then __pte_alloc: the page-table page for addr, populated if it was not. */
export function* pte_alloc_map(w: MmWorld, mm: mm_struct, addr: number): Gen<pte_page> {
  const pt = yield* pmd_read(mm, addr);
  return pt ?? (yield* __pte_alloc(w, mm, addr));
}

// include/asm-generic/pgtable.h, v3.0: ptep_get_and_clear
/** ptep_get_and_clear: an atomic xchg of the pte with none. */
export function* ptep_get_and_clear(ptep: Loc<pte_t>): Gen<pte_t> {
  return (yield rmw(ptep, () => PTE_NONE)) as pte_t;
}

// arch/x86/include/asm/pgtable.h, v3.0: set_pte_at
/** set_pte_at. */
export function* set_pte_at(ptep: Loc<pte_t>, pte: pte_t): Gen<void> {
  yield* WRITE_ONCE(ptep, pte);
}

// include/linux/mm.h, v3.0: get_page; mm/swap.c, v3.0: put_page (the model never frees a page on the last put)
/** get_page / put_page / page_add_anon_rmap / page_remove_rmap: atomics on the page. */
export function* get_page(p: page): Gen<void> {
  yield rmw(p._refcount, (v: number) => v + 1);
}
export function* put_page(p: page): Gen<void> {
  yield rmw(p._refcount, (v: number) => v - 1);
}
// mm/rmap.c, v3.0: page_add_anon_rmap (the page already has its anon_vma and index)
export function* page_add_anon_rmap(p: page): Gen<void> {
  yield rmw(p._mapcount, (v: number) => v + 1);
}
// mm/rmap.c, v3.0: page_dup_rmap (fork)
export const page_dup_rmap = page_add_anon_rmap;
// mm/rmap.c, v3.0: page_remove_rmap
export function* page_remove_rmap(p: page): Gen<void> {
  yield rmw(p._mapcount, (v: number) => v - 1);
}

// mm/migrate.c, v3.0: migration_entry_wait — a fault on a migration entry waits for the page lock
export const migration_entry_wait = traced(
  "migration_entry_wait",
  function* (w: MmWorld, _mm: mm_struct, pt: pte_page, addr: number): Gen<void> {
    const ptl = pt.ptl;
    const ptep = pte_of(pt, addr);
    yield* spin_lock(ptl);
    const pte = yield* READ_ONCE(ptep);
    if (!is_migration_entry(pte)) {
      yield* spin_unlock(ptl);
      return;
    }
    const p = pfn_to_page(w, pte.pfn);
    const locked = yield* READ_ONCE(p.PG_locked);
    note(
      `migration_entry_wait: ${hex(addr)} holds ${showPte(pte)}, page ${p.pfn} is ${locked ? "locked" : "UNLOCKED"}`,
    );
    migration_entry_to_page(w, pte, locked, addr);
    yield* get_page(p);
    yield* spin_unlock(ptl);
    // wait_on_page_locked(page): the caller then retries the fault.
    yield* put_page(p);
  },
);

/** Fault flags (include/linux/mm.h). */
export const FAULT_FLAG_WRITE = 0x01;

// mm/memory.c, v3.0: handle_mm_fault → handle_pte_fault for an anon vma
export const handle_mm_fault = traced(
  "handle_mm_fault",
  function* (w: MmWorld, mm: mm_struct, vma: vm_area_struct, addr: number, flags: number = 0): Gen<pte_t> {
    const pt = yield* pte_alloc_map(w, mm, addr); // __pte_alloc when the pmd is none
    const ptep = pte_of(pt, addr);
    const entry = yield* READ_ONCE(ptep); // handle_pte_fault reads the pte without the PT lock
    note(`handle_pte_fault: ${hex(addr)} is ${showPte(entry)}`);
    if (entry.k === "none") {
      yield* do_anonymous_page(w, mm, vma, pt, addr, flags);
    } else if (entry.k === "migration") {
      // do_swap_page → migration_entry_wait
      yield* migration_entry_wait(w, mm, pt, addr);
    }
    // A present pte: write faults on a read-only pte (do_wp_page, COW) are not modeled yet.
    return entry;
  },
);

// mm/memory.c, v3.0: do_anonymous_page — a write fault on an empty pte maps a new private page
export const do_anonymous_page = traced(
  "do_anonymous_page",
  function* (w: MmWorld, mm: mm_struct, vma: vm_area_struct, pt: pte_page, addr: number, flags: number): Gen<void> {
    if (!(flags & FAULT_FLAG_WRITE)) {
      // A read fault maps the shared zero page, which the model has no use for yet.
      throw new ModelError(
        `do_anonymous_page: read faults (the zero page) are not modeled; fault ${hex(addr)} for write`,
      );
    }
    yield* anon_vma_prepare(w, vma);
    const p = alloc_page(w); // alloc_zeroed_user_highpage_movable: private to this thread until mapped
    const vm_flags = yield* READ_ONCE(vma.vm_flags);
    // pte_offset_map_lock re-reads the pmd: the page handle_mm_fault read, since the model never frees page tables.
    const ptl = pt.ptl;
    const ptep = pte_of(pt, addr);
    yield* spin_lock(ptl);
    if ((yield* READ_ONCE(ptep)).k !== "none") {
      // Another thread faulted it in first: release our page.
      yield* spin_unlock(ptl);
      yield* put_page(p);
      return;
    }
    yield* page_add_new_anon_rmap(w, p, vma, addr);
    yield* set_pte_at(ptep, { k: "present", pfn: p.pfn, write: (vm_flags & VM_WRITE) !== 0 });
    note(`do_anonymous_page: ${mm.name} ${hex(addr)} <- present(page ${p.pfn})`);
    yield* spin_unlock(ptl);
  },
);

// mm/rmap.c, v3.0: page_add_new_anon_rmap → __page_set_anon_rmap; the page is not visible to other threads yet
export function* page_add_new_anon_rmap(_w: MmWorld, p: page, vma: vm_area_struct, addr: number): Gen<void> {
  const start = yield* READ_ONCE(vma.vm_start);
  const pgoff = yield* READ_ONCE(vma.vm_pgoff);
  const av = yield* READ_ONCE(vma.anon_vma);
  // linear_page_index; the page is private to the faulting thread until set_pte_at publishes it
  p.index.v = (addr - start) / PAGE_SIZE + pgoff;
  p.mapping.v = av;
  p._mapcount.v = 0;
}

// mm/memory.c, v3.0: zap_pte_range (unmap_vmas for a small range; no TLB batching in the model)
/** Zaps the ptes of [addr, end) in the page-table page `pt` (the pmd zap_pmd_range found present). */
export const zap_pte_range = traced(
  "zap_pte_range",
  function* (w: MmWorld, pt: pte_page, addr: number, end: number): Gen<void> {
    const ptl = pt.ptl;
    yield* spin_lock(ptl);
    for (let a = addr; a < end; a += PAGE_SIZE) {
      const ptep = pte_of(pt, a);
      const pte = yield* READ_ONCE(ptep);
      if (pte.k === "none") continue;
      yield* ptep_get_and_clear(ptep);
      note(`zap_pte_range: ${hex(a)} ${showPte(pte)} cleared`);
      if (pte.k === "present") {
        const p = pfn_to_page(w, pte.pfn);
        yield* page_remove_rmap(p);
        yield* put_page(p);
      }
    }
    yield* spin_unlock(ptl);
  },
);

// mm/memory.c, v2.6.34: copy_pte_range / copy_one_pte (private anon: COW)
/** Copies the ptes of [addr, end) from `src_pt` (the source pmd copy_pmd_range found present) into dst_mm. */
export const copy_pte_range = traced(
  "copy_pte_range",
  function* (w: MmWorld, dst_mm: mm_struct, src_pt: pte_page, addr: number, end: number): Gen<void> {
    const dst_pt = yield* pte_alloc_map(w, dst_mm, addr); // pte_alloc_map_lock
    const dst_ptl = dst_pt.ptl;
    const src_ptl = src_pt.ptl;
    yield* spin_lock(dst_ptl);
    if (src_ptl !== dst_ptl) yield* spin_lock_nested(src_ptl, SINGLE_DEPTH_NESTING);
    for (let a = addr; a < end; a += PAGE_SIZE) {
      const src = pte_of(src_pt, a);
      const dst = pte_of(dst_pt, a);
      let pte = yield* READ_ONCE(src);
      if (pte.k === "none") continue;
      if (pte.k === "migration") {
        if (pte.write) {
          // COW mappings require pages in both parent and child to be set to read.
          pte = { ...pte, write: false };
          yield* set_pte_at(src, pte);
        }
      } else if (pte.k === "present") {
        if (pte.write) {
          yield* WRITE_ONCE(src, { ...pte, write: false }); // ptep_set_wrprotect
          pte = { ...pte, write: false };
        }
        const p = pfn_to_page(w, pte.pfn);
        yield* get_page(p);
        yield* page_dup_rmap(p);
      }
      yield* set_pte_at(dst, pte);
      note(`copy_one_pte: ${dst_mm.name} ${hex(a)} <- ${showPte(pte)}`);
    }
    if (src_ptl !== dst_ptl) yield* spin_unlock(src_ptl);
    yield* spin_unlock(dst_ptl);
  },
);
