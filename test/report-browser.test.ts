// The HTML report in a real browser (Debian's Chromium, headless, through
// playwright-core): the catalogue and the step viewer, keyboard stepping,
// escaping, no network, and a 10,000-step trace that stays usable.
//
// Skipped, with a message, only when /usr/bin/chromium is absent and this is
// not CI; on CI a missing browser fails (scripts/ensure-chromium.sh installs it).

import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { type CheckResult, catalogue, checkVariant } from "../src/catalogue/index.js";
import { reportData, writeReport } from "../src/cli/reportfile.js";
import type { TraceStep } from "../src/explore/index.js";
import { EVIL, evilReport, mmShapedTrace, syntheticTrace } from "./report-fixtures.js";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const onCi = Boolean(process.env.CI);
const skip =
  !existsSync(CHROMIUM) && !onCi
    ? `${CHROMIUM} is missing: run scripts/ensure-chromium.sh to test the report in a browser (on CI this test fails instead)`
    : false;

/** Screenshots go beside the test output, for a human to look at. */
const OUTPUT = fileURLToPath(new URL("../test-output/", import.meta.url));

/** The target counterexample when the catalogue has it, else the textbook one. */
const MREMAP = { scenario: "mremap-merge-order", variant: "v3.1" };
const LOST_UPDATE = { scenario: "lost-update", variant: "no-lock" };
const target = catalogue.find((s) => s.id === MREMAP.scenario)?.variants.some((v) => v.name === MREMAP.variant)
  ? MREMAP
  : LOST_UPDATE;

describe("the HTML report in Chromium", { skip }, () => {
  let ctx: BrowserContext;
  let userDataDir: string;
  const dir = mkdtempSync(join(tmpdir(), "mmrace-browser-"));
  /** Every request that is not for a local file: a self-contained report makes none. */
  const network: string[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing on CI: .ci/run must call scripts/ensure-chromium.sh`);
    mkdirSync(OUTPUT, { recursive: true });
    userDataDir = mkdtempSync(join(tmpdir(), "mmrace-chromium-"));
    ctx = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1400, height: 1000 },
    });
    await ctx.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("file:")) return route.continue();
      network.push(url);
      return route.abort();
    });
  });

  after(async () => {
    await ctx?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(file: string, hash = ""): Promise<{ page: Page; ms: number }> {
    const page = await ctx.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("dialog", (d) => {
      pageErrors.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    const t0 = performance.now();
    await page.goto(pathToFileURL(file).href + hash);
    await page.waitForSelector("html[data-viewer-ready]");
    return { page, ms: performance.now() - t0 };
  }

  // innerText, not textContent: a table's cells read with the spaces a user sees between them.
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is asserted.
  const text = (page: Page, sel: string) => page.locator(sel).innerText();
  const pos = (page: Page) => text(page, "#v-pos");

  it(`shows the catalogue and steps through ${target.scenario} / ${target.variant}`, async (t) => {
    t.diagnostic(
      target === MREMAP
        ? "mremap-merge-order / v3.1 is in the catalogue: testing the issue's target counterexample"
        : "mremap-merge-order / v3.1 is not in the catalogue yet: testing lost-update / no-lock instead",
    );
    // The target's counterexample, and a safe variant for the table: not every variant of
    // the target's scenario, whose safe ones explore exhaustively.
    const results: CheckResult[] = [];
    for (const { scenario, variant } of [target, LOST_UPDATE, { scenario: "lost-update", variant: "spinlock" }]) {
      if (results.some((x) => x.scenario === scenario && x.variant === variant)) continue;
      const s = catalogue.find((x) => x.id === scenario)!;
      results.push(checkVariant(s, s.variants.find((v) => v.name === variant)!));
    }
    const file = join(dir, "catalogue.html");
    writeReport(file, reportData(results, "test run"));
    const r = results.find((x) => x.scenario === target.scenario && x.variant === target.variant)!;
    assert.ok(r.trace && r.result.violation, `${target.scenario} / ${target.variant} found no counterexample`);
    const traceIndex = results.filter((x) => x.result.violation && x.trace).indexOf(r);

    const { page } = await open(file);
    // The catalogue table: every variant checked, with its verdicts.
    const rows = await page.locator("table.cat tbody tr").allInnerTexts();
    assert.equal(rows.length, results.length);
    assert.ok(rows.some((x) => x.includes(target.scenario) && x.includes(target.variant) && x.includes("✓")));
    // Open the counterexample from its row.
    await page.locator(`a.view[href="#trace-${traceIndex}"]`).click();
    await page.waitForFunction((i) => location.hash === `#trace-${i}`, traceIndex);
    assert.match(
      await text(page, '#v-tabs [aria-selected="true"]'),
      new RegExp(`${target.scenario} / ${target.variant}`),
    );
    assert.ok((await text(page, "#v-banner")).includes(r.result.violation.message));
    const n = r.trace.length;
    await page.keyboard.press("Home");
    assert.equal(await pos(page), `step 1 / ${n}`);
    // One column per thread, in the thread's order.
    assert.deepEqual(await page.locator("#v-head .th").allInnerTexts(), r.threads);

    if (target === MREMAP) {
      await checkMremap(page, r.trace);
      await page.screenshot({ path: join(OUTPUT, "report.png"), fullPage: true });
      // The textbook counterexample's exact checks (highlight, slider, clicks) run as well.
      const lost = results.filter((x) => x.result.violation && x.trace).findIndex((x) => x.variant === "no-lock");
      await page.locator(`a.view[href="#trace-${lost}"]`).click();
      await page.keyboard.press("Home");
      await checkLostUpdate(page);
    } else {
      await checkLostUpdate(page);
      await page.screenshot({ path: join(OUTPUT, "report.png"), fullPage: true });
    }
    await page.close();
  });

  /** lost-update / no-lock: CPU1's store is the lost one; the state shows it as the change. */
  async function checkLostUpdate(page: Page): Promise<void> {
    assert.match(await text(page, "#v-step"), /CPU0\s+load counter = 0/);
    assert.equal(await page.locator("#v-state .sec:has(h4:text-is('counter')) .v").textContent(), "0");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    assert.equal(await pos(page), "step 3 / 4");
    // The current row is in CPU1's column (the third grid cell: #, CPU0, CPU1).
    assert.equal(await page.locator(".row.cur").getAttribute("data-i"), "2");
    assert.equal(await page.locator(".row.cur > div:nth-child(3)").textContent(), "store counter = 1");
    const counter = page.locator("#v-state .sec:has(h4:text-is('counter')) .v");
    assert.equal(await counter.textContent(), "1");
    assert.match((await counter.getAttribute("class")) ?? "", /\bchg\b/, "the store's change is highlighted");
    assert.match((await counter.getAttribute("title")) ?? "", /was: 0/);
    await page.keyboard.press("End");
    assert.equal(await pos(page), "step 4 / 4");
    assert.equal(await page.locator(".row.cur > div:nth-child(2)").textContent(), "store counter = 1");
    assert.match(await text(page, "#v-step"), /after this step: invariant: counter is 1 after two increments/);
    // CPU0 stores 1 over 1: nothing changed, nothing highlighted.
    assert.doesNotMatch((await counter.getAttribute("class")) ?? "", /\bchg\b/);
    await page.keyboard.press("ArrowLeft");
    assert.equal(await pos(page), "step 3 / 4");
    // The slider and a click on a row step too.
    await page.locator("#v-slider").evaluate((el: HTMLInputElement) => {
      el.value = "2";
      el.dispatchEvent(new Event("input"));
    });
    assert.equal(await pos(page), "step 2 / 4");
    await page.locator('.row[data-i="0"]').click();
    assert.equal(await pos(page), "step 1 / 4");
    assert.match(await text(page, "#v-locks"), /CPU0\s+holds nothing\s+next: store counter = 1/);
    await page.keyboard.press("End");
  }

  /**
   * mremap-merge-order / v3.1: the walker visits the destination VMA before
   * move_ptes fills it (no PTE there), then the source after move_ptes
   * emptied it; the migration entry is left behind at the destination.
   */
  async function checkMremap(page: Page, trace: readonly TraceStep[]): Promise<void> {
    // The walker's first visit that finds nothing: with dst before src in the list, the destination.
    const visit =
      /(\S+) (0x[0-9a-f]+): pte none, nothing to restore|(\S+): no page table at (0x[0-9a-f]+)|(\S+) (0x[0-9a-f]+): peek without the PT lock sees none/;
    const k = trace.findIndex((s) => s.notes?.some((x) => visit.test(x)));
    assert.ok(
      k >= 0,
      `no step where the walker finds no pte; notes:\n${trace.flatMap((s) => s.notes ?? []).join("\n")}`,
    );
    const m = visit.exec(trace[k].notes!.find((x) => visit.test(x))!)!;
    const addr = m[2] ?? m[4] ?? m[6];
    await page.keyboard.press("Home");
    for (let i = 0; i < k; i++) await page.keyboard.press("ArrowRight");
    assert.equal(await pos(page), `step ${k + 1} / ${trace.length}`);
    assert.match(await text(page, "#v-step"), new RegExp(`${addr}.*(none|no page table)`));
    const keys = await page.locator("#v-state tr:not(.gone) > th").allInnerTexts();
    assert.ok(!keys.includes(addr), `the viewer shows a pte at ${addr} at step ${k + 1}`);
    await page.keyboard.press("End");
    assert.equal(await pos(page), `step ${trace.length} / ${trace.length}`);
    assert.match(await text(page, "#v-state"), /migration\(page \d+\)/);
  }

  it("renders mm-shaped state: no pte where the walker looks, the migration entry left behind", async () => {
    const trace = mmShapedTrace();
    const file = join(dir, "mm.html");
    writeReport(file, { title: "mm", mmrace: "test", rows: [], traces: [trace] });
    const { page } = await open(file);
    await checkMremap(page, trace.steps);
    // The walk order is a list of chips in order, and move_ptes' change is highlighted.
    await page.keyboard.press("Home");
    assert.deepEqual(await page.locator("#v-state .sec:has(h4:text-is('anon_vmas')) .chip").allInnerTexts(), [
      "dst",
      "src",
    ]);
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    assert.equal(await page.locator("#v-state .chg").first().textContent(), "migration(page 1)");
    assert.match(await text(page, "#v-state tr.gone"), /0x10000/);
    assert.match(await text(page, "#v-locks"), /migration\s+av->lock/);
    await page.screenshot({ path: join(OUTPUT, "report-mm.png"), fullPage: true });
    await page.close();
  });

  it("escapes every model string and runs none of them", async () => {
    const file = join(dir, "evil.html");
    writeReport(file, evilReport());
    const { page } = await open(file);
    assert.equal(await page.evaluate(() => (window as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.locator("img").count(), 0);
    assert.ok((await text(page, "#v-banner")).includes(`message ${EVIL}`));
    assert.ok((await text(page, "table.cat")).includes(`title ${EVIL}`));
    assert.ok((await text(page, "#v-head")).includes(`cpu ${EVIL}`));
    assert.ok((await text(page, "#v-state")).includes(`value ${EVIL}`));
    assert.ok((await text(page, "#v-locks")).includes(`lock ${EVIL}`));
    await page.keyboard.press("End");
    assert.ok((await text(page, "#v-state")).includes(`changed ${EVIL}`));
    assert.equal(await page.evaluate(() => (window as { __pwned?: number }).__pwned), undefined);
    await page.close();
  });

  it("loads a 10,000-step trace in under a second and scrolls it virtually", async () => {
    const file = join(dir, "big.html");
    writeReport(file, { title: "big", mmrace: "test", rows: [], traces: [syntheticTrace(10_000)] });
    const { page, ms } = await open(file);
    assert.ok(ms < 1000, `loaded in ${Math.round(ms)} ms`);
    assert.equal(await pos(page), "step 1 / 10000");
    const rendered = await page.locator(".row").count();
    assert.ok(rendered > 0 && rendered < 200, `${rendered} rows in the page: the list is not virtual`);
    // Scroll through: each frame renders only what is in view, quickly.
    const frameMs = await page.evaluate(async () => {
      const sc = document.getElementById("v-scroller")!;
      const times: number[] = [];
      for (let k = 1; k <= 20; k++) {
        const t0 = performance.now();
        sc.scrollTop = (sc.scrollHeight * k) / 21;
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        times.push(performance.now() - t0);
      }
      return times.reduce((a, b) => a + b, 0) / times.length;
    });
    assert.ok(frameMs < 100, `a scroll step took ${frameMs.toFixed(1)} ms on average`);
    await page.locator("#v-scroller").evaluate((sc) => {
      sc.scrollTop = 5000 * 24;
    });
    await page.waitForSelector('.row[data-i="5000"]');
    await page.keyboard.press("End");
    assert.equal(await pos(page), "step 10000 / 10000");
    await page.waitForSelector('.row.cur[data-i="9999"]');
    assert.ok((await page.locator(".row").count()) < 200);
    assert.match(await text(page, "#v-state"), /9999/);
    await page.screenshot({ path: join(OUTPUT, "report-10k.png") });
    await page.close();
  });

  it("made no network request and raised no error", () => {
    assert.deepEqual(network, []);
    assert.deepEqual(pageErrors, []);
  });
});
