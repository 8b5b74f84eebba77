// mmrace report [scenario...] [--out FILE] [--force]: checks the catalogue
// (or the scenarios named) and writes the HTML report; npm start does the
// same after its table.

import { runCatalogue } from "./catalogue.js";
import { UsageError } from "./scenarios.js";

export async function reportCommand(argv: string[]): Promise<number> {
  if (argv.includes("--no-report")) throw new UsageError("mmrace report writes a report: drop --no-report");
  const r = await runCatalogue(argv);
  return r.results.every((x) => x.ok) && !r.interrupted ? 0 : 1;
}
