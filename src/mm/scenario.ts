// Building mm programs: a world from a config, INV-MIG, the describe hook.

import type { Program, ThreadSpec } from "../explore/index.js";
import type { MmConfig } from "./config.js";
import { describeMm } from "./describe.js";
import { INV_MIG } from "./invariants.js";
import { type MmWorld, newWorld } from "./mm_types.js";

export interface MmProgramSpec<W extends MmWorld> {
  readonly name: string;
  readonly cfg: MmConfig;
  /** Builds the starting state on top of a fresh world (run its history with runInSetup). */
  readonly setup: (w: MmWorld) => W;
  readonly threads: readonly ThreadSpec<W>[];
  readonly maxSteps?: number;
}

export function mmProgram<W extends MmWorld>(spec: MmProgramSpec<W>): Program<W> {
  return {
    name: spec.name,
    setup: () => spec.setup(newWorld(spec.cfg)),
    threads: spec.threads,
    invariants: [INV_MIG],
    describe: (w) => describeMm(w),
    ...(spec.maxSteps ? { maxSteps: spec.maxSteps } : {}),
  };
}
