// Programs by reference, so that a worker thread (or another process working
// on one shard) can rebuild the same program: a Program holds functions and
// cannot cross a thread boundary. Each layer registers a resolver for its own
// kind of reference (explore: "benchmark"; the catalogue: "catalogue") in the
// module named by the reference, which the worker imports; explore never
// imports the layers above it.

import type { Program } from "./program.js";

/** Identifies a program in a way any thread can resolve. Plain JSON. */
export interface ProgramRef {
  /** Resolver kind: "benchmark", "catalogue", ... */
  readonly kind: string;
  /** URL of a module that registers the resolver for `kind` when imported. */
  readonly module: string;
  /** Kind-specific identification, e.g. {name, param} or {scenario, variant}. */
  readonly params: Readonly<Record<string, unknown>>;
}

export type ProgramResolver = (params: Readonly<Record<string, unknown>>) => Program;

const resolvers = new Map<string, ProgramResolver>();

/** Registers how to build the programs of one kind of reference (call it at module load). */
export function registerProgramResolver(kind: string, resolve: ProgramResolver): void {
  resolvers.set(kind, resolve);
}

/** Builds the program a reference names, importing its module first when the kind is not registered yet. */
export async function resolveProgram(ref: ProgramRef): Promise<Program> {
  if (!resolvers.has(ref.kind)) await import(ref.module);
  const resolve = resolvers.get(ref.kind);
  if (!resolve)
    throw new Error(`no program resolver for kind "${ref.kind}" (module ${ref.module} did not register one)`);
  return resolve(ref.params);
}
