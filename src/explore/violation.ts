// Violations: what the explorer reports. Model code raises them by throwing.

export type ViolationKind =
  | "assertion"
  | "invariant"
  | "deadlock"
  | "livelock"
  | "lockdep"
  | "use-after-free"
  | "refcount"
  | "step-bound"
  /** Thread code threw (a TypeError on a null pointer, a failed model assertion): the kernel's oops. */
  | "oops";

export const violationKinds: readonly ViolationKind[] = [
  "assertion",
  "invariant",
  "deadlock",
  "livelock",
  "lockdep",
  "use-after-free",
  "refcount",
  "step-bound",
  "oops",
];

/** Thrown by model code (BUG_ON, refcount checks) or raised by the executor. */
export class Violation extends Error {
  constructor(
    readonly kind: ViolationKind,
    message: string,
    /** Structured detail, e.g. the deadlock cycle. */
    readonly detail?: unknown,
  ) {
    super(message);
    this.name = "Violation";
  }
}

/** A scenario that is wrong, not racy: it threw, looped in setup, or diverged on replay. */
export class ModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelError";
  }
}
