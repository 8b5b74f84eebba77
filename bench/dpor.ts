// npm run bench: the explorer on the DPOR benchmarks (benchmarks/dpor-counts.md),
// measured side by side in one run, so that ratios compare like with like.
// Prints markdown tables for BENCHMARKS.md. Never a test: timings vary.
//
//   node dist/bench/dpor.js [--quick]

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Access } from "../src/explore/dependence.js";
import {
  benchmarkPrograms,
  benchmarkRef,
  dependent,
  Execution,
  explore,
  exploreParallel,
  K,
  type Loc,
  locOf,
  makeAccess,
  type Op,
  type Program,
  writeOf,
} from "../src/explore/index.js";

const quick = process.argv.includes("--quick");

interface Row {
  program: string;
  param: number;
  strategy: string;
  executions: number;
  sleepBlocked: number;
  steps: number;
  ms: number;
}

function run(program: string, param: number, strategy: string): Row {
  const r = explore(benchmarkPrograms[program](param), strategy, { keepGoing: true, minimizeBudget: 0 });
  return {
    program,
    param,
    strategy,
    executions: r.executions + r.blocked,
    sleepBlocked: r.sleepBlocked,
    steps: r.steps,
    ms: r.elapsedMs,
  };
}

/** A plain sleep-set DFS over the same generators (no wakeup trees): the baseline optimality must beat. */
function sleepSetDfs(program: Program): Row {
  const t0 = performance.now();
  let executions = 0;
  let sleepBlocked = 0;
  let steps = 0;
  interface Frame {
    alts: number[];
    idx: number;
    readonly sleep: Access[];
    done: Access[];
  }
  const stack: Frame[] = [];
  for (;;) {
    const ex = new Execution(program);
    let depth = 0;
    let blocked = false;
    for (;;) {
      const en = ex.enabled();
      if (en.length === 0 || ex.violation !== null) break;
      if (depth === stack.length) {
        const parent = stack[depth - 1];
        const sleep =
          depth === 0
            ? []
            : [...parent.sleep, ...parent.done].filter((q) => !dependent(q, parent.done[parent.done.length - 1]));
        const alts = en.filter((t) => !sleep.some((q) => q.tid === t));
        if (alts.length === 0) {
          blocked = true;
          break;
        }
        stack.push({ alts, idx: 0, sleep, done: [] });
      }
      const f = stack[depth];
      const tid = f.alts[f.idx];
      const op = ex.threads[tid].op as Op;
      ex.step(tid, 0);
      const acc = makeAccess(tid, 0, locOf(op.k, ex.lastTarget), writeOf(op.k, ex.lastWrite), null, false);
      if (f.done.length === f.idx) f.done.push(acc);
      depth++;
    }
    steps += depth;
    if (blocked) sleepBlocked++;
    else executions++;
    if (stack.length > depth + (blocked ? 1 : 0)) stack.length = depth + (blocked ? 1 : 0);
    if (blocked) stack.pop();
    while (stack.length !== 0 && stack[stack.length - 1].idx + 1 >= stack[stack.length - 1].alts.length) stack.pop();
    if (stack.length === 0) break;
    const top = stack[stack.length - 1];
    // The children explored before the next one sleep below it (the sleep set is made on entry).
    top.idx++;
  }
  return {
    program: program.name,
    param: 0,
    strategy: "sleep-set dfs",
    executions,
    sleepBlocked,
    steps,
    ms: performance.now() - t0,
  };
}

/**
 * The limit of this design: build each world and resume its generators as
 * often as the explorer did, applying loads and stores directly, with no
 * scheduling, no enabledness, no dependence tracking.
 */
function bareLoop(program: Program, executions: number, steps: number): number {
  const t0 = performance.now();
  let done = 0;
  for (let e = 0; done < steps && e < executions * 4; e++) {
    const ex = new Execution(program);
    const ts = ex.threads;
    let live = true;
    while (live && done < steps) {
      live = false;
      for (const t of ts) {
        const op = t.op;
        if (op === null) continue;
        live = true;
        const c = op.t as Loc;
        let res: unknown;
        if (op.k === K.Load) res = c.v;
        else if (op.k === K.Store) c.v = op.a;
        else if (op.k === K.Cas) {
          res = c.v;
          if (res === op.a) c.v = op.b;
        }
        const r = t.gen.next(res);
        t.op = r.done ? null : r.value;
        done++;
      }
    }
  }
  return performance.now() - t0;
}

const table = (head: string[], rows: (string | number)[][]) =>
  [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join(
    "\n",
  );
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function main(): Promise<void> {
  const sizes: [string, number, boolean][] = quick
    ? [
        ["lastzero", 4, true],
        ["fib_bench", 2, true],
        ["fib_bench", 4, false],
      ]
    : [
        ["readers", 5, true],
        ["readers", 8, false],
        ["lastzero", 4, true],
        ["lastzero", 10, false],
        ["lastzero", 12, false],
        ["fib_bench", 2, true],
        ["fib_bench", 4, false],
        ["fib_bench", 5, false],
        ["indexer", 13, false],
        ["account", 3, true],
        ["philosophers", 3, true],
      ];
  const rows: (string | number)[][] = [];
  for (const [p, n, withDfs] of sizes) {
    for (const s of withDfs ? ["dfs", "dpor"] : ["dpor"]) {
      const r = run(p, n, s);
      rows.push([
        `${p}(${n})`,
        s,
        fmt(r.executions),
        r.sleepBlocked,
        fmt(r.steps),
        (r.ms / 1000).toFixed(2),
        fmt((r.executions / r.ms) * 1000),
        fmt((r.steps / r.ms) * 1000),
        `\`npx mmrace bench dpor --program ${p} --param ${n} --strategy ${s} --json\``,
      ]);
    }
  }
  console.log("## Executions and speed\n");
  console.log(
    table(
      ["program", "strategy", "executions", "sleep-blocked", "steps", "s", "executions/s", "steps/s", "command"],
      rows,
    ),
  );

  const fibN = quick ? 4 : 5;
  const fib = benchmarkPrograms.fib_bench(fibN);
  const reps = quick ? 1 : REPS;
  // The ratios below come from alternating runs (median of `reps`), so that a
  // slow moment of the machine does not land on one side only.
  const kept: Row[] = [];
  const dflt: Row[] = [];
  const sleepSet: Row[] = [];
  const bare: number[] = [];
  for (let i = 0; i < reps; i++) {
    const d = run("fib_bench", fibN, "dpor");
    kept.push(d);
    dflt.push(runDefault(fib));
    sleepSet.push(sleepSetDfs(fib));
    bare.push(bareLoop(fib, d.executions, d.steps));
  }
  const d = middle(kept);
  const dd = middle(dflt);
  const ss = middle(sleepSet);
  const bareMs = median(bare);
  console.log(`\n## Optimality pays for itself: fib_bench(${fibN}), median of ${reps} alternating runs\n`);
  console.log(
    table(
      ["explorer", "complete executions", "sleep-set blocked", "steps", "s"],
      [
        ["dpor (wakeup trees)", fmt(d.executions), d.sleepBlocked, fmt(d.steps), (d.ms / 1000).toFixed(2)],
        ["plain sleep-set DFS", fmt(ss.executions), fmt(ss.sleepBlocked), fmt(ss.steps), (ss.ms / 1000).toFixed(2)],
      ],
    ),
  );
  console.log(`\ndpor / sleep-set DFS time: ${(d.ms / ss.ms).toFixed(2)}`);

  console.log(`\n## Explorer against a bare generator loop: fib_bench(${fibN}), median of ${reps} alternating runs\n`);
  console.log(
    table(
      ["loop", "steps", "s", "steps/s", "share of the bare loop's steps/s"],
      [
        ["dpor, counting (keepGoing: a violation stops only its thread)", ...speed(d.steps, d.ms, bareMs)],
        ["dpor, checking (default: stops at the first violation; none here)", ...speed(dd.steps, dd.ms, bareMs)],
        ["bare: setup + resume generators", ...speed(d.steps, bareMs, bareMs)],
      ],
    ),
  );

  console.log(`\n## Worker threads: fib_bench(${fibN}), dpor\n`);
  const job = {
    program: benchmarkRef("fib_bench", fibN),
    strategy: "dpor" as const,
    options: { keepGoing: true, minimizeBudget: 0 },
  };
  // Warm: after one untimed run of each, both sides run compiled code in threads that already exist (the pool keeps them).
  await exploreParallel(job, { workers: 1 });
  await exploreParallel(job, { workers: 2 });
  const warm: [number[], number[]] = [[], []];
  const cold: [number[], number[]] = [[], []];
  const sleepBlocked = [0, 0];
  const executions = [0, 0];
  for (let i = 0; i < reps; i++) {
    for (const w of [1, 2]) {
      const t0 = performance.now();
      const r = await exploreParallel(job, { workers: w });
      warm[w - 1].push(performance.now() - t0);
      sleepBlocked[w - 1] = r.sleepBlocked;
      executions[w - 1] = r.executions;
      cold[w - 1].push(coldRun(fibN, w));
    }
  }
  const wrows: (string | number)[][] = [];
  for (const w of [1, 2]) {
    wrows.push([
      w,
      fmt(executions[w - 1]),
      fmt(sleepBlocked[w - 1]),
      (median(warm[w - 1]) / 1000).toFixed(2),
      (median(warm[0]) / median(warm[w - 1])).toFixed(2),
      (median(cold[w - 1]) / 1000).toFixed(2),
      (median(cold[0]) / median(cold[w - 1])).toFixed(2),
      `\`npx mmrace bench dpor --program fib_bench --param ${fibN} --workers ${w} --json\``,
    ]);
  }
  console.log(
    table(
      [
        "workers",
        "executions",
        "sleep-set blocked",
        "warm s",
        "warm speed-up",
        "new process s",
        "new process speed-up",
        "command (new process)",
      ],
      wrows,
    ),
  );
  console.log(
    `\nwarm: in this process, after a warm-up run of each; new process: the command, timed by the explorer (median of ${reps})`,
  );
}

const REPS = 5;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The run of median time. */
function middle(rows: readonly Row[]): Row {
  const m = median(rows.map((r) => r.ms));
  return rows.find((r) => r.ms === m) as Row;
}

function speed(steps: number, ms: number, bareMs: number): string[] {
  return [fmt(steps), (ms / 1000).toFixed(2), fmt((steps / ms) * 1000), `${((bareMs / ms) * 100).toFixed(0)}%`];
}

/** dpor as `mmrace check` runs it: the first violation ends the search. */
function runDefault(program: Program): Row {
  const r = explore(program, "dpor", { minimizeBudget: 0 });
  return {
    program: program.name,
    param: 0,
    strategy: "dpor",
    executions: r.executions + r.blocked,
    sleepBlocked: r.sleepBlocked,
    steps: r.steps,
    ms: r.elapsedMs,
  };
}

/** The bench command in a new Node process (new worker threads, nothing compiled yet): its own elapsedMs. */
function coldRun(param: number, workers: number): number {
  const cli = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
  const out = execFileSync(
    process.execPath,
    [cli, "bench", "dpor", "--program", "fib_bench", "--param", String(param), "--workers", String(workers), "--json"],
    { encoding: "utf8" },
  );
  return (JSON.parse(out) as { elapsedMs: number }).elapsedMs;
}

await main();
