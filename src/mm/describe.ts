// Model state for the step viewer: plain JSON, addresses as hex strings.

import { hex, type MmWorld, PAGE_SIZE, page_tables, showFlags, showPte } from "./mm_types.js";

export function describeMm(w: MmWorld): unknown {
  const order = (av: MmWorld["anon_vmas"][number]) => {
    const l = av.head.v;
    return w.cfg.same_anon_vma === "list"
      ? l
      : [...l].sort((a, b) => a.vma.vm_pgoff.v - b.vma.vm_pgoff.v || a.id - b.id);
  };
  return {
    mms: w.mms.map((mm) => ({
      mm: mm.name,
      mmap_sem: mm.mmap_sem.holder >= 0 ? "write-locked" : mm.mmap_sem.readers.length ? "read-locked" : "free",
      vmas: mm.mmap.map((v) => ({
        vma: v.name,
        range: `[${hex(v.vm_start.v)}, ${hex(v.vm_end.v)})`,
        vm_pgoff: hex(v.vm_pgoff.v),
        vm_flags: showFlags(v.vm_flags.v),
        anon_vma: v.anon_vma.v?.name ?? null,
        anon_vma_chain: v.anon_vma_chain.map((c) => c.anon_vma.name),
      })),
      page_tables: page_tables(mm).map((pt) => {
        const ptes: Record<string, string> = {};
        pt.pte.forEach((c, i) => {
          if (c.v.k !== "none") ptes[hex(pt.base + i * PAGE_SIZE)] = showPte(c.v);
        });
        return { pmd: hex(pt.base), ptl: pt.ptl.holder >= 0 ? `held` : "free", ptes };
      }),
    })),
    anon_vmas: w.anon_vmas.map((av) => ({
      anon_vma: av.name,
      root: av.root.name,
      refcount: av.refcount.v,
      walk_order: order(av).map((c) => c.vma.name),
    })),
    pages: [...w.pages.values()].map((p) => ({
      page: p.pfn,
      flags: p.PG_locked.v ? ["PG_locked"] : [],
      index: hex(p.index.v),
      mapping: p.mapping.v?.name ?? null,
      mapcount: p._mapcount.v + 1,
      refcount: p._refcount.v,
    })),
  };
}
