// A catalogue entry: a race thread, its variants (kernel eras and proposed
// fixes) and the verdict history leads us to expect for each. The explorer
// finds the verdicts; nothing here encodes them.

import type { ExploreOptions, Program, ViolationKind } from "../explore/index.js";

/** `safe` or `violation:<kind>`. */
export type Expected = "safe" | `violation:${ViolationKind}`;

/** One beat of the interleaving a mailing-list post tells: a thread and a note its step says. */
export interface StoryStep {
  readonly thread: string;
  readonly note: RegExp;
}

export interface Variant {
  /** Id used on the command line: `v3.1`, `anon_vma_moveto_tail`. */
  readonly name: string;
  /** Where it comes from: a seed thread, a commit, a message-id. */
  readonly source: string;
  /** The verdict history or analysis leads us to expect; none for a user's exploratory variant. */
  readonly expected?: Expected;
  /** Whether the expectation comes from the kernel's history or from analysis (research notes). */
  readonly expectedFrom?: "history" | "analysis";
  /** One or two sentences: what this variant changes. */
  readonly summary: string;
  /** A finding: where the explorer disagreed with the analysis, and why the model is kept as it is. */
  readonly finding?: string;
  /** Builds the program; called once per exploration. */
  // biome-ignore lint/suspicious/noExplicitAny: each variant has its own world type.
  readonly program: () => Program<any>;
  /**
   * The interleaving the source thread tells, as beats that must appear in
   * this order. The verdict is found as usual; when the counterexample found
   * first tells another story (say, with fewer preemptions), the explorer is
   * asked for one that tells this one, and that is the one shown.
   */
  readonly story?: readonly StoryStep[];
  /** Strategy to use by default (otherwise the explorer's default). */
  readonly strategy?: string;
  /** Exploration options by default (bounds for livelock searches, ...). */
  readonly options?: ExploreOptions;
}

export interface Scenario {
  /** Id on the command line: `mremap-merge-order`. */
  readonly id: string;
  readonly title: string;
  /** The seed thread or commit the race comes from. */
  readonly source: string;
  /** What the threads do and what goes wrong, in a paragraph. */
  readonly description: string;
  readonly variants: readonly Variant[];
}

export function parseExpected(s: string): Expected {
  if (s === "safe" || /^violation:[a-z-]+$/.test(s)) return s as Expected;
  throw new Error(`bad expected verdict "${s}": write safe or violation:<kind>`);
}
