// The cheap duplicate-key test behind decodeJSONWithDuplicates. V8's JSON.parse keeps the last
// of repeated keys silently, so a parsed document holds exactly as many object keys as its
// text spells only when no object repeats a key. Counting the keys of the text (a string
// followed by `:`) and of the parsed value, and comparing the totals, proves the common case
// (no duplicates) without building paths or sets; only a mismatch pays for the exact scanner
// that names the duplicates.

/** Result of countParsedKeys when the value nests deeper than the limit it was given. */
export const TOO_DEEP = -1;

/**
 * The number of object keys spelled in `text`, which must be valid JSON (JSON.parse accepted
 * it): only string boundaries matter, so string contents are skipped with indexOf and the
 * parity of the backslashes before each quote.
 */
export function countTextKeys(text: string): number {
  const n = text.length;
  let count = 0;
  let i = text.indexOf('"');
  while (i >= 0) {
    let end = text.indexOf('"', i + 1);
    // A quote preceded by an odd run of backslashes is escaped and does not end the string.
    while (end > 0 && text.charCodeAt(end - 1) === 0x5c && isEscaped(text, end)) {
      end = text.indexOf('"', end + 1);
    }
    if (end < 0) return count; // unreachable for valid JSON
    let k = end + 1;
    let c = text.charCodeAt(k);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++k);
    if (c === 0x3a) {
      count++;
      k++;
    }
    i = k < n ? text.indexOf('"', k) : -1;
  }
  return count;
}

function isEscaped(text: string, quote: number): boolean {
  let backslashes = 0;
  for (let j = quote - 1; text.charCodeAt(j) === 0x5c; j--) backslashes++;
  return (backslashes & 1) === 1;
}

/**
 * The number of keys of every object inside `value` (a JSON.parse result), or TOO_DEEP when
 * objects and arrays nest more than `maxDepth` levels (the walk stops there, so it never
 * recurses deeper than the limit).
 */
export function countParsedKeys(value: unknown, maxDepth: number): number {
  return count(value, 1, maxDepth);
}

function count(v: unknown, depth: number, maxDepth: number): number {
  if (typeof v !== 'object' || v === null) return 0;
  if (depth > maxDepth) return TOO_DEEP;
  let total = 0;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const e: unknown = v[i];
      if (typeof e === 'object' && e !== null) {
        const c = count(e, depth + 1, maxDepth);
        if (c < 0) return TOO_DEEP;
        total += c;
      }
    }
    return total;
  }
  const rec = v as Record<string, unknown>;
  for (const key in rec) {
    total++;
    const e = rec[key];
    if (typeof e === 'object' && e !== null) {
      const c = count(e, depth + 1, maxDepth);
      if (c < 0) return TOO_DEEP;
      total += c;
    }
  }
  return total;
}
