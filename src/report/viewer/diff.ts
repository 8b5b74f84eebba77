// What changed in the model state between two steps, found generically: the
// viewer knows nothing of mm, only of JSON. Records in an array are matched
// by a column that identifies them (id, name, or any unique column), so a
// VMA that moved in the list is seen as moved, not as every row changing.
//
// These functions are embedded in the HTML report by their source text
// (`Function.prototype.toString`), so each one may use only its arguments,
// the browser's globals and the other functions of `diffFunctions`.

/** Separates the segments of a path into the state: `.key` for a field, `#i` or `=id` for an item. */
export const PATH_SEP = "\u001f";

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * A column that identifies the records of both arrays (present, primitive and
 * unique in each), preferring id, name, key; null when there is none, and
 * items are then matched by position.
 */
export function keyColumn(a: readonly unknown[], b: readonly unknown[]): string | null {
  const all = [...a, ...b];
  if (all.length === 0 || !all.every(isRecord)) return null;
  const seen: string[] = [];
  for (const x of all) for (const k of Object.keys(x as Record<string, unknown>)) if (!seen.includes(k)) seen.push(k);
  const prefer = ["id", "name", "key"];
  const cands = [...prefer.filter((k) => seen.includes(k)), ...seen.filter((k) => !prefer.includes(k))];
  const uniqueIn = (arr: readonly unknown[], k: string) => {
    const vals = new Set<string>();
    for (const x of arr) {
      const v = (x as Record<string, unknown>)[k];
      if (typeof v !== "string" && typeof v !== "number") return false;
      vals.add(`${typeof v}:${v}`);
    }
    return vals.size === arr.length;
  };
  for (const k of cands) if (uniqueIn(a, k) && uniqueIn(b, k)) return k;
  return null;
}

/** The path segment of item `i` of an array: by identity column, else by position. */
export function itemKey(item: unknown, col: string | null, i: number): string {
  return col === null ? `#${i}` : `=${String((item as Record<string, unknown>)[col])}`;
}

/**
 * Paths (joined with PATH_SEP, the root is "") whose value changed or
 * appeared between `prev` and `cur`; an array whose records were reordered
 * also gets `<path>PATH_SEP~order`.
 */
export function changedPaths(prev: unknown, cur: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (Array.isArray(a) && Array.isArray(b)) {
      const col = keyColumn(a, b);
      const ka = a.map((x, i) => itemKey(x, col, i));
      const kb = b.map((x, i) => itemKey(x, col, i));
      const byKey = new Map<string, unknown>();
      for (let i = 0; i < ka.length; i++) byKey.set(ka[i], a[i]);
      kb.forEach((k, i) => {
        const p = path + PATH_SEP + k;
        if (!byKey.has(k)) out.add(p);
        else walk(byKey.get(k), b[i], p);
      });
      if (col !== null) {
        const inA = new Set(ka);
        const inB = new Set(kb);
        const orderA = ka.filter((k) => inB.has(k)).join(PATH_SEP);
        const orderB = kb.filter((k) => inA.has(k)).join(PATH_SEP);
        if (orderA !== orderB) out.add(`${path + PATH_SEP}~order`);
      }
      return;
    }
    if (isRecord(a) && isRecord(b)) {
      for (const k of Object.keys(b)) {
        const p = `${path + PATH_SEP}.${k}`;
        if (!(k in a)) out.add(p);
        else walk(a[k], b[k], p);
      }
      return;
    }
    if (a !== b && JSON.stringify(a) !== JSON.stringify(b)) out.add(path);
  };
  walk(prev, cur, "");
  return out;
}

export const diffFunctions = [isRecord, keyColumn, itemKey, changedPaths] as const;
