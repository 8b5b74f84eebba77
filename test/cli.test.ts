import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const api = pathToFileURL(fileURLToPath(new URL("../src/index.js", import.meta.url))).href;

function mmraceWith(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], {
    encoding: "utf8",
    env: { ...process.env, CI: "", ...env },
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const jsonLines = (s: string) =>
  s
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));

const mmrace = (...args: string[]) => mmraceWith({}, ...args);

test("check --json reports the lost update with its kind, schedule and trace", () => {
  const r = mmrace("check", "lost-update", "--variant", "no-lock", "--json");
  assert.equal(r.code, 0, r.err);
  const [line] = jsonLines(r.out);
  assert.equal(line.verdict, "violation");
  assert.equal(line.violation.kind, "invariant");
  assert.ok(line.schedule.length > 0);
  assert.ok(line.trace.length > 0);
  for (const k of ["scenario", "variant", "expected", "complete", "executions", "blocked", "steps", "elapsedMs"])
    assert.ok(k in line, k);
});

test("check --trace writes a file that replay reproduces; a truncated file is one line and exit 2", () => {
  const dir = mkdtempSync(join(tmpdir(), "mmrace-"));
  const file = join(dir, "t.json");
  assert.equal(mmrace("check", "lost-update", "--variant", "no-lock", "--trace", file).code, 0);
  const rep = mmrace("replay", file);
  assert.equal(rep.code, 0, rep.err);
  assert.match(rep.out, /reproduced: lost-update \/ no-lock: invariant/);
  const text = readFileSync(file, "utf8");
  writeFileSync(join(dir, "trunc.json"), text.slice(0, text.length / 2));
  const bad = mmrace("replay", join(dir, "trunc.json"));
  assert.equal(bad.code, 2);
  assert.equal(bad.err.trim().split("\n").length, 1);
  assert.match(bad.err, /truncated|not (valid )?JSON/);
});

test("check refuses to overwrite a file that is not a trace", () => {
  const dir = mkdtempSync(join(tmpdir(), "mmrace-"));
  const file = join(dir, "notes.json");
  writeFileSync(file, "my notes");
  const r = mmrace("check", "lost-update", "--variant", "no-lock", "--trace", file);
  assert.equal(r.code, 2);
  assert.match(r.err, /not an mmrace trace; not overwriting/);
  assert.equal(readFileSync(file, "utf8"), "my notes");
});

test("abba reports a deadlock naming both locks; a safe scenario exits 0", () => {
  const r = mmrace("check", "abba", "--json");
  const [line] = jsonLines(r.out);
  assert.equal(line.violation.kind, "deadlock");
  assert.match(line.violation.message, /lock_a/);
  assert.match(line.violation.message, /lock_b/);
  assert.equal(r.code, 0);
  assert.equal(mmrace("check", "lost-update", "--json").code, 0);
});

test("bad usage exits 2 with a message naming the problem", () => {
  const cases: [string[], RegExp][] = [
    [["check", "no-such-scenario"], /unknown scenario "no-such-scenario"/],
    [
      ["check", "lost-update", "--variant", "nope"],
      /unknown variant "nope" of lost-update \(known: no-lock, spinlock\)/,
    ],
    [["check", "lost-update", "--strategy", "magic"], /unknown strategy "magic"/],
    [["check", "lost-update", "--max-executions", "-3"], /max-executions/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["replay", "/nonexistent/trace.json"], /cannot read/],
  ];
  for (const [args, re] of cases) {
    const r = mmrace(...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.err, re);
  }
});

test("list --json names every scenario with its variants", () => {
  const r = mmrace("list", "--json");
  assert.equal(r.code, 0);
  const ids = jsonLines(r.out).map((s) => s.id);
  for (const id of ["lost-update", "abba", "lock-inversion", "refcount-underflow", "rcu-free"])
    assert.ok(ids.includes(id), id);
});

test("a user's scenario file uses the public API and is checked like the catalogue's", () => {
  const dir = mkdtempSync(join(tmpdir(), "mmrace-"));
  const good = join(dir, "mine.mjs");
  writeFileSync(
    good,
    `import { cell, READ_ONCE, WRITE_ONCE } from ${JSON.stringify(api)};
function* inc(w) { const v = yield* READ_ONCE(w.c); yield* WRITE_ONCE(w.c, v + 1); }
export default { id: "mine", title: "t", source: "me", description: "d", variants: [{
  name: "racy", source: "me", summary: "s", expected: "violation:invariant",
  program: () => ({ name: "mine", setup: () => ({ c: cell("c", 0) }),
    threads: [{ name: "a", run: inc }, { name: "b", run: inc }],
    invariants: [{ name: "two", check: (w) => (w.c.v === 2 ? null : "lost") }] }) }] };
`,
  );
  const r = mmrace("check", good, "--json");
  assert.equal(r.code, 0, r.err);
  assert.equal(jsonLines(r.out)[0].found, "violation:invariant");
  const throwing = join(dir, "throws.mjs");
  writeFileSync(
    throwing,
    `export default { id: "t", title: "t", source: "s", description: "d", variants: [{ name: "v", source: "s", summary: "s",
  program: () => ({ name: "t", setup: () => { throw new Error("my setup is broken"); }, threads: [] }) }] };`,
  );
  const bad = mmrace("check", throwing);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /setup\(\) threw: my setup is broken/);
  const notScenario = join(dir, "empty.mjs");
  writeFileSync(notScenario, "export const x = 1;");
  assert.match(mmrace("check", notScenario).err, /does not export a scenario/);
});

test("a scenario that loops without yielding is reported as stuck, exit 2", () => {
  const dir = mkdtempSync(join(tmpdir(), "mmrace-"));
  const file = join(dir, "loops.mjs");
  writeFileSync(
    file,
    `import { cell, READ_ONCE } from ${JSON.stringify(api)};
export default { id: "loops", title: "t", source: "s", description: "d", variants: [{ name: "v", source: "s", summary: "s",
  program: () => ({ name: "loops", setup: () => ({ c: cell("c", 0) }),
    threads: [{ name: "spin", run: function* (w) { yield* READ_ONCE(w.c); for (;;) {} } }] }) }] };`,
  );
  // Only this test shortens the watchdog, so that a loaded machine cannot make the others look stuck.
  const r = mmraceWith({ MMRACE_STUCK_AFTER_MS: "1500" }, "check", file);
  assert.equal(r.code, 2);
  assert.match(r.err, /loops in thread-local code/);
});

test("check --shard i/n explores disjoint parts that add up to the whole; --workers agrees with one thread", () => {
  const run = (...extra: string[]) =>
    jsonLines(mmrace("check", "vma-adjust-next", "--variant", "root-anon_vma-lock", "--json", ...extra).out)[0];
  const whole = run();
  assert.equal(whole.found, "safe");
  let sum = 0;
  for (let i = 1; i <= 3; i++) {
    const part = run("--shard", `${i}/3`);
    assert.equal(part.shard, `${i}/3`);
    assert.equal(part.found, "safe");
    sum += part.executions;
  }
  assert.equal(sum, whole.executions);
  const two = run("--workers", "2");
  assert.equal(two.found, "safe");
  assert.equal(two.executions, whole.executions);
  const bad = mmrace("check", "lost-update", "--shard", "4/3");
  assert.equal(bad.code, 2);
  assert.match(bad.err, /bad shard "4\/3"/);
});

// The fixtures are user scenario files that import the built package by its name, as a user's would.
const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));

test("a thread that dereferences NULL in one interleaving is an oops with its trace and call stack; the other variant is still checked", () => {
  const r = mmrace("check", fixture("oops.mjs"));
  assert.equal(r.code, 1, r.err);
  assert.match(r.out, /oops \/ twice: expected no violation, found violation:oops/);
  assert.match(r.out, /oops: reader: TypeError: Cannot read properties of null \(reading 'virtual'\)/);
  assert.match(r.out, /call trace: page_address ← read_page/);
  // The interleaving table: a column per thread, the truncation between the reader's two loads.
  assert.match(r.out, /\| reader +\| truncate/);
  assert.match(r.out, /» store page = NULL/);
  assert.match(r.out, /oops \/ once: expected no violation, found safe \(.*complete.*\): as expected/);
  const [line] = jsonLines(mmrace("check", fixture("oops.mjs"), "--variant", "twice", "--json").out);
  assert.equal(line.found, "violation:oops");
  assert.deepEqual(line.violation.stack, ["page_address", "read_page"]);
  const replayed = mmrace("check", fixture("oops.mjs"), "--variant", "twice", "--strategy", "dfs", "--json");
  assert.equal(jsonLines(replayed.out)[0].schedule, line.schedule, "dfs and dpor show the same minimal schedule");
  const file = join(mkdtempSync(join(tmpdir(), "mmrace-")), "oops.json");
  assert.equal(mmrace("check", fixture("oops.mjs"), "--variant", "twice", "--trace", file).code, 1);
  const rep = mmrace("replay", file);
  assert.equal(rep.code, 0, rep.err);
  assert.match(rep.out, /reproduced: .*oops\.mjs \/ twice: oops, as recorded/);
  assert.match(rep.out, /call trace: page_address ← read_page/);
});

test("check --all-violations lists the same violation classes of the fault/munmap race with dpor as with dfs", () => {
  const classes = (strategy: string) => {
    const r = mmrace("check", fixture("fault-munmap.mjs"), "--all-violations", "--strategy", strategy, "--json");
    assert.equal(r.code, 1, r.err);
    const [line] = jsonLines(r.out);
    assert.equal(line.complete, true);
    assert.equal(line.sleepBlocked, 0);
    for (const c of line.violations) {
      assert.ok(c.executions >= 1 && c.trace.length === c.schedule.split(" ").length, JSON.stringify(c));
    }
    return line.violations.map((c: { kind: string; message: string }) => `${c.kind}: ${c.message}`).sort();
  };
  const dpor = classes("dpor");
  assert.deepEqual(dpor, classes("dfs"));
  assert.ok(dpor.length >= 3, dpor.join("\n"));
  for (const kind of ["oops", "use-after-free", "invariant"])
    assert.ok(
      dpor.some((c: string) => c.startsWith(`${kind}:`)),
      kind,
    );
  const text = mmrace("check", fixture("fault-munmap.mjs"), "--all-violations");
  assert.match(text.out, new RegExp(`${dpor.length} distinct violations:`));
  assert.match(text.out, /\[1\/\d\] .*\n {4}in \d+ of \d+ executions; a minimal one:\n\n.*\| fault +\| munmap/);
  const refused = mmrace("check", fixture("fault-munmap.mjs"), "--all-violations", "--strategy", "random");
  assert.equal(refused.code, 2);
  assert.equal(refused.err.trim().split("\n").length, 1);
  assert.match(refused.err, /--all-violations needs an exhaustive strategy \(dpor or dfs\), not random/);
});

test("check --strict: a thread that assigns cell.v instead of a step is bad input, exit 2, naming the cell and the thread", () => {
  const dir = mkdtempSync(join(tmpdir(), "mmrace-"));
  const file = join(dir, "assigns.mjs");
  writeFileSync(
    file,
    `import { cell, READ_ONCE } from ${JSON.stringify(api)};
export default { id: "assigns", title: "t", source: "s", description: "d", variants: [{ name: "v", source: "s", summary: "s",
  program: () => ({ name: "assigns", setup: () => ({ c: cell("counter", 0) }),
    threads: [{ name: "inc", run: function* (w) { const v = yield* READ_ONCE(w.c); w.c.v = v + 1; } },
              { name: "peek", run: function* (w) { yield* READ_ONCE(w.c); } }] }) }] };`,
  );
  const strict = mmrace("check", file, "--strict");
  assert.equal(strict.code, 2, strict.err);
  assert.match(strict.err, /strict: thread inc wrote counter outside an op/);
  // Without --strict the assignment goes unseen (the reason the check exists).
  assert.equal(mmrace("check", file).code, 0);
});
