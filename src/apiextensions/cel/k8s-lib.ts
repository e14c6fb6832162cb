// The libraries Kubernetes adds to CEL for CRD rules: lists (isSorted, sum, min, max,
// indexOf, lastIndexOf), cel-go's strings extension (charAt, indexOf, lastIndexOf,
// lowerAscii, upperAscii, replace, split, substring, trim, join, reverse, strings.quote,
// format), regex (find, findAll), sets, url, quantity. IP and CIDR live in net-lib.ts.
// Indexes into strings count code points, as cel-go's do.
import { goFloat, goQuote } from '../../machinery/go-format.js';
import { parseQuantity, type Quantity } from '../../machinery/quantity.js';
import { as, define, type FunctionTable, type Runtime } from './library.js';
import { compareVals, regexFor, strSize, toStringVal } from './stdlib.js';
import {
  celEquals,
  checkInt,
  Duration,
  CelEvalError,
  INT64_MAX,
  INT64_MIN,
  ListVal,
  MapVal,
  Opaque,
  UInt,
  type Val,
} from './values.js';

/** A kubernetes.Quantity value. */
export class QuantityVal extends Opaque {
  readonly typeName = 'kubernetes.Quantity';
  constructor(readonly q: Quantity) {
    super();
  }
  equals(o: Opaque): boolean {
    return o instanceof QuantityVal && this.q.cmp(o.q) === 0;
  }
}

/** A kubernetes.URL value. */
export class URLVal extends Opaque {
  readonly typeName = 'kubernetes.URL';
  constructor(
    readonly url: URL,
    readonly text: string,
  ) {
    super();
  }
  equals(o: Opaque): boolean {
    return o instanceof URLVal && o.text === this.text;
  }
}

function cps(s: string): string[] {
  return [...s];
}

function outOfRange(i: bigint | number): CelEvalError {
  return new CelEvalError(`index out of range: ${i}`);
}

function defineLists(t: FunctionTable): void {
  const cost = (rt: Runtime, l: ListVal): void => rt.cost(1 + Math.ceil(l.size / 10));
  define(t, 'isSorted', [
    {
      sig: 'list(A).() -> bool',
      impl: (a, rt) => {
        const l = as.list(a[0]);
        cost(rt, l);
        for (let i = 1; i < l.size; i++) if ((compareVals(l.get(i - 1), l.get(i)) ?? 0) > 0) return false;
        return true;
      },
    },
  ]);
  const sum = (zero: Val, add: (x: Val, y: Val) => Val) => (a: Val[], rt: Runtime) => {
    const l = as.list(a[0]);
    cost(rt, l);
    let acc = zero;
    for (const v of l.values()) acc = add(acc, v);
    return acc;
  };
  define(t, 'sum', [
    { sig: 'list(int).() -> int', impl: sum(0n, (x, y) => checkInt((x as bigint) + (y as bigint))) },
    {
      sig: 'list(uint).() -> uint',
      impl: sum(new UInt(0n), (x, y) => new UInt((x as UInt).v + (y as UInt).v)),
    },
    { sig: 'list(double).() -> double', impl: sum(0, (x, y) => (x as number) + (y as number)) },
    {
      sig: 'list(duration).() -> duration',
      impl: sum(new Duration(0n), (x, y) => new Duration((x as Duration).ns + (y as Duration).ns)),
    },
  ]);
  const pick = (name: string, better: (c: number) => boolean) => (a: Val[], rt: Runtime) => {
    const l = as.list(a[0]);
    cost(rt, l);
    if (l.size === 0) throw new CelEvalError(`${name}(list) called on empty list`);
    let best = l.get(0);
    for (let i = 1; i < l.size; i++) if (better(compareVals(l.get(i), best) ?? 0)) best = l.get(i);
    return best;
  };
  define(t, 'min', [{ sig: 'list(A).() -> A', impl: pick('min', (c) => c < 0) }]);
  define(t, 'max', [{ sig: 'list(A).() -> A', impl: pick('max', (c) => c > 0) }]);
  const find = (last: boolean) => (a: Val[], rt: Runtime) => {
    const l = as.list(a[0]);
    cost(rt, l);
    if (last) {
      for (let i = l.size - 1; i >= 0; i--) if (celEquals(l.get(i), a[1]!)) return BigInt(i);
    } else {
      for (let i = 0; i < l.size; i++) if (celEquals(l.get(i), a[1]!)) return BigInt(i);
    }
    return -1n;
  };
  define(t, 'indexOf', [{ sig: 'list(A).(A) -> int', impl: find(false) }]);
  define(t, 'lastIndexOf', [{ sig: 'list(A).(A) -> int', impl: find(true) }]);
}

function strIndexOf(s: string, sub: string, from: bigint, last: boolean): bigint {
  const cs = cps(s);
  const sc = cps(sub);
  if (from < 0n || from > BigInt(cs.length)) throw outOfRange(from);
  const at = (i: number): boolean => sc.every((c, j) => cs[i + j] === c);
  if (last) {
    for (let i = Math.min(Number(from), cs.length - sc.length); i >= 0; i--) if (at(i)) return BigInt(i);
    return -1n;
  }
  for (let i = Number(from); i + sc.length <= cs.length; i++) if (at(i)) return BigInt(i);
  return -1n;
}

function splitN(s: string, sep: string, n: bigint): string[] {
  if (n === 0n) return [];
  const parts = sep === '' ? cps(s) : s.split(sep);
  if (n < 0n || BigInt(parts.length) <= n) return parts;
  const k = Number(n);
  if (sep === '') return [...parts.slice(0, k - 1), parts.slice(k - 1).join('')];
  return [...parts.slice(0, k - 1), parts.slice(k - 1).join(sep)];
}

function replaceN(s: string, old: string, rep: string, n: bigint): string {
  if (old === '') {
    // Go inserts rep before every code point and at the end, up to n times.
    const cs = cps(s);
    let out = '';
    let left = n;
    for (let i = 0; i <= cs.length; i++) {
      if (left !== 0n) {
        out += rep;
        left--;
      }
      out += cs[i] ?? '';
    }
    return out;
  }
  if (n < 0n) return s.split(old).join(rep);
  let out = '';
  let rest = s;
  for (let left = n; left > 0n; left--) {
    const i = rest.indexOf(old);
    if (i < 0) break;
    out += rest.slice(0, i) + rep;
    rest = rest.slice(i + old.length);
  }
  return out + rest;
}

// Go's strconv.Quote as strings.quote prints it.
function quote(s: string): string {
  return goQuote(s);
}

function formatString(fmt: string, args: Val[]): string {
  let out = '';
  let ai = 0;
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    let j = i + 1;
    let prec: number | undefined;
    const m = /^\.(\d+)/.exec(fmt.slice(j));
    if (m !== null) {
      prec = Number(m[1]);
      j += m[0].length;
    }
    const verb = fmt[j];
    if (verb === '%') {
      out += '%';
      i = j;
      continue;
    }
    if (verb === undefined) throw new CelEvalError('unexpected end of format string');
    if (ai >= args.length) throw new CelEvalError(`index ${ai} out of range`);
    const v = args[ai++]!;
    out += formatVerb(verb, v, prec);
    i = j;
  }
  return out;
}

function formatVerb(verb: string, v: Val, prec: number | undefined): string {
  const asNum = (): number =>
    typeof v === 'number'
      ? v
      : typeof v === 'bigint'
        ? Number(v)
        : v instanceof UInt
          ? Number(v.v)
          : Number.NaN;
  switch (verb) {
    case 's':
      return v instanceof ListVal
        ? `[${v
            .values()
            .map((x) => formatVerb('s', x, undefined))
            .join(', ')}]`
        : typeof v === 'string'
          ? v
          : toStringVal(v);
    case 'd':
      if (typeof v === 'bigint') return v.toString();
      if (v instanceof UInt) return v.v.toString();
      throw new CelEvalError('error during formatting: integer clause can only be used on integers');
    case 'f':
      return asNum().toFixed(prec ?? 6);
    case 'e':
      return asNum()
        .toExponential(prec ?? 6)
        .replace(/e([+-])(\d)$/, 'e$10$2');
    case 'x':
    case 'X': {
      const s =
        typeof v === 'string'
          ? Buffer.from(v).toString('hex')
          : typeof v === 'bigint'
            ? v.toString(16)
            : v instanceof UInt
              ? v.v.toString(16)
              : v instanceof Uint8Array
                ? Buffer.from(v).toString('hex')
                : goFloat(asNum());
      return verb === 'X' ? s.toUpperCase() : s;
    }
    case 'o':
      return typeof v === 'bigint' ? v.toString(8) : v instanceof UInt ? v.v.toString(8) : '';
    case 'b':
      return typeof v === 'bigint' ? v.toString(2) : v instanceof UInt ? v.v.toString(2) : String(v);
    default:
      throw new CelEvalError(`could not parse formatting clause: unrecognized formatting clause "${verb}"`);
  }
}

function defineStrings(t: FunctionTable): void {
  const c = (rt: Runtime, s: string): void => rt.cost(1 + Math.ceil(s.length / 10));
  define(t, 'charAt', [
    {
      sig: 'string.(int) -> string',
      impl: (a) => {
        const cs = cps(as.str(a[0]));
        const i = as.int(a[1]);
        if (i < 0n || i > BigInt(cs.length)) throw outOfRange(i);
        return cs[Number(i)] ?? '';
      },
    },
  ]);
  define(t, 'indexOf', [
    { sig: 'string.(string) -> int', impl: (a) => strIndexOf(as.str(a[0]), as.str(a[1]), 0n, false) },
    {
      sig: 'string.(string, int) -> int',
      impl: (a) => strIndexOf(as.str(a[0]), as.str(a[1]), as.int(a[2]), false),
    },
  ]);
  define(t, 'lastIndexOf', [
    {
      sig: 'string.(string) -> int',
      impl: (a) => strIndexOf(as.str(a[0]), as.str(a[1]), BigInt(strSize(as.str(a[0]))), true),
    },
    {
      sig: 'string.(string, int) -> int',
      impl: (a) => strIndexOf(as.str(a[0]), as.str(a[1]), as.int(a[2]), true),
    },
  ]);
  define(t, 'lowerAscii', [
    { sig: 'string.() -> string', impl: (a) => as.str(a[0]).replace(/[A-Z]+/g, (m) => m.toLowerCase()) },
  ]);
  define(t, 'upperAscii', [
    { sig: 'string.() -> string', impl: (a) => as.str(a[0]).replace(/[a-z]+/g, (m) => m.toUpperCase()) },
  ]);
  define(t, 'replace', [
    {
      sig: 'string.(string, string) -> string',
      impl: (a, rt) => {
        c(rt, as.str(a[0]));
        return replaceN(as.str(a[0]), as.str(a[1]), as.str(a[2]), -1n);
      },
    },
    {
      sig: 'string.(string, string, int) -> string',
      impl: (a, rt) => {
        c(rt, as.str(a[0]));
        return replaceN(as.str(a[0]), as.str(a[1]), as.str(a[2]), as.int(a[3]));
      },
    },
  ]);
  define(t, 'split', [
    {
      sig: 'string.(string) -> list(string)',
      impl: (a, rt) => {
        c(rt, as.str(a[0]));
        return ListVal.of(splitN(as.str(a[0]), as.str(a[1]), -1n));
      },
    },
    {
      sig: 'string.(string, int) -> list(string)',
      impl: (a, rt) => {
        c(rt, as.str(a[0]));
        return ListVal.of(splitN(as.str(a[0]), as.str(a[1]), as.int(a[2])));
      },
    },
  ]);
  const substring = (s: string, start: bigint, end: bigint): string => {
    const cs = cps(s);
    const n = BigInt(cs.length);
    if (start < 0n || start > n) throw outOfRange(start);
    if (end < 0n || end > n) throw outOfRange(end);
    if (start > end) throw new CelEvalError(`invalid substring range. start: ${start}, end: ${end}`);
    return cs.slice(Number(start), Number(end)).join('');
  };
  define(t, 'substring', [
    {
      sig: 'string.(int) -> string',
      impl: (a) => substring(as.str(a[0]), as.int(a[1]), BigInt(strSize(as.str(a[0])))),
    },
    { sig: 'string.(int, int) -> string', impl: (a) => substring(as.str(a[0]), as.int(a[1]), as.int(a[2])) },
  ]);
  define(t, 'trim', [{ sig: 'string.() -> string', impl: (a) => as.str(a[0]).replace(/^\s+|\s+$/gu, '') }]);
  define(t, 'reverse', [{ sig: 'string.() -> string', impl: (a) => cps(as.str(a[0])).reverse().join('') }]);
  const join = (l: ListVal, sep: string, rt: Runtime): string => {
    rt.cost(1 + Math.ceil(l.size / 10));
    return l
      .values()
      .map((v) => as.str(v))
      .join(sep);
  };
  define(t, 'join', [
    { sig: 'list(string).() -> string', impl: (a, rt) => join(as.list(a[0]), '', rt) },
    { sig: 'list(string).(string) -> string', impl: (a, rt) => join(as.list(a[0]), as.str(a[1]), rt) },
  ]);
  define(t, 'strings.quote', [{ sig: '(string) -> string', impl: (a) => quote(as.str(a[0])) }]);
  define(t, 'format', [
    {
      sig: 'string.(list(dyn)) -> string',
      impl: (a, rt) => {
        c(rt, as.str(a[0]));
        return formatString(as.str(a[0]), as.list(a[1]).values());
      },
    },
  ]);
}

function defineRegex(t: FunctionTable): void {
  define(t, 'find', [
    {
      sig: 'string.(string) -> string',
      impl: (a, rt) => {
        rt.cost(1 + Math.ceil((as.str(a[0]).length + as.str(a[1]).length) / 10));
        return regexFor(as.str(a[1])).exec(as.str(a[0]))?.[0] ?? '';
      },
    },
  ]);
  const findAll = (s: string, re: string, n: bigint, rt: Runtime): ListVal => {
    rt.cost(1 + Math.ceil((s.length + re.length) / 10));
    if (n === 0n) return ListVal.of([]);
    const out: string[] = [];
    for (const m of s.matchAll(regexFor(re, true))) {
      out.push(m[0]);
      if (n > 0n && BigInt(out.length) >= n) break;
    }
    return ListVal.of(out);
  };
  define(t, 'findAll', [
    { sig: 'string.(string) -> list(string)', impl: (a, rt) => findAll(as.str(a[0]), as.str(a[1]), -1n, rt) },
    {
      sig: 'string.(string, int) -> list(string)',
      impl: (a, rt) => findAll(as.str(a[0]), as.str(a[1]), as.int(a[2]), rt),
    },
  ]);
}

function defineSets(t: FunctionTable): void {
  const has = (l: ListVal, v: Val): boolean => l.values().some((x) => celEquals(x, v));
  const contains = (a: ListVal, b: ListVal): boolean => b.values().every((v) => has(a, v));
  define(t, 'sets.contains', [
    { sig: '(list(A), list(A)) -> bool', impl: (a) => contains(as.list(a[0]), as.list(a[1])) },
  ]);
  define(t, 'sets.equivalent', [
    {
      sig: '(list(A), list(A)) -> bool',
      impl: (a) => contains(as.list(a[0]), as.list(a[1])) && contains(as.list(a[1]), as.list(a[0])),
    },
  ]);
  define(t, 'sets.intersects', [
    {
      sig: '(list(A), list(A)) -> bool',
      impl: (a) =>
        as
          .list(a[1])
          .values()
          .some((v) => has(as.list(a[0]), v)),
    },
  ]);
}

function parseURL(s: string): URLVal | undefined {
  // Go's url.ParseRequestURI: an absolute URI or an absolute path, no fragment.
  if (s.includes('#') || /\s/.test(s)) return undefined;
  try {
    if (s.startsWith('/')) return new URLVal(new URL(s, 'http://placeholder.invalid'), s);
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(s)) return undefined;
    return new URLVal(new URL(s), s);
  } catch {
    return undefined;
  }
}

function defineURL(t: FunctionTable): void {
  define(t, 'url', [
    {
      sig: '(string) -> kubernetes.URL',
      impl: (a) => {
        const u = parseURL(as.str(a[0]));
        if (u === undefined) {
          throw new CelEvalError(
            `URL parse error during conversion from string: parse ${goQuote(as.str(a[0]))}: invalid URI for request`,
          );
        }
        return u;
      },
    },
  ]);
  define(t, 'isURL', [{ sig: '(string) -> bool', impl: (a) => parseURL(as.str(a[0])) !== undefined }]);
  const rel = (u: URLVal): boolean => u.text.startsWith('/');
  const host = (u: URLVal): string => (rel(u) ? '' : u.url.host);
  define(t, 'getScheme', [
    {
      sig: 'kubernetes.URL.() -> string',
      impl: (a) => (rel(a[0] as URLVal) ? '' : (a[0] as URLVal).url.protocol.slice(0, -1)),
    },
  ]);
  define(t, 'getHost', [{ sig: 'kubernetes.URL.() -> string', impl: (a) => host(a[0] as URLVal) }]);
  define(t, 'getHostname', [
    {
      sig: 'kubernetes.URL.() -> string',
      impl: (a) => (rel(a[0] as URLVal) ? '' : (a[0] as URLVal).url.hostname.replace(/^\[|\]$/g, '')),
    },
  ]);
  define(t, 'getPort', [
    {
      sig: 'kubernetes.URL.() -> string',
      impl: (a) => (rel(a[0] as URLVal) ? '' : (a[0] as URLVal).url.port),
    },
  ]);
  define(t, 'getEscapedPath', [
    { sig: 'kubernetes.URL.() -> string', impl: (a) => (a[0] as URLVal).url.pathname },
  ]);
  define(t, 'getQuery', [
    {
      sig: 'kubernetes.URL.() -> map(string, list(string))',
      impl: (a) => {
        const m = new Map<string, string[]>();
        for (const [k, v] of (a[0] as URLVal).url.searchParams) m.set(k, [...(m.get(k) ?? []), v]);
        return MapVal.of([...m].map(([k, v]) => [k, ListVal.of(v)] as [Val, Val]));
      },
    },
  ]);
}

function toQuantity(s: string): QuantityVal | CelEvalError {
  try {
    return new QuantityVal(parseQuantity(s));
  } catch (e) {
    return new CelEvalError(e instanceof Error ? e.message : String(e));
  }
}

function defineQuantity(t: FunctionTable): void {
  const q = (v: Val | undefined): Quantity => (v as QuantityVal).q;
  define(t, 'quantity', [
    {
      sig: '(string) -> kubernetes.Quantity',
      impl: (a) => {
        const r = toQuantity(as.str(a[0]));
        if (r instanceof CelEvalError) throw r;
        return r;
      },
    },
  ]);
  define(t, 'isQuantity', [
    { sig: '(string) -> bool', impl: (a) => !(toQuantity(as.str(a[0])) instanceof CelEvalError) },
  ]);
  const asInt = (x: Quantity): bigint | undefined => {
    const [, exact] = x.roundUp(0);
    if (!exact) return undefined;
    const v = x.scaledValueBig(0);
    return v < INT64_MIN || v > INT64_MAX ? undefined : v;
  };
  define(t, 'sign', [{ sig: 'kubernetes.Quantity.() -> int', impl: (a) => BigInt(q(a[0]).sign()) }]);
  define(t, 'isInteger', [
    { sig: 'kubernetes.Quantity.() -> bool', impl: (a) => asInt(q(a[0])) !== undefined },
  ]);
  define(t, 'asInteger', [
    {
      sig: 'kubernetes.Quantity.() -> int',
      impl: (a) => {
        const v = asInt(q(a[0]));
        if (v === undefined) throw new CelEvalError('cannot convert value to integer');
        return v;
      },
    },
  ]);
  define(t, 'asApproximateFloat', [
    { sig: 'kubernetes.Quantity.() -> double', impl: (a) => q(a[0]).asApproximateFloat64() },
  ]);
  const arith = (op: 'add' | 'sub') => [
    {
      sig: 'kubernetes.Quantity.(kubernetes.Quantity) -> kubernetes.Quantity',
      impl: (a: Val[]) => new QuantityVal(q(a[0])[op](q(a[1]))),
    },
    {
      sig: 'kubernetes.Quantity.(int) -> kubernetes.Quantity',
      impl: (a: Val[]) => new QuantityVal(q(a[0])[op](parseQuantity(as.int(a[1]).toString()))),
    },
  ];
  define(t, 'add', arith('add'));
  define(t, 'sub', arith('sub'));
  define(t, 'isLessThan', [
    { sig: 'kubernetes.Quantity.(kubernetes.Quantity) -> bool', impl: (a) => q(a[0]).cmp(q(a[1])) < 0 },
  ]);
  define(t, 'isGreaterThan', [
    { sig: 'kubernetes.Quantity.(kubernetes.Quantity) -> bool', impl: (a) => q(a[0]).cmp(q(a[1])) > 0 },
  ]);
  define(t, 'compareTo', [
    { sig: 'kubernetes.Quantity.(kubernetes.Quantity) -> int', impl: (a) => BigInt(q(a[0]).cmp(q(a[1]))) },
  ]);
}

/** Defines the Kubernetes libraries (except IP/CIDR) into a table. */
export function defineKubernetes(t: FunctionTable): void {
  defineLists(t);
  defineStrings(t);
  defineRegex(t);
  defineSets(t);
  defineURL(t);
  defineQuantity(t);
}
