// vma_adjust / exec vs migration (seed 003, 2010): races B1, B1-cross, B1′,
// B2 of research/seeds-rmap-migration.md §3, and the deadlock and livelock
// of the nested-locking proposals.

import { type Gen, runInSetup } from "../explore/index.js";
import { READ_ONCE, spin_lock, spin_unlock, type spinlock_t } from "../kernel/index.js";
import {
  type anon_vma,
  compact_zone,
  dup_mmap,
  type Migration,
  type MmConfig,
  type MmWorld,
  type mm_struct,
  mmProgram,
  mmu_notifier_register,
  setup_arg_pages,
  sys_mprotect,
  sys_munmap,
  V2_6_34,
  VM_READ,
  VM_STACK_INCOMPLETE_SETUP,
  VM_WRITE,
  type vm_area_struct,
  withConfig,
} from "../mm/index.js";
import { migrateUpToWalk2, mmWithPage } from "./mremap.js";
import type { Scenario } from "./types.js";

interface AdjWorld extends MmWorld {
  readonly mm: mm_struct;
  readonly m: Migration;
  /** The fork child, where there is one. */
  readonly child?: mm_struct;
  readonly vma?: vm_area_struct;
}

const migrationThread = { name: "migration", run: (w: AdjWorld) => compact_zone(w, w.m, "after try_to_unmap") };

const SEED003 = "seeds/003_7e979d24d400f308.txt (linux-mm, April 2010)";

// 2.6.34-rc4-mm1 with compaction: the anon_vma_chain rework left vma_adjust without an anon_vma lock.
const RC4: MmConfig = V2_6_34;
const ADJUST_LOCK: MmConfig = withConfig(V2_6_34, { vma_adjust_lock: "adjust_lock" });
const MEL_LOCK: MmConfig = withConfig(V2_6_34, { vma_adjust_lock: "anon_vma" });
const ROOT_LOCK: MmConfig = withConfig(V2_6_34, {
  anon_vma_lock: "root-spin",
  vma_adjust_lock: "anon_vma-unless-vm_end",
});
const NESTED: MmConfig = withConfig(MEL_LOCK, { walker_nested: "spin" });
const TRYLOCK: MmConfig = withConfig(MEL_LOCK, { walker_nested: "trylock" });

// ---- B1: munmap of the first page splits the vma (new_below)

function splitProgram(name: string, cfg: MmConfig) {
  return () =>
    mmProgram<AdjWorld>({
      name: `vma-adjust-split/${name}`,
      cfg,
      setup: (w) => {
        const { mm, page } = mmWithPage(w, 0x10000, 0x12000, 0x11000);
        const m = migrateUpToWalk2(w, page, 8);
        return Object.assign(w, { mm, m });
      },
      threads: [{ name: "munmap", run: (w) => sys_munmap(w, w.mm, 0x10000, 0x1000) }, migrationThread],
    });
}

// ---- B1-cross: mprotect shifts the boundary between two vmas of one anon_vma

function nextProgram(name: string, cfg: MmConfig) {
  return () =>
    mmProgram<AdjWorld>({
      name: `vma-adjust-next/${name}`,
      cfg,
      setup: (w) => {
        const { mm, page } = mmWithPage(w, 0x10000, 0x14000, 0x11000);
        // mprotect(0x12000, 0x2000, PROT_READ): split; the upper part keeps the old vma.
        runInSetup(sys_mprotect(w, mm, 0x12000, 0x2000, VM_READ));
        const m = migrateUpToWalk2(w, page, 8);
        return Object.assign(w, { mm, m });
      },
      // mprotect(0x11000, 0x1000, PROT_READ): vma_merge case 4, the boundary moves down to 0x11000.
      threads: [{ name: "mprotect", run: (w) => sys_mprotect(w, w.mm, 0x11000, 0x1000, VM_READ) }, migrationThread],
    });
}

// ---- B1′: after fork, the child splits its vma while the walker holds the parent's anon_vma lock

function forkSetup(w: MmWorld): AdjWorld {
  const { mm, page } = mmWithPage(w, 0x10000, 0x12000, 0x11000);
  const child = runInSetup(dup_mmap(w, mm));
  const m = migrateUpToWalk2(w, page, 8);
  return Object.assign(w, { mm, m, child });
}

function forkProgram(name: string, cfg: MmConfig) {
  return () =>
    mmProgram<AdjWorld>({
      name: `vma-adjust-fork/${name}`,
      cfg,
      setup: forkSetup,
      threads: [{ name: "child munmap", run: (w) => sys_munmap(w, w.child!, 0x10000, 0x1000) }, migrationThread],
    });
}

// ---- Minchan's nested lock vs mm_take_all_locks in the child

function takeAllLocksProgram(name: string, cfg: MmConfig) {
  return () =>
    mmProgram<AdjWorld>({
      name: `vma-adjust-take-all-locks/${name}`,
      cfg,
      setup: forkSetup,
      threads: [
        migrationThread,
        { name: "child mmu_notifier_register", run: (w) => mmu_notifier_register(w, w.child!) },
      ],
    });
}

// ---- Mel V1-V5 trylock+retry vs a thread that keeps taking the child's anon_vma lock

/**
 * kswapd on a page COWed in the child (page->mapping = the child's anon_vma):
 * page_referenced → page_lock_anon_vma takes that lock, walks its list,
 * drops it; over and over. A daemon: it never finishes, and the explorer
 * cuts an execution where it passes its step bound (the walker's step bound
 * is what the scenario is about).
 */
function* reclaimChild(w: AdjWorld): Gen<void> {
  // page->mapping of the child's COWed page: its vma's anon_vma (a step, as kswapd reads it concurrently).
  const av = (yield* READ_ONCE(w.child!.mmap[0].anon_vma)) as anon_vma;
  for (;;) {
    yield* spin_lock(av.lock as spinlock_t);
    yield* READ_ONCE(av.head);
    yield* spin_unlock(av.lock as spinlock_t);
  }
}

/**
 * Mel's trylock walker against another thread that takes the child's
 * anon_vma lock: by default kswapd re-taking it forever (the catalogue's
 * livelock). With `contender: "child-mprotect"`, the two-thread form of the
 * fidelity audit (X4): after fork the child splits its vma in setup, then
 * mprotect case 4 in the child holds that lock for a while and lets go; no
 * thread re-takes it, so the walker's retries end in every fair execution.
 */
export function trylockProgram(name: string, cfg: MmConfig, contender: "kswapd" | "child-mprotect" = "kswapd") {
  const second =
    contender === "kswapd"
      ? { name: "kswapd", run: reclaimChild, daemon: true }
      : { name: "child mprotect", run: (w: AdjWorld) => sys_mprotect(w, w.child!, 0x11000, 0x1000, VM_READ) };
  return () =>
    mmProgram<AdjWorld>({
      name: `vma-adjust-trylock-retry/${name}`,
      cfg,
      setup: contender === "kswapd" ? forkSetup : forkSplitSetup,
      maxSteps: 80,
      threads: [migrationThread, second],
    });
}

/** Fork, then the child splits its vma (mprotect of its upper half), then walk 1: audit C4's setup. */
function forkSplitSetup(w: MmWorld): AdjWorld {
  const { mm, page } = mmWithPage(w, 0x10000, 0x14000, 0x11000);
  const child = runInSetup(dup_mmap(w, mm));
  runInSetup(sys_mprotect(w, child, 0x12000, 0x2000, VM_READ));
  const m = migrateUpToWalk2(w, page, 8);
  return Object.assign(w, { mm, m, child });
}

// ---- B2: exec moves the temporary stack

function execProgram(name: string, cfg: MmConfig) {
  return () =>
    mmProgram<AdjWorld>({
      name: `exec-shift-migration/${name}`,
      cfg,
      setup: (w) => {
        // __bprm_mm_init: the temporary stack at the top, vm_pgoff = vm_start >> PAGE_SHIFT; copy_strings faulted a page in.
        const { mm, vma, page } = mmWithPage(w, 0x21000, 0x22000, 0x21000);
        if (cfg.skip_temporary_stack) vma.vm_flags.v |= VM_STACK_INCOMPLETE_SETUP;
        const m = migrateUpToWalk2(w, page, 8);
        return Object.assign(w, { mm, m, vma });
      },
      threads: [
        {
          name: "exec",
          run: function* (w) {
            yield* setup_arg_pages(w, w.vma!, 0x10000);
          },
        },
        migrationThread,
      ],
    });
}

void VM_WRITE;

export const vmaAdjust: readonly Scenario[] = [
  {
    id: "vma-adjust-split",
    title: "__split_vma vs migration: vma_address reads a half-updated vma (race B1)",
    source: `${SEED003}; Kamezawa 20100422195153.d91c1c9e.kamezawa.hiroyu@jp.fujitsu.com; 012f18004da3 (v2.6.36)`,
    description:
      "One anon vma [0x10000, 0x12000), page 7 at 0x11000; setup runs walk 1 of compaction's migration (migration entry at " +
      "0x11000). Threads: munmap(0x10000, 0x1000) splits the vma (__split_vma new_below: the new vma takes [0x10000, 0x11000) and " +
      "goes to the tail of the anon_vma list, then vma_adjust stores vm_start and vm_pgoff of the old one, one store at a time) and " +
      "unmaps the new one; migration runs walk 2 and unlocks page 7. vma_address between the two stores computes 0x12000, outside " +
      "the vma: -EFAULT, skip.",
    variants: [
      {
        name: "v2.6.34-rc4",
        source: "2.6.34-rc4-mm1 (Memory Compaction v8); fc148a5f7e05 removed VM_LOCK_RMAP",
        expected: "violation:invariant",
        expectedFrom: "history",
        summary: "vma_adjust takes no anon_vma lock; the walker holds page->anon_vma->lock.",
        program: splitProgram("v2.6.34-rc4", RC4),
      },
      {
        name: "adjust_lock",
        source: "Kamezawa, seed 003: spinlock_t adjust_lock in each vma",
        expected: "safe",
        expectedFrom: "analysis",
        summary: "vma_adjust stores the three fields under vma->adjust_lock, and vma_address reads them under it.",
        program: splitProgram("adjust_lock", ADJUST_LOCK),
      },
      {
        name: "vma_adjust-anon_vma-lock",
        source: "Mel Gorman, 20100422141404.GA30306@csn.ul.ie: take the anon_vma lock in vma_adjust()",
        expected: "safe",
        expectedFrom: "analysis",
        summary: "vma_adjust holds vma->anon_vma->lock, the lock the walker holds in a single mm.",
        program: splitProgram("vma_adjust-anon_vma-lock", MEL_LOCK),
      },
      {
        name: "root-anon_vma-lock",
        source: "012f18004da3 mm: always lock the root (oldest) anon_vma (v2.6.36)",
        expected: "safe",
        expectedFrom: "history",
        summary: "anon_vma_lock takes the root's lock; vma_adjust holds it when start, insert or importer change.",
        program: splitProgram("root-anon_vma-lock", ROOT_LOCK),
      },
    ],
  },
  {
    id: "vma-adjust-next",
    title: "mprotect moves the boundary between two vmas vs migration (race B1-cross)",
    source: `${SEED003}; research/seeds-rmap-migration.md §3.2 (B1-cross, an analysis, not raised in the thread)`,
    description:
      "Setup: mmap [0x10000, 0x14000), touch page 7 at 0x11000, mprotect(0x12000, 0x2000, PROT_READ) splits it (the upper part keeps " +
      "vma1, the lower part is the new vma2: list [vma1, vma2]), then walk 1 (migration entry at 0x11000). Threads: " +
      "mprotect(0x11000, 0x1000, PROT_READ) — vma_merge case 4, vma_adjust with adjust_next = -1 moves the boundary down to 0x11000, " +
      "so page 7 passes from vma2 to vma1 — while migration runs walk 2. The walker can see vma1 before the move and vma2 after it, " +
      "each one consistent; a per-vma lock cannot help.",
    variants: [
      {
        name: "adjust_lock",
        source: "Kamezawa, seed 003",
        expected: "violation:invariant",
        expectedFrom: "analysis",
        summary: "Per-vma adjust_lock: each vma is read consistently, but not the two together.",
        program: nextProgram("adjust_lock", ADJUST_LOCK),
      },
      {
        name: "root-anon_vma-lock",
        source: "012f18004da3 (v2.6.36): importer set → vma_adjust holds the root lock across both vmas",
        expected: "safe",
        expectedFrom: "history",
        summary:
          "vma_adjust holds the root anon_vma lock across the stores to both vmas; the walker holds it for its whole walk.",
        program: nextProgram("root-anon_vma-lock", ROOT_LOCK),
      },
    ],
  },
  {
    id: "vma-adjust-fork",
    title: "After fork, vma_adjust locks the child's anon_vma while the walker holds the parent's (race B1′)",
    source: `${SEED003}; Minchan Kim, 22 April 2010: "rmap_walk_anon doesn't hold vma's anon_vma->lock"`,
    description:
      "Setup: parent mm1 with vma [0x10000, 0x12000), page 7 at 0x11000; fork (dup_mmap: the child's vma gets chain [anon_vma2, " +
      "anon_vma1] and joins anon_vma1's list); walk 1 puts migration entries in both mms. Threads: the child munmaps its first " +
      "page (split, vma_adjust on the child's vma) while migration walks anon_vma1's list holding anon_vma1's lock.",
    variants: [
      {
        name: "vma_adjust-anon_vma-lock",
        source: "Mel Gorman's patch, 20100422141404.GA30306@csn.ul.ie",
        expected: "violation:invariant",
        expectedFrom: "history",
        summary: "vma_adjust takes the child's vma->anon_vma->lock, not the lock the walker holds.",
        program: forkProgram("vma_adjust-anon_vma-lock", MEL_LOCK),
      },
      {
        name: "root-anon_vma-lock",
        source: "012f18004da3 (v2.6.36)",
        expected: "safe",
        expectedFrom: "history",
        summary: "Parent and child anon_vmas share the root's lock.",
        program: forkProgram("root-anon_vma-lock", ROOT_LOCK),
      },
    ],
  },
  {
    id: "vma-adjust-take-all-locks",
    title: "The walker's nested vma->anon_vma lock vs mm_take_all_locks in the child: ABBA",
    source: `${SEED003} (Minchan's merged idea); research §3.5 B-F4`,
    description:
      "Setup as vma-adjust-fork. Threads: migration walks anon_vma1's list holding anon_vma1->lock and, at the child's vma, also " +
      "spin_locks its anon_vma2; the child registers an mmu notifier: mm_take_all_locks walks the child vma's same_vma list from " +
      "its head, anon_vma2 then anon_vma1.",
    variants: [
      {
        name: "nested-anon_vma-lock",
        source: "Minchan Kim, seed 003 (concept patch)",
        expected: "violation:deadlock",
        expectedFrom: "analysis",
        summary: "rmap_walk_anon: spin_lock(vma->anon_vma->lock) when it differs from the walked anon_vma.",
        program: takeAllLocksProgram("nested-anon_vma-lock", NESTED),
      },
    ],
  },
  {
    id: "vma-adjust-trylock-retry",
    title: "The walker's trylock+retry of vma->anon_vma->lock vs a thread that keeps taking it: livelock",
    source: `${SEED003}; Mel V1-V5 "Prevent rmap_walk_[anon|ksm] seeing the wrong VMA information"; Linus on V5 (lockstep livelock)`,
    description:
      "Setup as vma-adjust-fork. Threads: migration walks anon_vma1's list; at the child's vma it spin_trylocks anon_vma2->lock and, " +
      "when that fails, drops anon_vma1->lock and restarts the walk; kswapd (a daemon) keeps taking anon_vma2->lock for reclaim " +
      "of pages COWed in the child. Whenever the walker tries, the lock is held: the walk never ends.",
    variants: [
      {
        name: "trylock-retry",
        source: "Mel Gorman V1 (2010-04-26)",
        expected: "violation:livelock",
        expectedFrom: "analysis",
        summary: "rmap_walk_anon: spin_trylock the vma's anon_vma; on failure unlock and goto retry.",
        program: trylockProgram("trylock-retry", TRYLOCK),
        // Only a fair execution counts as a livelock, and the lockstep costs a preemption per round: beyond small bounds.
        strategy: "dpor",
      },
    ],
  },
  {
    id: "exec-shift-migration",
    title: "exec's shift_arg_pages vs migration: the vma moves before its ptes (race B2)",
    source: `${SEED003}; a8bef8ff6ea1 "mm: migration: avoid race between shift_arg_pages() and rmap_walk() during migration by not migrating temporary stacks" (v2.6.35)`,
    description:
      "The exec temporary stack [0x21000, 0x22000) with page 7; setup runs walk 1 of compaction's migration. Threads: exec's " +
      "setup_arg_pages → shift_arg_pages moves the stack down by 0x10000: vma_adjust grows it to [0x11000, 0x22000) with vm_pgoff " +
      "unchanged, so vma_address now says 0x11000 for page 7 while its pte is still at 0x21000; then move_page_tables; then the " +
      "shrink. Migration runs walk 2. With the v2.6.35 fix walk 1 skips the temporary stack, the page stays mapped and the " +
      "migration aborts. The exec thread ends after the stack moved (expand_stack is not modeled). 2.6.34 still has the " +
      "lockless peek of remove_migration_pte, so the fewest-preemption counterexample may use move_ptes' in-flight window (A1) " +
      "instead of the vma/pte mismatch; both leave the entry behind.",
    variants: [
      {
        name: "v2.6.34",
        source: "2.6.34 with compaction (the reproduced race: Mel's exec hammer, seed 003 thread)",
        expected: "violation:invariant",
        expectedFrom: "history",
        summary: "Migration walks the temporary stack like any vma.",
        program: execProgram("v2.6.34", RC4),
      },
      {
        name: "skip-temporary-stack",
        source: "a8bef8ff6ea1 (v2.6.35)",
        expected: "safe",
        expectedFrom: "history",
        summary: "VM_STACK_INCOMPLETE_SETUP marks the stack until it has moved; try_to_unmap skips it.",
        program: execProgram("skip-temporary-stack", withConfig(RC4, { skip_temporary_stack: true })),
      },
    ],
  },
];
