// The mm model's invariants, in kernel words.

import type { Invariant } from "../explore/index.js";
import { hex, type MmWorld, PAGE_SIZE, page_tables } from "./mm_types.js";

/**
 * INV-MIG: a migration entry may exist only while its page is locked
 * (include/linux/swapops.h: BUG_ON(!PageLocked(p)) in migration_entry_to_page).
 * Checked when the threads have finished, as "the next fault there": a
 * leftover entry stays put unless a later zap drops it, and then no fault can
 * hit it. An end-of-execution check keeps optimal DPOR exact, since it
 * explores every final state; a check after every step would observe states
 * DPOR does not promise to visit.
 */
export const INV_MIG: Invariant<MmWorld> = {
  name: "INV-MIG",
  check(w) {
    for (const mm of w.mms) {
      for (const pt of page_tables(mm)) {
        for (let i = 0; i < pt.pte.length; i++) {
          const pte = pt.pte[i].v;
          if (pte.k !== "migration") continue;
          const p = w.pages.get(pte.pfn);
          if (p && !p.PG_locked.v) {
            return `migration entry for page ${p.pfn} left at ${hex(pt.base + i * PAGE_SIZE)} in ${mm.name} after unmap_and_move unlocked it; the next fault there hits BUG in migration_entry_to_page (include/linux/swapops.h:105)`;
          }
        }
      }
    }
    return null;
  },
};
