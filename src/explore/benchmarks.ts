// The standard DPOR benchmarks of benchmarks/dpor-counts.md (Flanagan &
// Godefroid, POPL 2005; Abdulla et al., POPL 2014 / JACM 2017; the SV-COMP,
// GenMC and Nidhugg suites), written exactly as defined there with their size
// as a parameter. Their trace counts are the check on dpor's reduction and
// their sizes are what the benchmarks measure.

import { cas, type Gen, type Loc, LockKind, type LockObj, load, lock, store, type Thread, unlock } from "./ops.js";
import type { Program, ThreadSpec } from "./program.js";
import { registerProgramResolver } from "./registry.js";
import { cell, newLock } from "./state.js";
import { Violation } from "./violation.js";

const cells = (name: string, n: number, v: number): Loc<number>[] =>
  Array.from({ length: n }, (_, i) => cell(`${name}[${i}]`, v));

const threads = <W>(n: number, name: (i: number) => string, run: (w: W, i: number) => Thread): ThreadSpec<W>[] =>
  Array.from({ length: n }, (_, i) => ({ name: name(i), run: (w: W) => run(w, i) }));

/** readers(N): W writes x; N readers read it. */
export function readers(n: number): Program<{ x: Loc<number> }> {
  return {
    name: `readers(${n})`,
    setup: () => ({ x: cell("x", 0) }),
    threads: [
      {
        name: "W",
        *run(w) {
          yield store(w.x, 42);
        },
      },
      ...threads<{ x: Loc<number> }>(
        n,
        (i) => `R${i + 1}`,
        function* (w) {
          yield load(w.x);
        },
      ),
    ],
  };
}

/** lastzero(N): thread 0 scans a[N..0] for a zero while threads 1..N each copy a[j-1]+1 into a[j]. */
export function lastzero(n: number): Program<{ a: Loc<number>[] }> {
  return {
    name: `lastzero(${n})`,
    setup: () => ({ a: cells("a", n + 1, 0) }),
    threads: [
      {
        name: "T0",
        *run(w) {
          for (let i = n; i >= 0; i--) if ((yield load(w.a[i])) === 0) break;
        },
      },
      ...threads<{ a: Loc<number>[] }>(
        n,
        (i) => `T${i + 1}`,
        function* (w, i) {
          const r: number = yield load(w.a[i]);
          yield store(w.a[i + 1], r + 1);
        },
      ),
    ],
  };
}

interface Fib {
  x: Loc<number>;
  y: Loc<number>;
}

/** fib_bench(NUM): two threads grow x and y like Fibonacci; a third checks neither passed 144. */
export function fibBench(num: number): Program<Fib> {
  function* adder(w: Fib, into: "x" | "y"): Gen {
    for (let k = 0; k < num; k++) {
      const px: number = yield load(w.x);
      const py: number = yield load(w.y);
      yield store(w[into], px + py);
    }
  }
  return {
    name: `fib_bench(${num})`,
    setup: () => ({ x: cell("x", 1), y: cell("y", 1) }),
    threads: [
      { name: "T1", run: (w) => adder(w, "x") },
      { name: "T2", run: (w) => adder(w, "y") },
      {
        name: "T3",
        *run(w) {
          // `||` short-circuits: y is read only when x <= 144.
          if ((yield load(w.x)) > 144 || (yield load(w.y)) > 144) throw new Violation("assertion", "x or y passed 144");
        },
      },
    ],
  };
}

/** indexer(N): N threads insert 4 values each into a 128-slot hash table with cmpxchg and linear probing. */
export function indexer(n: number): Program<{ table: Loc<number>[] }> {
  return {
    name: `indexer(${n})`,
    setup: () => ({ table: cells("table", 128, 0) }),
    threads: threads(
      n,
      (i) => `T${i}`,
      function* (w, tid) {
        for (let m = 0; m < 4; m++) {
          const v = 11 * m + tid;
          let h = (7 * v) % 128;
          while ((yield cas(w.table[h], 0, v)) !== 0) h = (h + 1) % 128;
        }
      },
    ),
  };
}

interface Fs {
  li: LockObj[];
  lb: LockObj[];
  inode: Loc<number>[];
  busy: Loc<boolean>[];
}

/** filesystem(N): N threads each allocate a block to their inode under inode and block locks. */
export function filesystem(n: number): Program<Fs> {
  return {
    name: `filesystem(${n})`,
    setup: () => ({
      li: Array.from({ length: 32 }, (_, i) => newLock(`li[${i}]`, LockKind.Mutex, "li")),
      lb: Array.from({ length: 26 }, (_, i) => newLock(`lb[${i}]`, LockKind.Mutex, "lb")),
      inode: cells("inode", 32, 0),
      busy: Array.from({ length: 26 }, (_, i) => cell(`busy[${i}]`, false)),
    }),
    threads: threads(
      n,
      (i) => `T${i}`,
      function* (w, tid) {
        const i = tid % 32;
        yield lock(w.li[i]);
        if ((yield load(w.inode[i])) === 0) {
          let b = (2 * i) % 26;
          for (;;) {
            yield lock(w.lb[b]);
            if (!(yield load(w.busy[b]))) {
              yield store(w.busy[b], true);
              yield store(w.inode[i], b + 1);
              yield unlock(w.lb[b]);
              break;
            }
            yield unlock(w.lb[b]);
            b = (b + 1) % 26;
          }
        }
        yield unlock(w.li[i]);
      },
    ),
  };
}

/** account(N): N deposits of 100 and one withdrawal of 10, each a plain read then write. */
export function account(n: number): Program<{ amount: Loc<number> }> {
  function* change(w: { amount: Loc<number> }, by: number): Gen {
    const t: number = yield load(w.amount);
    yield store(w.amount, t + by);
  }
  return {
    name: `account(${n})`,
    setup: () => ({ amount: cell("amount", 1000) }),
    threads: [
      ...threads<{ amount: Loc<number> }>(
        n,
        (i) => `deposit${i + 1}`,
        (w) => change(w, 100),
      ),
      { name: "withdraw", run: (w) => change(w, -10) },
    ],
  };
}

/** casrot(N): thread i moves x from i-1 to i with one cmpxchg. */
export function casrot(n: number): Program<{ x: Loc<number> }> {
  return {
    name: `casrot(${n})`,
    setup: () => ({ x: cell("x", 0) }),
    threads: threads(
      n,
      (i) => `T${i + 1}`,
      function* (w, i) {
        yield cas(w.x, i, i + 1);
      },
    ),
  };
}

/** wcas(N): one thread writes 2; N threads cmpxchg 2 -> 3. */
export function wcas(n: number): Program<{ x: Loc<number> }> {
  return {
    name: `wcas(${n})`,
    setup: () => ({ x: cell("x", 0) }),
    threads: [
      {
        name: "T0",
        *run(w) {
          yield store(w.x, 2);
        },
      },
      ...threads<{ x: Loc<number> }>(
        n,
        (i) => `T${i + 1}`,
        function* (w) {
          yield cas(w.x, 2, 3);
        },
      ),
    ],
  };
}

/** casw(N): thread i tries cmpxchg 0 -> 1, then writes i+3. */
export function casw(n: number): Program<{ x: Loc<number> }> {
  return {
    name: `casw(${n})`,
    setup: () => ({ x: cell("x", 0) }),
    threads: threads(
      n,
      (i) => `T${i + 1}`,
      function* (w, i) {
        yield cas(w.x, 0, 1);
        yield store(w.x, i + 1 + 3);
      },
    ),
  };
}

/** philosophers(N): each takes its left fork, then its right, one meal each: deadlocks when all hold the left. */
export function philosophers(n: number): Program<{ f: LockObj[] }> {
  return {
    name: `philosophers(${n})`,
    setup: () => ({ f: Array.from({ length: n }, (_, i) => newLock(`fork[${i}]`, LockKind.Mutex, "fork")) }),
    threads: threads(
      n,
      (i) => `P${i}`,
      function* (w, i) {
        const left = w.f[i];
        const right = w.f[(i + 1) % n];
        yield lock(left);
        yield lock(right);
        yield unlock(right);
        yield unlock(left);
      },
    ),
  };
}

/** The benchmark programs by name, each built from its size parameter. */
export const benchmarkPrograms: Record<string, (n: number) => Program> = {
  readers: readers as (n: number) => Program,
  lastzero: lastzero as (n: number) => Program,
  fib_bench: fibBench as (n: number) => Program,
  indexer: indexer as (n: number) => Program,
  filesystem: filesystem as (n: number) => Program,
  account: account as (n: number) => Program,
  casrot: casrot as (n: number) => Program,
  wcas: wcas as (n: number) => Program,
  casw: casw as (n: number) => Program,
  philosophers: philosophers as (n: number) => Program,
};

/** Builds a benchmark program; throws with the known names when `name` is unknown. */
export function benchmarkProgram(name: string, param: number): Program {
  const make = benchmarkPrograms[name];
  if (!make)
    throw new Error(`unknown benchmark program "${name}" (known: ${Object.keys(benchmarkPrograms).join(", ")})`);
  return make(param);
}

/** A job descriptor for a benchmark, resolvable in a worker thread. */
export const benchmarkRef = (name: string, param: number) => ({
  kind: "benchmark",
  module: import.meta.url,
  params: { name, param },
});

registerProgramResolver("benchmark", (params) => benchmarkProgram(String(params.name), Number(params.param)));
