// fs/exec.c: moving the temporary argument stack (setup_arg_pages → shift_arg_pages).

import { type Gen, note, traced } from "../explore/index.js";
import { down_write, up_write, WRITE_ONCE } from "../kernel/index.js";
import { find_vma, hex, type MmWorld, VM_STACK_INCOMPLETE_SETUP, type vm_area_struct } from "./mm_types.js";
import { vma_adjust } from "./mmap.js";
import { move_page_tables } from "./mremap.js";

// fs/exec.c, v2.6.34: shift_arg_pages — grow the vma down, move the ptes, shrink it
export const shift_arg_pages = traced(
  "shift_arg_pages",
  function* (w: MmWorld, vma: vm_area_struct, shift: number): Gen<number> {
    const mm = vma.vm_mm;
    const old_start = vma.vm_start.v;
    const old_end = vma.vm_end.v;
    const length = old_end - old_start;
    const new_start = old_start - shift;
    const new_end = old_end - shift;
    if (vma !== find_vma(mm, new_start)) return -14;
    // cover the whole range: [new_start, old_end), vm_pgoff unchanged
    yield* vma_adjust(w, vma, new_start, old_end, vma.vm_pgoff.v, null);
    note(`shift_arg_pages: ${vma.name} now [${hex(new_start)}, ${hex(old_end)}), ptes still at ${hex(old_start)}`);
    if (length !== (yield* move_page_tables(w, vma, old_start, vma, new_start, length, true))) return -12;
    // free_pgd_range of the old range: page-table pages are kept in the model.
    // Shrink the vma to just the new range.
    yield* vma_adjust(w, vma, new_start, new_end, vma.vm_pgoff.v, null);
    return 0;
  },
);

/** fs/exec.c, v2.6.34 (flag clearing of a8bef8ff6ea1, v2.6.35): setup_arg_pages, the part that moves the stack. */
export const setup_arg_pages = traced(
  "setup_arg_pages",
  function* (w: MmWorld, vma: vm_area_struct, stack_shift: number): Gen<number> {
    const mm = vma.vm_mm;
    yield* down_write(mm.mmap_sem);
    // mprotect_fixup with unchanged flags: nothing to do
    const ret = yield* shift_arg_pages(w, vma, stack_shift);
    if (ret === 0 && w.cfg.skip_temporary_stack) {
      // a8bef8ff6ea1: the stack is set up; rmap walks may look at it again.
      yield* WRITE_ONCE(vma.vm_flags, vma.vm_flags.v & ~VM_STACK_INCOMPLETE_SETUP);
      note(`setup_arg_pages: ${vma.name} no longer the temporary stack`);
    }
    // expand_stack is not modeled: the scenario ends once the stack has moved.
    yield* up_write(mm.mmap_sem);
    return ret;
  },
);
