// Finds a scenario: by catalogue id, or a user's own scenario module (a .js
// file whose default export is a Scenario, written with the public API).

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { findScenario, type Scenario } from "../catalogue/index.js";

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const looksLikePath = (s: string) => s.includes("/") || s.endsWith(".js") || s.endsWith(".mjs");

export async function loadScenario(idOrPath: string): Promise<Scenario> {
  if (!looksLikePath(idOrPath)) {
    try {
      return findScenario(idOrPath);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const file = resolve(idOrPath);
  if (!existsSync(file)) throw new UsageError(`no scenario file ${idOrPath}`);
  let mod: { default?: unknown; scenario?: unknown };
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    throw new UsageError(`cannot load scenario file ${idOrPath}: ${(e as Error).message}`);
  }
  const s = (mod.default ?? mod.scenario) as Scenario | undefined;
  if (!s || typeof s !== "object" || typeof s.id !== "string" || !Array.isArray(s.variants) || s.variants.length === 0)
    throw new UsageError(
      `${idOrPath} does not export a scenario (default export {id, title, source, description, variants: [...]})`,
    );
  for (const v of s.variants) {
    if (typeof v?.name !== "string" || typeof v.program !== "function")
      throw new UsageError(`${idOrPath}: every variant needs a name and a program() function`);
  }
  return s;
}
