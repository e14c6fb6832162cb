// One step of a field path, as structured-merge-diff models it: a struct/map field name, the
// key fields of a list-map item, the value of a set member, or a position in a list. Each
// element has two textual forms that clients see: the fieldsV1 key (`f:name`,
// `k:{"name":"x"}`, `v:"a"`, `i:0`) and the message form used in conflict errors
// (`.name`, `[name="x"]`, `[="a"]`, `[0]`). Ordering follows upstream's PathElement.Compare
// so serialized sets come out byte-for-byte as a real API server writes them.

/** A field of a struct or a key of a granular map. */
export interface FieldElement {
  kind: 'field';
  name: string;
}

/** An item of an associative list, identified by its key fields (sorted by name). */
export interface KeyElement {
  kind: 'key';
  fields: ReadonlyArray<readonly [string, unknown]>;
}

/** A member of a set-typed list, identified by its scalar value. */
export interface ValueElement {
  kind: 'value';
  value: unknown;
}

/** A position in a list (only produced by clients or deduced content). */
export interface IndexElement {
  kind: 'index';
  index: number;
}

/** One step of a field path. */
export type PathElement = FieldElement | KeyElement | ValueElement | IndexElement;

/** A field path from the object root. */
export type Path = readonly PathElement[];

/** Makes a field element. */
export function fieldElement(name: string): FieldElement {
  return { kind: 'field', name };
}

/** Makes a key element; the fields are sorted by name as upstream requires. */
export function keyElement(fields: ReadonlyArray<readonly [string, unknown]>): KeyElement {
  const sorted = fields.length < 2 ? fields : [...fields].sort((a, b) => cmpString(a[0], b[0]));
  return { kind: 'key', fields: sorted };
}

/** Makes a set-member element. */
export function valueElement(value: unknown): ValueElement {
  return { kind: 'value', value };
}

/** Makes an index element. */
export function indexElement(index: number): IndexElement {
  return { kind: 'index', index };
}

function cmpString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function kindRank(v: unknown): number {
  // upstream's value.Compare order: float < int (numbers compare numerically with each
  // other), then string, bool, list, map, null.
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 2;
  if (typeof v === 'boolean') return 3;
  if (Array.isArray(v)) return 4;
  if (v !== null && typeof v === 'object') return 5;
  return 6;
}

/** Orders two JSON values the way upstream's value.Compare does. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = kindRank(a);
  const rb = kindRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 2:
      return cmpString(a as string, b as string);
    case 3:
      return a === b ? 0 : a === false ? -1 : 1;
    case 4: {
      const la = a as unknown[];
      const lb = b as unknown[];
      for (let i = 0; ; i++) {
        if (i >= la.length && i >= lb.length) return 0;
        if (i >= la.length) return -1;
        if (i >= lb.length) return 1;
        const c = compareValues(la[i], lb[i]);
        if (c !== 0) return c;
      }
    }
    case 5: {
      const ma = a as Record<string, unknown>;
      const mb = b as Record<string, unknown>;
      const keys = [...new Set([...Object.keys(ma), ...Object.keys(mb)])].sort(cmpString);
      for (const k of keys) {
        if (!Object.hasOwn(ma, k)) return 1;
        if (!Object.hasOwn(mb, k)) return -1;
        const c = compareValues(ma[k], mb[k]);
        if (c !== 0) return c;
      }
      return 0;
    }
    default:
      return 0;
  }
}

const KIND_ORDER = { field: 0, key: 1, value: 2, index: 3 } as const;

/** Orders path elements as upstream's PathElement.Compare: fields, keys, values, indexes. */
export function comparePathElements(a: PathElement, b: PathElement): number {
  if (a.kind !== b.kind) return KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
  switch (a.kind) {
    case 'field':
      return cmpString(a.name, (b as FieldElement).name);
    case 'key': {
      const fa = a.fields;
      const fb = (b as KeyElement).fields;
      for (let i = 0; ; i++) {
        const x = fa[i];
        const y = fb[i];
        if (x === undefined && y === undefined) return 0;
        if (x === undefined) return -1;
        if (y === undefined) return 1;
        const c = cmpString(x[0], y[0]);
        if (c !== 0) return c;
        const d = compareValues(x[1], y[1]);
        if (d !== 0) return d;
      }
    }
    case 'value':
      return compareValues(a.value, (b as ValueElement).value);
    case 'index':
      return a.index - (b as IndexElement).index;
  }
}

// Go's encoding/json (and the jsoniter configuration upstream uses) escape these characters
// inside strings; JSON.stringify does not.
const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

function goString(s: string): string {
  const j = JSON.stringify(s);
  return /[<>&\u2028\u2029]/.test(j) ? j.replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c] ?? c) : j;
}

/** JSON as Go's encoder writes it: map keys sorted, HTML characters escaped. */
export function goJSON(v: unknown): string {
  if (typeof v === 'string') return goString(v);
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(goJSON).join(',')}]`;
  if (typeof v === 'object') {
    const m = v as Record<string, unknown>;
    const keys = Object.keys(m).sort(cmpString);
    return `{${keys.map((k) => `${goString(k)}:${goJSON(m[k])}`).join(',')}}`;
  }
  return 'null';
}

const serialized = new WeakMap<PathElement, string>();

/** The fieldsV1 key of a path element: `f:name`, `k:{"name":"x"}`, `v:"a"`, `i:0`. */
export function serializePathElement(pe: PathElement): string {
  switch (pe.kind) {
    case 'field':
      return `f:${pe.name}`;
    case 'index':
      return `i:${pe.index}`;
    default: {
      let s = serialized.get(pe);
      if (s === undefined) {
        s =
          pe.kind === 'key'
            ? `k:{${pe.fields.map(([k, v]) => `${goString(k)}:${goJSON(v)}`).join(',')}}`
            : `v:${goJSON(pe.value)}`;
        serialized.set(pe, s);
      }
      return s;
    }
  }
}

/** Parses a fieldsV1 key; throws an Error on malformed input. */
export function parsePathElement(s: string): PathElement {
  if (s.length < 2 || s[1] !== ':') throw new Error(`invalid path element ${JSON.stringify(s)}`);
  const body = s.slice(2);
  switch (s[0]) {
    case 'f':
      return fieldElement(body);
    case 'v':
      return valueElement(JSON.parse(body));
    case 'k': {
      const obj: unknown = JSON.parse(body);
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
        throw new Error(`invalid key path element ${JSON.stringify(s)}`);
      }
      return keyElement(Object.entries(obj as Record<string, unknown>));
    }
    case 'i': {
      if (!/^-?\d+$/.test(body)) throw new Error(`invalid index path element ${JSON.stringify(s)}`);
      return indexElement(Number(body));
    }
    default:
      throw new Error('unknown path element type');
  }
}

/** upstream's value.ToString: strings quoted, maps as `k=v` pairs, lists bracketed. */
function valueToString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(valueToString).join(',')}]`;
  if (typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k}=${valueToString(x)}`)
      .join('');
  }
  return '{{undefined}}';
}

/** The message form of a path element: `.name`, `[name="x"]`, `[="a"]`, `[0]`. */
export function pathElementToString(pe: PathElement): string {
  switch (pe.kind) {
    case 'field':
      return `.${pe.name}`;
    case 'key':
      return `[${pe.fields.map(([k, v]) => `${k}=${valueToString(v)}`).join(',')}]`;
    case 'value':
      return `[=${valueToString(pe.value)}]`;
    case 'index':
      return `[${pe.index}]`;
  }
}

/** The message form of a whole path: `.spec.template.spec.containers[name="nginx"].image`. */
export function pathToString(path: Path): string {
  let s = '';
  for (const pe of path) s += pathElementToString(pe);
  return s;
}
