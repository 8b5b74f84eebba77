// Modeled kernel primitives, with kernel names, on top of the explorer's ops.

export * from "./atomic.js";
export * from "./bug.js";
export * from "./lockdep.js";
export * from "./locks.js";
export * from "./once.js";
export * from "./rcu.js";
export * from "./seqcount.js";
export * from "./slab.js";
