// The kernel-style interleaving table: thread columns, folding of
// bookkeeping, notes kept, width kept, the violation at the bottom.

import assert from "node:assert/strict";
import { test } from "node:test";
import { checkVariant, findScenario, findVariant } from "../src/catalogue/index.js";
import type { TraceStep } from "../src/explore/index.js";
import { foldTrace, sharedTargets } from "../src/report/fold.js";
import { formatInterleaving } from "../src/report/text.js";
import { mmrace, step } from "./report-fixtures.js";

/**
 * mremap (thread 0) builds its VMA privately, then both threads touch the
 * page table; migration (thread 1) takes a private reference first.
 */
function mixedTrace(): TraceStep[] {
  return [
    step(0, 0, "store", "new_vma.vm_start", { stack: ["copy_vma", "move_vma"], notes: ["copy_vma: new vma B"] }),
    step(1, 0, "store", "new_vma.vm_end", { stack: ["copy_vma", "move_vma"] }),
    step(2, 0, "store", "avc.list", { stack: ["anon_vma_clone", "copy_vma"], notes: ["B linked at the head"] }),
    step(3, 1, "load", "pte[0x1000]", { stack: ["rmap_walk_anon"], notes: ["finds dst, no ptes"], preempt: true }),
    step(4, 1, "rmw", "page.refcount", { stack: ["get_page"] }),
    step(5, 1, "rmw", "page.mapcount", { stack: ["page_add_anon_rmap"] }),
    step(6, 0, "store", "pte[0x1000]", { stack: ["move_ptes"], notes: ["copies src PTEs to dst"] }),
    step(7, 1, "load", "pte[0x1000]", { stack: ["rmap_walk_anon"], notes: ["finds src, ptes empty"] }),
  ];
}

test("shared targets are those of steps of two threads", () => {
  assert.deepEqual([...sharedTargets(mixedTrace())], ["pte[0x1000]"]);
});

test("runs of unshared steps of one thread fold into one row; shared steps keep theirs", () => {
  const rows = foldTrace(mixedTrace());
  assert.deepEqual(
    rows.map((r) => r.steps.map((s) => s.i)),
    [[0, 1, 2], [3], [4, 5], [6], [7]],
  );
  assert.equal(rows[1].preempt, true);
  assert.equal(foldTrace(mixedTrace(), false).length, 8);
});

test("a folded row keeps the notes of its steps and counts the others", () => {
  const out = formatInterleaving({ threads: ["mremap", "migration"], trace: mixedTrace(), width: 200 });
  const row = out.split("\n").find((l) => l.trimStart().startsWith("1-3 "));
  assert.ok(row, out);
  assert.match(row, /copy_vma: new vma B; anon_vma_clone: B linked at the head \(\+1 step\)/);
  // Two unnoted steps: the last one is described, the other counted.
  assert.match(out, /\n\s*5-6 \|.*page_add_anon_rmap: rmw page\.mapcount \(\+1 step\)/);
  assert.match(out, /» rmap_walk_anon: finds dst, no ptes/);
});

test("--no-fold shows every step", () => {
  const out = formatInterleaving({ threads: ["mremap", "migration"], trace: mixedTrace(), width: 200, fold: false });
  for (let i = 1; i <= 8; i++) assert.match(out, new RegExp(`\\n\\s*${i} \\|`), `row ${i} missing:\n${out}`);
  assert.doesNotMatch(out, /\(\+\d+ steps?\)/);
});

test("the table has one column per thread and fits the width, wrapping long cells", () => {
  const long = "a rather long note that has to wrap over several lines of a narrow terminal column";
  const trace = [
    step(0, 0, "load", "x", { notes: [long] }),
    step(1, 1, "store", "x", { value: "1" }),
    step(2, 2, "load", "x"),
  ];
  for (const width of [60, 90, 140]) {
    const out = formatInterleaving({
      threads: ["CPU0", "CPU1", "CPU2"],
      trace,
      width,
      violation: { kind: "invariant", message: long },
    });
    const lines = out.split("\n");
    for (const l of lines) assert.ok(l.length <= width, `line longer than ${width}: "${l}"`);
    assert.match(lines[0], /\|\s*CPU0\s*\|\s*CPU1\s*\|\s*CPU2/);
    // Every word of the note survives the wrapping.
    const text = lines.join(" ").replace(/[|]/g, " ").replace(/\s+/g, " ");
    for (const w of long.split(" ")) assert.ok(text.includes(w), `"${w}" lost`);
    // The store is in CPU1's column: after the first separator, before the second.
    const storeLine = lines.find((l) => l.includes("store x = 1"))!;
    const cells = storeLine.split("|").map((c) => c.trim());
    assert.deepEqual(cells.slice(1), ["", "store x = 1", ""]);
  }
});

test("the violation is at the bottom in a banner", () => {
  const out = formatInterleaving({
    threads: ["CPU0", "CPU1"],
    trace: [step(0, 0, "load", "x"), step(1, 1, "store", "x", { preempt: true })],
    violation: { kind: "assertion", message: "kernel BUG at mm/migrate.c:113" },
  });
  const lines = out.split("\n");
  assert.match(lines[lines.length - 1], /^=+$/);
  assert.equal(lines[lines.length - 2], "  assertion: kernel BUG at mm/migrate.c:113");
  assert.match(out, /» preemption/);
});

test("a catalogue counterexample prints as a table with its violation", () => {
  const s = findScenario("lost-update");
  const r = checkVariant(s, findVariant(s, "no-lock"));
  assert.ok(r.trace && r.threads && r.result.violation);
  const out = formatInterleaving({ threads: r.threads, trace: r.trace, violation: r.result.violation, width: 100 });
  assert.match(out.split("\n")[0], /CPU0\s*\|\s*CPU1/);
  assert.match(out, /load counter = 0/);
  assert.match(out, /invariant: counter is 1 after two increments: an update was lost/);
});

test("mmrace check and replay take --no-fold", () => {
  const r = mmrace(["check", "lost-update", "--variant", "no-lock", "--no-fold"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /CPU0\s*\|\s*CPU1/);
  assert.match(r.stdout, /an update was lost/);
});
