// Plain JSON values as the patch engines see them, plus the few pieces of Go behaviour the
// upstream engines leak into their results: `%v` rendering (upstream sorts scalars and merge
// keys by their `%v` text and prints it in error messages), Go type names (in argument-type
// errors) and Go's sort.SliceStable (its exact sequence of comparisons decides the order of
// merged lists, because upstream's comparator is not a strict weak order).

/** A JSON object. */
export type JSONObject = { [key: string]: unknown };

/** True for a JSON object (not null, not an array). */
export function isJSONObject(v: unknown): v is JSONObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The Go reflect kind a decoded JSON value has upstream. */
export type GoKind = 'map' | 'slice' | 'string' | 'number' | 'bool' | 'nil';

/** The Go kind of a JSON value (undefined counts as nil, as a missing map entry does). */
export function goKind(v: unknown): GoKind {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return 'slice';
  switch (typeof v) {
    case 'object':
      return 'map';
    case 'string':
      return 'string';
    case 'number':
    case 'bigint':
      return 'number';
    case 'boolean':
      return 'bool';
    default:
      return 'nil';
  }
}

/** Structural equality of JSON values (reflect.DeepEqual on decoded JSON). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as JSONObject;
  const bo = b as JSONObject;
  const ak = Object.keys(ao);
  if (ak.length !== Object.keys(bo).length) return false;
  for (const k of ak) {
    if (!Object.hasOwn(bo, k) || !deepEqual(ao[k], bo[k])) return false;
  }
  return true;
}

/** Go's `==` on two interface{} values holding decoded JSON (maps compare by identity here). */
export function goEqual(a: unknown, b: unknown): boolean {
  const an = a === undefined ? null : a;
  const bn = b === undefined ? null : b;
  return an === bn;
}

/** Renders a number as Go's `%v` does for the int64/float64 a JSON decoder produces. */
function goNumber(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e21)) {
    // Go's %v switches to exponent form below 1e-4 (JS: 1e-7) and pads the exponent.
    const [mant, exp] = n.toExponential().split('e') as [string, string];
    const sign = exp.startsWith('-') ? '-' : '+';
    const digits = exp.replace(/^[+-]/, '');
    return `${mant}e${sign}${digits.length < 2 ? `0${digits}` : digits}`;
  }
  return String(n);
}

/** Go's `%v` rendering of a decoded JSON value (maps print with sorted keys). */
export function goFormat(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`;
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return goNumber(v);
    case 'boolean':
    case 'bigint':
      return String(v);
    case 'object': {
      const o = v as JSONObject;
      const keys = Object.keys(o).sort(compareGoStrings);
      return `map[${keys.map((k) => `${k}:${goFormat(o[k])}`).join(' ')}]`;
    }
    default:
      return String(v);
  }
}

/** The Go type name (`reflect.TypeOf(v)` with `%s`) of a decoded JSON value. */
export function goTypeName(v: unknown): string {
  switch (goKind(v)) {
    case 'map':
      return 'map[string]interface {}';
    case 'slice':
      return '[]interface {}';
    case 'string':
      return 'string';
    case 'number':
      // The apiserver decodes patches preserving integers as int64.
      return Number.isInteger(v) ? 'int64' : 'float64';
    case 'bool':
      return 'bool';
    default:
      return '%!s(<nil>)';
  }
}

/** Byte-wise string comparison (Go compares strings as UTF-8 bytes). */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Sorts scalars by their `%v` text, as upstream's sortScalars does (returns a new array). */
export function sortScalars(s: readonly unknown[]): unknown[] {
  const keyed = s.map((v) => ({ v, k: goFormat(v) }));
  keyed.sort((a, b) => compareGoStrings(a.k, b.k));
  return keyed.map((e) => e.v);
}

/**
 * Removes duplicates the way upstream's deduplicateScalars does: a duplicate is overwritten by
 * the current last element, so the surviving order is not first-seen order.
 */
export function deduplicateScalars(input: readonly unknown[]): unknown[] {
  const s = input.slice();
  let length = s.length - 1;
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j <= length; j++) {
      if (goEqual(s[i], s[j])) {
        s[j] = s[length];
        s.length = length;
        length--;
        j--;
      }
    }
  }
  return s;
}

/**
 * Go's sort.SliceStable (insertion sort on blocks of 20, then SymMerge), reproduced step by step
 * so that a comparator that is not a strict weak order yields the same permutation as upstream.
 * Sorts a copy and returns it.
 */
export function goSliceStable<T>(input: readonly T[], less: (a: T, b: T) => boolean): T[] {
  const d = input.slice();
  const n = d.length;
  const lessAt = (i: number, j: number): boolean => less(d[i] as T, d[j] as T);
  const swap = (i: number, j: number): void => {
    const t = d[i] as T;
    d[i] = d[j] as T;
    d[j] = t;
  };
  const insertionSort = (a: number, b: number): void => {
    for (let i = a + 1; i < b; i++) {
      for (let j = i; j > a && lessAt(j, j - 1); j--) swap(j, j - 1);
    }
  };
  const swapRange = (a: number, b: number, count: number): void => {
    for (let i = 0; i < count; i++) swap(a + i, b + i);
  };
  const rotate = (a: number, m: number, b: number): void => {
    let i = m - a;
    let j = b - m;
    while (i !== j) {
      if (i > j) {
        swapRange(m - i, m, j);
        i -= j;
      } else {
        swapRange(m - i, m + j - i, i);
        j -= i;
      }
    }
    swapRange(m - i, m, i);
  };
  const symMerge = (a: number, m: number, b: number): void => {
    if (m - a === 1) {
      let i = m;
      let j = b;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (lessAt(h, a)) i = h + 1;
        else j = h;
      }
      for (let k = a; k < i - 1; k++) swap(k, k + 1);
      return;
    }
    if (b - m === 1) {
      let i = a;
      let j = m;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (!lessAt(m, h)) i = h + 1;
        else j = h;
      }
      for (let k = m; k > i; k--) swap(k, k - 1);
      return;
    }
    const mid = (a + b) >>> 1;
    const nn = mid + m;
    let start: number;
    let r: number;
    if (m > mid) {
      start = nn - b;
      r = mid;
    } else {
      start = a;
      r = m;
    }
    const p = nn - 1;
    while (start < r) {
      const c = (start + r) >>> 1;
      if (!lessAt(p - c, c)) start = c + 1;
      else r = c;
    }
    const end = nn - start;
    if (start < m && m < end) rotate(start, m, end);
    if (a < start && start < mid) symMerge(a, start, mid);
    if (mid < end && end < b) symMerge(mid, end, b);
  };

  let blockSize = 20;
  let a = 0;
  let b = blockSize;
  while (b <= n) {
    insertionSort(a, b);
    a = b;
    b += blockSize;
  }
  insertionSort(a, n);
  while (blockSize < n) {
    a = 0;
    b = 2 * blockSize;
    while (b <= n) {
      symMerge(a, a + blockSize, b);
      a = b;
      b += 2 * blockSize;
    }
    const m = a + blockSize;
    if (m < n) symMerge(a, m, n);
    blockSize *= 2;
  }
  return d;
}
