// Unit tests of the mm model's pieces, run sequentially inside a setup().

import assert from "node:assert/strict";
import { test } from "node:test";
import { migrateUpToWalk2, setupAnonVma } from "../src/catalogue/mremap.js";
import { Execution, explore, type Program, runInSetup } from "../src/explore/index.js";
import {
  anon_vma_moveto_tail,
  dup_mmap,
  EFAULT,
  FAULT_FLAG_WRITE,
  handle_mm_fault,
  type MmConfig,
  type MmWorld,
  mm_alloc,
  move_ptes,
  newWorld,
  pte_now,
  showPte,
  sys_mremap,
  V2_6_34,
  V3_1,
  V3_3,
  vma_address,
} from "../src/mm/index.js";

function inSetup<T>(cfg: MmConfig, f: (w: MmWorld) => T): T {
  let out!: T;
  new Execution({ name: "unit", setup: () => (out = f(newWorld(cfg))), threads: [] });
  return out;
}

const listOf = (w: MmWorld, i = 0) => w.anon_vmas[i].head.v.map((c) => c.vma.name);
const pte = (w: MmWorld, addr: number, mm = w.mms[0]) => showPte(pte_now(mm, addr)!.v);

test("vma_address: in range, out of range, and a half-updated vma", () => {
  inSetup(V3_1, (w) => {
    const mm = mm_alloc(w);
    const { vma, page } = setupAnonVma(w, mm, 0x10000, 0x12000, 0x11000, 7);
    assert.equal(page.index.v, 0x11);
    assert.equal(runInSetup(vma_address(w, page, vma)), 0x11000);
    page.index.v = 0x12;
    assert.equal(runInSetup(vma_address(w, page, vma)), EFAULT);
    page.index.v = 0x11;
    // __split_vma new_below stored vm_start but not yet vm_pgoff:
    vma.vm_start.v = 0x11000;
    assert.equal(runInSetup(vma_address(w, page, vma)), EFAULT);
    vma.vm_pgoff.v = 0x11;
    assert.equal(runInSetup(vma_address(w, page, vma)), 0x11000);
  });
});

test("mremap away: copy_vma puts the new vma at the tail, move_ptes moves the pte, do_munmap splits and unlinks", () => {
  inSetup(V3_1, (w) => {
    const mm = mm_alloc(w);
    setupAnonVma(w, mm, 0x10000, 0x12000, 0x11000, 7);
    runInSetup(sys_mremap(w, mm, 0x11000, 0x1000, 0x1000, 0x21000));
    assert.deepEqual(listOf(w), ["vma1", "vma2"]);
    assert.equal(pte(w, 0x11000), "none");
    assert.equal(pte(w, 0x21000), "present(page 7, w)");
    assert.deepEqual(
      mm.mmap.map((v) => [v.name, v.vm_start.v, v.vm_end.v, v.vm_pgoff.v]),
      [
        ["vma1", 0x10000, 0x11000, 0x10],
        ["vma2", 0x21000, 0x22000, 0x11],
      ],
    );
  });
});

test("mremap back: vma_merge extends vma1, which stays before the source (v3.1) or moves to the tail (moveto_tail)", () => {
  for (const [cfg, order] of [
    [V3_1, ["vma1", "vma2"]],
    [V3_3, ["vma2", "vma1"]],
  ] as const) {
    inSetup(cfg, (w) => {
      const mm = mm_alloc(w);
      setupAnonVma(w, mm, 0x10000, 0x12000, 0x11000, 7);
      runInSetup(sys_mremap(w, mm, 0x11000, 0x1000, 0x1000, 0x21000));
      // The move back, without its final do_munmap so the list can be inspected.
      runInSetup(sys_mremap(w, mm, 0x21000, 0x1000, 0x1000, 0x11000, { final_munmap: false }));
      assert.deepEqual(listOf(w), order);
      assert.equal(mm.mmap[0].vm_end.v, 0x12000);
      assert.equal(pte(w, 0x11000), "present(page 7, w)");
      assert.equal(pte(w, 0x21000), "none");
    });
  }
});

test("anon_vma_moveto_tail moves every avc of the vma to the tail", () => {
  inSetup(V3_3, (w) => {
    const mm = mm_alloc(w);
    const { vma } = setupAnonVma(w, mm, 0x10000, 0x12000, 0x11000, 7);
    runInSetup(sys_mremap(w, mm, 0x11000, 0x1000, 0x1000, 0x21000));
    assert.deepEqual(listOf(w), ["vma1", "vma2"]);
    runInSetup(anon_vma_moveto_tail(w, vma));
    assert.deepEqual(listOf(w), ["vma2", "vma1"]);
  });
});

test("move_ptes moves a migration entry between PT locks", () => {
  inSetup(V3_1, (w) => {
    const mm = mm_alloc(w);
    const { vma, page } = setupAnonVma(w, mm, 0x11000, 0x12000, 0x11000, 7);
    migrateUpToWalk2(w, page, 8);
    assert.equal(pte(w, 0x11000), "migration(page 7)");
    runInSetup(sys_mremap(w, mm, 0x11000, 0x1000, 0x1000, 0x21000));
    assert.equal(pte(w, 0x11000), "none");
    assert.equal(pte(w, 0x21000), "migration(page 7)");
    assert.notEqual(mm.pmd[1].v!.ptl, mm.pmd[2].v!.ptl);
    void vma;
    void move_ptes;
  });
});

test("fork: the child's chain is [own, parent's], both lists in fork order, the page mapped twice", () => {
  inSetup(V2_6_34, (w) => {
    const mm = mm_alloc(w);
    const { page } = setupAnonVma(w, mm, 0x10000, 0x12000, 0x11000, 7);
    const child = runInSetup(dup_mmap(w, mm));
    const cv = child.mmap[0];
    assert.deepEqual(
      cv.anon_vma_chain.map((c) => c.anon_vma.name),
      ["anon_vma2", "anon_vma1"],
    );
    assert.equal(cv.anon_vma.v?.name, "anon_vma2");
    assert.deepEqual(listOf(w, 0), ["vma1", "vma2"]);
    assert.deepEqual(listOf(w, 1), ["vma2"]);
    assert.equal(page._mapcount.v, 1);
    assert.equal(pte(w, 0x11000, child), "present(page 7)");
    assert.equal(pte(w, 0x11000, mm), "present(page 7)");
    // walk 1 finds both mappings
    migrateUpToWalk2(w, page, 8);
    assert.equal(pte(w, 0x11000, child), "migration(page 7)");
    assert.equal(pte(w, 0x11000, mm), "migration(page 7)");
    assert.equal(page._mapcount.v, -1);
  });
});

test("a fault on the migration entry of an unlocked page is the swapops.h BUG", () => {
  interface FW extends MmWorld {
    vma: ReturnType<typeof setupAnonVma>["vma"];
  }
  const p: Program<FW> = {
    name: "fault",
    setup: () => {
      const w = newWorld(V3_1);
      const mm = mm_alloc(w);
      const { vma, page } = setupAnonVma(w, mm, 0x11000, 0x12000, 0x11000, 7);
      migrateUpToWalk2(w, page, 8);
      page.PG_locked.v = false; // as if unmap_and_move had unlocked it, leaving the entry behind
      return Object.assign(w, { vma });
    },
    threads: [
      {
        name: "fault",
        run: function* (w) {
          yield* handle_mm_fault(w, w.mms[0], w.vma, 0x11000);
        },
      },
    ],
  };
  const r = explore(p, "dfs");
  assert.equal(r.violation?.kind, "assertion");
  assert.match(r.violation!.message, /swapops.h:105 BUG_ON\(!PageLocked\(p\)\)/);
});

test("a write fault maps a new page through anon_vma_prepare and do_anonymous_page", () => {
  interface FW extends MmWorld {
    vma: ReturnType<typeof setupAnonVma>["vma"];
  }
  const p: Program<FW> = {
    name: "two faults",
    setup: () => {
      const w = newWorld(V3_1);
      const mm = mm_alloc(w);
      const { vma } = setupAnonVma(w, mm, 0x11000, 0x13000, 0x11000, 7);
      return Object.assign(w, { vma });
    },
    // Two threads of the mm fault the same empty pte: one maps its page, the other backs off.
    threads: [0, 1].map((i) => ({
      name: `cpu${i}`,
      run: function* (w: FW) {
        yield* handle_mm_fault(w, w.mms[0], w.vma, 0x12000, FAULT_FLAG_WRITE);
      },
    })),
    invariants: [
      {
        name: "one page mapped at 0x12000",
        check: (w) => {
          const pte = pte_now(w.mms[0], 0x12000)!.v;
          if (pte.k !== "present") return `pte is ${showPte(pte)}`;
          const page = w.pages.get(pte.pfn)!;
          if (page.index.v !== 0x12) return `page index ${page.index.v}`;
          if (page.mapping.v !== w.vma.anon_vma.v) return "page not in the vma's anon_vma";
          if (page._mapcount.v !== 0) return `mapcount ${page._mapcount.v}`;
          return null;
        },
      },
    ],
  };
  const r = explore(p, "dfs");
  assert.equal(r.verdict, "safe");
  assert.ok(r.complete);
  assert.ok(r.executions > 1);
});
