// The scenarios, in catalogue order, and how to find one.

import { mremap } from "./mremap.js";
import { textbook } from "./textbook.js";
import type { Scenario, Variant } from "./types.js";
import { vmaAdjust } from "./vma-adjust.js";

export const catalogue: readonly Scenario[] = [...textbook, ...mremap, ...vmaAdjust];

export function findScenario(id: string): Scenario {
  const s = catalogue.find((x) => x.id === id);
  if (!s) throw new Error(`unknown scenario "${id}" (known: ${catalogue.map((x) => x.id).join(", ")})`);
  return s;
}

export function findVariant(s: Scenario, name: string): Variant {
  const v = s.variants.find((x) => x.name === name);
  if (!v) throw new Error(`unknown variant "${name}" of ${s.id} (known: ${s.variants.map((x) => x.name).join(", ")})`);
  return v;
}
