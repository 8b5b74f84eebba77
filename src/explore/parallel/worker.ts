// A worker thread of a parallel exploration: rebuilds the program from its
// reference, then explores the pieces the main thread hands it, one at a time.

import { parentPort, workerData } from "node:worker_threads";
import { type ProgramRef, resolveProgram } from "../registry.js";
import { explorePiece, type PieceOptions } from "./piece.js";
import type { Piece, SplitStrategy } from "./split.js";

export interface WorkerInit {
  readonly program: ProgramRef;
  readonly strategy: SplitStrategy;
  readonly options: PieceOptions;
  /** Set to non-zero by the main thread to stop every worker cleanly. */
  readonly stop: SharedArrayBuffer;
}

export type ToWorker = { readonly type: "piece"; readonly id: number; readonly piece: Piece };
export type FromWorker =
  | { readonly type: "ready" }
  | { readonly type: "done"; readonly id: number; readonly result: import("./piece.js").PieceResult }
  | { readonly type: "error"; readonly message: string };

const init = workerData as WorkerInit;
const port = parentPort!;
const stop = new Int32Array(init.stop);

resolveProgram(init.program).then(
  (program) => {
    port.on("message", (m: ToWorker) => {
      try {
        const result = explorePiece(program, init.strategy, m.piece, init.options, () => Atomics.load(stop, 0) !== 0);
        port.postMessage({ type: "done", id: m.id, result } satisfies FromWorker);
      } catch (e) {
        port.postMessage({ type: "error", message: e instanceof Error ? e.message : String(e) } satisfies FromWorker);
      }
    });
    port.postMessage({ type: "ready" } satisfies FromWorker);
  },
  (e: unknown) =>
    port.postMessage({ type: "error", message: e instanceof Error ? e.message : String(e) } satisfies FromWorker),
);
