// Printing a check result: one JSON line, or a header with the interleaving.

import type { CheckResult, ViolationClassResult } from "../catalogue/index.js";
import { scheduleToString, type TraceStep, type ViolationReport } from "../explore/index.js";
import { formatInterleaving } from "../report/text.js";

/** A violation for JSON: kind and message, and the kernel call stack of an oops. */
function jsonViolation(v: ViolationReport) {
  const stack = (v.detail as { stack?: unknown } | undefined)?.stack;
  return { kind: v.kind, message: v.message, ...(Array.isArray(stack) ? { stack } : {}) };
}

const jsonTrace = (trace: readonly TraceStep[]) => trace.map(({ state: _s, ...rest }) => rest);

export function toJsonLine(r: CheckResult): string {
  const e = r.result;
  return JSON.stringify({
    scenario: r.scenario,
    variant: r.variant,
    expected: r.expected,
    found: r.found,
    verdict: e.verdict,
    ...(e.violation ? { violation: jsonViolation(e.violation) } : {}),
    strategy: r.strategy,
    complete: e.complete,
    executions: e.executions,
    blocked: e.blocked,
    sleepBlocked: e.sleepBlocked,
    steps: e.steps,
    elapsedMs: e.elapsedMs,
    ...(e.interrupted ? { interrupted: true } : {}),
    ...(r.story ? { story: r.story } : {}),
    ...(r.shard ? { shard: `${r.shard.index + 1}/${r.shard.count}` } : {}),
    ...(e.schedule ? { schedule: scheduleToString(e.schedule), preemptions: e.preemptions } : {}),
    ...(r.trace ? { threads: r.threads, trace: jsonTrace(r.trace) } : {}),
    ...(r.violations
      ? {
          violations: r.violations.map((c) => ({
            ...jsonViolation(c),
            executions: c.executions,
            schedule: scheduleToString(c.schedule),
            preemptions: c.preemptions,
            threads: c.threads,
            trace: jsonTrace(c.trace),
          })),
        }
      : {}),
  });
}

export const mark = (r: CheckResult): string => (r.ok ? "as expected" : "NOT as expected");

export function headline(r: CheckResult): string {
  const e = r.result;
  const how = `${e.executions} executions${e.blocked ? ` + ${e.blocked} blocked` : ""}, ${e.complete ? "complete" : "incomplete"}, ${r.strategy}, ${fmtMs(e.elapsedMs)}`;
  const part = r.shard ? ` in shard ${r.shard.index + 1}/${r.shard.count}` : "";
  return `${r.scenario} / ${r.variant}: expected ${r.expected ?? "no violation"}, found ${r.found}${part} (${how}): ${mark(r)}`;
}

/** Width for tables: the terminal's, else $COLUMNS (a pipe has no width), else 160. */
export function terminalWidth(): number {
  const env = Number(process.env.COLUMNS);
  return process.stdout.columns ?? (Number.isInteger(env) && env > 0 ? env : 160);
}

export function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** --all-violations: a heading per distinct violation, how many executions hit it, and its minimal trace. */
function printClasses(
  r: CheckResult,
  classes: readonly ViolationClassResult[],
  width: number,
  fold: boolean,
): string[] {
  const total = r.result.executions + r.result.blocked;
  const out = ["", `${classes.length} distinct violation${classes.length === 1 ? "" : "s"}:`];
  classes.forEach((c, i) => {
    out.push("", `[${i + 1}/${classes.length}] ${c.kind}: ${c.message}`);
    out.push(`    in ${c.executions} of ${total} executions; a minimal one:`, "");
    out.push(formatInterleaving({ threads: c.threads, trace: c.trace, violation: c, width, fold }));
    out.push(
      "",
      `schedule (${c.preemptions} preemptions, ${c.schedule.length} steps): ${scheduleToString(c.schedule)}`,
    );
  });
  return out;
}

export function printCheck(r: CheckResult, width: number, fold = true): string {
  const out = [headline(r)];
  const e = r.result;
  if (r.story === "shown") out.push("The interleaving shown is the one the source thread describes.");
  if (r.story === "not found")
    out.push("No execution tells the source thread's story; the interleaving shown is another.");
  if (r.violations) out.push(...printClasses(r, r.violations, width, fold));
  else if (e.violation && r.trace && r.threads) {
    out.push("");
    out.push(formatInterleaving({ threads: r.threads, trace: r.trace, violation: e.violation, width, fold }));
    out.push("");
    out.push(
      `schedule (${e.preemptions ?? 0} preemptions, ${e.schedule?.length ?? 0} steps): ${scheduleToString(e.schedule ?? [])}`,
    );
  }
  if (e.interrupted) out.push("(stopped before the exploration finished: the verdict covers what was explored)");
  return out.join("\n");
}
