// mmrace check <scenario> [--variant V] ...: explore one scenario's variants.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { type CheckResult, exhaustiveStrategies } from "../catalogue/index.js";
import { parseShard, strategyNames } from "../explore/index.js";
import { makeTraceFile, TRACE_FORMAT } from "../report/tracefile.js";
import { intFlag, parse } from "./args.js";
import { printCheck, terminalWidth, toJsonLine } from "./output.js";
import { startRunner } from "./runner.js";
import { loadScenario, UsageError } from "./scenarios.js";
import { mmraceVersion } from "./version.js";

export const checkFlags = {
  variant: { type: "string" },
  strategy: { type: "string" },
  "max-executions": { type: "string" },
  "preemption-bound": { type: "string" },
  seed: { type: "string" },
  depth: { type: "string" },
  json: { type: "boolean" },
  trace: { type: "string" },
  force: { type: "boolean" },
  "no-fold": { type: "boolean" },
  workers: { type: "string" },
  shard: { type: "string" },
  "all-violations": { type: "boolean" },
  strict: { type: "boolean" },
} as const;

function shardFlag(text: string): { index: number; count: number } {
  try {
    return parseShard(text);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function strategyFlag(v: string | boolean | undefined): string | undefined {
  if (v === undefined) return undefined;
  const s = String(v);
  if (!strategyNames().includes(s))
    throw new UsageError(`unknown strategy "${s}" (known: ${strategyNames().join(", ")})`);
  return s;
}

/** Refuses to overwrite a file that is not an mmrace trace, unless forced. */
export function checkWritable(file: string, force: boolean): void {
  if (!existsSync(file) || force) return;
  let isTrace = false;
  try {
    isTrace = (JSON.parse(readFileSync(file, "utf8")) as { format?: unknown }).format === TRACE_FORMAT;
  } catch {
    isTrace = false;
  }
  if (!isTrace)
    throw new UsageError(
      `${file} exists and is not an mmrace trace; not overwriting it (use --force, or another name)`,
    );
}

export async function checkCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, checkFlags);
  if (positionals.length !== 1)
    throw new UsageError(
      "usage: mmrace check <scenario> [--variant V] [--strategy S] [--all-violations] [--strict] [--json] [--trace FILE]",
    );
  const scenario = await loadScenario(positionals[0]);
  const variants = values.variant ? [String(values.variant)] : scenario.variants.map((v) => v.name);
  for (const v of variants)
    if (!scenario.variants.some((x) => x.name === v))
      throw new UsageError(
        `unknown variant "${v}" of ${scenario.id} (known: ${scenario.variants.map((x) => x.name).join(", ")})`,
      );
  const traceFile = values.trace ? String(values.trace) : undefined;
  if (traceFile && variants.length > 1)
    throw new UsageError("--trace writes one counterexample: name the variant with --variant");
  if (traceFile) checkWritable(traceFile, values.force === true);
  const job = {
    strategy: strategyFlag(values.strategy),
    maxExecutions: intFlag(values["max-executions"], "max-executions", 1),
    preemptionBound: intFlag(values["preemption-bound"], "preemption-bound"),
    seed: intFlag(values.seed, "seed"),
    depth: intFlag(values.depth, "depth", 1),
    workers: intFlag(values.workers, "workers", 1),
    shard: values.shard === undefined ? undefined : shardFlag(String(values.shard)),
    allViolations: values["all-violations"] === true,
    strict: values.strict === true,
  };
  if (job.allViolations) {
    // Every violation is a claim about every execution: only an exhaustive search in one thread can make it.
    if (job.strategy !== undefined && !exhaustiveStrategies.includes(job.strategy))
      throw new UsageError(`--all-violations needs an exhaustive strategy (dpor or dfs), not ${job.strategy}`);
    if ((job.workers ?? 1) > 1 || job.shard)
      throw new UsageError("--all-violations explores in one thread: drop --workers and --shard");
  }
  if (job.strict && ((job.workers ?? 1) > 1 || job.shard))
    throw new UsageError("--strict checks the model in one thread: drop --workers and --shard");
  if ((job.workers ?? 1) > 1 || job.shard) {
    if (positionals[0].includes("/") || /\.m?js$/.test(positionals[0]))
      throw new UsageError("--workers and --shard split catalogue scenarios; a scenario file runs in one thread");
    const st = job.strategy ?? "dpor";
    if (st !== "dpor" && st !== "dfs")
      throw new UsageError(`--workers and --shard split a dpor or dfs exploration, not ${st}`);
  }
  const json = values.json === true;
  const runner = startRunner({ progress: !json });
  const results: CheckResult[] = [];
  try {
    for (const v of variants) {
      const r = await runner.check({ ...job, scenario: positionals[0], variant: v }, `${scenario.id} / ${v}`);
      results.push(r);
      if (json) process.stdout.write(`${toJsonLine(r)}\n`);
      else process.stdout.write(`${printCheck(r, terminalWidth(), values["no-fold"] !== true)}\n\n`);
      if (runner.interrupted()) break;
    }
  } finally {
    await runner.close();
  }
  if (traceFile) {
    const r = results[0];
    if (!r?.result.schedule || !r.trace || !r.threads) {
      process.stderr.write(`no counterexample for ${scenario.id} / ${variants[0]}: ${traceFile} not written\n`);
    } else {
      const existed = existsSync(traceFile);
      const file = makeTraceFile({
        mmrace: mmraceVersion(),
        scenario: positionals[0],
        variant: r.variant,
        strategy: r.strategy,
        schedule: r.result.schedule,
        threads: r.threads,
        expected: r.expected,
        found: r.found,
        preemptions: r.result.preemptions,
        violation: r.result.violation,
        steps: r.trace,
      });
      writeFileSync(traceFile, `${JSON.stringify(file, null, 1)}\n`);
      process.stderr.write(
        `${existed ? "replaced the trace in" : "wrote"} ${traceFile}; replay it with: mmrace replay ${traceFile}\n`,
      );
    }
  }
  return results.length === variants.length && results.every((r) => r.ok) ? 0 : 1;
}
