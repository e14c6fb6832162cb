// CEL's standard definitions (cel-go's checker declarations and their runtime): arithmetic
// with int64/uint64 overflow errors, comparisons (including cross-type numeric ones, which
// Kubernetes enables), `in`, indexing, size, the string predicates, `matches` (RE2 through
// the schema's regex translation), type conversions, type(), durations and timestamps with
// their accessors, and the optional library. Error texts are cel-go's, because upstream
// prints them (`<err> evaluating rule: <rule>`).
import { goFloat, goQuote } from '../../machinery/go-format.js';
import { formatDurationNs, parseDurationNs } from '../../machinery/duration.js';
import { compileGoRegexp } from '../schema/regex.js';
import { as, define, type FunctionTable, type Runtime } from './library.js';
import {
  celEquals,
  checkInt,
  checkUint,
  compareNumbers,
  Duration,
  CelEvalError,
  INT64_MAX,
  INT64_MIN,
  ListVal,
  MapVal,
  Optional,
  parseTimestampNs,
  Timestamp,
  TypeVal,
  typeName,
  UInt,
  type Val,
} from './values.js';

const NS_PER_S = 1_000_000_000n;
// Timestamps are valid from 0001-01-01 to 9999-12-31 (google.protobuf.Timestamp).
const MIN_TS_S = -62135596800n;
const MAX_TS_S = 253402300799n;

function checkTimestamp(ns: bigint): Timestamp {
  const s = ns / NS_PER_S;
  if (s < MIN_TS_S || s > MAX_TS_S) throw new CelEvalError('timestamp overflow');
  return new Timestamp(ns);
}

function checkDuration(ns: bigint): Duration {
  if (ns < INT64_MIN || ns > INT64_MAX) throw new CelEvalError('duration overflow');
  return new Duration(ns);
}

/** Code-point length, what size(string) counts. */
export function strSize(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function strCost(rt: Runtime, ...ss: string[]): void {
  let n = 0;
  for (const s of ss) n += s.length;
  rt.cost(1 + Math.ceil(n / 10));
}

/** Compiles an RE2 pattern for matches/find; an invalid one is a runtime error as in cel-go. */
export function regexFor(pattern: string, global = false): RegExp {
  const c = compileGoRegexp(pattern);
  if (!c.ok) throw new CelEvalError(c.error);
  return global ? new RegExp(c.re.source, `${c.re.flags}g`) : c.re;
}

/** Orders two values of one comparable kind (undefined: not comparable / NaN). */
export function compareVals(a: Val, b: Val): number | undefined {
  const na = typeof a === 'bigint' || typeof a === 'number' ? a : a instanceof UInt ? a.v : undefined;
  const nb = typeof b === 'bigint' || typeof b === 'number' ? b : b instanceof UInt ? b.v : undefined;
  if (na !== undefined && nb !== undefined) return compareNumbers(na, nb);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  }
  if (a instanceof Duration && b instanceof Duration) return a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0;
  if (a instanceof Timestamp && b instanceof Timestamp) return a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0;
  throw new CelEvalError('no such overload');
}

const NUMS = ['int', 'uint', 'double'] as const;
const ORDERED = ['string', 'bytes', 'bool', 'timestamp', 'duration'] as const;

function relation(op: string, test: (c: number) => boolean) {
  const sigs: string[] = [];
  for (const a of NUMS) for (const b of NUMS) sigs.push(`(${a}, ${b}) -> bool`);
  for (const t of ORDERED) sigs.push(`(${t}, ${t}) -> bool`);
  return {
    op,
    specs: sigs.map((sig) => ({
      sig,
      impl: (a: Val[]) => {
        const c = compareVals(a[0]!, a[1]!);
        return c === undefined ? false : test(c);
      },
    })),
  };
}

/** Go's FormatFloat(f, 'f', -1, 64). */
function formatFixed(f: number): string {
  if (Number.isInteger(f) && Math.abs(f) < 1e21) return String(f);
  const s = String(f);
  if (!s.includes('e')) return s;
  return f.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}

/** RFC 3339 with nanoseconds as Go's time.RFC3339Nano prints a UTC time. */
export function formatTimestamp(ns: bigint): string {
  let s = ns / NS_PER_S;
  let frac = ns % NS_PER_S;
  if (frac < 0n) {
    frac += NS_PER_S;
    s -= 1n;
  }
  const iso = new Date(Number(s) * 1000).toISOString().slice(0, 19);
  const f = frac === 0n ? '' : `.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${iso}${f}Z`;
}

/** The string() conversion of a value. */
export function toStringVal(v: Val): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return goFloat(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof UInt) return v.v.toString();
  if (v instanceof Uint8Array) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(v);
    } catch {
      throw new CelEvalError('invalid UTF-8 in bytes, cannot convert to string');
    }
  }
  if (v instanceof Timestamp) return formatTimestamp(v.ns);
  if (v instanceof Duration) return `${formatFixed(Number(v.ns) / 1e9)}s`;
  throw new CelEvalError('no such overload');
}

function parseIntStr(s: string, fn: string): bigint {
  if (!/^[+-]?\d+$/.test(s)) throw new CelEvalError(`strconv.${fn}: parsing ${goQuote(s)}: invalid syntax`);
  return BigInt(s);
}

// ±2^63 as doubles: cel-go refuses conversions at or past them.
const TWO_63 = 2 ** 63;

function doubleToInt(d: number): bigint {
  if (Number.isNaN(d) || d <= -TWO_63 || d >= TWO_63) {
    throw new CelEvalError('integer overflow');
  }
  return BigInt(Math.trunc(d));
}

function doubleToUint(d: number): UInt {
  if (Number.isNaN(d) || d < 0 || d >= 1.8446744073709552e19)
    throw new CelEvalError('unsigned integer overflow');
  return new UInt(BigInt(Math.trunc(d)));
}

function parseTimestamp(s: string): Timestamp {
  const ns = /T|t/.test(s) ? parseTimestampNs(s) : undefined;
  if (ns === undefined) {
    throw new CelEvalError(`parsing time ${goQuote(s)} as "2006-01-02T15:04:05Z07:00": cannot parse`);
  }
  return checkTimestamp(ns);
}

function parseDuration(s: string): Duration {
  try {
    return new Duration(parseDurationNs(s));
  } catch (e) {
    throw new CelEvalError(e instanceof Error ? e.message : String(e));
  }
}

// A timestamp's calendar fields in a time zone: UTC, a fixed offset (±HH:MM) or an IANA name.
function timeParts(ts: Timestamp, tz?: string): { d: Date; ms: number } {
  const ms = Number(ts.ns / 1_000_000n);
  if (tz === undefined || tz === 'UTC' || tz === 'Z') return { d: new Date(ms), ms };
  const off = /^([+-])?(\d{2}):(\d{2})$/.exec(tz);
  if (off !== null) {
    const sign = off[1] === '-' ? -1 : 1;
    return { d: new Date(ms + sign * (Number(off[2]) * 60 + Number(off[3])) * 60_000), ms };
  }
  try {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    }).formatToParts(new Date(ms));
    const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? 0);
    const local = Date.UTC(
      get('year'),
      get('month') - 1,
      get('day'),
      get('hour'),
      get('minute'),
      get('second'),
    );
    return { d: new Date(local + (((ms % 1000) + 1000) % 1000)), ms };
  } catch {
    throw new CelEvalError(`unknown time zone ${tz}`);
  }
}

function tsAccessor(name: string, get: (d: Date) => number): void {
  tsAccessors.push([name, get]);
}
const tsAccessors: Array<[string, (d: Date) => number]> = [];
tsAccessor('getFullYear', (d) => d.getUTCFullYear());
tsAccessor('getMonth', (d) => d.getUTCMonth());
tsAccessor('getDate', (d) => d.getUTCDate());
tsAccessor('getDayOfMonth', (d) => d.getUTCDate() - 1);
tsAccessor('getDayOfWeek', (d) => d.getUTCDay());
tsAccessor('getDayOfYear', (d) =>
  Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000),
);
tsAccessor('getHours', (d) => d.getUTCHours());
tsAccessor('getMinutes', (d) => d.getUTCMinutes());
tsAccessor('getSeconds', (d) => d.getUTCSeconds());
tsAccessor('getMilliseconds', (d) => d.getUTCMilliseconds());

const DURATION_ACCESSORS: Readonly<Record<string, bigint>> = {
  getHours: 3_600_000_000_000n,
  getMinutes: 60_000_000_000n,
  getSeconds: NS_PER_S,
  getMilliseconds: 1_000_000n,
};

/** A zero value of its type (what optional.ofNonZeroValue tests). */
function isZeroValue(v: Val): boolean {
  if (v === null || v === false || v === '' || v === 0n || v === 0) return true;
  if (v instanceof UInt) return v.v === 0n;
  if (v instanceof Uint8Array || v instanceof ListVal || v instanceof MapVal)
    return (v instanceof Uint8Array ? v.length : v.size) === 0;
  if (v instanceof Duration || v instanceof Timestamp) return v.ns === 0n;
  return false;
}

/** Indexes a list or map (`_[_]`). */
export function index(c: Val, k: Val): Val {
  if (c instanceof ListVal) {
    let i: bigint;
    if (typeof k === 'bigint') i = k;
    else if (k instanceof UInt) i = k.v;
    else if (typeof k === 'number' && Number.isInteger(k)) i = BigInt(k);
    else if (typeof k === 'number') throw new CelEvalError(`unsupported index value ${goFloat(k)} in list`);
    else throw new CelEvalError(`unsupported index type '${typeName(k)}' in list`);
    if (i < 0n || i >= BigInt(c.size))
      throw new CelEvalError(`index '${i}' out of range in list size '${c.size}'`);
    return c.get(Number(i));
  }
  if (c instanceof MapVal) {
    const v = c.get(k);
    if (v === undefined) throw new CelEvalError(`no such key: ${typeof k === 'string' ? k : toDisplay(k)}`);
    return v;
  }
  throw new CelEvalError('no such overload');
}

function toDisplay(v: Val): string {
  try {
    return toStringVal(v);
  } catch {
    return typeName(v);
  }
}

/** Optional indexing (`_[?_]`). */
export function optIndex(c: Val, k: Val): Optional {
  if (c instanceof Optional) return c.value === undefined ? c : optIndex(c.value, k);
  if (c instanceof MapVal) {
    const v = c.get(k);
    return v === undefined ? Optional.none : new Optional(v);
  }
  if (c instanceof ListVal) {
    const i = typeof k === 'bigint' ? k : k instanceof UInt ? k.v : -1n;
    return i >= 0n && i < BigInt(c.size) ? new Optional(c.get(Number(i))) : Optional.none;
  }
  throw new CelEvalError('no such overload');
}

/** Defines the standard functions and operators into a table. */
export function defineStandard(t: FunctionTable): void {
  define(t, '_+_', [
    { sig: '(int, int) -> int', impl: (a) => checkInt(as.int(a[0]) + as.int(a[1])) },
    { sig: '(uint, uint) -> uint', impl: (a) => checkUint((a[0] as UInt).v + (a[1] as UInt).v) },
    { sig: '(double, double) -> double', impl: (a) => as.num(a[0]) + as.num(a[1]) },
    {
      sig: '(string, string) -> string',
      impl: (a, rt) => {
        strCost(rt, as.str(a[0]), as.str(a[1]));
        return as.str(a[0]) + as.str(a[1]);
      },
    },
    {
      sig: '(bytes, bytes) -> bytes',
      impl: (a) => Uint8Array.from([...(a[0] as Uint8Array), ...(a[1] as Uint8Array)]),
    },
    {
      sig: '(list(A), list(A)) -> list(A)',
      impl: (a, rt) => {
        const x = as.list(a[0]);
        const y = as.list(a[1]);
        rt.cost(1 + Math.ceil((x.size + y.size) / 10));
        return ListVal.of([...x.values(), ...y.values()]);
      },
    },
    {
      sig: '(timestamp, duration) -> timestamp',
      impl: (a) => checkTimestamp((a[0] as Timestamp).ns + (a[1] as Duration).ns),
    },
    {
      sig: '(duration, timestamp) -> timestamp',
      impl: (a) => checkTimestamp((a[0] as Duration).ns + (a[1] as Timestamp).ns),
    },
    {
      sig: '(duration, duration) -> duration',
      impl: (a) => checkDuration((a[0] as Duration).ns + (a[1] as Duration).ns),
    },
  ]);
  define(t, '_-_', [
    { sig: '(int, int) -> int', impl: (a) => checkInt(as.int(a[0]) - as.int(a[1])) },
    { sig: '(uint, uint) -> uint', impl: (a) => checkUint((a[0] as UInt).v - (a[1] as UInt).v) },
    { sig: '(double, double) -> double', impl: (a) => as.num(a[0]) - as.num(a[1]) },
    {
      sig: '(timestamp, timestamp) -> duration',
      impl: (a) => checkDuration((a[0] as Timestamp).ns - (a[1] as Timestamp).ns),
    },
    {
      sig: '(timestamp, duration) -> timestamp',
      impl: (a) => checkTimestamp((a[0] as Timestamp).ns - (a[1] as Duration).ns),
    },
    {
      sig: '(duration, duration) -> duration',
      impl: (a) => checkDuration((a[0] as Duration).ns - (a[1] as Duration).ns),
    },
  ]);
  define(t, '_*_', [
    { sig: '(int, int) -> int', impl: (a) => checkInt(as.int(a[0]) * as.int(a[1])) },
    { sig: '(uint, uint) -> uint', impl: (a) => checkUint((a[0] as UInt).v * (a[1] as UInt).v) },
    { sig: '(double, double) -> double', impl: (a) => as.num(a[0]) * as.num(a[1]) },
  ]);
  define(t, '_/_', [
    {
      sig: '(int, int) -> int',
      impl: (a) => {
        if (as.int(a[1]) === 0n) throw new CelEvalError('division by zero');
        return checkInt(as.int(a[0]) / as.int(a[1]));
      },
    },
    {
      sig: '(uint, uint) -> uint',
      impl: (a) => {
        if ((a[1] as UInt).v === 0n) throw new CelEvalError('division by zero');
        return new UInt((a[0] as UInt).v / (a[1] as UInt).v);
      },
    },
    { sig: '(double, double) -> double', impl: (a) => as.num(a[0]) / as.num(a[1]) },
  ]);
  define(t, '_%_', [
    {
      sig: '(int, int) -> int',
      impl: (a) => {
        if (as.int(a[1]) === 0n) throw new CelEvalError('modulus by zero');
        if (as.int(a[1]) === -1n && as.int(a[0]) === INT64_MIN) throw new CelEvalError('integer overflow');
        return as.int(a[0]) % as.int(a[1]);
      },
    },
    {
      sig: '(uint, uint) -> uint',
      impl: (a) => {
        if ((a[1] as UInt).v === 0n) throw new CelEvalError('modulus by zero');
        return new UInt((a[0] as UInt).v % (a[1] as UInt).v);
      },
    },
  ]);
  define(t, '-_', [
    { sig: '(int) -> int', impl: (a) => checkInt(-as.int(a[0])) },
    { sig: '(double) -> double', impl: (a) => -as.num(a[0]) },
  ]);
  define(t, '!_', [{ sig: '(bool) -> bool', impl: (a) => !a[0] }]);
  define(t, '_==_', [{ sig: '(A, A) -> bool', impl: (a) => celEquals(a[0]!, a[1]!) }]);
  define(t, '_!=_', [{ sig: '(A, A) -> bool', impl: (a) => !celEquals(a[0]!, a[1]!) }]);
  for (const r of [
    relation('_<_', (c) => c < 0),
    relation('_<=_', (c) => c <= 0),
    relation('_>_', (c) => c > 0),
    relation('_>=_', (c) => c >= 0),
  ]) {
    define(t, r.op, r.specs);
  }
  define(t, '@in', [
    {
      sig: '(A, list(A)) -> bool',
      impl: (a, rt) => {
        const l = as.list(a[1]);
        rt.cost(1 + Math.ceil(l.size / 10));
        for (let i = 0; i < l.size; i++) if (celEquals(a[0]!, l.get(i))) return true;
        return false;
      },
    },
    { sig: '(A, map(A, B)) -> bool', impl: (a) => as.map(a[1]).has(a[0]!) },
  ]);
  define(t, '_[_]', [
    { sig: '(list(A), int) -> A', impl: (a) => index(a[0]!, a[1]!) },
    { sig: '(list(A), uint) -> A', impl: (a) => index(a[0]!, a[1]!) },
    { sig: '(list(A), double) -> A', impl: (a) => index(a[0]!, a[1]!) },
    { sig: '(map(A, B), A) -> B', impl: (a) => index(a[0]!, a[1]!) },
  ]);
  define(t, '_[?_]', [
    { sig: '(list(A), int) -> optional(A)', impl: (a) => optIndex(a[0]!, a[1]!) },
    { sig: '(map(A, B), A) -> optional(B)', impl: (a) => optIndex(a[0]!, a[1]!) },
    { sig: '(optional(list(A)), int) -> optional(A)', impl: (a) => optIndex(a[0]!, a[1]!) },
    { sig: '(optional(map(A, B)), A) -> optional(B)', impl: (a) => optIndex(a[0]!, a[1]!) },
  ]);
  const sizeOf = (v: Val): bigint => {
    if (typeof v === 'string') return BigInt(strSize(v));
    if (v instanceof Uint8Array) return BigInt(v.length);
    if (v instanceof ListVal || v instanceof MapVal) return BigInt(v.size);
    throw new CelEvalError('no such overload');
  };
  define(t, 'size', [
    { sig: '(string) -> int', impl: (a) => sizeOf(a[0]!) },
    { sig: '(bytes) -> int', impl: (a) => sizeOf(a[0]!) },
    { sig: '(list(A)) -> int', impl: (a) => sizeOf(a[0]!) },
    { sig: '(map(A, B)) -> int', impl: (a) => sizeOf(a[0]!) },
    { sig: 'string.() -> int', impl: (a) => sizeOf(a[0]!) },
    { sig: 'bytes.() -> int', impl: (a) => sizeOf(a[0]!) },
    { sig: 'list(A).() -> int', impl: (a) => sizeOf(a[0]!) },
    { sig: 'map(A, B).() -> int', impl: (a) => sizeOf(a[0]!) },
  ]);
  const strPred = (f: (s: string, x: string) => boolean) => [
    {
      sig: 'string.(string) -> bool',
      impl: (a: Val[], rt: Runtime) => {
        strCost(rt, as.str(a[0]));
        return f(as.str(a[0]), as.str(a[1]));
      },
    },
  ];
  define(
    t,
    'contains',
    strPred((s, x) => s.includes(x)),
  );
  define(
    t,
    'startsWith',
    strPred((s, x) => s.startsWith(x)),
  );
  define(
    t,
    'endsWith',
    strPred((s, x) => s.endsWith(x)),
  );
  const matches = (a: Val[], rt: Runtime): boolean => {
    strCost(rt, as.str(a[0]), as.str(a[1]));
    return regexFor(as.str(a[1])).test(as.str(a[0]));
  };
  define(t, 'matches', [
    { sig: 'string.(string) -> bool', impl: matches },
    { sig: '(string, string) -> bool', impl: matches },
  ]);
  defineConversions(t);
  defineTime(t);
  defineOptional(t);
}

function defineConversions(t: FunctionTable): void {
  define(t, 'int', [
    { sig: '(int) -> int', impl: (a) => a[0]! },
    {
      sig: '(uint) -> int',
      impl: (a) => {
        if ((a[0] as UInt).v > INT64_MAX) throw new CelEvalError('integer overflow');
        return (a[0] as UInt).v;
      },
    },
    { sig: '(double) -> int', impl: (a) => doubleToInt(as.num(a[0])) },
    {
      sig: '(string) -> int',
      impl: (a) => {
        const v = parseIntStr(as.str(a[0]), 'ParseInt');
        if (v < INT64_MIN || v > INT64_MAX)
          throw new CelEvalError(`strconv.ParseInt: parsing ${goQuote(as.str(a[0]))}: value out of range`);
        return v;
      },
    },
    { sig: '(timestamp) -> int', impl: (a) => (a[0] as Timestamp).ns / NS_PER_S },
  ]);
  define(t, 'uint', [
    { sig: '(uint) -> uint', impl: (a) => a[0]! },
    { sig: '(int) -> uint', impl: (a) => checkUint(as.int(a[0])) },
    { sig: '(double) -> uint', impl: (a) => doubleToUint(as.num(a[0])) },
    {
      sig: '(string) -> uint',
      impl: (a) => {
        const s = as.str(a[0]);
        if (!/^\+?\d+$/.test(s))
          throw new CelEvalError(`strconv.ParseUint: parsing ${goQuote(s)}: invalid syntax`);
        return checkUint(BigInt(s));
      },
    },
  ]);
  define(t, 'double', [
    { sig: '(double) -> double', impl: (a) => a[0]! },
    { sig: '(int) -> double', impl: (a) => Number(as.int(a[0])) },
    { sig: '(uint) -> double', impl: (a) => Number((a[0] as UInt).v) },
    {
      sig: '(string) -> double',
      impl: (a) => {
        const s = as.str(a[0]).trim();
        const lower = s.toLowerCase().replace(/^[+-]/, '');
        if (lower === 'inf' || lower === 'infinity') return s.startsWith('-') ? -Infinity : Infinity;
        if (lower === 'nan') return Number.NaN;
        if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) || s !== as.str(a[0])) {
          throw new CelEvalError(`strconv.ParseFloat: parsing ${goQuote(as.str(a[0]))}: invalid syntax`);
        }
        return Number(s);
      },
    },
  ]);
  define(t, 'string', [
    ...['string', 'int', 'uint', 'double', 'bool', 'bytes', 'timestamp', 'duration'].map((ty) => ({
      sig: `(${ty}) -> string`,
      impl: (a: Val[]) => toStringVal(a[0]!),
    })),
  ]);
  define(t, 'bool', [
    { sig: '(bool) -> bool', impl: (a) => a[0]! },
    {
      sig: '(string) -> bool',
      impl: (a) => {
        const s = as.str(a[0]);
        if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
        if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
        throw new CelEvalError(`strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax`);
      },
    },
  ]);
  define(t, 'bytes', [
    { sig: '(bytes) -> bytes', impl: (a) => a[0]! },
    { sig: '(string) -> bytes', impl: (a) => new TextEncoder().encode(as.str(a[0])) },
  ]);
  define(t, 'type', [{ sig: '(A) -> type(A)', impl: (a) => new TypeVal(typeName(a[0]!)) }]);
  define(t, 'dyn', [{ sig: '(A) -> dyn', impl: (a) => a[0]! }]);
}

function defineTime(t: FunctionTable): void {
  define(t, 'duration', [
    { sig: '(duration) -> duration', impl: (a) => a[0]! },
    { sig: '(string) -> duration', impl: (a) => parseDuration(as.str(a[0])) },
  ]);
  define(t, 'timestamp', [
    { sig: '(timestamp) -> timestamp', impl: (a) => a[0]! },
    { sig: '(string) -> timestamp', impl: (a) => parseTimestamp(as.str(a[0])) },
    { sig: '(int) -> timestamp', impl: (a) => checkTimestamp(as.int(a[0]) * NS_PER_S) },
  ]);
  for (const [name, get] of tsAccessors) {
    const specs = [
      { sig: 'timestamp.() -> int', impl: (a: Val[]) => BigInt(get(timeParts(a[0] as Timestamp).d)) },
      {
        sig: 'timestamp.(string) -> int',
        impl: (a: Val[]) => BigInt(get(timeParts(a[0] as Timestamp, as.str(a[1])).d)),
      },
    ];
    const unit = DURATION_ACCESSORS[name];
    if (unit !== undefined) {
      specs.push({ sig: 'duration.() -> int', impl: (a: Val[]) => (a[0] as Duration).ns / unit });
    }
    define(t, name, specs);
  }
}

function defineOptional(t: FunctionTable): void {
  define(t, 'optional.of', [{ sig: '(A) -> optional(A)', impl: (a) => new Optional(a[0]!) }]);
  define(t, 'optional.ofNonZeroValue', [
    { sig: '(A) -> optional(A)', impl: (a) => (isZeroValue(a[0]!) ? Optional.none : new Optional(a[0]!)) },
  ]);
  define(t, 'optional.none', [{ sig: '() -> optional(dyn)', impl: () => Optional.none }]);
  define(t, 'hasValue', [
    { sig: 'optional(A).() -> bool', impl: (a) => (a[0] as Optional).value !== undefined },
  ]);
  define(t, 'value', [
    {
      sig: 'optional(A).() -> A',
      impl: (a) => {
        const v = (a[0] as Optional).value;
        if (v === undefined) throw new CelEvalError('optional.none() dereference');
        return v;
      },
    },
  ]);
  define(t, 'orValue', [{ sig: 'optional(A).(A) -> A', impl: (a) => (a[0] as Optional).value ?? a[1]! }]);
  define(t, 'or', [
    {
      sig: 'optional(A).(optional(A)) -> optional(A)',
      impl: (a) => ((a[0] as Optional).value !== undefined ? a[0]! : a[1]!),
    },
  ]);
}

export { formatDurationNs };
