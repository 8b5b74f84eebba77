// mm/mremap.c: moving a range of ptes, and mremap itself.

import { choose, type Gen, note, traced } from "../explore/index.js";
import { down_write, READ_ONCE, spin_lock, spin_lock_nested, spin_unlock, up_write } from "../kernel/index.js";
import { __pte_alloc, pmd_read, ptep_get_and_clear, SINGLE_DEPTH_NESTING, set_pte_at } from "./memory.js";
import {
  find_vma,
  hex,
  type MmWorld,
  type mm_struct,
  PAGE_SIZE,
  PMD_MASK,
  PMD_SIZE,
  pte_of,
  type pte_page,
  showPte,
  type vm_area_struct,
} from "./mm_types.js";
import { copy_vma, do_munmap } from "./mmap.js";
import { anon_vma_lock, anon_vma_moveto_tail, anon_vma_unlock } from "./rmap.js";

/**
 * mm/mremap.c, v3.0 (rmap lock of 108d6642ad81 / 38a76013ad80 as variants):
 * move_ptes. Under the old and new PT locks, each pte is read, cleared with
 * ptep_get_and_clear and written at the new address with set_pte_at: two
 * stores, between which the entry is only in a register.
 */
export const move_ptes = traced(
  "move_ptes",
  function* (
    w: MmWorld,
    vma: vm_area_struct,
    old_pt: pte_page,
    old_addr: number,
    old_end: number,
    _new_vma: vm_area_struct,
    new_pt: pte_page,
    new_addr: number,
    need_rmap_locks: boolean,
  ): Gen<void> {
    const av = vma.anon_vma.v;
    const rmap_lock =
      av !== null &&
      (w.cfg.move_ptes_rmap_lock === "always" || (w.cfg.move_ptes_rmap_lock === "need_rmap_locks" && need_rmap_locks));
    if (rmap_lock && av) yield* anon_vma_lock(w, av);
    const old_ptl = old_pt.ptl;
    const new_ptl = new_pt.ptl;
    yield* spin_lock(old_ptl);
    if (new_ptl !== old_ptl) yield* spin_lock_nested(new_ptl, SINGLE_DEPTH_NESTING);
    for (; old_addr < old_end; old_addr += PAGE_SIZE, new_addr += PAGE_SIZE) {
      const old_pte = pte_of(old_pt, old_addr);
      const new_pte = pte_of(new_pt, new_addr);
      const cur = yield* READ_ONCE(old_pte);
      if (cur.k === "none") continue;
      const pte = yield* ptep_get_and_clear(old_pte);
      note(`move_ptes: ${hex(old_addr)} cleared, ${showPte(pte)} held in a register`);
      yield* set_pte_at(new_pte, pte);
      note(`move_ptes: pte ${hex(new_addr)} <- ${hex(old_addr)} (${showPte(pte)})`);
    }
    if (new_ptl !== old_ptl) yield* spin_unlock(new_ptl);
    yield* spin_unlock(old_ptl);
    if (rmap_lock && av) yield* anon_vma_unlock(w, av);
  },
);

/**
 * mm/mremap.c, v3.0: alloc_new_pmd — `pmd_none(*pmd) && __pte_alloc(...)`;
 * returns the page-table page, or null when __pte_alloc fails (ENOMEM:
 * pte_alloc_one found no memory, a `choose` in scenarios about that path).
 */
const alloc_new_pmd = traced(
  "alloc_new_pmd",
  function* (w: MmWorld, mm: mm_struct, addr: number): Gen<pte_page | null> {
    const pt = yield* pmd_read(mm, addr);
    if (pt) return pt;
    if (w.alloc_may_fail) {
      const fail = (yield choose(2, `alloc_new_pmd(${hex(addr)}) fails`)) === 1;
      if (fail) {
        note(`alloc_new_pmd: no memory for the page table at ${hex(addr & PMD_MASK)}`);
        return null;
      }
    }
    return yield* __pte_alloc(w, mm, addr);
  },
);

/** mm/mremap.c, v3.0: move_page_tables — per PMD extent; returns how much it moved. */
export const move_page_tables = traced(
  "move_page_tables",
  function* (
    w: MmWorld,
    vma: vm_area_struct,
    old_addr: number,
    new_vma: vm_area_struct,
    new_addr: number,
    len: number,
    need_rmap_locks: boolean,
  ): Gen<number> {
    const mm = vma.vm_mm;
    const old_end = old_addr + len;
    let extent = 0;
    for (; old_addr < old_end; old_addr += extent, new_addr += extent) {
      let next = (old_addr + PMD_SIZE) & PMD_MASK;
      if (next - 1 > old_end) next = old_end;
      extent = next - old_addr;
      const old_pt = yield* pmd_read(mm, old_addr); // get_old_pmd
      if (!old_pt) continue;
      const new_pt = yield* alloc_new_pmd(w, mm, new_addr);
      if (!new_pt) break;
      next = (new_addr + PMD_SIZE) & PMD_MASK;
      if (extent > next - new_addr) extent = next - new_addr;
      yield* move_ptes(w, vma, old_pt, old_addr, old_addr + extent, new_vma, new_pt, new_addr, need_rmap_locks);
    }
    return len + old_addr - old_end;
  },
);

/**
 * mm/mremap.c, v3.0 (moveto_tail on the error path: v3.3-rc1): move_vma.
 * `final_munmap` false stops after the page tables moved: the do_munmap of
 * the old range only removes a vma whose ptes are already gone.
 */
export const move_vma = traced(
  "move_vma",
  function* (
    w: MmWorld,
    vma0: vm_area_struct,
    old_addr: number,
    old_len: number,
    new_len: number,
    new_addr: number,
    final_munmap: boolean,
  ): Gen<number> {
    const mm = vma0.vm_mm;
    const vmap = { vma: vma0 };
    const new_pgoff = vma0.vm_pgoff.v + (old_addr - vma0.vm_start.v) / PAGE_SIZE;
    const { new_vma, need_rmap_locks } = yield* copy_vma(w, vmap, new_addr, new_len, new_pgoff);
    let vma = vmap.vma;
    const moved_len = yield* move_page_tables(w, vma, old_addr, new_vma, new_addr, old_len, need_rmap_locks);
    let ret = new_addr;
    if (moved_len < old_len) {
      note(`move_vma: moved only ${hex(moved_len)} of ${hex(old_len)}: move the entries back`);
      // v3.3: the old vma must be queued after the new one before moving the ptes back.
      if (w.cfg.copy_vma_order === "moveto_tail") yield* anon_vma_moveto_tail(w, vma);
      // On error, move entries back from new area to old; the reverse move needs the locks
      // in the same cases (38a76013ad80 passes need_rmap_locks = true).
      yield* move_page_tables(w, new_vma, new_addr, vma, old_addr, moved_len, true);
      vma = new_vma;
      old_len = new_len;
      old_addr = new_addr;
      ret = -12; // -ENOMEM
    }
    if (final_munmap) yield* do_munmap(w, mm, old_addr, old_len);
    return ret;
  },
);

/** mm/mremap.c, v3.0: sys_mremap(addr, old_len, new_len, MREMAP_MAYMOVE | MREMAP_FIXED, new_addr) → mremap_to. */
export const sys_mremap = traced(
  "sys_mremap",
  function* (
    w: MmWorld,
    mm: mm_struct,
    addr: number,
    old_len: number,
    new_len: number,
    new_addr: number,
    opts: { final_munmap: boolean } = { final_munmap: true },
  ): Gen<number> {
    yield* down_write(mm.mmap_sem);
    // mremap_to: do_munmap(new_addr, new_len) first (the scenarios' targets are unmapped), vma_to_resize.
    yield* do_munmap(w, mm, new_addr, new_len);
    const vma = find_vma(mm, addr);
    let ret = -14;
    if (vma && vma.vm_start.v <= addr)
      ret = yield* move_vma(w, vma, addr, old_len, new_len, new_addr, opts.final_munmap);
    yield* up_write(mm.mmap_sem);
    return ret;
  },
);
