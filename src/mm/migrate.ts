// mm/migrate.c: unmap_and_move and the removal of migration entries.

import { type Gen, note, rmw, traced } from "../explore/index.js";
import { READ_ONCE, spin_lock, spin_unlock, WRITE_ONCE } from "../kernel/index.js";
import { get_page, page_add_anon_rmap, pmd_read, set_pte_at } from "./memory.js";
import { hex, type MmWorld, type page, pte_of, showPte, type vm_area_struct } from "./mm_types.js";
import { rmap_walk_anon, try_to_unmap } from "./rmap.js";
import { is_migration_entry, is_swap_pte } from "./swapops.js";

/**
 * mm/migrate.c, v3.0 (peek) and v3.1 (486cf46f3f9b, no peek): remove_migration_pte.
 * Before 3.1 it read the pte without the PT lock and skipped it unless it
 * was a swap pte; an entry in flight inside move_ptes (cleared at src, not
 * yet set at dst) is then missed at both addresses.
 */
export const remove_migration_pte = traced(
  "remove_migration_pte",
  function* (w: MmWorld, newp: page, vma: vm_area_struct, addr: number, old: page): Gen<void> {
    const mm = vma.vm_mm;
    const pt = yield* pmd_read(mm, addr); // pmd_present
    if (!pt) {
      note(`remove_migration_pte: ${vma.name}: no page table at ${hex(addr)}`);
      return;
    }
    const ptep = pte_of(pt, addr);
    if (w.cfg.migration_peek) {
      const peek = yield* READ_ONCE(ptep);
      if (!is_swap_pte(peek)) {
        note(`remove_migration_pte: ${vma.name} ${hex(addr)}: peek without the PT lock sees ${showPte(peek)}, skip`);
        return;
      }
    }
    const ptl = pt.ptl; // pte_lockptr(mm, pmd)
    yield* spin_lock(ptl);
    const pte = yield* READ_ONCE(ptep);
    if (!is_migration_entry(pte) || pte.pfn !== old.pfn) {
      note(`rmap_walk_anon: ${vma.name} ${hex(addr)}: pte ${showPte(pte)}, nothing to restore`);
      yield* spin_unlock(ptl);
      return;
    }
    yield* get_page(newp);
    yield* set_pte_at(ptep, { k: "present", pfn: newp.pfn, write: pte.write });
    note(`remove_migration_pte: ${mm.name} ${hex(addr)}: migration(page ${old.pfn}) -> present(page ${newp.pfn})`);
    yield* page_add_anon_rmap(newp);
    yield* spin_unlock(ptl);
  },
);

// mm/migrate.c, v3.0: remove_migration_ptes — walk 2
export const remove_migration_ptes = traced(
  "remove_migration_ptes",
  function* (w: MmWorld, old: page, newp: page): Gen<void> {
    yield* rmap_walk_anon(
      w,
      newp,
      (p, vma, addr) => remove_migration_pte(w, p, vma, addr, old),
      "remove_migration_ptes",
    );
  },
);

export interface Migration {
  readonly old: page;
  readonly newp: page;
}

/**
 * mm/migrate.c, v3.0: unmap_and_move, up to and including try_to_unmap (walk 1):
 * lock_page(old), pin the anon_vma, install the migration entries. Scenarios
 * run this half in setup() when the race they study is in walk 2.
 */
export const unmap_and_move_unmap = traced("unmap_and_move", function* (w: MmWorld, m: Migration): Gen<void> {
  const { old } = m;
  yield* WRITE_ONCE(old.PG_locked, true); // lock_page
  const av = yield* READ_ONCE(old.mapping);
  if (av) yield rmw(av.refcount, (v: number) => v + 1); // get_anon_vma (3f6c82728f4e): compaction holds no mmap_sem
  yield* try_to_unmap(w, old);
});

/** mm/migrate.c, v3.0: unmap_and_move after try_to_unmap: move_to_new_page (walk 2) or the abort path, then unlock. */
export const unmap_and_move_remap = traced("unmap_and_move", function* (w: MmWorld, m: Migration): Gen<void> {
  const { old, newp } = m;
  const av = yield* READ_ONCE(old.mapping);
  const mapcount = yield* READ_ONCE(old._mapcount);
  if (mapcount < 0) {
    yield* move_to_new_page(w, newp, old);
  } else {
    note(`unmap_and_move: page ${old.pfn} still mapped after try_to_unmap: abort, remove_migration_ptes(old, old)`);
    yield* remove_migration_ptes(w, old, old);
  }
  if (av) yield rmw(av.refcount, (v: number) => v - 1); // put_anon_vma
  yield* WRITE_ONCE(old.PG_locked, false); // unlock_page(page)
  note(`unmap_and_move: unlock_page(page ${old.pfn})`);
});

// mm/migrate.c, v3.0: move_to_new_page for an anon page
export const move_to_new_page = traced("move_to_new_page", function* (w: MmWorld, newp: page, old: page): Gen<void> {
  // The new page is private to this thread until walk 2 maps it, so these steps commute with every other
  // thread's (dpor adds no interleavings for them): trylock_page(newpage), then its index and mapping.
  yield* WRITE_ONCE(newp.PG_locked, true);
  yield* WRITE_ONCE(newp.index, yield* READ_ONCE(old.index));
  yield* WRITE_ONCE(newp.mapping, yield* READ_ONCE(old.mapping));
  // migrate_page: copy the data (nothing shared).
  yield* remove_migration_ptes(w, old, newp);
  yield* WRITE_ONCE(old.mapping, null); // page->mapping = NULL
  yield* WRITE_ONCE(newp.PG_locked, false); // unlock_page(newpage)
});

// mm/migrate.c, v3.0: unmap_and_move
/** compact_zone → migrate_pages → unmap_and_move, the whole protocol. */
export const unmap_and_move = traced("unmap_and_move", function* (w: MmWorld, m: Migration): Gen<void> {
  yield* unmap_and_move_unmap(w, m);
  yield* unmap_and_move_remap(w, m);
});

// mm/compaction.c, v3.0: compact_zone (one isolated page; isolate_migratepages is not modeled)
/** The migration thread: compaction migrating one page, no mmap_sem held. */
export const compact_zone = traced(
  "compact_zone",
  function* (w: MmWorld, m: Migration, from: "start" | "after try_to_unmap"): Gen<void> {
    yield* migrate_pages(w, m, from);
  },
);

// mm/migrate.c, v3.0: migrate_pages (one page, one pass; `from` starts after walk 1 when a scenario ran it in setup)
export const migrate_pages = traced(
  "migrate_pages",
  function* (w: MmWorld, m: Migration, from: "start" | "after try_to_unmap"): Gen<void> {
    if (from === "start") yield* unmap_and_move(w, m);
    else yield* unmap_and_move_remap(w, m);
  },
);
