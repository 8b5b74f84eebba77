// `mmrace bench dpor`: explores one DPOR benchmark program (benchmarks/dpor-counts.md)
// and prints what it took, one JSON line with --json:
//   {program, param, strategy, executions, blocked, sleepBlocked, steps, elapsedMs}

import { benchmarkPrograms, benchmarkRef, exploreParallel, parseShard, strategyNames } from "../explore/index.js";

const USAGE =
  "usage: mmrace bench dpor --program <name> --param <N> [--strategy S] [--workers N] [--shard i/n] [--max-executions N] [--json]";

function fail(message: string): number {
  process.stderr.write(`mmrace bench: ${message}\n${USAGE}\n`);
  return 2;
}

/** Runs `mmrace bench ...`; returns the exit code (2 for bad usage). */
export async function benchCommand(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  if (what !== "dpor")
    return fail(what === undefined ? "say what to benchmark: dpor" : `unknown benchmark "${what}" (known: dpor)`);
  const flags: Record<string, string> = {};
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === "--json") json = true;
    else if (/^--(program|param|strategy|workers|shard|max-executions)$/.test(a)) {
      const v = rest[++i];
      if (v === undefined || v.startsWith("--")) return fail(`${a} needs a value`);
      flags[a.slice(2)] = v;
    } else return fail(`unknown argument "${a}"`);
  }
  const program = flags.program;
  if (program === undefined) return fail(`--program is required (known: ${Object.keys(benchmarkPrograms).join(", ")})`);
  if (!benchmarkPrograms[program])
    return fail(`unknown program "${program}" (known: ${Object.keys(benchmarkPrograms).join(", ")})`);
  const param = whole(flags.param, "param", 0);
  if (param === null) return fail(`--param is required and takes a whole number, not "${flags.param ?? ""}"`);
  const strategy = flags.strategy ?? "dpor";
  if (!strategyNames().includes(strategy))
    return fail(`unknown strategy "${strategy}" (known: ${strategyNames().join(", ")})`);
  const workers = flags.workers === undefined ? 1 : whole(flags.workers, "workers", 1);
  if (workers === null) return fail(`--workers takes a whole number >= 1, not "${flags.workers}"`);
  const maxExecutions =
    flags["max-executions"] === undefined ? undefined : whole(flags["max-executions"], "max-executions", 1);
  if (maxExecutions === null)
    return fail(`--max-executions takes a whole number >= 1, not "${flags["max-executions"]}"`);
  let shard: { index: number; count: number } | undefined;
  if (flags.shard !== undefined) {
    try {
      shard = parseShard(flags.shard);
    } catch (e) {
      return fail((e as Error).message);
    }
  }
  if ((workers > 1 || shard) && strategy !== "dpor" && strategy !== "dfs")
    return fail(`--workers and --shard split dpor or dfs, not ${strategy}`);
  const r = await exploreParallel(
    {
      program: benchmarkRef(program, param),
      // Other strategies run unsplit in this thread (checked above).
      strategy: strategy as "dpor" | "dfs",
      // Benchmarks count every execution: a violation does not stop them.
      options: { keepGoing: true, minimizeBudget: 0, ...(maxExecutions ? { maxExecutions } : {}) },
    },
    { workers, ...(shard ? { shard } : {}) },
  );
  const out = {
    program,
    param,
    strategy,
    executions: r.executions,
    blocked: r.blocked,
    sleepBlocked: r.sleepBlocked,
    steps: r.steps,
    elapsedMs: r.elapsedMs,
    ...(workers > 1 ? { workers } : {}),
    ...(shard ? { shard: `${shard.index + 1}/${shard.count}` } : {}),
  };
  if (json) process.stdout.write(`${JSON.stringify(out)}\n`);
  else
    process.stdout.write(
      `${program}(${param}) ${strategy}: ${r.executions} executions, ${r.blocked} blocked, ${r.sleepBlocked} sleep-set blocked, ` +
        `${r.steps} steps in ${(r.elapsedMs / 1000).toFixed(2)} s\n`,
    );
  return 0;
}

function whole(v: string | undefined, _name: string, min: number): number | null {
  if (v === undefined || !/^\d+$/.test(v) || Number(v) < min) return null;
  return Number(v);
}
