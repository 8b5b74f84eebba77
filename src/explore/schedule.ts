// Schedules: one encoded choice per step. Text form: "0 1 1 2/1", thread ids
// with "/alt" for the alternative taken at a `choose`.

import { CHOICE_STRIDE, choiceAlt, choiceTid, encodeChoice } from "./execution.js";

export function scheduleToString(s: readonly number[]): string {
  return s.map((c) => (c < CHOICE_STRIDE ? String(c) : `${choiceTid(c)}/${choiceAlt(c)}`)).join(" ");
}

export function parseSchedule(text: string): number[] {
  const out: number[] = [];
  for (const tok of text.trim().split(/\s+/)) {
    if (tok === "") continue;
    const m = /^(\d+)(?:\/(\d+))?$/.exec(tok);
    if (!m) throw new Error(`bad schedule token "${tok}": expected a thread id, optionally "/alternative"`);
    const tid = Number(m[1]);
    if (tid >= CHOICE_STRIDE) throw new Error(`bad schedule token "${tok}": thread id too large`);
    out.push(encodeChoice(tid, m[2] === undefined ? 0 : Number(m[2])));
  }
  return out;
}
