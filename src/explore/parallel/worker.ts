// A worker thread of parallel explorations: explores the pieces the main
// thread hands it, one at a time, rebuilding each job's program from its
// reference (once per job; the worker is reused across explorations, pool.ts).

import { parentPort } from "node:worker_threads";
import type { Program } from "../program.js";
import { type ProgramRef, resolveProgram } from "../registry.js";
import { explorePiece, type PieceOptions, type PieceResult } from "./piece.js";
import type { Piece, SplitStrategy } from "./split.js";

/** What every piece of one exploration shares. */
export interface WorkerJob {
  readonly program: ProgramRef;
  readonly strategy: SplitStrategy;
  readonly options: PieceOptions;
  /** Set to non-zero by the main thread to stop every worker of the exploration cleanly. */
  readonly stop: SharedArrayBuffer;
}

export type ToWorker = { readonly type: "piece"; readonly id: number; readonly job: WorkerJob; readonly piece: Piece };
export type FromWorker =
  | { readonly type: "done"; readonly id: number; readonly result: PieceResult }
  | { readonly type: "error"; readonly message: string };

const port = parentPort!;
/** The program of the job being explored, by its reference. */
let current: { readonly key: string; readonly program: Program } | null = null;

async function programOf(ref: ProgramRef): Promise<Program> {
  const key = JSON.stringify(ref);
  if (current?.key !== key) current = { key, program: await resolveProgram(ref) };
  return current.program;
}

port.on("message", (m: ToWorker) => {
  explore(m).then(
    (result) => port.postMessage({ type: "done", id: m.id, result } satisfies FromWorker),
    // The program did not resolve, or is not deterministic, or a thread threw in setup ...
    (e: unknown) => port.postMessage({ type: "error", message: errorText(e) } satisfies FromWorker),
  );
});

async function explore(m: ToWorker): Promise<PieceResult> {
  const program = await programOf(m.job.program);
  const stop = new Int32Array(m.job.stop);
  return explorePiece(program, m.job.strategy, m.piece, m.job.options, () => Atomics.load(stop, 0) !== 0);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
