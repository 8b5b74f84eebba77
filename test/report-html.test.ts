// The HTML report as a file: self-contained, every model string escaped,
// never written over a file that is not a report; and the state diff the
// viewer highlights.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { checkReportWritable } from "../src/cli/reportfile.js";
import { escapeHtml, isMmraceReport, renderHtmlReport } from "../src/report/html.js";
import { changedPaths, keyColumn, PATH_SEP } from "../src/report/viewer/diff.js";
import { evilReport, mmrace, syntheticTrace } from "./report-fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "mmrace-html-"));

/** The JSON data block of a report. */
function embeddedData(html: string): unknown {
  const m = /<script type="application\/json" id="mmrace-data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, "no data block");
  return JSON.parse(m[1]);
}

test("every string from a model is escaped; the data survives the trip", () => {
  const data = evilReport();
  const html = renderHtmlReport(data);
  // Only the report's own two script elements, and no injected element at all.
  assert.equal(html.match(/<script/gi)?.length, 2);
  assert.doesNotMatch(html, /<img/i);
  assert.match(html, /&#60;script&#62;window\.__pwned = 1&#60;\/script&#62;/);
  assert.deepEqual(embeddedData(html), JSON.parse(JSON.stringify(data)));
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;");
});

test("the report is self-contained: no external resource, no network", () => {
  const html = renderHtmlReport({ ...evilReport(), traces: [syntheticTrace(50)] });
  assert.doesNotMatch(html, /<(link|iframe|object|embed)\b/i);
  assert.doesNotMatch(html, /<[a-z]+[^>]*\ssrc=/i);
  assert.doesNotMatch(html, /https?:\/\//i);
  assert.doesNotMatch(html, /@import|url\(/i);
  assert.ok(isMmraceReport(html));
});

test("a report is written over only if it is an mmrace report", () => {
  const report = join(dir, "old.html");
  writeFileSync(report, renderHtmlReport(evilReport()));
  checkReportWritable(report, false);
  checkReportWritable(join(dir, "absent.html"), false);
  const other = join(dir, "notes.html");
  writeFileSync(other, "<html>my notes</html>");
  assert.throws(() => checkReportWritable(other, false), /exists and is not an mmrace report/);
  checkReportWritable(other, true);
});

test("mmrace report writes the report and prints its path; it refuses another file", () => {
  const out = join(dir, "cat.html");
  const r = mmrace(["report", "lost-update", "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`report: ${out.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} \\(open file://`));
  const html = readFileSync(out, "utf8");
  assert.ok(isMmraceReport(html));
  const data = embeddedData(html) as { rows: { variant: string }[]; traces: { variant: string }[] };
  assert.deepEqual(
    data.rows.map((x) => x.variant),
    ["no-lock", "spinlock"],
  );
  assert.deepEqual(
    data.traces.map((x) => x.variant),
    ["no-lock"],
  );
  // Again: an earlier report is replaced.
  assert.equal(mmrace(["report", "lost-update", "--out", out]).status, 0);
  const other = join(dir, "precious.html");
  writeFileSync(other, "precious");
  const refused = mmrace(["report", "lost-update", "--out", other]);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /precious\.html exists and is not an mmrace report/);
  assert.equal(readFileSync(other, "utf8"), "precious");
});

test("no-argument mmrace writes the report after the table", () => {
  const r = mmrace(["--out", "r/index.html"], dir);
  assert.equal(r.status, 0, r.stderr);
  const table = r.stdout.indexOf("scenario");
  const path = r.stdout.indexOf("report: r/index.html");
  assert.ok(table >= 0 && path > table, r.stdout);
  assert.ok(isMmraceReport(readFileSync(join(dir, "r/index.html"), "utf8")));
  const none = mmrace(["--no-report", "--out", "none.html"], dir);
  assert.doesNotMatch(none.stdout, /report:/);
});

test("state diff: changed and added values, records matched by identity, order changes", () => {
  const S = PATH_SEP;
  const prev = {
    counter: 1,
    vmas: [
      { vma: "A", range: "[0x1000, 0x2000)" },
      { vma: "B", range: "[0x3000, 0x4000)" },
    ],
    walk: ["A", "B"],
    ptes: { "0x1000": "present(page 1)" },
  };
  const cur = {
    counter: 1,
    vmas: [
      { vma: "B", range: "[0x3000, 0x5000)" },
      { vma: "A", range: "[0x1000, 0x2000)" },
      { vma: "C", range: "[0x8000, 0x9000)" },
    ],
    walk: ["B", "A"],
    ptes: { "0x1000": "migration(page 1)", "0x3000": "present(page 2)" },
  };
  assert.equal(keyColumn(prev.vmas, cur.vmas), "vma");
  assert.deepEqual(
    [...changedPaths(prev, cur)].sort(),
    [
      `${S}.vmas${S}=B${S}.range`,
      `${S}.vmas${S}=C`,
      `${S}.vmas${S}~order`,
      `${S}.walk${S}#0`,
      `${S}.walk${S}#1`,
      `${S}.ptes${S}.0x1000`,
      `${S}.ptes${S}.0x3000`,
    ].sort(),
  );
  assert.equal(changedPaths(cur, cur).size, 0);
});
