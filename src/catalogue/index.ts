// The race catalogue: every scenario the `mmrace` command knows.

export * from "./list.js";
export * from "./refs.js";
export * from "./run.js";
export * from "./types.js";
