// The historical switches of the mm model. One config object per variant;
// each field names the kernel change that flips it. Kernel history is
// variants, not forks: every modeled function reads these switches.

export interface MmConfig {
  /**
   * Which lock anon_vma_lock() takes.
   * - "own": the anon_vma's own spinlock (2.6.34, anon_vma_chain era before the root).
   * - "root-spin": the root anon_vma's spinlock (2.6.36, 012f18004da3 "always lock the root (oldest) anon_vma").
   * - "root-mutex": the root anon_vma's mutex (3.0, anon_vma mutex conversion).
   */
  readonly anon_vma_lock: "own" | "root-spin" | "root-mutex";
  /** remove_migration_pte() peeks at the pte with is_swap_pte() before taking the PT lock (before 3.1, 486cf46f3f9b). */
  readonly migration_peek: boolean;
  /**
   * What copy_vma() does when vma_merge() extends an existing vma:
   * - "none": nothing (3.0 / 3.1);
   * - "order_tail": anon_vma_order_tail(new_vma) (Andrea's v1, seed 000), no care on the error path;
   * - "moveto_tail": anon_vma_moveto_tail(new_vma), and move_vma() also calls it on the error path (v3.3-rc1).
   */
  readonly copy_vma_order: "none" | "order_tail" | "moveto_tail";
  /**
   * Whether move_ptes() takes the anon_vma lock:
   * - "never" (before 3.7); "always" (108d6642ad81, v3.7-rc1);
   * - "need_rmap_locks": only when copy_vma() says so (38a76013ad80, v3.7).
   */
  readonly move_ptes_rmap_lock: "never" | "always" | "need_rmap_locks";
  /**
   * The lock vma_adjust() holds across its field stores:
   * - "none": no anon_vma lock (2.6.34-rc, after "mm: remove VM_LOCK_RMAP code");
   * - "adjust_lock": Kamezawa's per-vma spinlock around the stores, also taken by vma_address() (seed 003);
   * - "anon_vma": anon_vma_lock(vma->anon_vma) whenever the vma has one (Mel's patch, seed 003);
   * - "anon_vma-unless-vm_end": anon_vma_lock(vma->anon_vma) when insert || importer || start changes (2.6.36, 012f18004da3).
   */
  readonly vma_adjust_lock: "none" | "adjust_lock" | "anon_vma" | "anon_vma-unless-vm_end";
  /**
   * rmap_walk_anon() also locks vma->anon_vma when it differs from the anon_vma it walks:
   * - "none": no (mainline);
   * - "spin": spin_lock, held across vma_address (Minchan's merged idea, seed 003);
   * - "trylock": spin_trylock, and on failure drop everything and retry the walk (Mel V1-V5, 2010-04-26).
   */
  readonly walker_nested: "none" | "spin" | "trylock";
  /** try_to_unmap (walk 1 of a migration) skips the exec temporary stack (a8bef8ff6ea1, v2.6.35). */
  readonly skip_temporary_stack: boolean;
  /**
   * mm_take_all_locks() order over a vma's anon_vma_chain: "new-to-old" walks
   * same_vma from its head (2.6.34); "old-to-new" walks it in reverse (Mel V6).
   */
  readonly take_all_locks_order: "new-to-old" | "old-to-new";
  /** same_anon_vma walk order: list_add_tail order, or the interval tree of 3.7 (by vm_pgoff, then insertion). */
  readonly same_anon_vma: "list" | "interval_tree";
  /** Split page-table locks (one per page-table page) or mm->page_table_lock for all of them. */
  readonly split_ptlocks: boolean;
}

/** 2.6.34-rc4 with compaction (Mel's v8): anon_vma_chain, own locks, no lock in vma_adjust, the peek. */
export const V2_6_34: MmConfig = {
  anon_vma_lock: "own",
  migration_peek: true,
  copy_vma_order: "none",
  move_ptes_rmap_lock: "never",
  vma_adjust_lock: "none",
  walker_nested: "none",
  skip_temporary_stack: false,
  take_all_locks_order: "new-to-old",
  same_anon_vma: "list",
  split_ptlocks: true,
};

/** 2.6.36: the root anon_vma's spinlock everywhere, vma_adjust locks it. */
export const V2_6_36: MmConfig = {
  ...V2_6_34,
  anon_vma_lock: "root-spin",
  vma_adjust_lock: "anon_vma-unless-vm_end",
  skip_temporary_stack: true,
};

/** 3.0: root mutex, still the peek in remove_migration_pte. */
export const V3_0: MmConfig = { ...V2_6_36, anon_vma_lock: "root-mutex" };

/** 3.1: 486cf46f3f9b removed the peek. */
export const V3_1: MmConfig = { ...V3_0, migration_peek: false };

/** 3.3-rc1: anon_vma_moveto_tail in copy_vma and on move_vma's error path. */
export const V3_3: MmConfig = { ...V3_1, copy_vma_order: "moveto_tail" };

/** 3.7: interval tree, need_rmap_locks in move_ptes. */
export const V3_7: MmConfig = { ...V3_1, same_anon_vma: "interval_tree", move_ptes_rmap_lock: "need_rmap_locks" };

export function withConfig(base: MmConfig, over: Partial<MmConfig>): MmConfig {
  return { ...base, ...over };
}
