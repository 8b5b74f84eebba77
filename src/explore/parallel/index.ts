// Parallel and sharded exploration of one program with dfs or dpor.
//
//   exploreParallel(job: ExploreJob, opts?: ParallelOptions): Promise<ExploreResult>
//
//   job  = { program: ProgramRef, strategy: "dpor" | "dfs", options?: { keepGoing?, maxExecutions?, minimizeBudget? } }
//   opts = { workers?: number, shard?: { index, count }, shouldStop?: () => boolean }
//
// The exploration is split into disjoint pieces (split.ts). `shard` keeps the
// pieces whose index is `index` modulo `count` (0-based), so `count` runs of
// the same job, on any machines, explore disjoint parts whose executions add
// up to the whole. `workers` explores the chosen pieces on that many worker
// threads (each rebuilds the program from `job.program`: see registry.ts);
// with one worker and no shard the strategy runs unsplit in this thread. The
// counterexample is minimised here, like every strategy's (minimize.ts).

import type { Worker } from "node:worker_threads";
import { minimize } from "../minimize.js";
import type { Program } from "../program.js";
import { type ProgramRef, resolveProgram } from "../registry.js";
import type { ExploreResult, ViolationReport } from "../result.js";
import { explore } from "../strategies/index.js";
import { Violation } from "../violation.js";
import { explorePiece, type PieceOptions, type PieceResult } from "./piece.js";
import { discard, lease, release } from "./pool.js";
import { type Piece, type SplitStrategy, split } from "./split.js";
import type { FromWorker, ToWorker, WorkerJob } from "./worker.js";

export type { Piece, SplitStrategy } from "./split.js";
export { split } from "./split.js";

/** One exploration, described so that any thread or machine can run it. */
export interface ExploreJob {
  readonly program: ProgramRef;
  readonly strategy: SplitStrategy;
  readonly options?: PieceOptions & { readonly minimizeBudget?: number };
}

export interface ParallelOptions {
  /** Worker threads (default 1: this thread). */
  readonly workers?: number;
  /** Explore only this part: `index` in 0..count-1. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Polled while exploring; true stops cleanly with what was found. */
  readonly shouldStop?: () => boolean;
}

/**
 * Pieces per worker: pieces differ in size by orders of magnitude and cannot
 * be split once started, so many small ones keep every worker busy to the end
 * (fib_bench(5): 24 per worker left one worker idle for a tenth of the run;
 * 64 and 200 did equally well). Each costs one message, a replay of its
 * prefix while splitting and, for dpor, a few sleep-set blocked executions.
 */
const PIECES_PER_WORKER = 64;
/** Pieces per shard. */
const PIECES_PER_SHARD = 8;

/** Parses "i/n" (1-based i, as on the command line) into a 0-based shard. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const i = m ? Number(m[1]) : Number.NaN;
  const n = m ? Number(m[2]) : Number.NaN;
  if (!m || n < 1 || i < 1 || i > n) throw new Error(`bad shard "${text}": write i/n with 1 <= i <= n, e.g. 2/4`);
  return { index: i - 1, count: n };
}

export async function exploreParallel(job: ExploreJob, opts: ParallelOptions = {}): Promise<ExploreResult> {
  const workers = Math.max(1, Math.floor(opts.workers ?? 1));
  const o = job.options ?? {};
  if (workers === 1 && opts.shard === undefined) {
    const program = await resolveProgram(job.program);
    return explore(program, job.strategy, { ...o, shouldStop: opts.shouldStop });
  }
  let view: readonly number[] = [];
  let restarts = 0;
  let t0: number | undefined;
  for (;;) {
    // The worker threads start up while this thread builds the program and splits its exploration.
    const pool = workers === 1 ? [] : lease(workers);
    let prepared: Awaited<ReturnType<typeof prepare>>;
    try {
      prepared = await prepare(job, opts.shard ?? { index: 0, count: 1 }, opts.shard !== undefined, workers, view);
    } catch (e) {
      release(pool);
      throw e;
    }
    const { program, pieces, sleepBlocked } = prepared;
    t0 ??= prepared.t0;
    // More threads than pieces: the rest go back at once.
    release(pool.splice(Math.max(1, pieces.length)));
    const results =
      workers === 1
        ? runHere(program, job.strategy, pieces, o, opts.shouldStop)
        : await runWorkers(job, pieces, pool, opts.shouldStop);
    // A piece found the invariant's view stale (view.ts): split again with what every piece learned.
    const stale = results.some((r) => r.stale) && !results.some((r) => r.cex && !o.keepGoing);
    if (!stale) {
      const r = combine(program, job, results, sleepBlocked, performance.now() - t0);
      if (restarts === 0) return r;
      // Other shards may have split with the smaller view: their pieces and these need not add up.
      return { ...r, restarts, ...(opts.shard ? { complete: false } : {}) };
    }
    view = [...new Set([...view, ...results.flatMap((r) => r.view ?? []), ...(pieces[0]?.view ?? [])])];
    restarts++;
  }
}

/** The program and this shard's pieces of its exploration (t0: when the exploration started, after the program was built). */
async function prepare(
  job: ExploreJob,
  shard: { index: number; count: number },
  sharded: boolean,
  workers: number,
  view: readonly number[],
) {
  const program = await resolveProgram(job.program);
  const t0 = performance.now();
  const wanted = sharded ? PIECES_PER_SHARD * shard.count : PIECES_PER_WORKER * workers;
  const { pieces: all, sleepBlocked } = split(program, job.strategy, wanted, view);
  return { program, pieces: all.filter((_, i) => i % shard.count === shard.index), sleepBlocked, t0 };
}

function runHere<W>(
  program: Program<W>,
  strategy: SplitStrategy,
  pieces: readonly Piece[],
  o: PieceOptions,
  shouldStop?: () => boolean,
): PieceResult[] {
  const out: PieceResult[] = [];
  for (const p of pieces) {
    const r = explorePiece(program, strategy, p, o, shouldStop);
    out.push(r);
    if ((r.cex && !o.keepGoing) || r.interrupted) break;
  }
  return out;
}

/** Hands the pieces out to the leased worker threads, one at a time, in order; collects their results by piece. */
function runWorkers(
  job: ExploreJob,
  pieces: readonly Piece[],
  pool: readonly Worker[],
  shouldStop?: () => boolean,
): Promise<PieceResult[]> {
  const stop = new SharedArrayBuffer(4);
  const flag = new Int32Array(stop);
  const wjob: WorkerJob = { program: job.program, strategy: job.strategy, options: job.options ?? {}, stop };
  const results: PieceResult[] = [];
  let next = 0;
  let running = 0;
  return new Promise((resolve, reject) => {
    let finished = false;
    const poll = setInterval(() => {
      if (shouldStop?.()) Atomics.store(flag, 0, 1);
    }, 50);
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      clearInterval(poll);
      if (err) {
        discard(pool);
        reject(err);
      } else {
        release(pool);
        resolve(results.filter((r) => r !== undefined));
      }
    };
    const feed = (w: Worker) => {
      const stopping = Atomics.load(flag, 0) !== 0;
      if (next >= pieces.length || stopping) {
        if (running === 0) finish();
        return;
      }
      const id = next++;
      running++;
      w.postMessage({ type: "piece", id, job: wjob, piece: pieces[id] } satisfies ToWorker);
    };
    for (const w of pool) {
      w.on("message", (m: FromWorker) => {
        if (m.type === "error") return finish(new Error(m.message));
        running--;
        results[m.id] = m.result;
        if ((m.result.cex && !job.options?.keepGoing) || m.result.interrupted) Atomics.store(flag, 0, 1);
        feed(w);
      });
      w.on("error", (e) => finish(e));
      w.on("exit", (code) => {
        if (!finished) finish(new Error(`a worker thread exited (code ${code}) before the exploration ended`));
      });
    }
    // Two pieces in hand: a worker starts its next piece without waiting for this thread to answer.
    for (let k = 0; k < 2; k++) for (const w of pool) feed(w);
    if (pieces.length === 0) finish();
  });
}

/** Adds up the pieces; the counterexample of the earliest piece that found one, minimised. */
function combine<W>(
  program: Program<W>,
  job: ExploreJob,
  results: readonly PieceResult[],
  splitSleepBlocked: number,
  elapsedMs: number,
): ExploreResult {
  let executions = 0;
  let blocked = 0;
  let sleepBlocked = splitSleepBlocked;
  let cut = 0;
  let steps = 0;
  let interrupted = false;
  let cex: { violation: ViolationReport; schedule: readonly number[] } | undefined;
  for (const r of results) {
    executions += r.executions;
    blocked += r.blocked;
    sleepBlocked += r.sleepBlocked;
    cut += r.cut;
    steps += r.steps;
    interrupted ||= r.interrupted;
    cex ??= r.cex;
  }
  const keepGoing = job.options?.keepGoing === true;
  const base = {
    strategy: job.strategy,
    complete: !interrupted && cut === 0 && (cex === undefined || keepGoing),
    executions,
    blocked,
    sleepBlocked,
    steps,
    elapsedMs: Math.round(elapsedMs * 100) / 100,
    ...(cut ? { cut } : {}),
    ...(interrupted ? { interrupted: true } : {}),
  };
  if (!cex) return { ...base, verdict: "safe" };
  const v = new Violation(cex.violation.kind, cex.violation.message, cex.violation.detail);
  const min = minimize(program, { violation: v, schedule: cex.schedule }, { budget: job.options?.minimizeBudget });
  return {
    ...base,
    verdict: "violation",
    violation: {
      kind: min.violation.kind,
      message: min.violation.message,
      ...(min.violation.detail === undefined ? {} : { detail: min.violation.detail }),
    },
    schedule: min.schedule,
    preemptions: min.preemptions,
  };
}
