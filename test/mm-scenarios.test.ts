// Every mm scenario × variant: the verdict the explorer finds from the
// operation-level scenario equals the expected one; a safe verdict comes
// from a complete exploration.

import assert from "node:assert/strict";
import { test } from "node:test";
import { mremap } from "../src/catalogue/mremap.js";
import { checkVariant, foundVerdict } from "../src/catalogue/run.js";
import { vmaAdjust } from "../src/catalogue/vma-adjust.js";
import { explore, replay } from "../src/explore/index.js";

for (const s of [...mremap, ...vmaAdjust]) {
  for (const v of s.variants) {
    test(`${s.id} / ${v.name}: ${v.expected}`, () => {
      const strategy = v.strategy ?? "dpor";
      const r = explore(v.program(), strategy, v.options ?? {});
      assert.equal(foundVerdict(r), v.expected, r.violation?.message);
      if (v.expected === "safe") assert.equal(r.complete, true);
      if (r.schedule) {
        // The counterexample replays from its schedule alone.
        const rep = replay(v.program(), r.schedule, true);
        assert.equal(rep.execution.violation?.kind, r.violation?.kind);
      }
    });
    if (v.expected !== "safe" && !v.strategy) {
      test(`${s.id} / ${v.name}: bounded finds it too`, () => {
        const r = explore(v.program(), "bounded", { preemptionBound: 3 });
        assert.equal(foundVerdict(r), v.expected);
      });
    }
  }
}

test("mremap-merge-order / v3.1 tells the story of seed 000", () => {
  const s = mremap.find((x) => x.id === "mremap-merge-order")!;
  const r = checkVariant(s, s.variants.find((x) => x.name === "v3.1")!);
  assert.equal(r.found, "violation:invariant");
  assert.equal(r.story, "shown");
  const names = r.threads!;
  const events = r.trace!.flatMap((st) => (st.notes ?? []).map((n) => ({ who: names[st.tid], n })));
  const at = (who: string, re: RegExp) => events.findIndex((e) => e.who === who && re.test(e.n));
  const merge = at("mremap", /vma_merge: vma1 extends/);
  const dstEmpty = at("migration", /vma1 0x11000: pte none/);
  const moved = at("mremap", /move_ptes: pte 0x11000 <- 0x21000/);
  const srcEmpty = at("migration", /vma2 0x21000: pte none/);
  const unlocked = at("migration", /unlock_page\(page 7\)/);
  assert.ok(
    merge >= 0 && dstEmpty > merge && moved > dstEmpty && srcEmpty > moved && unlocked > srcEmpty,
    JSON.stringify(events),
  );
  assert.match(r.result.violation!.message, /migration entry for page 7 left at 0x11000/);
  // The schedule shown replays on the plain program to the same violation.
  const rep = replay(s.variants.find((x) => x.name === "v3.1")!.program(), r.result.schedule!, false);
  assert.equal(rep.execution.violation?.kind, "invariant");
});

test("vma-adjust-take-all-locks reports the lock cycle", () => {
  const v = vmaAdjust.find((s) => s.id === "vma-adjust-take-all-locks")!.variants[0];
  const r = explore(v.program(), "dpor");
  assert.equal(r.violation?.kind, "deadlock");
  const cycle = (r.violation!.detail as { cycle: { thread: string; holds: string[]; wants: string }[] }).cycle;
  assert.equal(cycle.length, 2);
  const mig = cycle.find((c) => c.thread === "migration")!;
  assert.deepEqual([mig.holds, mig.wants], [["anon_vma1.lock"], "anon_vma2.lock"]);
});
