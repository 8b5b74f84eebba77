// The HTML report: one self-contained file (inline CSS and JS, no network)
// with the catalogue table and a step viewer for every counterexample.
// Model strings are escaped where the page is built here, and the viewer
// puts them in the page as text only.

import type { ReportData, ReportRow } from "./data.js";
import { REPORT_CSS } from "./viewer/css.js";
import { diffFunctions, PATH_SEP } from "./viewer/diff.js";
import { viewerMain } from "./viewer/main.js";

/** Marks a file as an mmrace report, so that it may be overwritten by the next one. */
export const REPORT_GENERATOR = "mmrace-report";

const GENERATOR_META = `<meta name="generator" content="${REPORT_GENERATOR}">`;

/** True when `text` (a file's beginning is enough) is a report this module wrote. */
export function isMmraceReport(text: string): boolean {
  return text.slice(0, 4096).includes(GENERATOR_META);
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON for a <script type="application/json">: no "<" survives, so no "</script>" can end it early. */
export function embedJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** The viewer's code, from the source text of its functions. */
function viewerScript(): string {
  const code = [
    '"use strict";',
    `const PATH_SEP = ${JSON.stringify(PATH_SEP)};`,
    ...diffFunctions.map((f) => f.toString()),
    viewerMain.toString(),
    "viewerMain();",
  ].join("\n");
  if (/<\/script|<!--/i.test(code)) throw new Error("viewer code contains a sequence that would end its <script>");
  return code;
}

function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** `first`: the first row of its scenario; the others leave the scenario cell empty, so variants read as a group. */
function catalogueRow(r: ReportRow, first: boolean): string {
  const e = escapeHtml;
  const found = `<span class="${r.ok ? "ok" : "bad"}">${r.ok ? "✓" : "✗"} ${e(r.found)}</span>`;
  const view = r.trace !== undefined ? `<a class="view" href="#trace-${r.trace}">view trace</a>` : "";
  const scenario = first
    ? `<span class="sid">${e(r.scenario)}</span>${r.title ? `<div class="stitle">${e(r.title)}</div>` : ""}`
    : "";
  return `<tr class="${[r.ok ? "" : "notok", first ? "" : "cont"].join(" ").trim()}">
<td>${scenario}</td>
<td>${e(r.variant)}</td>
<td class="src">${e(r.source ?? "")}</td>
<td>${e(r.expected ?? "-")}</td>
<td class="found">${found}${r.interrupted ? ' <span class="muted">(interrupted)</span>' : ""}</td>
<td class="n">${r.executions}</td>
<td class="n">${e(fmtMs(r.elapsedMs))}</td>
<td class="nw">${view}</td>
</tr>`;
}

export function renderHtmlReport(data: ReportData): string {
  const e = escapeHtml;
  const rows = data.rows.map((r, i) => catalogueRow(r, i === 0 || data.rows[i - 1].scenario !== r.scenario)).join("\n");
  const meta = [`mmrace ${data.mmrace}`, data.generatedAt ? `written ${data.generatedAt}` : ""].filter(Boolean);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
${GENERATOR_META}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(data.title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<h1>${e(data.title)}</h1>
<div class="meta">${e(meta.join(" · "))}</div>
${data.summary ? `<div class="summary">${e(data.summary)}</div>` : ""}
</header>
<main>
<section id="catalogue"${data.rows.length ? "" : " hidden"}>
<h2>Catalogue</h2>
<table class="cat">
<thead><tr><th>scenario</th><th>variant</th><th>source thread</th><th>expected</th><th>found</th><th>executions</th><th>time</th><th></th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</section>
<section id="viewer" hidden>
<h2>Counterexamples</h2>
<div id="v-tabs" class="tabs" role="tablist"></div>
<div id="v-banner" class="banner"></div>
<div class="controls">
<button id="v-first" title="first step (Home)">|◀</button>
<button id="v-prev" title="previous step (←)">◀</button>
<input id="v-slider" type="range" min="1" max="1" value="1" aria-label="step">
<button id="v-next" title="next step (→)">▶</button>
<button id="v-last" title="last step (End)">▶|</button>
<span id="v-pos" class="pos"></span>
<span class="keys">← → step · Home/End · click a row</span>
</div>
<div class="panes">
<div class="steps">
<div id="v-head" class="grid-head"></div>
<div id="v-scroller" class="scroller"><div id="v-spacer" class="spacer"></div></div>
</div>
<div class="side">
<div id="v-step" class="step-detail"></div>
<h3>locks</h3>
<div id="v-locks"></div>
<h3 id="v-state-title">model state</h3>
<div id="v-state" class="state"></div>
</div>
</div>
</section>
${data.traces.length ? "" : '<p class="muted">No counterexamples: every variant explored without a violation.</p>'}
</main>
<script type="application/json" id="mmrace-data">${embedJson(data)}</script>
<script>
${viewerScript()}
</script>
</body>
</html>
`;
}
