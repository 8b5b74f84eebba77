// mremap vs migration (seed 000, 2011): races A1 and A2 of
// research/seeds-rmap-migration.md §2, and the error path Hugh found.

import { runInSetup } from "../explore/index.js";
import {
  __vma_link,
  alloc_page,
  compact_zone,
  dup_mmap,
  FAULT_FLAG_WRITE,
  handle_mm_fault,
  type Migration,
  type MmConfig,
  type MmWorld,
  mm_alloc,
  type mm_struct,
  mmProgram,
  sys_mremap,
  unmap_and_move_unmap,
  V3_0,
  V3_1,
  V3_3,
  V3_7,
  VM_READ,
  VM_WRITE,
  vm_area_alloc,
  withConfig,
} from "../mm/index.js";
import type { Scenario } from "./types.js";

export interface MremapWorld extends MmWorld {
  readonly mm: mm_struct;
  readonly m: Migration;
}

/**
 * mmap an anon vma [start, end) at pgoff start>>PAGE_SHIFT, then a write fault
 * at `at` (anon_vma_prepare, do_anonymous_page) that maps page `pfn`.
 */
export function setupAnonVma(w: MmWorld, mm: mm_struct, start: number, end: number, at: number, pfn: number) {
  const vma = vm_area_alloc(w, mm, { start, end, pgoff: start >> 12, flags: VM_READ | VM_WRITE });
  __vma_link(mm, vma);
  w.ids.pfn = pfn; // the fault's page allocation takes this frame
  runInSetup(handle_mm_fault(w, mm, vma, at, FAULT_FLAG_WRITE));
  const page = w.pages.get(pfn)!;
  return { vma, av: vma.anon_vma.v!, page };
}

/** The start most scenarios share: a new mm with an anon vma [start, end) and page 7 faulted in at `at`. */
export function mmWithPage(w: MmWorld, start: number, end: number, at: number) {
  const mm = mm_alloc(w);
  return { mm, ...setupAnonVma(w, mm, start, end, at, 7) };
}

/** Walk 1 of the migration of `old` to a new page `newPfn`, run in setup. */
export function migrateUpToWalk2(w: MmWorld, old: Migration["old"], newPfn: number): Migration {
  const m: Migration = { old, newp: alloc_page(w, newPfn) };
  runInSetup(unmap_and_move_unmap(w, m));
  return m;
}

const migrationThread = { name: "migration", run: (w: MremapWorld) => compact_zone(w, w.m, "after try_to_unmap") };

/**
 * An mremap thread moving `len` bytes from `from` to `to` in w.mm, against the
 * migration thread running walk 2: the shape of every scenario in this file
 * but the forked one. Returns the variant's program builder for a config.
 */
function mremapVsMigration(id: string, setup: (w: MmWorld) => MremapWorld, from: number, len: number, to: number) {
  return (name: string, cfg: MmConfig) => () =>
    mmProgram<MremapWorld>({
      name: `${id}/${name}`,
      cfg,
      setup,
      threads: [
        {
          name: "mremap",
          run: function* (w) {
            yield* sys_mremap(w, w.mm, from, len, len, to, { final_munmap: true });
          },
        },
        migrationThread,
      ],
    });
}

// ---- A1: the lockless peek (mremap-migration-peek)

/** One page at 0x11000, walk 1 done; mremap then moves it to 0x21000, a different PT lock. */
function peekSetup(w: MmWorld): MremapWorld {
  const { mm, page } = mmWithPage(w, 0x11000, 0x12000, 0x11000);
  const m = migrateUpToWalk2(w, page, 8);
  return Object.assign(w, { mm, m });
}

const peekProgram = mremapVsMigration("mremap-migration-peek", peekSetup, 0x11000, 0x1000, 0x21000);

// ---- A2: vma_merge puts dst before src (mremap-merge-order)

/** Andrea's trigger: mmap 2 pages, touch the second, mremap it away, migration walk 1; then mremap it back. */
function mergeSetup(w: MmWorld): MremapWorld {
  const { mm, page } = mmWithPage(w, 0x10000, 0x12000, 0x11000);
  runInSetup(sys_mremap(w, mm, 0x11000, 0x1000, 0x1000, 0x21000));
  const m = migrateUpToWalk2(w, page, 8);
  return Object.assign(w, { mm, m });
}

const mergeProgram = mremapVsMigration("mremap-merge-order", mergeSetup, 0x21000, 0x1000, 0x11000);

// ---- A2 on the error path (mremap-merge-order-enomem)

/**
 * Two pages moved away to 0x31000 and moved back to 0x1f000: the move back
 * spans two PMD regions at the destination; the page table of the second
 * (0x20000) was never allocated, so alloc_new_pmd may fail after the first
 * chunk, and move_vma moves that chunk back.
 */
function enomemSetup(w: MmWorld): MremapWorld {
  const { mm, page } = mmWithPage(w, 0x1e000, 0x21000, 0x1f000);
  runInSetup(sys_mremap(w, mm, 0x1f000, 0x2000, 0x2000, 0x31000));
  const m = migrateUpToWalk2(w, page, 8);
  w.alloc_may_fail = true;
  return Object.assign(w, { mm, m });
}

const enomemProgram = mremapVsMigration("mremap-merge-order-enomem", enomemSetup, 0x31000, 0x2000, 0x1f000);

// ---- Hugh's doubt: anon_vma_moveto_tail with two mms on one anon_vma (research S8)

interface ForkedWorld extends MremapWorld {
  readonly child: mm_struct;
}

/**
 * Andrea's trigger in a parent, then fork: the child inherits both vmas
 * (anon_vma_fork: its own anon_vmas, chained to the parent's), page 7 is
 * mapped at 0x21000 in both, and walk 1 put a migration entry in each.
 */
function forkedMergeSetup(w: MmWorld): ForkedWorld {
  const { mm, page } = mmWithPage(w, 0x10000, 0x12000, 0x11000);
  runInSetup(sys_mremap(w, mm, 0x11000, 0x1000, 0x1000, 0x21000));
  const child = runInSetup(dup_mmap(w, mm));
  const m = migrateUpToWalk2(w, page, 8);
  return Object.assign(w, { mm, m, child });
}

function forkedMergeProgram(name: string, cfg: MmConfig) {
  const moveBack = (which: "mm" | "child") =>
    function* (w: ForkedWorld) {
      yield* sys_mremap(w, w[which], 0x21000, 0x1000, 0x1000, 0x11000, { final_munmap: true });
    };
  return () =>
    mmProgram<ForkedWorld>({
      name: `mremap-merge-order-fork/${name}`,
      cfg,
      setup: forkedMergeSetup,
      threads: [
        { name: "parent mremap", run: moveBack("mm") },
        { name: "child mremap", run: moveBack("child") },
        migrationThread,
      ],
    });
}

const SEED000 = "seeds/000_bbca6a75184eac2a.txt (linux-mm, Oct-Nov 2011)";

export const mremap: readonly Scenario[] = [
  {
    id: "mremap-migration-peek",
    title: "mremap vs migration: remove_migration_pte peeks at the pte without the PT lock (race A1)",
    source: `${SEED000}; 486cf46f3f9b "mm: fix race between mremap and removing migration entry" (v3.1)`,
    description:
      "One anon vma [0x11000, 0x12000) with page 7 at 0x11000. Setup runs walk 1 of compaction's migration of page 7 " +
      "(try_to_unmap: migration entry at 0x11000, page 7 locked). Threads: mremap moves the vma to 0x21000 (copy_vma allocates " +
      "a new vma at the tail of the anon_vma list, move_ptes moves the pte under both PT locks, 0x11000 and 0x21000 being under " +
      "different split PT locks); migration runs walk 2 (remove_migration_ptes) and unlocks page 7. Before 3.1 the walk peeks at " +
      "each pte without the PT lock and can look at both addresses while the entry is in move_ptes' register.",
    variants: [
      {
        name: "v3.0",
        source: "v3.0 mm/migrate.c (is_swap_pte peek before pte_lockptr)",
        expected: "violation:invariant",
        expectedFrom: "history",
        summary: "remove_migration_pte peeks without the PT lock.",
        program: peekProgram("v3.0", V3_0),
      },
      {
        name: "v3.1",
        source: "486cf46f3f9b (Hugh Dickins), v3.1",
        expected: "safe",
        expectedFrom: "history",
        summary: "remove_migration_pte always takes the PT lock before looking.",
        program: peekProgram("v3.1", V3_1),
      },
    ],
  },
  {
    id: "mremap-merge-order",
    title: "mremap vs migration: vma_merge in copy_vma puts dst before src in the anon_vma list (race A2)",
    source: `${SEED000}; Nai Xia's interleaving; anon_vma_moveto_tail (v3.3-rc1); 108d6642ad81 and 38a76013ad80 (v3.7)`,
    description:
      "Andrea's trigger, run in setup: mmap [0x10000, 0x12000), touch page 7 at 0x11000, mremap that page away to 0x21000 " +
      "(new vma2 at the tail: list [vma1, vma2]), then walk 1 of compaction's migration of page 7 (migration entry at 0x21000). " +
      "Threads: mremap moves 0x21000 back to 0x11000 — copy_vma's vma_merge extends vma1, which sits before vma2 in the list — " +
      "while migration runs walk 2 and unlocks page 7. Mel's table in seed 000: rmap_walk finds dst, no ptes; move_ptes copies src " +
      "to dst; rmap_walk finds src, ptes empty. The fewest-preemption counterexample has the walk look at vma1 just before the " +
      "merge (out of range, -EFAULT), the same race; the one shown is Mel's, asked of the explorer with the variant's story.",
    variants: [
      {
        name: "v3.1",
        source: "v3.1 (486cf46f3f9b applied, no ordering)",
        expected: "violation:invariant",
        expectedFrom: "history",
        summary: "copy_vma does nothing about the list order when vma_merge succeeds.",
        // Mel Gorman's table in seed 000.
        story: [
          { thread: "mremap", note: /vma_merge: vma1 extends/ },
          { thread: "migration", note: /vma1 0x11000: pte none/ },
          { thread: "mremap", note: /move_ptes: pte 0x11000 <- 0x21000/ },
          { thread: "migration", note: /vma2 0x21000: pte none/ },
        ],
        program: mergeProgram("v3.1", V3_1),
      },
      {
        name: "anon_vma_moveto_tail",
        source:
          "mremap: enforce rmap src/dst vma ordering in case of vma_merge() succeeding in copy_vma() (v3.3-rc1, Andrea v2)",
        expected: "safe",
        expectedFrom: "history",
        summary: "copy_vma moves the merged dst vma's avcs to the tail of their anon_vma lists.",
        program: mergeProgram("anon_vma_moveto_tail", V3_3),
      },
      {
        name: "move_ptes-rmap-locks",
        source: "108d6642ad81 mm anon rmap: remove anon_vma_moveto_tail (v3.7-rc1)",
        expected: "safe",
        expectedFrom: "history",
        summary: "move_ptes always holds the anon_vma (root) lock, which the walker holds for its whole walk.",
        program: mergeProgram("move_ptes-rmap-locks", withConfig(V3_1, { move_ptes_rmap_lock: "always" })),
      },
      {
        name: "need_rmap_locks",
        source: "38a76013ad80 mm: avoid taking rmap locks in move_ptes() (v3.7), with the anon interval tree",
        expected: "safe",
        expectedFrom: "history",
        summary:
          "copy_vma reports need_rmap_locks when the merged dst may precede src (vm_pgoff ≤); move_ptes then takes the lock.",
        program: mergeProgram("need_rmap_locks", V3_7),
      },
    ],
  },
  {
    id: "mremap-merge-order-enomem",
    title: "mremap vs migration on move_vma's error path: the reverse move needs the opposite order",
    source: `${SEED000}; Hugh Dickins, alpine.LSU.2.00.1111032318290.2058@sister.anvils; Andrea v2 1320512782-12209-1-git-send-email-aarcange@redhat.com`,
    description:
      "Setup: mmap [0x1e000, 0x21000), touch page 7 at 0x1f000, mremap [0x1f000, 0x21000) away to 0x31000 (the page table for " +
      "0x20000 was never allocated), walk 1 (migration entry at 0x31000). Threads: mremap moves it back to 0x1f000 — vma_merge " +
      "extends vma1 — and alloc_new_pmd for 0x20000 may fail (a nondeterministic choice) after the first chunk moved, so move_vma " +
      "moves that chunk back from vma1 to vma2; migration runs walk 2. With anon_vma_order_tail (the seed's patch) vma1 is at the " +
      "tail during the reverse move, the wrong order for it.",
    variants: [
      {
        name: "anon_vma_order_tail",
        source: "seeds/000 (Andrea's v1 patch, 1320082040-1190-1-git-send-email-aarcange@redhat.com)",
        expected: "violation:invariant",
        expectedFrom: "analysis",
        summary: "Only copy_vma reorders; the error path's reverse move runs with dst' before src'.",
        program: enomemProgram("anon_vma_order_tail", withConfig(V3_1, { copy_vma_order: "order_tail" })),
      },
      {
        name: "anon_vma_moveto_tail",
        source: "Andrea v2 (v3.3-rc1): anon_vma_moveto_tail(vma) before the reverse move_page_tables",
        expected: "safe",
        expectedFrom: "history",
        summary: "move_vma moves the old vma to the tail before moving the ptes back.",
        program: enomemProgram("anon_vma_moveto_tail", V3_3),
      },
    ],
  },
  {
    id: "mremap-merge-order-fork",
    title: "anon_vma_moveto_tail with two mms on one anon_vma: parent and child move back at once (Hugh's doubt)",
    source: `${SEED000}; Hugh Dickins, alpine.LSU.2.00.1111032318290.2058@sister.anvils; research S8`,
    description:
      "Hugh doubted the ordering fix 'against concurrent mremaps in other mms'. Setup: Andrea's trigger in a parent (page 7 " +
      "moved away to 0x21000, list [vma1, vma2]), then fork: the child's vmas join the parent's anon_vma list and page 7 is " +
      "mapped at 0x21000 in both mms; walk 1 put a migration entry in each. Threads: the parent and the child each mremap " +
      "0x21000 back to 0x11000 while migration runs walk 2 over the shared list. In the parent vma_merge extends vma1; in the " +
      "child the merge is refused (its vmas have different anon_vmas), so copy_vma allocates a new vma at the tail.",
    variants: [
      {
        name: "v3.1",
        source: "v3.1 (486cf46f3f9b applied, no ordering)",
        expected: "violation:invariant",
        expectedFrom: "analysis",
        summary: "No ordering: the parent alone has race A2, whatever the child does.",
        program: forkedMergeProgram("v3.1", V3_1),
      },
      {
        name: "anon_vma_moveto_tail",
        source: "anon_vma_moveto_tail (v3.3-rc1); the open question of research §2.6",
        expected: "safe",
        expectedFrom: "analysis",
        summary:
          "Each mm reorders only its own avcs, under the root lock the walker holds for its whole walk: no walk sees a reorder.",
        program: forkedMergeProgram("anon_vma_moveto_tail", V3_3),
      },
    ],
  },
];
