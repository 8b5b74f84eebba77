// A trace as kernel people write an interleaving: one column per thread,
// rows in execution order, the violation at the bottom in kernel words.

import type { TraceStep, ViolationReport } from "../explore/index.js";
import { foldTrace, type Row } from "./fold.js";

export interface TableInput {
  readonly threads: readonly string[];
  readonly trace: readonly TraceStep[];
  readonly violation?: ViolationReport;
  /** Terminal width to fit (default 160). */
  readonly width?: number;
  /** Fold runs of unshared steps into one row (default true). */
  readonly fold?: boolean;
}

/** The raw access of a step: `load counter = 0`. */
export function describeAccess(s: TraceStep): string {
  // "= value" reads as the value of the target; an op without one (free, spawn, join) just names it.
  const value = s.value === undefined ? "" : s.target ? ` = ${s.value}` : ` ${s.value}`;
  return `${s.op}${s.target ? ` ${s.target}` : ""}${value}`;
}

/** A note that starts with a kernel function's name ("vma_merge: ...") needs no other. */
export const namesItself = (note: string): boolean => /^[A-Za-z_]\w*: /.test(note);

/** What one step says: the kernel function, then the notes or the raw access. */
export function describeStep(s: TraceStep): string {
  const fn = s.stack[0];
  const what = s.notes?.length ? s.notes.join("; ") : describeAccess(s);
  return fn && !(s.notes?.length && namesItself(s.notes[0])) ? `${fn}: ${what}` : what;
}

/** Noted steps shown in a folded row; the rest are counted in "(+k steps)". */
const MAX_NOTED = 4;

/**
 * What a row says. A folded row keeps the notes of its steps (grouped by
 * kernel function), or, when none has a note, its last step; the steps not
 * shown are counted, so nothing is silently dropped.
 */
export function describeRow(row: Row): string {
  const steps = row.steps;
  if (steps.length === 1) return describeStep(steps[0]);
  let noted = steps.filter((s) => s.notes?.length);
  if (noted.length === 0) noted = [steps[steps.length - 1]];
  const elided = noted.length > MAX_NOTED;
  if (elided) noted = noted.slice(-MAX_NOTED);
  const parts: string[] = [];
  let lastFn: string | undefined;
  for (const s of noted) {
    const fn = s.stack[0];
    const what = s.notes?.length ? s.notes.join("; ") : describeAccess(s);
    const named = s.notes?.length ? namesItself(s.notes[0]) : false;
    parts.push(fn && fn !== lastFn && !named ? `${fn}: ${what}` : what);
    lastFn = fn;
  }
  const hidden = steps.length - noted.length;
  return `${elided ? "…; " : ""}${parts.join("; ")}${hidden ? ` (+${hidden} step${hidden === 1 ? "" : "s"})` : ""}`;
}

/** Step numbers of a row, 1-based: "7" or "3-6". */
export function rowLabel(row: Row): string {
  const a = row.steps[0].i + 1;
  const b = row.steps[row.steps.length - 1].i + 1;
  return a === b ? String(a) : `${a}-${b}`;
}

/** The violation in one line, as the kernel would print it; an oops adds its kernel call stack (innermost first). */
export function violationLine(v: ViolationReport): string {
  const stack = (v.detail as { stack?: unknown } | undefined)?.stack;
  const calls = Array.isArray(stack) && stack.length !== 0 ? `\ncall trace: ${stack.join(" ← ")}` : "";
  return `${v.kind}: ${v.message}${calls}`;
}

/** Splits text into lines of at most `width` characters, at spaces where it can. */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const para of text.split("\n")) {
    let rest = para;
    while (rest.length > width) {
      let cut = rest.lastIndexOf(" ", width);
      if (cut <= width / 3) cut = width;
      out.push(rest.slice(0, cut));
      rest = rest.slice(cut).trimStart();
    }
    out.push(rest);
  }
  return out;
}

const PREEMPT_MARK = "» ";

export function formatInterleaving(input: TableInput): string {
  const n = Math.max(1, input.threads.length);
  const width = Math.max(40, input.width ?? 160);
  const rows = foldTrace(input.trace, input.fold ?? true);
  const labels = rows.map(rowLabel);
  const numW = Math.max(1, ...labels.map((l) => l.length));
  // "num | c0 | c1": every column costs its width plus a 3-character separator.
  const colW = Math.max(8, Math.floor((width - numW - 3 * n) / n));
  const pad = (s: string) => s + " ".repeat(Math.max(0, colW - s.length));
  const lines: string[] = [];
  const emit = (num: string, cells: string[][]) => {
    const height = Math.max(...cells.map((c) => c.length));
    for (let k = 0; k < height; k++)
      lines.push(`${(k === 0 ? num : "").padStart(numW)} | ${cells.map((c) => pad(c[k] ?? "")).join(" | ")}`);
  };
  emit(
    "",
    input.threads.map((t) => wrap(t, colW)),
  );
  lines.push(`${"-".repeat(numW)}-+-${input.threads.map(() => "-".repeat(colW)).join("-+-")}`);
  rows.forEach((row, r) => {
    const text = (row.preempt ? PREEMPT_MARK : "") + describeRow(row);
    emit(
      labels[r],
      input.threads.map((_, tid) => (tid === row.tid ? wrap(text, colW) : [])),
    );
  });
  const folded = rows.some((r) => r.steps.length > 1);
  const preempted = rows.some((r) => r.preempt);
  if (folded || preempted) {
    lines.push("");
    const legend = [
      preempted ? `${PREEMPT_MARK.trim()} preemption` : "",
      folded ? "a-b: steps that touch nothing another thread touches, folded (--no-fold shows each)" : "",
    ].filter(Boolean);
    lines.push(...wrap(legend.join("; "), width));
  }
  if (input.violation) {
    const banner = wrap(violationLine(input.violation), width - 4);
    const bar = "=".repeat(Math.min(width, Math.max(...banner.map((l) => l.length)) + 4));
    lines.push("", bar, ...banner.map((l) => `  ${l}`), bar);
  }
  return lines.map((l) => l.trimEnd()).join("\n");
}
