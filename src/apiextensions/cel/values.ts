// CEL runtime values: int as bigint (int64, overflow-checked), uint as UInt, double as
// number, string, bytes (Uint8Array), bool, null, lists, maps and schema objects (lazy
// views over the custom object's JSON, converted by the schema as upstream's
// UnstructuredToVal does), types, durations, timestamps, optionals and the opaque values
// of the Kubernetes libraries. Equality is CEL's heterogeneous equality (numbers compare
// across int/uint/double); lists declared x-kubernetes-list-type set or map compare
// without regard to order, as upstream's do.
import { parseDurationNs } from '../../machinery/duration.js';
import { escapeName, type Schema, withTypeAndObjectMeta } from './types.js';

/** A runtime error (cel-go's types.Err): what `<err> evaluating rule` prints. */
export class CelEvalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CelEvalError';
  }
}

/** Raised when the per-call cost limit is exceeded; never absorbed by || or &&. */
export class CostLimitError extends Error {
  constructor() {
    super('operation cancelled: actual cost limit exceeded');
    this.name = 'CostLimitError';
  }
}

/** A uint64. */
export class UInt {
  constructor(readonly v: bigint) {}
}

/** A google.protobuf.Duration in nanoseconds. */
export class Duration {
  constructor(readonly ns: bigint) {}
}

/** A google.protobuf.Timestamp in nanoseconds since the Unix epoch. */
export class Timestamp {
  constructor(readonly ns: bigint) {}
}

/** A type value (what type() returns and `int`, `string` … name). */
export class TypeVal {
  constructor(readonly name: string) {}
}

/** An optional value (absent when value is undefined). */
export class Optional {
  constructor(readonly value: Val | undefined) {}
  static readonly none = new Optional(undefined);
}

/** A value of one of the Kubernetes libraries' types (Quantity, URL, IP, CIDR …). */
export abstract class Opaque {
  abstract readonly typeName: string;
  abstract equals(o: Opaque): boolean;
}

/** Any CEL value. */
export type Val =
  | bigint
  | number
  | string
  | boolean
  | null
  | Uint8Array
  | UInt
  | Duration
  | Timestamp
  | TypeVal
  | Optional
  | ListVal
  | MapVal
  | Opaque;

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const UINT64_MAX = 2n ** 64n - 1n;

/** An int64 result, or cel-go's overflow error. */
export function checkInt(v: bigint): bigint {
  if (v < INT64_MIN || v > INT64_MAX) throw new CelEvalError('integer overflow');
  return v;
}

/** A uint64 result, or cel-go's overflow error. */
export function checkUint(v: bigint): UInt {
  if (v < 0n || v > UINT64_MAX) throw new CelEvalError('unsigned integer overflow');
  return new UInt(v);
}

/** A list: literal values or a lazy view of a JSON array. */
export class ListVal {
  private readonly cache: Array<Val | undefined>;

  constructor(
    private readonly raw: readonly unknown[],
    private readonly conv: ((x: unknown) => Val) | undefined,
    /** x-kubernetes-list-type of the schema the list came from. */
    readonly listType: string | undefined = undefined,
    readonly mapKeys: readonly string[] = [],
  ) {
    this.cache = new Array<Val | undefined>(raw.length);
  }

  /** A list of already converted values. */
  static of(vals: readonly Val[]): ListVal {
    return new ListVal(vals, undefined);
  }

  get size(): number {
    return this.raw.length;
  }

  get(i: number): Val {
    const hit = this.cache[i];
    if (hit !== undefined) return hit;
    const v = this.conv === undefined ? (this.raw[i] as Val) : this.conv(this.raw[i]);
    this.cache[i] = v;
    return v;
  }

  values(): Val[] {
    const out: Val[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.get(i));
    return out;
  }
}

/** The normalized lookup key of a map key (numbers of any kind with the same value agree). */
export function mapKey(k: Val): string | undefined {
  if (typeof k === 'string') return `s${k}`;
  if (typeof k === 'bigint') return `n${k}`;
  if (k instanceof UInt) return `n${k.v}`;
  if (typeof k === 'number') return Number.isInteger(k) ? `n${BigInt(k)}` : undefined;
  if (typeof k === 'boolean') return `b${k}`;
  return undefined;
}

/** A map or a schema object (isObject: fields are selected by their escaped names). */
export class MapVal {
  private readonly entries = new Map<string, { key: Val; raw: unknown; val?: Val }>();

  constructor(
    entries: Iterable<[Val, unknown]>,
    private readonly conv: ((k: string, x: unknown) => Val) | undefined,
    readonly isObject = false,
  ) {
    for (const [k, v] of entries) {
      const nk = mapKey(k);
      if (nk !== undefined) this.entries.set(nk, { key: k, raw: v });
    }
  }

  /** A map of already converted values. */
  static of(entries: Iterable<[Val, Val]>): MapVal {
    return new MapVal(entries, undefined);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value under key, or undefined when absent. */
  get(key: Val): Val | undefined {
    const nk = mapKey(key);
    const e = nk === undefined ? undefined : this.entries.get(nk);
    if (e === undefined) return undefined;
    if (e.val === undefined) {
      e.val = this.conv === undefined ? (e.raw as Val) : this.conv(e.key as string, e.raw);
    }
    return e.val;
  }

  has(key: Val): boolean {
    const nk = mapKey(key);
    return nk !== undefined && this.entries.has(nk);
  }

  keys(): Val[] {
    return [...this.entries.values()].map((e) => e.key);
  }
}

/** CEL's type name of a value. */
export function typeName(v: Val): string {
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'double';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v === null) return 'null_type';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof UInt) return 'uint';
  if (v instanceof Duration) return 'google.protobuf.Duration';
  if (v instanceof Timestamp) return 'google.protobuf.Timestamp';
  if (v instanceof TypeVal) return 'type';
  if (v instanceof Optional) return 'optional_type';
  if (v instanceof ListVal) return 'list';
  if (v instanceof MapVal) return v.isObject ? 'object' : 'map';
  return v.typeName;
}

function numeric(v: Val): number | bigint | undefined {
  if (typeof v === 'bigint' || typeof v === 'number') return v;
  if (v instanceof UInt) return v.v;
  return undefined;
}

/** Compares two numbers of any CEL numeric type (NaN compares unordered: undefined). */
export function compareNumbers(a: number | bigint, b: number | bigint): number | undefined {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  const x = typeof a === 'number' ? a : undefined;
  const y = typeof b === 'number' ? b : undefined;
  if ((x !== undefined && Number.isNaN(x)) || (y !== undefined && Number.isNaN(y))) return undefined;
  // Exact comparison of a bigint with a double.
  if (typeof a === 'bigint' && y !== undefined) return -cmpDoubleInt(y, a);
  if (typeof b === 'bigint' && x !== undefined) return cmpDoubleInt(x, b);
  return (x as number) < (y as number) ? -1 : (x as number) > (y as number) ? 1 : 0;
}

function cmpDoubleInt(d: number, i: bigint): number {
  if (d === Number.POSITIVE_INFINITY) return 1;
  if (d === Number.NEGATIVE_INFINITY) return -1;
  const t = BigInt(Math.trunc(d));
  if (t !== i) return t < i ? -1 : 1;
  const frac = d - Math.trunc(d);
  return frac > 0 ? 1 : frac < 0 ? -1 : 0;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** CEL equality (heterogeneous: values of different kinds are unequal, numbers compare by value). */
export function celEquals(a: Val, b: Val): boolean {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined || nb !== undefined) {
    return na !== undefined && nb !== undefined && compareNumbers(na, nb) === 0;
  }
  if (a === null || b === null) return a === b;
  if (typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (a instanceof Uint8Array) return b instanceof Uint8Array && bytesEqual(a, b);
  if (a instanceof Duration) return b instanceof Duration && a.ns === b.ns;
  if (a instanceof Timestamp) return b instanceof Timestamp && a.ns === b.ns;
  if (a instanceof TypeVal) return b instanceof TypeVal && a.name === b.name;
  if (a instanceof Optional) {
    if (!(b instanceof Optional)) return false;
    if (a.value === undefined || b.value === undefined) return a.value === b.value;
    return celEquals(a.value, b.value);
  }
  if (a instanceof ListVal) return b instanceof ListVal && listEquals(a, b);
  if (a instanceof MapVal) {
    if (!(b instanceof MapVal) || a.size !== b.size) return false;
    for (const k of a.keys()) {
      const bv = b.get(k);
      if (bv === undefined || !celEquals(a.get(k)!, bv)) return false;
    }
    return true;
  }
  if (a instanceof Opaque) return b instanceof Opaque && a.typeName === b.typeName && a.equals(b);
  return false;
}

function listEquals(a: ListVal, b: ListVal): boolean {
  if (a.size !== b.size) return false;
  const lt = a.listType ?? b.listType;
  if (lt === 'set' || (lt === 'map' && a.mapKeys.length > 0)) {
    // Order-insensitive: every element of a has an equal one in b (sizes agree, elements unique).
    const bv = b.values();
    return a.values().every((x) => bv.some((y) => celEquals(x, y)));
  }
  for (let i = 0; i < a.size; i++) if (!celEquals(a.get(i), b.get(i))) return false;
  return true;
}

/** A JSON value converted with no schema (preserve-unknown-fields, int-or-string). */
export function dynFromJSON(v: unknown): Val {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return new ListVal(v, dynFromJSON);
  const o = v as Record<string, unknown>;
  return new MapVal(
    Object.entries(o).map(([k, x]) => [k, x] as [Val, unknown]),
    (_k, x) => dynFromJSON(x),
  );
}

/** Parses an RFC 3339 date-time or a full-date into nanoseconds since the epoch. */
export function parseTimestampNs(s: string): bigint | undefined {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2}))?$/.exec(
      s,
    );
  if (m === null) return undefined;
  const [, y, mo, d, h = '0', mi = '0', se = '0', frac = '', tz = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se));
  if (Number.isNaN(ms)) return undefined;
  let ns = BigInt(ms) * 1_000_000n + BigInt((frac || '0').padEnd(9, '0'));
  if (tz !== 'Z' && tz !== 'z') {
    const sign = tz.startsWith('-') ? -1n : 1n;
    const off = BigInt(Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 60_000_000_000n;
    ns -= sign * off;
  }
  return ns;
}

function base64Bytes(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'base64'));
}

/** A JSON value converted by its schema, as upstream's UnstructuredToVal. */
export function fromJSON(v: unknown, s: Schema | undefined, isResourceRoot = false): Val {
  if (v === null || v === undefined) return null;
  if (s === undefined || s['x-kubernetes-int-or-string'] === true) return dynFromJSON(v);
  const node = isResourceRoot ? withTypeAndObjectMeta(s) : s;
  switch (node.type) {
    case 'integer':
      return typeof v === 'number' ? BigInt(Math.trunc(v)) : dynFromJSON(v);
    case 'number':
      return typeof v === 'number' ? v : dynFromJSON(v);
    case 'boolean':
      return typeof v === 'boolean' ? v : dynFromJSON(v);
    case 'string':
      if (typeof v !== 'string') return dynFromJSON(v);
      switch (node.format) {
        case 'byte':
          return base64Bytes(v);
        case 'duration':
          try {
            return new Duration(parseDurationNs(v));
          } catch {
            return v;
          }
        case 'date':
        case 'date-time': {
          const ns = parseTimestampNs(v);
          return ns === undefined ? v : new Timestamp(ns);
        }
        default:
          return v;
      }
    case 'array': {
      if (!Array.isArray(v)) return dynFromJSON(v);
      const items = node.items !== undefined && !Array.isArray(node.items) ? node.items : undefined;
      const emb = items?.['x-kubernetes-embedded-resource'] === true;
      return new ListVal(
        v,
        (x) => fromJSON(x, items, emb),
        node['x-kubernetes-list-type'],
        node['x-kubernetes-list-map-keys'] ?? [],
      );
    }
    case 'object': {
      if (typeof v !== 'object' || Array.isArray(v)) return dynFromJSON(v);
      const o = v as Record<string, unknown>;
      const ap = node.additionalProperties;
      if (ap !== undefined && typeof ap === 'object') {
        const emb = ap['x-kubernetes-embedded-resource'] === true;
        return new MapVal(
          Object.entries(o).map(([k, x]) => [k, x] as [Val, unknown]),
          (_k, x) => fromJSON(x, ap, emb),
        );
      }
      const props = node.properties ?? {};
      const entries: Array<[Val, unknown]> = [];
      const rawNames = new Map<string, string>();
      for (const [k, x] of Object.entries(o)) {
        if (x === null || x === undefined || props[k] === undefined) continue;
        const esc = escapeName(k);
        if (esc === undefined) continue;
        rawNames.set(esc, k);
        entries.push([esc, x]);
      }
      return new MapVal(
        entries,
        (esc, x) => {
          const p = props[rawNames.get(esc) ?? esc];
          return fromJSON(x, p, p?.['x-kubernetes-embedded-resource'] === true);
        },
        true,
      );
    }
    default:
      return dynFromJSON(v);
  }
}
