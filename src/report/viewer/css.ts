// The report's stylesheet: a monospace, quiet page; one color per thread,
// the violation in a red banner, changes since the previous step in yellow.

export const REPORT_CSS = `
:root {
  --fg: #1d1f21; --muted: #6b7075; --line: #d9dce0; --bg: #fbfbfa; --panel: #fff;
  --bad: #b3261e; --bad-bg: #fdecea; --ok: #1e7b34; --chg: #fff0a8; --cur: #e3ecff;
  --t0: #1f5fbf; --t1: #c2571a; --t2: #23804a; --t3: #7a3fb0; --t4: #b0274e; --t5: #14808a; --t6: #7d5a1e; --t7: #5b6470;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 13px/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
header { padding: 16px 24px 8px; border-bottom: 1px solid var(--line); background: var(--panel); }
h1 { margin: 0 0 4px; font-size: 18px; }
h2 { font-size: 15px; margin: 20px 0 8px; }
h3 { font-size: 12px; margin: 14px 0 6px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
h4 { margin: 10px 0 4px; font-size: 12px; }
main { padding: 0 24px 32px; }
.meta, .muted, .keys, .stitle, .src { color: var(--muted); }
.summary { margin-top: 4px; font-weight: bold; }
table { border-collapse: collapse; }
.cat { width: 100%; background: var(--panel); border: 1px solid var(--line); }
.cat th, .cat td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
.cat th { background: #f1f2f4; font-weight: 600; }
.cat td.n, .cat td.nw { text-align: right; white-space: nowrap; }
.cat td.found { white-space: nowrap; }
.cat tr.notok { background: var(--bad-bg); }
.cat tr.cont > td { border-top: none; }
.cat tr:has(+ tr.cont) > td { border-bottom-color: #eef0f2; }
.sid { font-weight: 600; }
.stitle { font-size: 11px; }
.ok { color: var(--ok); } .bad { color: var(--bad); font-weight: 600; }
a.view { color: var(--t0); }
.tabs { display: flex; flex-wrap: wrap; gap: 4px; margin-bottom: 8px; }
.tab { font: inherit; border: 1px solid var(--line); background: var(--panel); padding: 3px 10px; border-radius: 4px; cursor: pointer; }
.tab[aria-selected="true"] { background: var(--fg); color: #fff; border-color: var(--fg); }
.banner { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; background: var(--panel); }
.banner.bad { border-color: var(--bad); background: var(--bad-bg); }
.b-title { display: flex; gap: 10px; align-items: baseline; font-weight: bold; }
.b-kind { color: #fff; background: var(--bad); padding: 0 6px; border-radius: 3px; font-size: 12px; }
.b-msg { margin: 4px 0; font-size: 14px; }
.banner.bad .b-msg { color: var(--bad); font-weight: 600; }
.b-meta { color: var(--muted); font-size: 11px; }
.b-sched { font-size: 11px; color: var(--muted); }
.b-sched summary { cursor: pointer; }
.b-sched code { display: block; max-height: 8em; overflow-y: auto; word-break: break-all; }
.controls { display: flex; align-items: center; gap: 6px; margin: 10px 0; flex-wrap: wrap; }
.controls button { font: inherit; padding: 2px 8px; cursor: pointer; background: var(--panel); border: 1px solid var(--line); border-radius: 4px; }
#v-slider { flex: 1; min-width: 200px; }
.pos { font-weight: bold; min-width: 12em; }
.panes { display: grid; grid-template-columns: minmax(0, 1fr) minmax(360px, 1fr); gap: 16px; align-items: start; }
@media (max-width: 1000px) { .panes { grid-template-columns: 1fr; } }
.steps { border: 1px solid var(--line); background: var(--panel); }
.grid-head { display: grid; border-bottom: 1px solid var(--line); background: #f1f2f4; font-weight: bold; }
.grid-head > div { padding: 4px 6px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.scroller { height: min(62vh, 640px); overflow-y: auto; position: relative; }
.spacer { position: relative; }
.row { position: absolute; left: 0; right: 0; height: 24px; display: grid; grid-template-columns: var(--cols);
  cursor: pointer; border-bottom: 1px solid #f0f1f3; }
.row:hover { background: #f6f7f9; }
.row.cur { background: var(--cur); outline: 1px solid #9db8f0; }
.row > div { padding: 3px 6px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.num { color: var(--muted); text-align: right; }
.cell.on { border-left: 3px solid currentColor; }
.cell.pre { font-weight: bold; }
.t0 { color: var(--t0); } .t1 { color: var(--t1); } .t2 { color: var(--t2); } .t3 { color: var(--t3); }
.t4 { color: var(--t4); } .t5 { color: var(--t5); } .t6 { color: var(--t6); } .t7 { color: var(--t7); }
.side { min-width: 0; }
.step-detail { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
.d-thread { font-weight: bold; }
.d-pre { margin-left: 8px; font-size: 11px; color: var(--bad); }
.d-stack { color: var(--muted); margin-top: 2px; word-break: break-word; }
.d-notes { margin: 4px 0 0; padding-left: 18px; }
.d-viol { margin-top: 6px; color: var(--bad); font-weight: bold; }
.locks th { text-align: left; padding: 2px 8px 2px 0; white-space: nowrap; }
.locks td { padding: 2px 14px 2px 0; vertical-align: top; }
.wait { color: var(--bad); font-weight: 600; }
.chip { display: inline-block; white-space: nowrap; padding: 0 6px; border: 1px solid var(--line); border-radius: 10px; background: #f5f6f8; margin: 1px 0; }
.chip.lock { background: #eef3ff; border-color: #b9c9ee; }
.chips .sep { color: var(--muted); margin: 0 3px; }
.state { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 2px 10px 10px; overflow-x: auto; }
.state table { margin: 2px 0; }
.state th, .state td { border: 1px solid var(--line); padding: 1px 6px; text-align: left; vertical-align: top; }
.state th { background: #f6f7f9; font-weight: 600; }
.kv > tr > th { width: 1%; white-space: nowrap; }
.v.number { color: #0b5cad; } .v.boolean { color: #8a3ab9; } .v.null, .v.empty { color: var(--muted); }
.chg { background: var(--chg) !important; outline: 1px solid #e0c64f; }
tr.added > td { background: var(--chg); }
.gone { text-decoration: line-through; color: var(--muted); }
h4.has-chg::after { content: " ● changed"; color: #b38f00; font-weight: normal; }
caption { text-align: left; font-size: 11px; padding: 1px 4px; }
ol.list { margin: 0; padding-left: 20px; }
.cards { display: flex; flex-direction: column; gap: 6px; }
.card { border-left: 3px solid var(--line); padding-left: 6px; }
.card.added { border-left-color: #e0c64f; }
.order { font-size: 11px; padding: 0 4px; align-self: flex-start; }
`;
