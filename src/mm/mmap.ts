// mm/mmap.c: vma_adjust, vma_merge, __split_vma, copy_vma, do_munmap,
// mm_take_all_locks. The VMA set and a vma's same_vma list are read and
// changed only under mmap_sem held for write: those accesses take no step.
// vm_start / vm_end / vm_pgoff are read by rmap walks without mmap_sem, so
// each store to them is its own step, in kernel order.

import { type Gen, ModelError, note, traced } from "../explore/index.js";
import { down_write, kfree, READ_ONCE, spin_lock, spin_unlock, up_write, WRITE_ONCE } from "../kernel/index.js";
import { pmd_read, zap_pte_range } from "./memory.js";
import {
  __vma_link,
  __vma_unlink,
  type anon_vma,
  find_vma,
  hex,
  type MmWorld,
  type mm_struct,
  PAGE_SIZE,
  PMD_MASK,
  PMD_SIZE,
  pte_of,
  vm_area_alloc,
  type vm_area_struct,
  vma_next,
} from "./mm_types.js";
import {
  anon_vma_clone,
  anon_vma_lock,
  anon_vma_lockptr,
  anon_vma_moveto_tail,
  anon_vma_unlock,
  unlink_anon_vmas,
} from "./rmap.js";

const pages = (v: vm_area_struct): number => (v.vm_end.v - v.vm_start.v) / PAGE_SIZE;

/**
 * mm/mmap.c, v2.6.34 (locking variants of seed 003 and of v2.6.36): vma_adjust.
 * Changes vma to [start, end) at pgoff, inserting `insert` (split_vma) or
 * shifting the boundary with vm_next (mprotect cases 4 and 5, adjust_next).
 * remove_next (cases 1, 6, 8) is not modeled.
 */
export const vma_adjust = traced(
  "vma_adjust",
  function* (
    w: MmWorld,
    vma: vm_area_struct,
    start: number,
    end: number,
    pgoff: number,
    insert: vm_area_struct | null,
  ): Gen<void> {
    const mm = vma.vm_mm;
    const next = vma_next(vma);
    let importer: vm_area_struct | null = null;
    let adjust_next = 0;
    if (next && !insert) {
      let exporter: vm_area_struct | null = null;
      if (end >= next.vm_end.v)
        throw new ModelError("vma_adjust: remove_next (mprotect/merge cases 1, 6, 8) is not modeled");
      if (end > next.vm_start.v) {
        // vma expands, overlapping part of the next: mprotect case 5 shifting the boundary up.
        adjust_next = (end - next.vm_start.v) / PAGE_SIZE;
        exporter = next;
        importer = vma;
      } else if (end < vma.vm_end.v) {
        // vma shrinks, and !insert tells it's not split_vma inserting another: mprotect case 4.
        adjust_next = -((vma.vm_end.v - end) / PAGE_SIZE);
        exporter = vma;
        importer = next;
      }
      // Easily overlooked: the expanding vma gets the shrinking one's anon_vma.
      if (exporter && importer && exporter.anon_vma.v && !importer.anon_vma.v) {
        yield* anon_vma_clone(w, importer, exporter);
        yield* WRITE_ONCE(importer.anon_vma, exporter.anon_vma.v);
      }
    }

    let locked: anon_vma | null = null;
    const av = vma.anon_vma.v;
    switch (w.cfg.vma_adjust_lock) {
      case "anon_vma": // Mel's patch (seed 003): spin_lock(&vma->anon_vma->lock)
        locked = av;
        break;
      case "anon_vma-unless-vm_end":
        // v2.6.36: "When changing only vma->vm_end, we don't really need anon_vma lock."
        if (av && (insert || importer || start !== vma.vm_start.v)) locked = av;
        break;
      default:
        break;
    }
    if (locked) yield* anon_vma_lock(w, locked);

    const adj = vma.adjust_lock;
    if (adj) yield* spin_lock(adj);
    if (start !== vma.vm_start.v) {
      yield* WRITE_ONCE(vma.vm_start, start);
      note(`vma_adjust: ${vma.name}.vm_start = ${hex(start)}`);
    }
    if (end !== vma.vm_end.v) {
      yield* WRITE_ONCE(vma.vm_end, end);
      note(`vma_adjust: ${vma.name}.vm_end = ${hex(end)}`);
    }
    if (pgoff !== vma.vm_pgoff.v) {
      yield* WRITE_ONCE(vma.vm_pgoff, pgoff);
      note(`vma_adjust: ${vma.name}.vm_pgoff = ${hex(pgoff)}`);
    }
    if (adj) yield* spin_unlock(adj);
    if (adjust_next && next) {
      if (next.adjust_lock) yield* spin_lock(next.adjust_lock);
      const ns = next.vm_start.v + adjust_next * PAGE_SIZE;
      yield* WRITE_ONCE(next.vm_start, ns);
      note(`vma_adjust: ${next.name}.vm_start = ${hex(ns)} (adjust_next ${adjust_next})`);
      const np = next.vm_pgoff.v + adjust_next;
      yield* WRITE_ONCE(next.vm_pgoff, np);
      note(`vma_adjust: ${next.name}.vm_pgoff = ${hex(np)}`);
      if (next.adjust_lock) yield* spin_unlock(next.adjust_lock);
    }
    // split_vma needs `insert` linked before the locks are dropped.
    if (insert) __vma_link(mm, insert);
    if (locked) yield* anon_vma_unlock(w, locked);
  },
);

/** mm/mmap.c, v3.0: is_mergeable_anon_vma */
function is_mergeable_anon_vma(av1: anon_vma | null, av2: anon_vma | null, vma: vm_area_struct | null): boolean {
  if ((!av1 || !av2) && (!vma || vma.anon_vma_chain.length <= 1)) return true;
  return av1 === av2;
}

function can_vma_merge_after(vma: vm_area_struct, flags: number, av: anon_vma | null, pgoff: number): boolean {
  return (
    vma.vm_flags.v === flags && is_mergeable_anon_vma(av, vma.anon_vma.v, vma) && vma.vm_pgoff.v + pages(vma) === pgoff
  );
}

function can_vma_merge_before(vma: vm_area_struct, flags: number, av: anon_vma | null, pgoff: number): boolean {
  return vma.vm_flags.v === flags && is_mergeable_anon_vma(av, vma.anon_vma.v, vma) && vma.vm_pgoff.v === pgoff;
}

/** mm/mmap.c, v3.0: vma_merge (anon vmas; the cases that need remove_next are not modeled). */
export const vma_merge = traced(
  "vma_merge",
  function* (
    w: MmWorld,
    mm: mm_struct,
    prev: vm_area_struct | null,
    addr: number,
    end: number,
    vm_flags: number,
    av: anon_vma | null,
    pgoff: number,
  ): Gen<vm_area_struct | null> {
    const pglen = (end - addr) / PAGE_SIZE;
    let next = prev ? vma_next(prev) : (mm.mmap[0] ?? null);
    const area = next;
    if (next && next.vm_end.v === end) next = vma_next(next); // cases 6, 7, 8
    if (prev && prev.vm_end.v === addr && can_vma_merge_after(prev, vm_flags, av, pgoff)) {
      if (
        next &&
        end === next.vm_start.v &&
        can_vma_merge_before(next, vm_flags, av, pgoff + pglen) &&
        is_mergeable_anon_vma(prev.anon_vma.v, next.anon_vma.v, null)
      ) {
        throw new ModelError("vma_merge: cases 1 and 6 (merge with prev and next) are not modeled");
      }
      note(`vma_merge: ${prev.name} extends over [${hex(addr)}, ${hex(end)})`);
      yield* vma_adjust(w, prev, prev.vm_start.v, end, prev.vm_pgoff.v, null); // cases 2, 5, 7
      return prev;
    }
    if (next && end === next.vm_start.v && can_vma_merge_before(next, vm_flags, av, pgoff + pglen)) {
      if (prev && addr < prev.vm_end.v)
        yield* vma_adjust(w, prev, prev.vm_start.v, addr, prev.vm_pgoff.v, null); // case 4
      else if (area) yield* vma_adjust(w, area, addr, next.vm_end.v, next.vm_pgoff.v - pglen, null); // cases 3, 8
      return area;
    }
    return null;
  },
);

/** mm/mmap.c, v2.6.34: __split_vma — new gets [vm_start, addr) (new_below) or [addr, vm_end). */
export const __split_vma = traced(
  "__split_vma",
  function* (w: MmWorld, mm: mm_struct, vma: vm_area_struct, addr: number, new_below: boolean): Gen<vm_area_struct> {
    // *new = *vma, then fix up: new is not visible to any walker until anon_vma_clone links it.
    const start = vma.vm_start.v;
    const end = vma.vm_end.v;
    const pgoff = vma.vm_pgoff.v;
    const nw = new_below
      ? vm_area_alloc(w, mm, { start, end: addr, pgoff, flags: vma.vm_flags.v, anon_vma: vma.anon_vma.v })
      : vm_area_alloc(w, mm, {
          start: addr,
          end,
          pgoff: pgoff + (addr - start) / PAGE_SIZE,
          flags: vma.vm_flags.v,
          anon_vma: vma.anon_vma.v,
        });
    note(`__split_vma: new ${nw.name} [${hex(nw.vm_start.v)}, ${hex(nw.vm_end.v)}) pgoff ${hex(nw.vm_pgoff.v)}`);
    yield* anon_vma_clone(w, nw, vma);
    if (new_below) yield* vma_adjust(w, vma, addr, end, pgoff + (addr - start) / PAGE_SIZE, nw);
    else yield* vma_adjust(w, vma, start, addr, pgoff, nw);
    return nw;
  },
);

/** mm/mmap.c, v3.0: copy_vma. Returns the dst vma, and whether move_ptes needs the rmap locks (3.7). */
export const copy_vma = traced(
  "copy_vma",
  function* (
    w: MmWorld,
    vmap: { vma: vm_area_struct },
    addr: number,
    len: number,
    pgoff0: number,
  ): Gen<{ new_vma: vm_area_struct; need_rmap_locks: boolean }> {
    const vma = vmap.vma;
    const mm = vma.vm_mm;
    const vma_start = vma.vm_start.v;
    let pgoff = pgoff0;
    let faulted_in_anon_vma = true;
    // If anonymous vma has not yet been faulted, update new pgoff to match new location.
    if (!vma.anon_vma.v) {
      pgoff = addr / PAGE_SIZE;
      faulted_in_anon_vma = false;
    }
    const prev = mm.mmap.filter((v) => v.vm_start.v < addr).pop() ?? null; // find_vma_prepare
    const merged = yield* vma_merge(w, mm, prev, addr, addr + len, vma.vm_flags.v, vma.anon_vma.v, pgoff);
    if (merged) {
      if (vma_start >= merged.vm_start.v && vma_start < merged.vm_end.v) {
        // Self-merge: only possible when the vma was never faulted (pgoff reset above).
        if (w.cfg.copy_vma_order === "moveto_tail" && faulted_in_anon_vma)
          throw new ModelError("copy_vma: VM_BUG_ON(faulted_in_anon_vma)");
        vmap.vma = merged;
      } else if (w.cfg.copy_vma_order !== "none") {
        yield* anon_vma_moveto_tail(w, merged);
      }
      // 38a76013ad80 (3.7): a merged vma may come before the source in rmap order.
      return { new_vma: merged, need_rmap_locks: merged.vm_pgoff.v <= vmap.vma.vm_pgoff.v };
    }
    // kmem_cache_alloc + *new_vma = *vma
    const early = w.cfg.same_anon_vma === "interval_tree"; // 3.7: "in mremap, set the new vma's position before anon_vma_clone()"
    const nv = vm_area_alloc(w, mm, {
      start: early ? addr : vma.vm_start.v,
      end: early ? addr + len : vma.vm_end.v,
      pgoff: early ? pgoff : vma.vm_pgoff.v,
      flags: vma.vm_flags.v,
      anon_vma: vma.anon_vma.v,
    });
    note(`copy_vma: new ${nv.name} for [${hex(addr)}, ${hex(addr + len)})`);
    yield* anon_vma_clone(w, nv, vma);
    if (!early) {
      // Before 3.7 the copy is on the anon_vma list with the source's fields until these stores.
      yield* WRITE_ONCE(nv.vm_start, addr);
      yield* WRITE_ONCE(nv.vm_end, addr + len);
      yield* WRITE_ONCE(nv.vm_pgoff, pgoff);
    }
    __vma_link(mm, nv); // vma_link
    return { new_vma: nv, need_rmap_locks: false };
  },
);

/** mm/mmap.c, v3.0: remove_vma — the vma is freed. */
export const remove_vma = traced("remove_vma", function* (w: MmWorld, vma: vm_area_struct): Gen<void> {
  void w;
  yield* kfree(
    { a: vma.vm_start, b: vma.vm_end, c: vma.vm_pgoff, d: vma.vm_flags, e: vma.anon_vma },
    `kmem_cache_free(vm_area_cachep, ${vma.name})`,
  );
});

/**
 * mm/mmap.c, v3.0: do_munmap — split at the edges, detach, unmap_region
 * (zap the ptes, free_pgtables → unlink_anon_vmas), remove_vma. Page-table
 * pages are kept (the model never frees them).
 */
export const do_munmap = traced(
  "do_munmap",
  function* (w: MmWorld, mm: mm_struct, start: number, len: number): Gen<void> {
    const end = start + len;
    let vma = find_vma(mm, start);
    if (!vma || vma.vm_start.v >= end) return;
    if (start > vma.vm_start.v) {
      yield* __split_vma(w, mm, vma, start, false);
      vma = find_vma(mm, start)!;
    }
    const last = find_vma(mm, end);
    if (last && end > last.vm_start.v) yield* __split_vma(w, mm, last, end, true);
    // detach_vmas_to_be_unmapped
    const gone = mm.mmap.filter((v) => v.vm_start.v >= start && v.vm_end.v <= end);
    for (const v of gone) __vma_unlink(mm, v);
    note(`do_munmap: detach ${gone.map((v) => v.name).join(", ")}`);
    // unmap_region
    for (const v of gone) {
      for (let a = v.vm_start.v; a < v.vm_end.v; ) {
        const regionEnd = Math.min(v.vm_end.v, (a & PMD_MASK) + PMD_SIZE);
        const pt = yield* pmd_read(mm, a); // zap_pmd_range: pmd_none_or_clear_bad
        if (pt) yield* zap_pte_range(w, pt, a, regionEnd);
        a = regionEnd;
      }
    }
    for (const v of gone) yield* unlink_anon_vmas(w, v); // free_pgtables
    for (const v of gone) yield* remove_vma(w, v);
  },
);

/** mm/mprotect.c, v2.6.34: mprotect_fixup (merge path and split path); change_protection on the range. */
export const mprotect_fixup = traced(
  "mprotect_fixup",
  function* (
    w: MmWorld,
    vma0: vm_area_struct,
    prev: vm_area_struct | null,
    start: number,
    end: number,
    newflags: number,
  ): Gen<void> {
    const mm = vma0.vm_mm;
    let vma = vma0;
    if (newflags === vma.vm_flags.v) return;
    const pgoff = vma.vm_pgoff.v + (start - vma.vm_start.v) / PAGE_SIZE;
    const merged = yield* vma_merge(w, mm, prev, start, end, newflags, vma.anon_vma.v, pgoff);
    if (merged) vma = merged;
    else {
      if (start !== vma.vm_start.v) yield* __split_vma(w, mm, vma, start, true); // vma keeps [start, ...)
      if (end !== vma.vm_end.v) yield* __split_vma(w, mm, vma, end, false);
    }
    if (vma.vm_flags.v !== newflags) yield* WRITE_ONCE(vma.vm_flags, newflags);
    yield* change_protection(w, mm, start, end, newflags);
  },
);

/** mm/mprotect.c, v2.6.34: change_protection → change_pte_range: write migration entries become read ones. */
export const change_protection = traced(
  "change_protection",
  function* (w: MmWorld, mm: mm_struct, start: number, end: number, newflags: number): Gen<void> {
    void w;
    void newflags;
    // change_pmd_range: pmd_none_or_clear_bad, then change_pte_range under the PT lock
    const pt = yield* pmd_read(mm, start);
    if (!pt) return;
    const ptl = pt.ptl;
    yield* spin_lock(ptl);
    for (let a = start; a < end; a += PAGE_SIZE) {
      const ptep = pte_of(pt, a);
      const pte = yield* READ_ONCE(ptep);
      if (pte.k === "migration" && pte.write) yield* WRITE_ONCE(ptep, { ...pte, write: false });
    }
    yield* spin_unlock(ptl);
  },
);

/** mm/mmap.c, v2.6.34: vm_lock_anon_vma — spin_lock_nest_lock(&anon_vma->lock, &mm->mmap_sem), once per anon_vma. */
const vm_lock_anon_vma = traced(
  "vm_lock_anon_vma",
  function* (w: MmWorld, av: anon_vma, taken: Map<unknown, anon_vma>): Gen<void> {
    const l = anon_vma_lockptr(w, av);
    if (taken.has(l)) return; // the bit in (root) anon_vma->head.next says it is already ours
    yield* anon_vma_lock(w, av);
    taken.set(l, av);
    note(`mm_take_all_locks: ${av.name} locked`);
  },
);

/**
 * mm/mmap.c, v2.6.34: mm_take_all_locks (mmu_notifier_register). Caller holds
 * mmap_sem for write. Locks every anon_vma of every vma, walking each vma's
 * same_vma list from its head (newest first), or in reverse (Mel V6).
 */
export const mm_take_all_locks = traced("mm_take_all_locks", function* (w: MmWorld, mm: mm_struct): Gen<
  Map<unknown, anon_vma>
> {
  const taken = new Map<unknown, anon_vma>();
  for (const vma of mm.mmap) {
    if (!vma.anon_vma.v) continue;
    const chain = w.cfg.take_all_locks_order === "new-to-old" ? vma.anon_vma_chain : [...vma.anon_vma_chain].reverse();
    for (const avc of chain) yield* vm_lock_anon_vma(w, avc.anon_vma, taken);
  }
  return taken;
});

// mm/mmap.c, v2.6.34: mm_drop_all_locks
export const mm_drop_all_locks = traced(
  "mm_drop_all_locks",
  function* (w: MmWorld, taken: Map<unknown, anon_vma>): Gen<void> {
    for (const av of taken.values()) yield* anon_vma_unlock(w, av);
  },
);

// mm/mmap.c, v2.6.34: sys_munmap
export const sys_munmap = traced(
  "sys_munmap",
  function* (w: MmWorld, mm: mm_struct, start: number, len: number): Gen<void> {
    yield* down_write(mm.mmap_sem);
    yield* do_munmap(w, mm, start, len);
    yield* up_write(mm.mmap_sem);
  },
);

// mm/mprotect.c, v2.6.34: sys_mprotect for a range inside one vma
export const sys_mprotect = traced(
  "sys_mprotect",
  function* (w: MmWorld, mm: mm_struct, start: number, len: number, newflags: number): Gen<void> {
    yield* down_write(mm.mmap_sem);
    const vma = find_vma(mm, start);
    if (vma && vma.vm_start.v <= start) {
      const i = mm.mmap.indexOf(vma);
      const prev = start > vma.vm_start.v ? vma : i > 0 ? mm.mmap[i - 1] : null;
      yield* mprotect_fixup(w, vma, prev, start, Math.min(start + len, vma.vm_end.v), newflags);
    }
    yield* up_write(mm.mmap_sem);
  },
);

// mm/mmu_notifier.c, v2.6.34: mmu_notifier_register
/** mmu_notifier_register → do_mmu_notifier_register: mmap_sem W, mm_take_all_locks, register, mm_drop_all_locks. */
export const mmu_notifier_register = traced("mmu_notifier_register", function* (w: MmWorld, mm: mm_struct): Gen<void> {
  yield* down_write(mm.mmap_sem);
  const taken = yield* mm_take_all_locks(w, mm);
  note(`mmu_notifier_register: ${mm.name} has all its rmap locks`);
  yield* mm_drop_all_locks(w, taken);
  yield* up_write(mm.mmap_sem);
});
