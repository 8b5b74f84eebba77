// mmrace's public API: what the catalogue uses, and what a user's own
// scenario file imports (`import { ... } from "mmrace"`).

export * from "./catalogue/index.js";
export * from "./explore/index.js";
export * from "./kernel/index.js";
