// include/linux/swapops.h: migration entries.

import { BUG_ON } from "../kernel/index.js";
import { hex, type MmWorld, type page, pfn_to_page, type pte_t } from "./mm_types.js";

// include/linux/swapops.h, v3.0: make_migration_entry
export function make_migration_entry(p: page, write: boolean): pte_t {
  return { k: "migration", pfn: p.pfn, write };
}

// include/linux/swapops.h: is_swap_pte (not none, not present)
export function is_swap_pte(pte: pte_t): boolean {
  return pte.k === "migration" || pte.k === "swap";
}

export function is_migration_entry(pte: pte_t): pte is Extract<pte_t, { k: "migration" }> {
  return pte.k === "migration";
}

/**
 * include/linux/swapops.h, v3.0: migration_entry_to_page. Line 105 of that
 * file is the BUG of seeds 000 and 003: a migration entry must only exist
 * while its page is locked. `locked` is PG_locked as just read by the caller.
 */
export function migration_entry_to_page(
  w: MmWorld,
  entry: Extract<pte_t, { k: "migration" }>,
  locked: boolean,
  addr: number,
): page {
  const p = pfn_to_page(w, entry.pfn);
  BUG_ON(
    !locked,
    () =>
      `at include/linux/swapops.h:105 BUG_ON(!PageLocked(p)): migration entry for page ${p.pfn} at ${hex(addr)} but the page is unlocked (migration_entry_to_page)`,
  );
  return p;
}
