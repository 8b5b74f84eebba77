// The model checker's public API. Knows nothing of mm.

export * from "./benchmarks.js";
export * from "./dependence.js";
export { NotDeterministic } from "./determinism.js";
export * from "./execution.js";
export {
  type Counterexample,
  countPreemptions,
  DEFAULT_MINIMIZE_BUDGET,
  type MinimizeOptions,
  minimize,
} from "./minimize.js";
export { type Beat, NoteOrder, stepClocks } from "./notes.js";
export * from "./ops.js";
export * from "./parallel/index.js";
export * from "./prng.js";
export * from "./program.js";
export * from "./registry.js";
export * from "./result.js";
export * from "./schedule.js";
export * from "./state.js";
export * from "./strategies/index.js";
export { checkReplaysAlike, type ReplayOptions, type ReplayResult, replay } from "./strategies/replay.js";
export { InvariantView } from "./view.js";
export * from "./violation.js";
