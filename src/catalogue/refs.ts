// Catalogue programs by reference, so that worker threads and shards can
// rebuild a variant's program (see explore/registry.ts).

import { type ProgramRef, registerProgramResolver } from "../explore/index.js";
import { catalogue } from "./list.js";

export const catalogueRef = (scenario: string, variant: string): ProgramRef => ({
  kind: "catalogue",
  module: import.meta.url,
  params: { scenario, variant },
});

registerProgramResolver("catalogue", (params) => {
  const s = catalogue.find((x) => x.id === params.scenario);
  const v = s?.variants.find((x) => x.name === params.variant);
  if (!v) throw new Error(`no catalogue variant ${String(params.scenario)} / ${String(params.variant)}`);
  return v.program();
});
