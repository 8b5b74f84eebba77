// mmrace replay <trace.json>: re-runs a saved counterexample from its schedule.
// Every way a file can be unusable (truncated, another format version, an
// unknown scenario, a model that changed) ends in one line and exit code 2.

import { readFileSync } from "node:fs";
import { findVariant } from "../catalogue/index.js";
import { checkReplaysAlike, ModelError, NotDeterministic, replay } from "../explore/index.js";
import { formatInterleaving } from "../report/text.js";
import { firstDivergence, parseTraceFile, TraceFileError } from "../report/tracefile.js";
import { parse } from "./args.js";
import { terminalWidth } from "./output.js";
import { loadScenario, UsageError } from "./scenarios.js";
import { mmraceVersion } from "./version.js";

export async function replayCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: "boolean" }, "no-fold": { type: "boolean" } });
  if (positionals.length !== 1) throw new UsageError("usage: mmrace replay <trace.json> [--json] [--no-fold]");
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
    throw new TraceFileError(`${file} is a trace of ${(e as Error).message}`);
  }
  let rep: ReturnType<typeof replay>;
  try {
    // A model that does not replay alike in one process says so, not "the model changed".
    checkReplaysAlike(variant.program(), t.scheduleSteps);
    rep = replay(variant.program(), t.scheduleSteps, true);
  } catch (e) {
    if (e instanceof NotDeterministic) throw e;
    if (e instanceof ModelError)
      throw new TraceFileError(
        `${file} no longer replays on ${t.scenario} / ${t.variant} (the model changed since mmrace ${t.mmrace} wrote it?): ${e.message}`,
      );
    throw e;
  }
  const threads = rep.execution.threads.map((x) => x.name);
  const divergence =
    threads.join("\0") !== t.threads.join("\0")
      ? `the trace names threads ${t.threads.join(", ")} and the model has ${threads.join(", ")}`
      : firstDivergence(t.steps, rep.trace, threads);
  const v = rep.execution.violation;
  const same = v ? t.violation?.kind === v.kind : !t.violation;
  // A schedule that runs but no longer leads where it led is a trace of another model.
  if (!same && divergence)
    throw new TraceFileError(
      `${file} no longer replays as recorded on ${t.scenario} / ${t.variant}: ${divergence} (the model changed since mmrace ${t.mmrace} wrote it)`,
    );
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ scenario: t.scenario, variant: t.variant, reproduced: same, violation: v ? { kind: v.kind, message: v.message } : null, ...(divergence ? { divergence } : {}) })}\n`,
    );
    return same ? 0 : 1;
  }
  process.stdout.write(
    `${formatInterleaving({ threads, trace: rep.trace, violation: v ? { kind: v.kind, message: v.message, detail: v.detail } : undefined, width: terminalWidth(), fold: values["no-fold"] !== true })}\n\n`,
  );
  if (divergence) process.stdout.write(`note: ${divergence}; the model changed since the trace was written\n`);
  if (t.mmrace !== mmraceVersion())
    process.stdout.write(`note: written by mmrace ${t.mmrace}, replayed by mmrace ${mmraceVersion()}\n`);
  process.stdout.write(
    same
      ? `reproduced: ${t.scenario} / ${t.variant}: ${v ? `${v.kind}` : "no violation"}, as recorded\n`
      : `NOT reproduced: the trace recorded ${t.violation ? t.violation.kind : "no violation"}, the replay found ${v ? v.kind : "none"}\n`,
  );
  return same ? 0 : 1;
}
