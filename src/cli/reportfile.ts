// The HTML report file: its data from a catalogue run, and writing it. The
// file is never written over unless it is an earlier mmrace report, or
// --force says so.

import { closeSync, existsSync, mkdirSync, openSync, readSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type CheckResult, catalogue } from "../catalogue/index.js";
import { scheduleToString } from "../explore/index.js";
import type { ReportData, ReportRow, ReportTrace } from "../report/data.js";
import { isMmraceReport, renderHtmlReport } from "../report/html.js";
import { UsageError } from "./scenarios.js";
import { mmraceVersion } from "./version.js";

export const DEFAULT_REPORT = "report/index.html";

/** Refuses to write over a file that is not an mmrace report, unless forced. */
export function checkReportWritable(file: string, force: boolean): void {
  if (force || !existsSync(file)) return;
  let head = "";
  try {
    // The generator mark is in the first lines: no need to read a large file whole.
    const fd = openSync(file, "r");
    try {
      const buf = Buffer.alloc(4096);
      head = buf.toString("utf8", 0, readSync(fd, buf, 0, buf.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new UsageError(`cannot write the report to ${file}: ${(e as Error).message}`);
  }
  if (!isMmraceReport(head))
    throw new UsageError(`${file} exists and is not an mmrace report; not overwriting it (use --force, or --out FILE)`);
}

/** The report's data from a catalogue run: rows for the table, traces for the viewer. */
export function reportData(results: readonly CheckResult[], summary?: string): ReportData {
  const traces: ReportTrace[] = [];
  const rows: ReportRow[] = results.map((r) => {
    const s = catalogue.find((x) => x.id === r.scenario);
    const v = s?.variants.find((x) => x.name === r.variant);
    const e = r.result;
    let trace: number | undefined;
    if (e.violation && e.schedule && r.trace && r.threads) {
      trace = traces.length;
      traces.push({
        scenario: r.scenario,
        variant: r.variant,
        strategy: r.strategy,
        threads: r.threads,
        steps: r.trace,
        violation: e.violation,
        schedule: scheduleToString(e.schedule),
        preemptions: e.preemptions,
      });
    }
    return {
      scenario: r.scenario,
      title: s?.title,
      variant: r.variant,
      source: v?.source,
      expected: r.expected,
      found: r.found,
      ok: r.ok,
      strategy: r.strategy,
      executions: e.executions + e.blocked,
      complete: e.complete,
      elapsedMs: e.elapsedMs,
      ...(e.interrupted ? { interrupted: true } : {}),
      ...(trace !== undefined ? { trace } : {}),
    };
  });
  return {
    title: "mmrace: the race catalogue",
    mmrace: mmraceVersion(),
    generatedAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    summary,
    rows,
    traces,
  };
}

/** Writes the report; returns the line to print about it. */
export function writeReport(file: string, data: ReportData): string {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, renderHtmlReport(data));
  return `report: ${file} (open ${pathToFileURL(resolve(file)).href})`;
}
