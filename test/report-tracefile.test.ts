// The trace file and `mmrace replay`: a good file reproduces its violation;
// every kind of bad file gets one line on stderr and exit code 2.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { parseTraceFile, TRACE_FORMAT_VERSION, TraceFileError } from "../src/report/tracefile.js";
import { type CliResult, mmrace, mmraceAsync } from "./report-fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "mmrace-trace-"));
const good = join(dir, "good.json");
const made = mmrace(["check", "lost-update", "--variant", "no-lock", "--trace", good]);
const goodText = readFileSync(good, "utf8");

function writeVariant(name: string, edit: (t: Record<string, unknown>) => void): string {
  const t = JSON.parse(goodText) as Record<string, unknown>;
  edit(t);
  const f = join(dir, name);
  writeFileSync(f, JSON.stringify(t));
  return f;
}

/** A bad file: exit code 2 and exactly one line, naming the file and the reason. */
function assertOneLineError(r: CliResult, reason: RegExp): void {
  assert.equal(r.status, 2, `exit code ${r.status}; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  assert.match(lines[0], /^mmrace: /);
  assert.match(lines[0], reason);
}

/** A user's scenario module, in two versions: the model changes between writing and replaying. */
function scenarioModule(store: boolean): string {
  const api = pathToFileURL(join(import.meta.dirname, "../src/explore/index.js")).href;
  return `import { cell, load, store } from ${JSON.stringify(api)};
function* inc(w) {
  const v = yield load(w.counter);
  ${store ? "yield store(w.counter, v + 1);" : ""}
}
export default {
  id: "user-counter", title: "counter", source: "test", description: "",
  variants: [{ name: "v1", source: "test", summary: "", expected: "violation:invariant",
    program: () => ({
      name: "user-counter",
      setup: () => ({ counter: cell("counter", 0) }),
      threads: [{ name: "CPU0", run: inc }, { name: "CPU1", run: inc }],
      invariants: [{ name: "two", check: (w) => (w.counter.v !== 2 ? "lost update" : null) }],
    }) }],
};
`;
}

// The cases are independent files: they run side by side.
describe("trace files and mmrace replay", { concurrency: 4 }, () => {
  it("check --trace writes a versioned file that replays and reproduces", async () => {
    assert.equal(made.status, 0, made.stderr);
    const t = parseTraceFile(goodText);
    assert.equal(t.version, TRACE_FORMAT_VERSION);
    assert.equal(t.scenario, "lost-update");
    assert.equal(t.variant, "no-lock");
    assert.equal(t.violation?.kind, "invariant");
    assert.equal(t.steps.length, t.scheduleSteps.length);
    assert.ok(t.mmrace.length > 0);
    const r = await mmraceAsync(["replay", good]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /an update was lost/);
    assert.match(r.stdout, /reproduced: lost-update \/ no-lock: invariant, as recorded/);
    assert.equal((await mmraceAsync(["replay", good, "--no-fold"])).status, 0);
  });

  it("a truncated file", async () => {
    const f = join(dir, "truncated.json");
    writeFileSync(f, goodText.slice(0, Math.floor(goodText.length / 2)));
    assertOneLineError(await mmraceAsync(["replay", f]), /truncated\.json is truncated/);
  });

  it("an empty file and a file that is not JSON", async () => {
    const empty = join(dir, "empty.json");
    writeFileSync(empty, "");
    assertOneLineError(await mmraceAsync(["replay", empty]), /is empty/);
    const text = join(dir, "text.json");
    writeFileSync(text, "hello\n");
    assertOneLineError(await mmraceAsync(["replay", text]), /is not JSON/);
  });

  it("another trace format version", async () => {
    const f = writeVariant("v99.json", (t) => {
      t.version = 99;
    });
    assertOneLineError(await mmraceAsync(["replay", f]), /trace format version 99; this mmrace reads version 1/);
  });

  it("JSON that is not a trace, and a trace with a bad field", async () => {
    const other = join(dir, "other.json");
    writeFileSync(other, JSON.stringify({ scenario: "lost-update", schedule: "0 1" }));
    assertOneLineError(await mmraceAsync(["replay", other]), /is not an mmrace trace \(its "format" is missing/);
    const bad = writeVariant("badfield.json", (t) => {
      (t.steps as { tid: unknown }[])[1].tid = "CPU1";
    });
    assertOneLineError(await mmraceAsync(["replay", bad]), /is not a valid mmrace trace: steps\.1\.tid/);
  });

  it("a schedule that disagrees with the steps", async () => {
    const f = writeVariant("spliced.json", (t) => {
      t.schedule = "0 0 1 1";
    });
    assertOneLineError(await mmraceAsync(["replay", f]), /is inconsistent: its schedule runs thread 0 at step 2/);
  });

  it("another scenario, and another variant", async () => {
    const s = writeVariant("scenario.json", (t) => {
      t.scenario = "no-such-race";
    });
    assertOneLineError(
      await mmraceAsync(["replay", s]),
      /trace of scenario "no-such-race", which this mmrace does not know/,
    );
    const v = writeVariant("variant.json", (t) => {
      t.variant = "v9.9";
    });
    assertOneLineError(await mmraceAsync(["replay", v]), /unknown variant "v9\.9" of lost-update/);
  });

  it("a schedule that no longer replays because the model changed", async () => {
    const mod = join(dir, "user-counter.mjs");
    writeFileSync(mod, scenarioModule(true));
    const f = join(dir, "user.json");
    const c = await mmraceAsync(["check", mod, "--variant", "v1", "--trace", f]);
    assert.equal(c.status, 0, c.stderr);
    assert.equal((await mmraceAsync(["replay", f])).status, 0);
    writeFileSync(mod, scenarioModule(false));
    assertOneLineError(
      await mmraceAsync(["replay", f]),
      /no longer replays on .*user-counter\.mjs \/ v1 .*the model changed/,
    );
  });

  it("a missing file", async () => {
    assertOneLineError(await mmraceAsync(["replay", join(dir, "absent.json")]), /cannot read .*absent\.json/);
  });

  it("check --trace does not overwrite a file that is not a trace", async () => {
    const f = join(dir, "precious.txt");
    writeFileSync(f, "precious\n");
    assertOneLineError(
      await mmraceAsync(["check", "lost-update", "--variant", "no-lock", "--trace", f]),
      /exists and is not an mmrace trace/,
    );
    assert.equal(readFileSync(f, "utf8"), "precious\n");
  });

  it("parseTraceFile's errors are one line even when the cause has several", async () => {
    const e = new TraceFileError("first line\n    at stack frame\n    at another");
    assert.equal(e.message, "first line");
    assert.throws(() => parseTraceFile("[1, 2]"), /expected a JSON object/);
  });
});
