// The memory-manager model.

export * from "./config.js";
export * from "./describe.js";
export * from "./exec.js";
export * from "./fork.js";
export * from "./invariants.js";
export * from "./memory.js";
export * from "./migrate.js";
export * from "./mm_types.js";
export * from "./mmap.js";
export * from "./mremap.js";
export * from "./rmap.js";
export * from "./scenario.js";
export * from "./swapops.js";
