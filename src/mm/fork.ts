// kernel/fork.c: dup_mmap.

import { type Gen, note, traced } from "../explore/index.js";
import { down_write, down_write_nested, up_write } from "../kernel/index.js";
import { copy_pte_range, pmd_read } from "./memory.js";
import { __vma_link, type MmWorld, mm_alloc, type mm_struct, PMD_MASK, PMD_SIZE, vm_area_alloc } from "./mm_types.js";
import { anon_vma_fork } from "./rmap.js";

// kernel/fork.c, v2.6.34: dup_mmap — per vma: copy it, anon_vma_fork, link it, copy_page_range
export const dup_mmap = traced("dup_mmap", function* (w: MmWorld, oldmm: mm_struct): Gen<mm_struct> {
  const mm = mm_alloc(w);
  yield* down_write(oldmm.mmap_sem);
  yield* down_write_nested(mm.mmap_sem, 1);
  for (const mpnt of oldmm.mmap) {
    const tmp = vm_area_alloc(w, mm, {
      start: mpnt.vm_start.v,
      end: mpnt.vm_end.v,
      pgoff: mpnt.vm_pgoff.v,
      flags: mpnt.vm_flags.v,
      anon_vma: null,
    });
    yield* anon_vma_fork(w, tmp, mpnt);
    __vma_link(mm, tmp);
    note(`dup_mmap: ${mpnt.name} -> ${tmp.name} in ${mm.name}`);
    // copy_page_range, one page-table page at a time
    for (let a = mpnt.vm_start.v; a < mpnt.vm_end.v; ) {
      const end = Math.min(mpnt.vm_end.v, (a & PMD_MASK) + PMD_SIZE);
      const src_pt = yield* pmd_read(oldmm, a); // copy_pmd_range: pmd_none_or_clear_bad
      if (src_pt) yield* copy_pte_range(w, mm, src_pt, a, end);
      a = end;
    }
  }
  yield* up_write(mm.mmap_sem);
  yield* up_write(oldmm.mmap_sem);
  return mm;
});
