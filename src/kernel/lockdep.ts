// kernel/locking/lockdep.c, in miniature: a lock-class dependency graph kept
// across every execution of an exploration. Acquiring class B while holding
// class A adds A -> B; if B already reaches A, that is a possible circular
// locking dependency, reported even when no execution deadlocked. Trylocks
// add no dependency (as in lockdep). Opt in per program:
// `monitors: () => [lockdep()]`.

import { type Execution, K, type LockObj, type Monitor, type Op, Violation } from "../explore/index.js";

function classKey(l: LockObj, sub: unknown): string {
  return typeof sub === "number" && sub !== 0 ? `${l.cls}/${sub}` : l.cls;
}

export function lockdep(): Monitor {
  /** class -> classes acquired while holding it, with the first witness. */
  const edges = new Map<string, Map<string, string>>();
  const subOf = new Map<number, string>(); // lock id -> class key it was taken with (this execution)

  const reaches = (from: string, to: string): string[] | null => {
    const seen = new Set<string>();
    const walk = (x: string, path: string[]): string[] | null => {
      if (x === to) return path;
      if (seen.has(x)) return null;
      seen.add(x);
      for (const y of edges.get(x)?.keys() ?? []) {
        const p = walk(y, [...path, y]);
        if (p) return p;
      }
      return null;
    };
    return walk(from, [from]);
  };

  return {
    onExecutionStart() {
      subOf.clear();
    },
    onLock(ex: Execution<unknown>, tid: number, op: Op, held: readonly number[]): Violation | null {
      const acquiring = op.k === K.Lock || op.k === K.DownRead || op.k === K.DownWrite;
      if (!acquiring) return null;
      const l = op.t as LockObj;
      const b = classKey(l, op.b);
      subOf.set(l.id, b);
      const thread = ex.threads[tid].name;
      for (const hid of held) {
        if (hid === l.id) continue;
        const h = ex.lockById(hid);
        if (!h) continue;
        const a = subOf.get(hid) ?? h.cls;
        if (a === b) {
          return new Violation(
            "lockdep",
            `possible recursive locking: ${thread} acquires ${l.name} (class ${b}) while holding ${h.name} of the same class; annotate with a subclass if the nesting is intended`,
          );
        }
        const back = reaches(b, a);
        if (back) {
          const first = edges.get(back[0])?.get(back[1]) ?? "";
          return new Violation(
            "lockdep",
            `possible circular locking dependency: ${thread} acquires ${b} while holding ${a}, but ${back.join(" -> ")} was seen before${first ? ` (${first})` : ""}`,
            { cycle: [a, ...back] },
          );
        }
        let out = edges.get(a);
        if (!out) edges.set(a, (out = new Map()));
        if (!out.has(b)) out.set(b, `${thread} took ${h.name} then ${l.name}`);
      }
      return null;
    },
  };
}
