// Liveness under fairness (fairness.ts): a thread past its step bound is a
// livelock only in a fair execution; an unfair one is cut, a retry loop that
// nothing can unblock is a deadlock.

import assert from "node:assert/strict";
import { test } from "node:test";
import { trylockProgram } from "../src/catalogue/vma-adjust.js";
import {
  cell,
  explore,
  type Loc,
  LockKind,
  type LockObj,
  load,
  lock,
  newLock,
  type Program,
  store,
  trylock,
  unlock,
  yieldOp,
} from "../src/explore/index.js";
import { V2_6_34, withConfig } from "../src/mm/index.js";

const STRATEGIES = ["dpor", "dfs", "bounded", "random", "pct"] as const;

test("a trylock spinner beside a starved lock holder is not a livelock: those executions are cut", () => {
  // holder: lock L, store x, unlock L. spinner: trylock L until it succeeds.
  // Every execution in which the spinner passes its bound starves the holder.
  const p: Program<{ l: LockObj; x: Loc<number> }> = {
    name: "starved-holder",
    maxSteps: 20,
    setup: () => ({ l: newLock("L", LockKind.Spin), x: cell("x", 0) }),
    threads: [
      {
        name: "spinner",
        run: function* (w) {
          while (!(yield trylock(w.l))) {
            /* retry */
          }
          yield unlock(w.l);
        },
      },
      {
        name: "holder",
        run: function* (w) {
          yield lock(w.l);
          yield store(w.x, 1);
          yield unlock(w.l);
        },
      },
    ],
  };
  for (const s of ["dpor", "dfs", "bounded"] as const) {
    const r = explore(p, s);
    assert.equal(r.verdict, "safe", `${s}: ${r.violation?.message}`);
    assert.ok((r.cut ?? 0) > 0, `${s} cuts the unfair executions`);
    assert.equal(r.complete, false, `${s}: cut executions leave the exploration incomplete`);
  }
  for (const s of ["random", "pct"] as const) assert.equal(explore(p, s, { maxExecutions: 2000 }).verdict, "safe", s);
});

test("two threads that back off and retry in lockstep, fairly, are a livelock", () => {
  // Each takes its own lock, trylocks the other's, and on failure drops its own and retries.
  const p: Program<{ a: LockObj; b: LockObj }> = {
    name: "lockstep",
    maxSteps: 40,
    setup: () => ({ a: newLock("A", LockKind.Spin), b: newLock("B", LockKind.Spin) }),
    threads: (["A", "B"] as const).map((me) => ({
      name: `T${me}`,
      run: function* (w: { a: LockObj; b: LockObj }) {
        const [mine, other] = me === "A" ? [w.a, w.b] : [w.b, w.a];
        for (;;) {
          yield lock(mine);
          if (yield trylock(other)) break;
          yield unlock(mine);
        }
        yield unlock(other);
        yield unlock(mine);
      },
    })),
  };
  for (const s of ["dpor", "dfs"] as const) {
    const r = explore(p, s);
    assert.equal(r.violation?.kind, "livelock", `${s}: ${r.verdict}`);
    assert.match(r.violation!.message, /passed 40 steps in a fair execution/);
  }
});

test("a trylock retried on a lock whose holder waits for the spinner is a deadlock with its cycle", () => {
  // spinner holds A and retries trylock B without dropping A; holder holds B and waits for A.
  const p: Program<{ a: LockObj; b: LockObj }> = {
    name: "spin-abba",
    maxSteps: 30,
    setup: () => ({ a: newLock("A", LockKind.Spin), b: newLock("B", LockKind.Spin) }),
    threads: [
      {
        name: "spinner",
        run: function* (w) {
          yield lock(w.a);
          while (!(yield trylock(w.b))) yield yieldOp();
          yield unlock(w.b);
          yield unlock(w.a);
        },
      },
      {
        name: "holder",
        run: function* (w) {
          yield lock(w.b);
          yield lock(w.a);
          yield unlock(w.a);
          yield unlock(w.b);
        },
      },
    ],
  };
  for (const s of ["dpor", "dfs"] as const) {
    const r = explore(p, s);
    assert.equal(r.violation?.kind, "deadlock", `${s}: ${r.violation?.message}`);
    const cycle = (r.violation!.detail as { cycle: { thread: string; holds: string[]; wants: string }[] }).cycle;
    assert.deepEqual(cycle.map((c) => [c.thread, c.holds.join()]).sort(), [
      ["holder", "B"],
      ["spinner", "A"],
    ]);
    assert.match(r.violation!.message, /spinner holds \[A\] and waits for (trylock B|yield)/);
  }
});

test("a spin on a cell that no thread that can run will write is a deadlock", () => {
  const p: Program<{ flag: Loc<boolean> }> = {
    name: "spinner",
    maxSteps: 50,
    setup: () => ({ flag: cell("flag", false) }),
    threads: [
      {
        name: "spinner",
        run: function* (w) {
          while (!(yield load(w.flag))) {
            /* spin */
          }
        },
      },
    ],
  };
  const r = explore(p, "dfs");
  assert.equal(r.violation?.kind, "deadlock");
  assert.match(r.violation!.message, /no thread can make progress: spinner holds \[\] and waits for load flag/);
});

const TRYLOCK = withConfig(V2_6_34, { vma_adjust_lock: "anon_vma", walker_nested: "trylock" });

test("Mel's trylock walker against the child's mprotect (audit X4, no daemon) is never a livelock", () => {
  // No thread re-takes anon_vma2's lock, so the walker's retries end in every
  // fair execution. What remains is the race of audit C4: case 4's
  // adjust_next in the child moves page 7 between two vmas of anon_vma2,
  // which the walker's (parent's) anon_vma1 lock does not cover.
  const program = trylockProgram("child-mprotect", TRYLOCK, "child-mprotect");
  for (const s of STRATEGIES) {
    const r = explore(program(), s, { maxExecutions: s === "dfs" ? 50_000 : undefined });
    assert.notEqual(r.violation?.kind, "livelock", `${s}: ${r.violation?.message}`);
  }
  const kinds = new Set<string>();
  explore(program(), "dpor", {
    keepGoing: true,
    onExecution: (ex) => {
      if (ex.violation) kinds.add(ex.violation.kind);
    },
  });
  assert.deepEqual([...kinds], ["invariant"], "dpor's every execution: the C4 race, never a livelock");
});

test("vma-adjust-trylock-retry: kswapd re-taking the lock in lockstep is a fair livelock", () => {
  const r = explore(trylockProgram("trylock-retry", TRYLOCK)(), "dpor");
  assert.equal(r.violation?.kind, "livelock", r.violation?.message);
  assert.match(r.violation!.message, /migration passed 80 steps in a fair execution/);
});
