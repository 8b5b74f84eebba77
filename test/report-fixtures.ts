// Shared by the report tests: synthetic trace steps, a report whose model
// strings try to inject HTML, and a way to run the mmrace command.

import { execFile, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { TraceStep } from "../src/explore/index.js";
import type { ReportData, ReportTrace } from "../src/report/data.js";

export const CLI = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `mmrace args...` in `cwd`, as a user would. */
export function mmrace(args: readonly string[], cwd?: string): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, COLUMNS: "120" },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `mmrace` without blocking, so that independent runs overlap. */
export function mmraceAsync(args: readonly string[], cwd?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd, encoding: "utf8", env: { ...process.env, COLUMNS: "120" }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
        resolve({ status: code, stdout, stderr });
      },
    );
  });
}

export function step(
  i: number,
  tid: number,
  op: string,
  target?: string,
  extra: Partial<Omit<TraceStep, "i" | "tid" | "op" | "target">> = {},
): TraceStep {
  return { i, tid, op, target, stack: [], ...extra };
}

/** A trace of `n` steps alternating over `threads` threads, with small states and held locks. */
export function syntheticTrace(n: number, threads = 3): ReportTrace {
  const names = Array.from({ length: threads }, (_, t) => `CPU${t}`);
  const steps: TraceStep[] = [];
  for (let i = 0; i < n; i++) {
    const tid = Math.floor(i / 3) % threads;
    steps.push({
      i,
      tid,
      op: i % 2 ? "store" : "load",
      target: `cell${i % 7}`,
      value: String(i),
      stack: ["inner_fn", "outer_fn"],
      notes: i % 5 === 0 ? [`note of step ${i + 1}`] : undefined,
      preempt: i % 3 === 0 && i > 0,
      state: { counter: i, list: [`a${i % 4}`, `b${i % 3}`], table: [{ id: "x", v: i % 2 }] },
      held: i % 4 === 0 ? { [names[tid]]: ["big_lock"] } : undefined,
    });
  }
  return {
    scenario: "synthetic",
    variant: `n${n}`,
    strategy: "dfs",
    threads: names,
    steps,
    violation: { kind: "invariant", message: `synthetic violation after ${n} steps` },
    schedule: steps.map((s) => s.tid).join(" "),
    preemptions: 0,
  };
}

export const EVIL = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">`;

/** A report in which every string that comes from a model carries markup. */
export function evilReport(): ReportData {
  const trace: ReportTrace = {
    scenario: `scenario ${EVIL}`,
    variant: `variant ${EVIL}`,
    strategy: "dfs",
    threads: [`cpu ${EVIL}`, "CPU1"],
    steps: [
      step(0, 0, "load", `cell ${EVIL}`, {
        value: EVIL,
        stack: [`fn ${EVIL}`],
        notes: [`note ${EVIL}`],
        state: { [`key ${EVIL}`]: `value ${EVIL}`, list: [EVIL], recs: [{ name: EVIL, x: 1 }] },
        held: { [`cpu ${EVIL}`]: [`lock ${EVIL}`] },
      }),
      step(1, 1, "lock", `lock ${EVIL}`, {
        preempt: true,
        state: { [`key ${EVIL}`]: `changed ${EVIL}`, list: [EVIL, EVIL], recs: [] },
        held: { [`cpu ${EVIL}`]: [`lock ${EVIL}`] },
      }),
    ],
    violation: { kind: "deadlock", message: `message ${EVIL}` },
    schedule: "0 1",
  };
  return {
    title: `report ${EVIL}`,
    mmrace: "test",
    summary: `summary ${EVIL}`,
    rows: [
      {
        scenario: trace.scenario,
        title: `title ${EVIL}`,
        variant: trace.variant,
        source: `source ${EVIL}`,
        expected: `violation:deadlock ${EVIL}`,
        found: `found ${EVIL}`,
        ok: false,
        strategy: "dfs",
        executions: 1,
        complete: false,
        elapsedMs: 1,
        trace: 0,
      },
    ],
    traces: [trace],
  };
}

/**
 * A hand-written trace shaped like mremap-merge-order's (the state as
 * src/mm/describe.ts renders it), to test the viewer on nested mm state
 * before and besides the real scenario.
 */
export function mmShapedTrace(): ReportTrace {
  const state = (ptes: Record<string, string>, walked: boolean) => ({
    mms: [
      {
        mm: "mm",
        mmap_sem: "read-locked",
        vmas: [
          { vma: "src", range: "[0x10000, 0x12000)", vm_pgoff: "0x10", anon_vma: "av", anon_vma_chain: ["av"] },
          { vma: "dst", range: "[0x20000, 0x22000)", vm_pgoff: "0x1e", anon_vma: "av", anon_vma_chain: ["av"] },
        ],
        page_tables: [{ pmd: "0x0", ptl: "free", ptes }],
      },
    ],
    anon_vmas: [{ anon_vma: "av", root: "av", refcount: 2, walk_order: ["dst", "src"] }],
    pages: [{ page: 1, flags: walked ? [] : ["PG_locked"], index: "0x10", mapping: "av", mapcount: 0, refcount: 2 }],
  });
  const walk = ["remove_migration_pte", "rmap_walk_anon", "remove_migration_ptes", "unmap_and_move"];
  const steps: TraceStep[] = [
    step(0, 0, "store", "dst.vm_end", {
      stack: ["vma_adjust", "vma_merge", "copy_vma", "move_vma", "sys_mremap"],
      notes: ["vma_merge: dst extends over [0x20000, 0x22000)"],
      state: state({ "0x10000": "migration(page 1)" }, false),
    }),
    step(1, 1, "load", "mm.pte[0x20000]", {
      preempt: true,
      stack: walk,
      notes: ["rmap_walk_anon: dst 0x20000: pte none, nothing to restore"],
      state: state({ "0x10000": "migration(page 1)" }, false),
      held: { migration: ["av->lock", "mm.ptl"] },
    }),
    step(2, 0, "store", "mm.pte[0x20000]", {
      preempt: true,
      stack: ["move_ptes", "move_page_tables", "move_vma"],
      notes: ["move_ptes: pte 0x20000 <- 0x10000 (migration(page 1))"],
      state: state({ "0x20000": "migration(page 1)" }, false),
      held: { migration: ["av->lock"], mremap: ["mm.ptl"] },
    }),
    step(3, 1, "load", "mm.pte[0x10000]", {
      preempt: true,
      stack: walk,
      notes: ["rmap_walk_anon: src 0x10000: pte none, nothing to restore"],
      state: state({ "0x20000": "migration(page 1)" }, true),
    }),
  ];
  return {
    scenario: "mm-shaped",
    variant: "v3.1",
    strategy: "dfs",
    threads: ["mremap", "migration"],
    steps,
    violation: { kind: "invariant", message: "migration entry left behind at 0x20000" },
    schedule: "0 1 0 1",
    preemptions: 3,
  };
}
