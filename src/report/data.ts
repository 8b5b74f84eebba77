// What the HTML report shows: the catalogue run and its counterexamples.
// Plain data built from explore's types, so the report knows nothing of the
// catalogue or of mm; the CLI fills it in.

import type { TraceStep, ViolationReport } from "../explore/index.js";

/** One row of the catalogue table: a scenario's variant and what the check found. */
export interface ReportRow {
  readonly scenario: string;
  readonly title?: string;
  readonly variant: string;
  /** Where the variant comes from: a seed thread, a commit. */
  readonly source?: string;
  readonly expected?: string;
  readonly found: string;
  readonly ok: boolean;
  readonly strategy: string;
  readonly executions: number;
  readonly complete: boolean;
  readonly elapsedMs: number;
  readonly interrupted?: boolean;
  /** Index into ReportData.traces of this row's counterexample. */
  readonly trace?: number;
}

/** A counterexample for the step viewer. */
export interface ReportTrace {
  readonly scenario: string;
  readonly variant: string;
  readonly strategy: string;
  readonly threads: readonly string[];
  readonly steps: readonly TraceStep[];
  readonly violation?: ViolationReport;
  /** The schedule in its text form, to replay. */
  readonly schedule: string;
  readonly preemptions?: number;
}

export interface ReportData {
  readonly title: string;
  readonly mmrace: string;
  /** When the report was written (ISO time), for the reader; not part of any model. */
  readonly generatedAt?: string;
  /** One line: how many variants were as expected. */
  readonly summary?: string;
  readonly rows: readonly ReportRow[];
  readonly traces: readonly ReportTrace[];
}
