#!/usr/bin/env node
// The mmrace command.

import { ModelError } from "../explore/index.js";
import { TraceFileError } from "../report/tracefile.js";
import { benchCommand } from "./bench.js";
import { listCommand, runCatalogue } from "./catalogue.js";
import { checkCommand } from "./check.js";
import { replayCommand } from "./replay.js";
import { reportCommand } from "./report.js";
import { CheckError } from "./runner.js";
import { UsageError } from "./scenarios.js";
import { mmraceVersion } from "./version.js";

const HELP = `mmrace ${mmraceVersion()}: the Linux memory manager's races, explored

usage:
  mmrace [--no-report] [--out FILE]
                                 check every scenario x variant of the catalogue, then write
                                 the HTML report (default report/index.html)
  mmrace list [--json]           list the scenarios and their variants
  mmrace check <scenario|file.js> [--variant V] [--strategy S] [--max-executions N]
               [--preemption-bound K] [--seed S] [--depth D] [--all-violations] [--strict]
               [--json] [--trace FILE] [--no-fold]
  mmrace replay <trace.json> [--no-fold]
                                 replay a saved counterexample
  mmrace report [scenario...] [--out FILE] [--force]
                                 check the catalogue (or the scenarios named) and write the
                                 HTML report with a step viewer for every counterexample
  mmrace help

exit codes: 0 every variant as expected, 1 otherwise, 2 bad usage or bad input
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case "run": {
      const r = await runCatalogue(rest);
      return r.results.every((x) => x.ok) && !r.interrupted ? 0 : 1;
    }
    case "list":
      return listCommand(rest);
    case "check":
      return checkCommand(rest);
    case "replay":
      return replayCommand(rest);
    case "bench":
      return benchCommand(rest);
    case "report":
      return reportCommand(rest);
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(HELP);
      return 0;
    case "--version":
      process.stdout.write(`${mmraceVersion()}\n`);
      return 0;
    default:
      if (cmd.startsWith("-")) return main(["run", ...argv]);
      throw new UsageError(`unknown command "${cmd}"\n\n${HELP}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError || e instanceof TraceFileError || e instanceof ModelError) {
      process.stderr.write(`mmrace: ${e.message}\n`);
      process.exitCode = 2;
    } else if (e instanceof CheckError) {
      process.stderr.write(`mmrace: ${e.message}\n`);
      process.exitCode = e.kind === "UsageError" || e.kind === "ModelError" || e.kind === "Error" ? 2 : 1;
    } else {
      process.stderr.write(`mmrace: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
