// The step viewer in the HTML report: thread columns, a step slider, keyboard
// stepping, the locks each thread holds and waits for, and the model state
// at each step with what changed highlighted. It renders the `state` JSON
// generically and knows nothing of mm.
//
// Embedded in the report by its source text, so it may use only the
// browser's globals and the functions of viewer/diff.ts (embedded beside it).
// Every model string reaches the page through textContent, never as HTML.

import type { TraceStep } from "../../explore/index.js";
import type { ReportData, ReportTrace } from "../data.js";
import { changedPaths, isRecord, itemKey, keyColumn, PATH_SEP } from "./diff.js";

export function viewerMain(): void {
  /** Fixed row height: the step list is virtual, only the rows in view exist. */
  const ROW_H = 24;
  const OVERSCAN = 15;
  /** Arrays longer than this are cut in the state view. */
  const MAX_ITEMS = 300;
  const ACQUIRE_OPS = ["lock", "down_read", "down_write"];

  const dataEl = document.getElementById("mmrace-data");
  const viewer = document.getElementById("viewer");
  if (!dataEl || !viewer) return;
  const data = JSON.parse(dataEl.textContent ?? "{}") as ReportData;
  const byId = (id: string) => document.getElementById(id) as HTMLElement;
  const el = (tag: string, cls?: string, text?: string): HTMLElement => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const tabs = byId("v-tabs");
  const banner = byId("v-banner");
  const slider = byId("v-slider") as HTMLInputElement;
  const pos = byId("v-pos");
  const head = byId("v-head");
  const scroller = byId("v-scroller");
  const spacer = byId("v-spacer");
  const detail = byId("v-step");
  const locks = byId("v-locks");
  const stateTitle = byId("v-state-title");
  const stateBox = byId("v-state");

  let trace: ReportTrace | null = null;
  let cur = 0;
  /** Step indexes of each thread, ascending: a thread's pending op is its next step. */
  let stepsOf: number[][] = [];
  let rafPending = false;

  const color = (tid: number) => `t${tid % 8}`;
  const access = (s: TraceStep) =>
    `${s.op}${s.target ? ` ${s.target}` : ""}${s.value === undefined ? "" : s.target ? ` = ${s.value}` : ` ${s.value}`}`;
  // As report/text.ts describes a step: a note that names its function needs no other.
  const describe = (s: TraceStep) => {
    const what = s.notes?.length ? s.notes.join("; ") : access(s);
    const named = s.notes?.length ? /^[A-Za-z_]\w*: /.test(s.notes[0]) : false;
    return s.stack[0] && !named ? `${s.stack[0]}: ${what}` : what;
  };
  const short = (v: unknown) => {
    const t = v === undefined ? "(absent)" : JSON.stringify(v);
    return t.length > 120 ? `${t.slice(0, 117)}...` : t;
  };

  // ---- trace selection -------------------------------------------------

  function select(idx: number): void {
    const t = data.traces[idx];
    if (!t) return;
    trace = t;
    for (const b of Array.from(tabs.children))
      b.setAttribute("aria-selected", String(b.getAttribute("data-trace") === String(idx)));
    stepsOf = t.threads.map(() => []);
    for (let i = 0; i < t.steps.length; i++) stepsOf[t.steps[i].tid]?.push(i);
    renderBanner(t);
    const cols = `4.5em repeat(${t.threads.length}, minmax(0, 1fr))`;
    head.style.gridTemplateColumns = cols;
    spacer.style.setProperty("--cols", cols);
    head.replaceChildren(el("div", "num", "#"), ...t.threads.map((name, tid) => el("div", `th ${color(tid)}`, name)));
    spacer.style.height = `${t.steps.length * ROW_H}px`;
    // A short trace gets a short list; a long one scrolls inside the page.
    scroller.style.height = `min(62vh, ${t.steps.length * ROW_H + 2}px)`;
    slider.min = "1";
    slider.max = String(Math.max(1, t.steps.length));
    scroller.scrollTop = 0;
    go(0);
  }

  function renderBanner(t: ReportTrace): void {
    banner.className = t.violation ? "banner bad" : "banner";
    const title = el("div", "b-title");
    title.append(el("span", "b-where", `${t.scenario} / ${t.variant}`));
    if (t.violation) title.append(el("span", "b-kind", t.violation.kind));
    const msg = el("div", "b-msg", t.violation ? t.violation.message : "no violation");
    const meta = el(
      "div",
      "b-meta",
      `${t.steps.length} steps, ${t.preemptions ?? 0} preemptions, found by ${t.strategy}`,
    );
    // A long schedule would bury the banner: it stays folded until asked for.
    const sched = el("details", "b-sched");
    sched.append(el("summary", undefined, "schedule"), el("code", undefined, t.schedule));
    banner.replaceChildren(title, msg, meta, sched);
  }

  // ---- the virtual step list -------------------------------------------

  function renderRows(): void {
    rafPending = false;
    if (!trace) return;
    const n = trace.steps.length;
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_H) - OVERSCAN);
    const last = Math.min(n, Math.ceil((scroller.scrollTop + scroller.clientHeight) / ROW_H) + OVERSCAN);
    const rows: HTMLElement[] = [];
    for (let i = first; i < last; i++) {
      const s = trace.steps[i];
      const row = el("div", i === cur ? "row cur" : "row");
      row.style.top = `${i * ROW_H}px`;
      row.dataset.i = String(i);
      row.append(el("div", "num", String(i + 1)));
      for (let tid = 0; tid < trace.threads.length; tid++) {
        if (tid !== s.tid) {
          row.append(el("div", "cell"));
          continue;
        }
        const c = el("div", `cell on ${color(tid)}${s.preempt ? " pre" : ""}`, (s.preempt ? "» " : "") + describe(s));
        c.title = `${describe(s)}\n${access(s)}${s.stack.length ? `\n${s.stack.join(" ← ")}` : ""}`;
        row.append(c);
      }
      rows.push(row);
    }
    spacer.replaceChildren(...rows);
  }

  function scheduleRows(): void {
    if (rafPending) return;
    rafPending = true;
    requestAnimationFrame(renderRows);
  }

  function ensureVisible(i: number): void {
    const top = i * ROW_H;
    if (top < scroller.scrollTop || top + ROW_H > scroller.scrollTop + scroller.clientHeight)
      scroller.scrollTop = Math.max(0, top - scroller.clientHeight / 2);
  }

  // ---- one step --------------------------------------------------------

  function go(k: number): void {
    if (!trace || trace.steps.length === 0) return;
    cur = Math.max(0, Math.min(trace.steps.length - 1, k));
    slider.value = String(cur + 1);
    pos.textContent = `step ${cur + 1} / ${trace.steps.length}`;
    ensureVisible(cur);
    renderRows();
    renderDetail(trace, cur);
    renderLocks(trace, cur);
    renderState(trace, cur);
  }

  function renderDetail(t: ReportTrace, k: number): void {
    const s = t.steps[k];
    const line1 = el("div", "d-head");
    line1.append(el("span", `d-thread ${color(s.tid)}`, t.threads[s.tid] ?? `thread ${s.tid}`));
    line1.append(el("span", "d-what", ` ${access(s)}`));
    if (s.preempt) line1.append(el("span", "d-pre", "preempted the previous thread"));
    const parts: HTMLElement[] = [line1];
    if (s.stack.length) parts.push(el("div", "d-stack", s.stack.join(" ← ")));
    if (s.notes?.length) {
      const ul = el("ul", "d-notes");
      for (const n of s.notes) ul.append(el("li", undefined, n));
      parts.push(ul);
    }
    if (k === t.steps.length - 1 && t.violation)
      parts.push(el("div", "d-viol", `after this step: ${t.violation.kind}: ${t.violation.message}`));
    detail.replaceChildren(...parts);
  }

  /** What each thread waits for after step k: its pending op (its next step) on a lock another holds. */
  function renderLocks(t: ReportTrace, k: number): void {
    const held = t.steps[k].held ?? {};
    const blocked = new Map<string, string>();
    if (k === t.steps.length - 1 && t.violation?.kind === "deadlock" && isRecord(t.violation.detail)) {
      const d = t.violation.detail;
      const list = [...(Array.isArray(d.cycle) ? d.cycle : []), ...(Array.isArray(d.blocked) ? d.blocked : [])];
      for (const w of list) if (isRecord(w)) blocked.set(String(w.thread), String(w.wants));
    }
    const table = el("table", "locks");
    t.threads.forEach((name, tid) => {
      const tr = el("tr");
      tr.append(el("th", color(tid), name));
      const holds = held[name] ?? [];
      const hc = el("td", "holds");
      if (holds.length) for (const h of holds) hc.append(el("span", "chip lock", h));
      else hc.append(el("span", "muted", "holds nothing"));
      tr.append(hc);
      const mine = stepsOf[tid] ?? [];
      let lo = 0;
      let hi = mine.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (mine[mid] <= k) lo = mid + 1;
        else hi = mid;
      }
      const next = lo < mine.length ? t.steps[mine[lo]] : undefined;
      const wc = el("td", "waits");
      if (blocked.has(name)) wc.append(el("span", "wait", `waits for ${blocked.get(name)}`));
      else if (next && ACQUIRE_OPS.includes(next.op) && next.target) {
        const owners = Object.keys(held).filter((o) => o !== name && held[o].includes(next.target as string));
        if (owners.length) wc.append(el("span", "wait", `waits for ${next.target} (held by ${owners.join(", ")})`));
        else wc.append(el("span", "muted", `next: ${describe(next)}`));
      } else if (next) wc.append(el("span", "muted", `next: ${describe(next)}`));
      else wc.append(el("span", "muted", "no more steps"));
      tr.append(wc);
      table.append(tr);
    });
    locks.replaceChildren(table);
  }

  // ---- the model state, rendered from JSON -------------------------------

  function renderState(t: ReportTrace, k: number): void {
    const s = t.steps[k].state;
    stateTitle.textContent = `model state after step ${k + 1}`;
    if (s === undefined) {
      stateBox.replaceChildren(el("div", "muted", "this scenario does not describe its state"));
      return;
    }
    const prev = k > 0 ? t.steps[k - 1].state : undefined;
    const changed = k > 0 && prev !== undefined ? changedPaths(prev, s) : new Set<string>();
    if (isRecord(s)) {
      const secs: HTMLElement[] = [];
      for (const key of Object.keys(s)) {
        const p = `${PATH_SEP}.${key}`;
        const sec = el("section", "sec");
        const h = el("h4", undefined, key);
        if ([...changed].some((c) => c.startsWith(p))) h.classList.add("has-chg");
        sec.append(h, renderValue(s[key], isRecord(prev) ? prev[key] : undefined, p, changed));
        secs.push(sec);
      }
      stateBox.replaceChildren(...secs);
    } else stateBox.replaceChildren(renderValue(s, prev, "", changed));
  }

  function mark(e: HTMLElement, path: string, prev: unknown, changed: Set<string>): HTMLElement {
    if (changed.has(path)) {
      e.classList.add("chg");
      e.title = `was: ${short(prev)}`;
    }
    return e;
  }

  function renderValue(v: unknown, prev: unknown, path: string, changed: Set<string>): HTMLElement {
    if (v === null || typeof v !== "object") {
      const cls = v === null ? "null" : typeof v;
      return mark(el("span", `v ${cls}`, v === null ? "null" : String(v)), path, prev, changed);
    }
    if (Array.isArray(v)) return renderArray(v, Array.isArray(prev) ? prev : [], path, changed);
    const rec = v as Record<string, unknown>;
    const old = isRecord(prev) ? prev : {};
    if (Object.keys(rec).length === 0 && Object.keys(old).length === 0)
      return mark(el("span", "v empty", "(empty)"), path, prev, changed);
    const table = el("table", "kv");
    for (const key of Object.keys(rec)) {
      const tr = el("tr");
      tr.append(el("th", undefined, key));
      const td = el("td");
      td.append(renderValue(rec[key], old[key], `${path}${PATH_SEP}.${key}`, changed));
      tr.append(td);
      table.append(tr);
    }
    for (const key of Object.keys(old))
      if (!(key in rec)) {
        const tr = el("tr", "gone");
        tr.append(el("th", undefined, key), el("td", undefined, `${short(old[key])} (removed)`));
        table.append(tr);
      }
    return mark(table, path, prev, changed);
  }

  /** A record with a field that is itself a record or a list of records: too deep for a table row. */
  function hasNested(x: unknown): boolean {
    return Object.values(x as Record<string, unknown>).some(
      (f) => isRecord(f) || (Array.isArray(f) && f.some((y) => y !== null && typeof y === "object")),
    );
  }

  /** Deep records (an mm with its VMAs and page tables): one card each, matched by identity. */
  function renderCards(v: unknown[], prev: unknown[], path: string, changed: Set<string>): HTMLElement {
    const col = keyColumn(prev, v);
    const box = el("div", "cards");
    if (changed.has(`${path}${PATH_SEP}~order`)) box.append(el("div", "chg order", "order changed"));
    const prevByKey = new Map<string, unknown>();
    for (let i = 0; i < prev.length; i++) prevByKey.set(itemKey(prev[i], col, i), prev[i]);
    const live = new Set<string>();
    v.slice(0, MAX_ITEMS).forEach((x, i) => {
      const key = itemKey(x, col, i);
      live.add(key);
      const rowPath = `${path}${PATH_SEP}${key}`;
      const card = el("div", changed.has(rowPath) ? "card added" : "card");
      card.append(renderValue(x, prevByKey.get(key), rowPath, changed));
      box.append(card);
    });
    for (const [key, x] of prevByKey) if (!live.has(key)) box.append(el("div", "card gone", short(x)));
    return mark(box, path, prev, changed);
  }

  function renderArray(v: unknown[], prev: unknown[], path: string, changed: Set<string>): HTMLElement {
    if (v.length === 0) {
      const e = el("span", "v empty", "(empty)");
      if (prev.length) e.append(el("span", "gone", ` was ${short(prev)}`));
      return mark(e, path, prev, changed);
    }
    const shown = v.slice(0, MAX_ITEMS);
    const more = v.length - shown.length;
    if (v.every((x) => x === null || typeof x !== "object")) {
      // A list of names (an anon_vma's VMAs in walk order): chips, in order.
      const box = el("div", "chips");
      shown.forEach((x, i) => {
        if (i) box.append(el("span", "sep", "›"));
        box.append(mark(el("span", "chip", String(x)), `${path}${PATH_SEP}#${i}`, prev[i], changed));
      });
      for (let i = v.length; i < prev.length && i < MAX_ITEMS; i++)
        box.append(el("span", "sep", "›"), el("span", "chip gone", String(prev[i])));
      if (more > 0) box.append(el("span", "muted", ` … ${more} more`));
      return mark(box, path, prev, changed);
    }
    if (v.every(isRecord) && v.some(hasNested)) return renderCards(v, prev, path, changed);
    if (v.every(isRecord)) {
      // Flat records: a table, one column per field, rows matched to the previous step by identity.
      const col = keyColumn(prev, v);
      const cols: string[] = [];
      for (const x of shown)
        for (const k of Object.keys(x as Record<string, unknown>)) if (!cols.includes(k)) cols.push(k);
      const prevByKey = new Map<string, Record<string, unknown>>();
      for (let i = 0; i < prev.length; i++) prevByKey.set(itemKey(prev[i], col, i), prev[i] as Record<string, unknown>);
      const table = el("table", "recs");
      if (changed.has(`${path}${PATH_SEP}~order`)) table.append(el("caption", "chg", "order changed"));
      const hr = el("tr");
      for (const c of cols) hr.append(el("th", undefined, c));
      table.append(hr);
      const live = new Set<string>();
      shown.forEach((x, i) => {
        const key = itemKey(x, col, i);
        live.add(key);
        const rowPath = `${path}${PATH_SEP}${key}`;
        const old = prevByKey.get(key);
        const tr = el("tr", changed.has(rowPath) ? "added" : undefined);
        for (const c of cols) {
          const td = el("td");
          const rec = x as Record<string, unknown>;
          if (c in rec) td.append(renderValue(rec[c], old?.[c], `${rowPath}${PATH_SEP}.${c}`, changed));
          tr.append(td);
        }
        table.append(tr);
      });
      prev.forEach((x, i) => {
        const key = itemKey(x, col, i);
        if (live.has(key) || i >= MAX_ITEMS) return;
        const tr = el("tr", "gone");
        for (const c of cols) tr.append(el("td", undefined, short((x as Record<string, unknown>)[c])));
        table.append(tr);
      });
      if (more > 0) table.append(el("caption", "muted", `… ${more} more`));
      return mark(table, path, prev, changed);
    }
    const ol = el("ol", "list");
    shown.forEach((x, i) => {
      const li = el("li");
      li.append(renderValue(x, prev[i], `${path}${PATH_SEP}#${i}`, changed));
      ol.append(li);
    });
    return mark(ol, path, prev, changed);
  }

  // ---- wiring -----------------------------------------------------------

  data.traces.forEach((t, i) => {
    const b = el("button", "tab", `${t.scenario} / ${t.variant}`);
    b.setAttribute("role", "tab");
    b.setAttribute("data-trace", String(i));
    b.addEventListener("click", () => {
      history.replaceState(null, "", `#trace-${i}`);
      select(i);
    });
    tabs.append(b);
  });
  scroller.addEventListener("scroll", scheduleRows, { passive: true });
  spacer.addEventListener("click", (e) => {
    const row = (e.target as HTMLElement).closest(".row") as HTMLElement | null;
    if (row?.dataset.i) go(Number(row.dataset.i));
  });
  slider.addEventListener("input", () => go(Number(slider.value) - 1));
  byId("v-first").addEventListener("click", () => go(0));
  byId("v-prev").addEventListener("click", () => go(cur - 1));
  byId("v-next").addEventListener("click", () => go(cur + 1));
  byId("v-last").addEventListener("click", () => go(Number.MAX_SAFE_INTEGER));
  document.addEventListener("keydown", (e) => {
    const target = e.target as HTMLElement;
    if (target.tagName === "SELECT" || (target.tagName === "INPUT" && (target as HTMLInputElement).type !== "range"))
      return;
    const to: Record<string, number> = {
      ArrowLeft: cur - 1,
      ArrowRight: cur + 1,
      Home: 0,
      End: Number.MAX_SAFE_INTEGER,
    };
    if (!(e.key in to) || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    go(to[e.key]);
  });
  const fromHash = () => {
    const m = /^#trace-(\d+)$/.exec(location.hash);
    return m ? Number(m[1]) : -1;
  };
  window.addEventListener("hashchange", () => {
    const i = fromHash();
    if (i >= 0) {
      select(i);
      viewer.scrollIntoView();
    }
  });
  if (data.traces.length) {
    viewer.hidden = false;
    const i = fromHash();
    select(i >= 0 && i < data.traces.length ? i : 0);
  }
  document.documentElement.dataset.viewerReady = String(Math.round(performance.now()));
}
