// mmrace (no argument) and mmrace list: the whole catalogue.

import { type CheckResult, catalogue } from "../catalogue/index.js";
import { intFlag, parse } from "./args.js";
import { strategyFlag } from "./check.js";
import { fmtMs, toJsonLine } from "./output.js";
import { checkReportWritable, DEFAULT_REPORT, reportData, writeReport } from "./reportfile.js";
import { startRunner } from "./runner.js";
import { UsageError } from "./scenarios.js";

export function listCommand(argv: string[]): number {
  const { values } = parse(argv, { json: { type: "boolean" } });
  if (values.json) {
    for (const s of catalogue)
      process.stdout.write(
        `${JSON.stringify({
          id: s.id,
          title: s.title,
          source: s.source,
          variants: s.variants.map((v) => ({
            name: v.name,
            source: v.source,
            expected: v.expected,
            expectedFrom: v.expectedFrom,
          })),
        })}\n`,
      );
    return 0;
  }
  for (const s of catalogue) {
    process.stdout.write(`${s.id}  ${s.title}  [${s.source}]\n`);
    for (const v of s.variants)
      process.stdout.write(`    ${v.name.padEnd(28)} expect ${(v.expected ?? "-").padEnd(26)} ${v.source}\n`);
  }
  return 0;
}

export interface CatalogueRun {
  readonly results: CheckResult[];
  readonly interrupted: boolean;
}

/**
 * Checks every scenario × variant (or those of the scenarios named); prints a
 * row for each and a summary line, then writes the HTML report unless
 * --no-report.
 */
export async function runCatalogue(argv: string[]): Promise<CatalogueRun> {
  const { values, positionals } = parse(argv, {
    json: { type: "boolean" },
    strategy: { type: "string" },
    "max-executions": { type: "string" },
    "no-report": { type: "boolean" },
    out: { type: "string" },
    force: { type: "boolean" },
  });
  const json = values.json === true;
  const strategy = strategyFlag(values.strategy);
  const maxExecutions = intFlag(values["max-executions"], "max-executions", 1);
  for (const id of positionals)
    if (!catalogue.some((s) => s.id === id))
      throw new UsageError(`unknown scenario "${id}" (known: ${catalogue.map((x) => x.id).join(", ")})`);
  const scenarios = positionals.length ? catalogue.filter((s) => positionals.includes(s.id)) : catalogue;
  const reportFile = values["no-report"] ? undefined : String(values.out ?? DEFAULT_REPORT);
  // Refuse before exploring for minutes, not after.
  if (reportFile) checkReportWritable(reportFile, values.force === true);
  const runner = startRunner({ progress: !json });
  const results: CheckResult[] = [];
  const cols = [28, 30, 26, 26, 12, 10];
  const row = (cells: string[]) =>
    cells.map((c, i) => (i < cols.length - 1 ? c.padEnd(cols[i]) : c.padStart(cols[i]))).join(" ");
  if (!json) {
    process.stdout.write(`${row(["scenario", "variant", "expected", "found", "executions", "time"])}\n`);
  }
  try {
    for (const s of scenarios) {
      for (const v of s.variants) {
        const r = await runner.check(
          { scenario: s.id, variant: v.name, strategy, maxExecutions },
          `${s.id} / ${v.name}`,
        );
        results.push(r);
        if (json) process.stdout.write(`${toJsonLine(r)}\n`);
        else
          process.stdout.write(
            `${row([s.id, v.name, v.expected ?? "-", `${r.found}${r.ok ? "" : "  ✗"}`, String(r.result.executions + r.result.blocked), fmtMs(r.result.elapsedMs)])}\n`,
          );
        if (runner.interrupted()) break;
      }
      if (runner.interrupted()) break;
    }
  } finally {
    await runner.close();
  }
  const bad = results.filter((r) => !r.ok);
  const total = scenarios.reduce((n, s) => n + s.variants.length, 0);
  const summary = `${results.length} of ${total} variants checked: ${results.length - bad.length} as expected, ${bad.length} not${runner.interrupted() ? " (interrupted)" : ""}`;
  if (json) process.stderr.write(`${summary}\n`);
  else process.stdout.write(`\n${summary}\n`);
  for (const r of bad)
    process.stdout.write(`  ✗ ${r.scenario} / ${r.variant}: expected ${r.expected}, found ${r.found}\n`);
  if (reportFile) {
    const line = writeReport(reportFile, reportData(results, summary));
    (json ? process.stderr : process.stdout).write(`\n${line}\n`);
  }
  return { results, interrupted: runner.interrupted() };
}
