// include/linux/mm_types.h, include/linux/rmap.h: the mm model's objects.
// Every field another thread can read without a lock its writer holds is a
// cell; fields only ever touched under mmap_sem held for write (the VMA set,
// a vma's same_vma list while it is being built) are plain properties, read
// and written by the mmap_sem holder without a step (said where it happens).

import { cell, type Loc, ModelError } from "../explore/index.js";
import {
  init_rwsem,
  type mutex,
  mutex_init,
  type rw_semaphore,
  spin_lock_init,
  type spinlock_t,
} from "../kernel/index.js";
import type { MmConfig } from "./config.js";

/** The model's page size. Addresses are real byte addresses, shown in hex. */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/**
 * The model's page-table page covers 16 ptes (the kernel's covers 512): a
 * PMD region is 0x10000 bytes, so 0x11000 and 0x21000 sit under different
 * split PT locks, as src and dst of a real mremap can.
 */
export const PTRS_PER_PTE = 16;
export const PMD_SIZE = PAGE_SIZE * PTRS_PER_PTE;
export const PMD_MASK = ~(PMD_SIZE - 1);

export const hex = (n: number): string => `0x${n.toString(16)}`;

/** vm_flags bits the model uses. */
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_GROWSDOWN = 0x100;
/** fs/exec.c, v2.6.35 (a8bef8ff6ea1): VM_RAND_READ|VM_SEQ_READ, an impossible combination, marks the temporary stack. */
export const VM_SEQ_READ = 0x8000;
export const VM_RAND_READ = 0x10000;
export const VM_STACK_INCOMPLETE_SETUP = VM_RAND_READ | VM_SEQ_READ;

export function showFlags(f: number): string {
  const s = `${f & VM_READ ? "r" : "-"}${f & VM_WRITE ? "w" : "-"}${f & VM_EXEC ? "x" : "-"}`;
  return (f & VM_STACK_INCOMPLETE_SETUP) === VM_STACK_INCOMPLETE_SETUP ? `${s} STACK_INCOMPLETE_SETUP` : s;
}

/** A page-table entry: none, present, a migration entry or a swap entry (include/linux/swapops.h). */
export type pte_t =
  | { readonly k: "none" }
  | { readonly k: "present"; readonly pfn: number; readonly write: boolean }
  | { readonly k: "migration"; readonly pfn: number; readonly write: boolean }
  | { readonly k: "swap"; readonly offset: number };

export const PTE_NONE: pte_t = Object.freeze({ k: "none" });

export function showPte(p: pte_t): string {
  switch (p.k) {
    case "none":
      return "none";
    case "present":
      return `present(page ${p.pfn}${p.write ? ", w" : ""})`;
    case "migration":
      return `migration(page ${p.pfn})`;
    case "swap":
      return `swap(${hex(p.offset)})`;
  }
}

/** struct page. */
export interface page {
  readonly pfn: number;
  readonly name: string;
  /** PG_locked. */
  readonly PG_locked: Loc<boolean>;
  /** page->index: the page's offset in the anon_vma's linear space (vm_pgoff units). */
  readonly index: Loc<number>;
  /** page->mapping for an anon page: its anon_vma (PAGE_MAPPING_ANON), or null. */
  readonly mapping: Loc<anon_vma | null>;
  /** _mapcount, kernel convention: -1 when unmapped. */
  readonly _mapcount: Loc<number>;
  readonly _refcount: Loc<number>;
}

/** A page-table page (a pte page hung off one pmd) with its split PT lock. */
export interface pte_page {
  /** Address of the first pte it maps. */
  readonly base: number;
  readonly ptl: spinlock_t;
  readonly pte: readonly Loc<pte_t>[];
}

/** struct mm_struct. */
export interface mm_struct {
  readonly id: number;
  readonly name: string;
  readonly mmap_sem: rw_semaphore;
  readonly page_table_lock: spinlock_t;
  /** The ordered VMA set (mm->mmap list / rb-tree): changed and read only under mmap_sem. */
  mmap: vm_area_struct[];
  /**
   * The pmd entries, one cell per PMD region of the model's address space
   * (MM_PMDS regions from 0): the page-table page, or null (pmd_none).
   * Populated by __pte_alloc under page_table_lock and read locklessly by the
   * fault path and the rmap walkers, so every read and write is a step.
   */
  readonly pmd: readonly Loc<pte_page | null>[];
}

/** struct vm_area_struct. */
export interface vm_area_struct {
  readonly id: number;
  readonly name: string;
  readonly vm_mm: mm_struct;
  readonly vm_start: Loc<number>;
  readonly vm_end: Loc<number>;
  readonly vm_pgoff: Loc<number>;
  readonly vm_flags: Loc<number>;
  readonly anon_vma: Loc<anon_vma | null>;
  /** The same_vma list, newest anon_vma first (list_add at the head); only under mmap_sem W. */
  anon_vma_chain: anon_vma_chain[];
  /** Kamezawa's vma->adjust_lock (seed 003), when the variant has it. */
  readonly adjust_lock: spinlock_t | null;
}

/** struct anon_vma. */
export interface anon_vma {
  readonly id: number;
  readonly name: string;
  /** anon_vma->root (2.6.36+; itself before): set at creation and never changed in the model. */
  readonly root: anon_vma;
  readonly parent: anon_vma | null;
  /** The lock of this anon_vma: its spinlock (2.6.34/2.6.36) or mutex (3.0). Only the root's is used from 2.6.36. */
  readonly lock: spinlock_t | mutex;
  /** anon_vma->refcount (migration and KSM pins). */
  readonly refcount: Loc<number>;
  /** The same_anon_vma list head: avcs in list order. Changed and read under the anon_vma lock. */
  readonly head: Loc<readonly anon_vma_chain[]>;
}

/** struct anon_vma_chain: links a vma and an anon_vma; its vma and anon_vma never change. */
export interface anon_vma_chain {
  readonly id: number;
  readonly vma: vm_area_struct;
  readonly anon_vma: anon_vma;
}

/** The model world shared by every mm scenario. */
export interface MmWorld {
  readonly cfg: MmConfig;
  readonly mms: mm_struct[];
  readonly vmas: vm_area_struct[];
  readonly anon_vmas: anon_vma[];
  readonly pages: Map<number, page>;
  /** Counters for names: vma ids, anon_vma ids, avc ids, mm ids; `pfn` is the next free page frame. */
  readonly ids: { vma: number; anon_vma: number; avc: number; mm: number; pfn: number };
  /** Page-table allocation in move_page_tables may fail (a `choose`), for scenarios about the error path. */
  alloc_may_fail: boolean;
}

export function newWorld(cfg: MmConfig): MmWorld {
  return {
    cfg,
    mms: [],
    vmas: [],
    anon_vmas: [],
    pages: new Map(),
    ids: { vma: 0, anon_vma: 0, avc: 0, mm: 0, pfn: 1 },
    alloc_may_fail: false,
  };
}

/** mm_alloc + mm_init. */
export function mm_alloc(w: MmWorld): mm_struct {
  const id = ++w.ids.mm;
  const name = `mm${id}`;
  const mm: mm_struct = {
    id,
    name,
    mmap_sem: init_rwsem(`${name}.mmap_sem`, "mmap_sem"),
    page_table_lock: spin_lock_init(`${name}.page_table_lock`, "page_table_lock"),
    mmap: [],
    pmd: Array.from({ length: MM_PMDS }, (_, i) =>
      cell<pte_page | null>(`${name}.pmd[${hex(i * PMD_SIZE)}]`, null, (pt) => (pt ? "present" : "none")),
    ),
  };
  w.mms.push(mm);
  return mm;
}

/** The model's address space: MM_PMDS PMD regions from address 0 (0x0 to 0x7ffff). */
export const MM_PMDS = 8;

/** pmd_offset: the pmd entry (a cell) covering addr. */
export function pmd_offset(mm: mm_struct, addr: number): Loc<pte_page | null> {
  const i = Math.floor(addr / PMD_SIZE);
  const pmd = mm.pmd[i];
  if (pmd === undefined)
    throw new ModelError(
      `${mm.name}: address ${hex(addr)} is outside the model's address space (0x0-${hex(MM_PMDS * PMD_SIZE - 1)})`,
    );
  return pmd;
}

/**
 * pte_alloc_one: a new page-table page for the PMD region containing addr,
 * with its split PT lock; private to the allocating thread until
 * __pte_alloc publishes it with pmd_populate.
 */
export function pte_alloc_one(w: MmWorld, mm: mm_struct, addr: number): pte_page {
  const base = addr & PMD_MASK;
  const ptl = w.cfg.split_ptlocks ? spin_lock_init(`${mm.name}.ptl[${hex(base)}]`, "ptlock") : mm.page_table_lock;
  const pte: Loc<pte_t>[] = [];
  for (let i = 0; i < PTRS_PER_PTE; i++)
    pte.push(cell(`${mm.name}.pte[${hex(base + i * PAGE_SIZE)}]`, PTE_NONE, showPte));
  return { base, ptl, pte };
}

/** pte_offset_map on a page-table page already read from its pmd: the pte cell for addr. */
export function pte_of(pt: pte_page, addr: number): Loc<pte_t> {
  const pte = pt.pte[(addr - pt.base) / PAGE_SIZE];
  if (pte === undefined) throw new ModelError(`pte_offset_map: ${hex(addr)} is not under the pmd at ${hex(pt.base)}`);
  return pte;
}

/** The pte cell for addr as the model stands, or null (tests, invariants and describe; threads read pmds with a step). */
export function pte_now(mm: mm_struct, addr: number): Loc<pte_t> | null {
  const pt = pmd_offset(mm, addr).v;
  return pt === null ? null : pte_of(pt, addr);
}

/** The populated page-table pages of mm, as they stand (invariants and describe; threads read pmds with a step). */
export function page_tables(mm: mm_struct): pte_page[] {
  const out: pte_page[] = [];
  for (const pmd of mm.pmd) if (pmd.v !== null) out.push(pmd.v);
  return out;
}

/** vm_area_alloc: a vma with the given fields; not yet linked anywhere. */
export function vm_area_alloc(
  w: MmWorld,
  mm: mm_struct,
  f: { start: number; end: number; pgoff: number; flags: number; anon_vma?: anon_vma | null },
): vm_area_struct {
  const id = ++w.ids.vma;
  const name = `vma${id}`;
  const vma: vm_area_struct = {
    id,
    name,
    vm_mm: mm,
    // Every writer of a vma's fields holds mmap_sem (anon_vma_prepare for read, the others for write): a holder
    // for write reads them without a step (the kernel's plain reads under mmap_sem).
    vm_start: cell(`${name}.vm_start`, f.start, hex, mm.mmap_sem),
    vm_end: cell(`${name}.vm_end`, f.end, hex, mm.mmap_sem),
    vm_pgoff: cell(`${name}.vm_pgoff`, f.pgoff, hex, mm.mmap_sem),
    vm_flags: cell(`${name}.vm_flags`, f.flags, showFlags, mm.mmap_sem),
    anon_vma: cell<anon_vma | null>(`${name}.anon_vma`, f.anon_vma ?? null, (a) => (a ? a.name : "NULL"), mm.mmap_sem),
    anon_vma_chain: [],
    adjust_lock: w.cfg.vma_adjust_lock === "adjust_lock" ? spin_lock_init(`${name}.adjust_lock`, "adjust_lock") : null,
  };
  w.vmas.push(vma);
  return vma;
}

/** anon_vma_alloc; `parent` null makes a root. */
export function anon_vma_alloc(w: MmWorld, parent: anon_vma | null): anon_vma {
  const id = ++w.ids.anon_vma;
  const name = `anon_vma${id}`;
  const lock =
    w.cfg.anon_vma_lock === "root-mutex"
      ? mutex_init(`${name}.mutex`, "anon_vma->mutex")
      : spin_lock_init(`${name}.lock`, "anon_vma->lock");
  const av = {
    id,
    name,
    root: undefined as unknown as anon_vma,
    parent,
    lock,
    refcount: cell(`${name}.refcount`, 1),
    head: cell<readonly anon_vma_chain[]>(`${name}.head`, [], (l) => `[${l.map((c) => c.vma.name).join(", ")}]`),
  };
  // 2.6.36 (5c341ee1dfc8): a child's root is its parent's root. Before, each is its own root.
  (av as { root: anon_vma }).root = parent && w.cfg.anon_vma_lock !== "own" ? parent.root : av;
  w.anon_vmas.push(av);
  return av;
}

export function anon_vma_chain_alloc(w: MmWorld, vma: vm_area_struct, av: anon_vma): anon_vma_chain {
  return { id: ++w.ids.avc, vma, anon_vma: av };
}

/**
 * alloc_page: a new anon page (refcount 1, unmapped), at the next free page
 * frame or at `pfn` (scenarios number their pages so traces match the threads).
 */
export function alloc_page(w: MmWorld, pfn: number = w.ids.pfn): page {
  if (w.pages.has(pfn)) throw new Error(`page ${pfn} is already allocated`);
  w.ids.pfn = Math.max(w.ids.pfn, pfn + 1);
  const name = `page${pfn}`;
  const p: page = {
    pfn,
    name,
    PG_locked: cell(`${name}.PG_locked`, false, (v) => (v ? "locked" : "unlocked")),
    index: cell<number>(`${name}.index`, 0, hex),
    mapping: cell<anon_vma | null>(`${name}.mapping`, null, (a) => (a ? a.name : "NULL")),
    _mapcount: cell(`${name}._mapcount`, -1),
    _refcount: cell(`${name}._refcount`, 1),
  };
  w.pages.set(pfn, p);
  return p;
}

export function pfn_to_page(w: MmWorld, pfn: number): page {
  const p = w.pages.get(pfn);
  if (!p) throw new Error(`no page ${pfn}`);
  return p;
}

/** find_vma: the first vma with vm_end > addr (caller holds mmap_sem). */
export function find_vma(mm: mm_struct, addr: number): vm_area_struct | null {
  for (const v of mm.mmap) if (v.vm_end.v > addr) return v;
  return null;
}

/** The vma before `vma` in the mm's ordered set (caller holds mmap_sem). */
export function vma_prev(vma: vm_area_struct): vm_area_struct | null {
  const i = vma.vm_mm.mmap.indexOf(vma);
  return i > 0 ? vma.vm_mm.mmap[i - 1] : null;
}

/** vma->vm_next (caller holds mmap_sem). */
export function vma_next(vma: vm_area_struct): vm_area_struct | null {
  const l = vma.vm_mm.mmap;
  const i = l.indexOf(vma);
  return i >= 0 && i + 1 < l.length ? l[i + 1] : null;
}

/** __vma_link: insert into the mm's ordered set (caller holds mmap_sem for write). */
export function __vma_link(mm: mm_struct, vma: vm_area_struct): void {
  mm.mmap.push(vma);
  mm.mmap.sort((a, b) => a.vm_start.v - b.vm_start.v);
}

/** __vma_unlink (caller holds mmap_sem for write). */
export function __vma_unlink(mm: mm_struct, vma: vm_area_struct): void {
  const i = mm.mmap.indexOf(vma);
  if (i >= 0) mm.mmap.splice(i, 1);
}
