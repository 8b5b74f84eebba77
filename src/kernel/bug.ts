// include/asm-generic/bug.h, include/linux/mmdebug.h: BUG_ON, VM_BUG_ON, WARN_ON.
// In the model each one is a violation: the explorer stops and shows the trace.

import { Violation } from "../explore/index.js";

/** BUG_ON(cond): the kernel oopses. */
export function BUG_ON(cond: unknown, what: string | (() => string)): void {
  if (cond) throw new Violation("assertion", `kernel BUG: ${typeof what === "string" ? what : what()}`);
}

/** VM_BUG_ON(cond): BUG_ON under CONFIG_DEBUG_VM, which the model always enables. */
export function VM_BUG_ON(cond: unknown, what: string | (() => string)): void {
  if (cond) throw new Violation("assertion", `kernel BUG (VM_BUG_ON): ${typeof what === "string" ? what : what()}`);
}

/** WARN_ON(cond): a warning splat; the model treats it as a finding and stops. Returns cond like the kernel's. */
export function WARN_ON(cond: unknown, what: string | (() => string)): boolean {
  if (cond) throw new Violation("assertion", `WARNING: ${typeof what === "string" ? what : what()}`);
  return false;
}
