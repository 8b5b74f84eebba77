// Notes in happens-before order: a counterexample query (Program.accept) that
// asks for notes in some order must not depend on which linearization of a
// trace the explorer happened to run. dpor runs one linearization per
// Mazurkiewicz trace, and two independent steps (a read through one CPU's TLB,
// a store by another CPU to another cell) may come in either order; so a
// sequence of beats is told by an execution when its notes can be matched to
// the beats such that no beat's note happens before an earlier beat's note
// (then some linearization of the trace has them in order: the happens-before
// order plus the beats' order has no cycle). Happens-before is the transitive
// closure of the dependence relation of dependence.ts over the steps (Lamport's
// clocks; Mazurkiewicz traces), plus spawn and join.

import { SPAWN_LOC } from "./dependence.js";
import { type Execution, encodeChoice, type LoggedNote, type LoggedStep } from "./execution.js";

/** One beat of a story: a note said by this thread, matching this pattern. */
export interface Beat {
  readonly thread: string;
  readonly note: RegExp;
}

/** Vector clocks of the logged steps: clock[j][t] = how many steps of thread t happen before step j, or are it. */
export function stepClocks(log: readonly LoggedStep[], threads: number): Int32Array[] {
  const out: Int32Array[] = [];
  const lastOf: number[] = [];
  const spawnOf: number[] = [];
  const count = new Int32Array(threads);
  const lastW = new Map<number, number>();
  const readsSince = new Map<number, number[]>();
  for (let j = 0; j < log.length; j++) {
    const { acc, spawned, joined } = log[j];
    const c = new Int32Array(threads);
    const join = (k: number | undefined) => {
      if (k === undefined || k < 0) return;
      const o = out[k];
      for (let i = 0; i < threads; i++) if (o[i] > c[i]) c[i] = o[i];
    };
    join(lastOf[acc.tid] ?? spawnOf[acc.tid]);
    const touch = (loc: number, write: boolean) => {
      join(lastW.get(loc));
      if (!write) {
        const rs = readsSince.get(loc);
        if (rs === undefined) readsSince.set(loc, [j]);
        else rs.push(j);
        return;
      }
      for (const r of readsSince.get(loc) ?? []) join(r);
      lastW.set(loc, j);
      readsSince.delete(loc);
    };
    if (acc.loc >= 0 || acc.loc === SPAWN_LOC) touch(acc.loc, acc.write);
    if (acc.freed !== null) for (const id of acc.freed) touch(id, true);
    if (joined >= 0) join(lastOf[joined]);
    c[acc.tid] = ++count[acc.tid];
    out.push(c);
    lastOf[acc.tid] = j;
    if (spawned >= 0) spawnOf[spawned] = j;
  }
  return out;
}

/** The happens-before order of an execution's notes (requires Program.accept, which keeps the logs). */
export class NoteOrder {
  readonly notes: readonly LoggedNote[];
  private readonly log: readonly LoggedStep[];
  private readonly clocks: Int32Array[];
  /** Per step: its index among its thread's steps, plus one. */
  private readonly own: Int32Array;

  constructor(ex: Execution<unknown>) {
    this.notes = ex.noteLog ?? [];
    this.log = ex.stepLog ?? [];
    this.clocks = stepClocks(this.log, ex.threads.length);
    this.own = Int32Array.from(this.log, (s, j) => this.clocks[j][s.acc.tid]);
  }

  /** Step j happens before step k (j !== k). */
  stepBefore(j: number, k: number): boolean {
    return j < k && this.clocks[k][this.log[j].acc.tid] >= this.own[j];
  }

  /** Note a (by index) comes before note b in every linearization. Setup's notes come first, in their order. */
  before(a: number, b: number): boolean {
    const x = this.notes[a];
    const y = this.notes[b];
    if (x.step === -1) return y.step !== -1 || a < b;
    if (y.step === -1) return false;
    if (x.step === y.step) return a < b;
    return this.stepBefore(x.step, y.step);
  }

  /**
   * Notes (indices) telling the beats in order in some linearization, or null:
   * beat i's note must not happen before the note of any earlier beat.
   */
  match(beats: readonly Beat[]): number[] | null {
    const chosen: number[] = [];
    const fits = (n: number, k: number): boolean => {
      const x = this.notes[n];
      if (x.thread !== beats[k].thread || !beats[k].note.test(x.text)) return false;
      for (const c of chosen) if (c === n || this.before(n, c)) return false;
      return true;
    };
    const search = (k: number): boolean => {
      if (k === beats.length) return true;
      for (let n = 0; n < this.notes.length; n++) {
        if (!fits(n, k)) continue;
        chosen.push(n);
        if (search(k + 1)) return true;
        chosen.pop();
      }
      return false;
    };
    return search(0) ? chosen : null;
  }

  /**
   * A schedule of the same trace in which the matched notes come in the
   * beats' order: the steps in happens-before order, each matched step before
   * the next one's, otherwise as early as in the execution; a last step that
   * raised the violation stays last.
   */
  schedule(matched: readonly number[], lastStops: boolean): number[] {
    const n = this.log.length;
    const after: number[][] = Array.from({ length: n }, () => []);
    let prev = -1;
    for (const m of matched) {
      const s = this.notes[m].step;
      if (s === -1) continue;
      if (prev !== -1 && prev !== s) after[s].push(prev);
      prev = s;
    }
    const placed = new Uint8Array(n);
    const out: number[] = [];
    const ready = (k: number): boolean => {
      if (lastStops && k === n - 1 && out.length < n - 1) return false;
      for (let j = 0; j < k; j++) if (!placed[j] && this.stepBefore(j, k)) return false;
      for (const j of after[k]) if (!placed[j]) return false;
      return true;
    };
    while (out.length < n) {
      let k = 0;
      while (k < n && (placed[k] || !ready(k))) k++;
      if (k === n) throw new Error("notes: the beats' order contradicts happens-before");
      placed[k] = 1;
      const a = this.log[k].acc;
      out.push(encodeChoice(a.tid, a.alt));
    }
    return out;
  }
}
