// Runs catalogue checks off the main thread, so that the main thread stays
// free to draw progress and to hear Ctrl-C; a shared flag stops the
// exploration cleanly with what it found so far.

import { parentPort, workerData } from "node:worker_threads";
import { type CheckResult, checkVariantSplit, findVariant } from "../catalogue/index.js";
import { loadScenario } from "./scenarios.js";

export interface CheckJob {
  readonly id: number;
  /** Catalogue id, or a path to a user's scenario module. */
  readonly scenario: string;
  readonly variant: string;
  readonly strategy?: string;
  readonly maxExecutions?: number;
  readonly preemptionBound?: number;
  readonly seed?: number;
  readonly depth?: number;
  /** Worker threads to split the exploration across (dpor, dfs). */
  readonly workers?: number;
  /** Explore one shard of it (0-based). */
  readonly shard?: { readonly index: number; readonly count: number };
  /** List every distinct violation (keepGoing), each with a minimal trace. */
  readonly allViolations?: boolean;
  /** Strict mode: model code touching a cell outside an op is an error (ExploreOptions.strict). */
  readonly strict?: boolean;
}

export type WorkerMessage =
  | {
      type: "progress";
      id: number;
      executions: number;
      blocked: number;
      steps: number;
      elapsedMs: number;
      maxDepth: number;
      phase?: string;
    }
  | { type: "result"; id: number; result: CheckResult }
  | { type: "error"; id: number; message: string; kind: string };

const stop = new Int32Array(workerData.stop as SharedArrayBuffer);
const port = parentPort!;

port.on("message", async (job: CheckJob) => {
  try {
    const s = await loadScenario(job.scenario);
    const v = findVariant(s, job.variant);
    const split = (job.workers ?? 1) > 1 || job.shard !== undefined;
    const t0 = performance.now();
    // A split exploration runs in worker threads of its own: say we are alive while it does.
    const beat = split
      ? setInterval(() => {
          const phase = job.shard ? `shard ${job.shard.index + 1}/${job.shard.count}` : `${job.workers} workers`;
          const p = { executions: 0, blocked: 0, steps: 0, maxDepth: 0, elapsedMs: performance.now() - t0, phase };
          port.postMessage({ type: "progress", id: job.id, ...p } satisfies WorkerMessage);
        }, 500)
      : undefined;
    const result = await checkVariantSplit(s, v, {
      workers: job.workers,
      shard: job.shard,
      strategy: job.strategy,
      maxExecutions: job.maxExecutions,
      preemptionBound: job.preemptionBound,
      seed: job.seed,
      depth: job.depth,
      allViolations: job.allViolations,
      strict: job.strict,
      shouldStop: () => Atomics.load(stop, 0) !== 0,
      onProgress: (p) => port.postMessage({ type: "progress", id: job.id, ...p } satisfies WorkerMessage),
    });
    clearInterval(beat);
    port.postMessage({ type: "result", id: job.id, result } satisfies WorkerMessage);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    port.postMessage({ type: "error", id: job.id, message: err.message, kind: err.name } satisfies WorkerMessage);
  }
});
