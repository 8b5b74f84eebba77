// mmrace replay <trace.json>: re-runs a saved counterexample from its schedule.

import { readFileSync } from "node:fs";
import { findVariant } from "../catalogue/index.js";
import { ModelError, replay } from "../explore/index.js";
import { formatInterleaving } from "../report/text.js";
import { parseTraceFile, TraceFileError } from "../report/tracefile.js";
import { parse } from "./args.js";
import { loadScenario, UsageError } from "./scenarios.js";

export async function replayCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: "boolean" }, "no-fold": { type: "boolean" } });
  if (positionals.length !== 1) throw new UsageError("usage: mmrace replay <trace.json>");
  const file = positionals[0];
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const t = parseTraceFile(text, file);
  const scenario = await loadScenario(t.scenario).catch((e: Error) => {
    throw new TraceFileError(
      `${file} is a trace of scenario "${t.scenario}", which this mmrace does not know (${e.message})`,
    );
  });
  let variant: ReturnType<typeof findVariant>;
  try {
    variant = findVariant(scenario, t.variant);
  } catch (e) {
    throw new TraceFileError(`${file}: ${(e as Error).message}`);
  }
  let rep: ReturnType<typeof replay>;
  try {
    rep = replay(variant.program(), t.scheduleSteps, true);
  } catch (e) {
    if (e instanceof ModelError)
      throw new TraceFileError(`${file} does not replay on this model (the model changed?): ${e.message}`);
    throw e;
  }
  const v = rep.execution.violation;
  const same = v ? t.violation?.kind === v.kind : !t.violation;
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ scenario: t.scenario, variant: t.variant, reproduced: same, violation: v ? { kind: v.kind, message: v.message } : null })}\n`,
    );
  } else {
    const threads = rep.execution.threads.map((x) => x.name);
    process.stdout.write(
      `${formatInterleaving({ threads, trace: rep.trace, violation: v ? { kind: v.kind, message: v.message } : undefined, width: process.stdout.columns ?? 160 })}\n\n`,
    );
    process.stdout.write(
      same
        ? `reproduced: ${t.scenario} / ${t.variant}: ${v ? `${v.kind}` : "no violation"}, as recorded\n`
        : `NOT reproduced: the trace recorded ${t.violation ? t.violation.kind : "no violation"}, the replay found ${v ? v.kind : "none"}\n`,
    );
  }
  return same ? 0 : 1;
}
