// The trace file: a counterexample saved as JSON, versioned, validated with a
// schema when read back, so that a bad file gets a one-line explanation
// instead of a stack trace or, worse, a replay of garbage.

import { z } from "zod";
import {
  choiceTid,
  parseSchedule,
  scheduleToString,
  type TraceStep,
  type ViolationReport,
  violationKinds,
} from "../explore/index.js";

export const TRACE_FORMAT = "mmrace-trace";
/** Bump when a reader of the old format would misread the new one. */
export const TRACE_FORMAT_VERSION = 1;

const stepSchema = z.object({
  i: z.number().int().nonnegative(),
  tid: z.number().int().nonnegative(),
  op: z.string(),
  target: z.string().optional(),
  value: z.string().optional(),
  stack: z.array(z.string()),
  notes: z.array(z.string()).optional(),
  preempt: z.boolean().optional(),
  state: z.unknown().optional(),
  held: z.record(z.string(), z.array(z.string())).optional(),
});

const fileSchema = z.object({
  format: z.literal(TRACE_FORMAT),
  version: z.number().int(),
  mmrace: z.string(),
  scenario: z.string().min(1),
  variant: z.string().min(1),
  strategy: z.string(),
  schedule: z.string(),
  threads: z.array(z.string()).min(1),
  /** What the check expected and found, for a reader of the file alone. */
  expected: z.string().optional(),
  found: z.string().optional(),
  preemptions: z.number().int().nonnegative().optional(),
  violation: z
    .object({
      kind: z.enum(violationKinds as [string, ...string[]]),
      message: z.string(),
      detail: z.unknown().optional(),
    })
    .optional(),
  steps: z.array(stepSchema),
});

export type TraceFile = z.infer<typeof fileSchema>;

/** A trace file that cannot be used; the message is one line, for `mmrace: <message>`. */
export class TraceFileError extends Error {
  constructor(message: string) {
    super(oneLine(message));
    this.name = "TraceFileError";
  }
}

/** Collapses a message (a model error may carry a stack) to its first line. */
export function oneLine(message: string): string {
  const first = message.split("\n").find((l) => l.trim() !== "") ?? "";
  return first.trim();
}

export interface TraceFileInput {
  readonly mmrace: string;
  readonly scenario: string;
  readonly variant: string;
  readonly strategy: string;
  readonly schedule: readonly number[];
  readonly threads: readonly string[];
  readonly expected?: string;
  readonly found?: string;
  readonly preemptions?: number;
  readonly violation?: ViolationReport;
  readonly steps: readonly TraceStep[];
}

export function makeTraceFile(t: TraceFileInput): TraceFile {
  return {
    format: TRACE_FORMAT,
    version: TRACE_FORMAT_VERSION,
    mmrace: t.mmrace,
    scenario: t.scenario,
    variant: t.variant,
    strategy: t.strategy,
    schedule: scheduleToString(t.schedule),
    threads: [...t.threads],
    ...(t.expected !== undefined ? { expected: t.expected } : {}),
    ...(t.found !== undefined ? { found: t.found } : {}),
    ...(t.preemptions !== undefined ? { preemptions: t.preemptions } : {}),
    ...(t.violation ? { violation: t.violation } : {}),
    steps: t.steps as TraceFile["steps"],
  };
}

export type ParsedTraceFile = TraceFile & { scheduleSteps: number[] };

/** Parses and validates a trace file's text; throws TraceFileError with a one-line reason. */
export function parseTraceFile(text: string, where = "trace file"): ParsedTraceFile {
  if (text.trim() === "") throw new TraceFileError(`${where} is empty`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    // A file cut short (a full disk, an interrupted copy) is the common case: say so plainly.
    if (endsOpen(text))
      throw new TraceFileError(`${where} is truncated: its JSON ends after ${text.length} bytes (${why})`);
    throw new TraceFileError(`${where} is not JSON, so not an mmrace trace: ${why}`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new TraceFileError(`${where} is not an mmrace trace: expected a JSON object`);
  const format = (raw as { format?: unknown }).format;
  if (format !== TRACE_FORMAT)
    throw new TraceFileError(
      `${where} is not an mmrace trace (its "format" is ${format === undefined ? "missing" : JSON.stringify(format)}, not "${TRACE_FORMAT}"); write one with mmrace check <scenario> --variant V --trace FILE`,
    );
  const version = (raw as { version?: unknown }).version;
  if (version !== TRACE_FORMAT_VERSION)
    throw new TraceFileError(
      `${where} has trace format version ${JSON.stringify(version)}; this mmrace reads version ${TRACE_FORMAT_VERSION} (write the trace again with this mmrace)`,
    );
  const r = fileSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue.path.length ? issue.path.join(".") : "(top level)";
    throw new TraceFileError(`${where} is not a valid mmrace trace: ${path}: ${issue.message}`);
  }
  let scheduleSteps: number[];
  try {
    scheduleSteps = parseSchedule(r.data.schedule);
  } catch (e) {
    throw new TraceFileError(`${where}: schedule: ${e instanceof Error ? e.message : String(e)}`);
  }
  checkConsistent(r.data, scheduleSteps, where);
  return { ...r.data, scheduleSteps };
}

/**
 * True when JSON text ends inside a string or with an object or array still
 * open: what a cut-short file looks like, wherever the cut fell.
 */
export function endsOpen(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let k = 0; k < text.length; k++) {
    const c = text[k];
    if (inString) {
      if (c === "\\") k++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
  }
  return inString || depth > 0;
}

/** The parts of a file must agree: a hand-edited or spliced file is rejected before it is replayed. */
function checkConsistent(t: TraceFile, schedule: readonly number[], where: string): void {
  if (t.steps.length !== 0 && t.steps.length !== schedule.length)
    throw new TraceFileError(
      `${where} is inconsistent: its schedule has ${schedule.length} steps but it records ${t.steps.length}`,
    );
  t.steps.forEach((s, k) => {
    if (s.i !== k) throw new TraceFileError(`${where} is inconsistent: steps.${k} is numbered ${s.i}`);
    if (s.tid !== choiceTid(schedule[k]))
      throw new TraceFileError(
        `${where} is inconsistent: its schedule runs thread ${choiceTid(schedule[k])} at step ${k + 1}, its steps thread ${s.tid}`,
      );
    if (s.tid >= t.threads.length)
      throw new TraceFileError(
        `${where} is inconsistent: steps.${k} runs thread ${s.tid}, but the trace names ${t.threads.length} threads`,
      );
  });
}

/**
 * The first step where a replay differs from the recorded trace (thread, op or
 * target), described in one line; null when they agree. A difference means
 * the model changed since the trace was written.
 */
export function firstDivergence(
  recorded: readonly TraceStep[],
  replayed: readonly TraceStep[],
  threads: readonly string[],
): string | null {
  const show = (s: TraceStep) => `${threads[s.tid] ?? `thread ${s.tid}`}: ${s.op}${s.target ? ` ${s.target}` : ""}`;
  const n = Math.min(recorded.length, replayed.length);
  for (let k = 0; k < n; k++) {
    const a = recorded[k];
    const b = replayed[k];
    if (a.tid !== b.tid || a.op !== b.op || a.target !== b.target)
      return `step ${k + 1} was "${show(a)}" when recorded and is "${show(b)}" now`;
  }
  if (recorded.length !== 0 && recorded.length !== replayed.length)
    return `the trace recorded ${recorded.length} steps and the replay took ${replayed.length}`;
  return null;
}
