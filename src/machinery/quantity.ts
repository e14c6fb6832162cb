// resource.Quantity as upstream's k8s.io/apimachinery/pkg/api/resource: exact decimal
// arithmetic (a bigint scaled by a power of ten, never a float), upstream's parser with its
// rounding (values finer than 1n round up, away from zero), and upstream's canonical string,
// which keeps the input's family of suffixes (binary `Ki…Ei`, decimal SI `n…E`, or `e<exp>`).
//
// Upstream caches the input text as the serialised form when the parser can tell it is
// already in a canonical shape (its fast path); this port replays the same test, so
// `1E3`, `+1` or `1.500` serialise as written exactly as they do upstream, while `0.5`
// becomes `500m` and `1024Mi` becomes `1Gi`.

/** How a quantity prints: `12Mi` (BinarySI), `12M` (DecimalSI) or `12e6` (DecimalExponent). */
export type QuantityFormat = 'DecimalExponent' | 'BinarySI' | 'DecimalSI';

const SPLIT_RE_STRING = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';

/** Upstream's ErrFormatWrong text. */
export const ERR_FORMAT_WRONG = `quantities must match the regular expression '${SPLIT_RE_STRING}'`;
/** Upstream's ErrNumeric text. */
export const ERR_NUMERIC = 'unable to parse numeric part of quantity';
/** Upstream's ErrSuffix text. */
export const ERR_SUFFIX = "unable to parse quantity's suffix";

/** A quantity string failed to parse; the message is upstream's. */
export class QuantityParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuantityParseError';
  }
}

/** Scales (powers of ten) used by scaledValue and friends. */
export const Scale = {
  Nano: -9,
  Micro: -6,
  Milli: -3,
  Kilo: 3,
  Mega: 6,
  Giga: 9,
  Tera: 12,
  Peta: 15,
  Exa: 18,
} as const;

const MAX_INT64 = 9223372036854775807n;
const MIN_INT64 = -9223372036854775808n;

// Upstream stores the suffix exponent as int32 and lets inf.Dec defer the scaling; a bound
// keeps hostile input such as `1e999999999` from turning into a gigantic bigint here.
const MAX_ABS_EXPONENT = 10000;

const DEC_SUFFIX: ReadonlyMap<string, number> = new Map([
  ['n', -9],
  ['u', -6],
  ['m', -3],
  ['', 0],
  ['k', 3],
  ['M', 6],
  ['G', 9],
  ['T', 12],
  ['P', 15],
  ['E', 18],
]);
const BIN_SUFFIX: ReadonlyMap<string, number> = new Map([
  ['Ki', 10],
  ['Mi', 20],
  ['Gi', 30],
  ['Ti', 40],
  ['Pi', 50],
  ['Ei', 60],
]);
const DEC_BY_EXP = new Map([...DEC_SUFFIX].map(([s, e]) => [e, s]));
const BIN_BY_EXP = new Map<number, string>([
  [0, ''],
  ...[...BIN_SUFFIX].map(([s, e]) => [e, s] as [number, string]),
]);

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

function absBig(v: bigint): bigint {
  return v < 0n ? -v : v;
}

// Divides by 10^n rounding away from zero; reports whether the division was exact.
function divPow10Up(v: bigint, n: number): [bigint, boolean] {
  if (n <= 0) return [v * pow10(-n), true];
  const d = pow10(n);
  const q = v / d;
  if (v % d === 0n) return [q, true];
  return [v > 0n ? q + 1n : q - 1n, false];
}

function digitCount(v: bigint): number {
  return v === 0n ? 0 : absBig(v).toString().length;
}

interface SplitQuantity {
  positive: boolean;
  num: string;
  denom: string;
  suffix: string;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

// Upstream's parseQuantityString: sign, integer digits (leading zeros dropped), optional
// fraction, then a suffix of suffix letters, an optional sign and digits.
function splitQuantity(str: string): SplitQuantity {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (pos < end) {
    if (str[0] === '-') {
      positive = false;
      pos++;
    } else if (str[0] === '+') {
      pos++;
    }
  }
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, num: '0', denom: '', suffix: '' };
  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  let num = str.slice(pos, i);
  if (i >= end) return { positive, num, denom: '', suffix: '' };
  pos = i;
  if (num === '') num = '0';
  let denom = '';
  if (str[pos] === '.') {
    pos++;
    i = pos;
    while (i < end && isDigit(str[i])) i++;
    denom = str.slice(pos, i);
    if (i >= end) return { positive, num, denom, suffix: '' };
    pos = i;
  }
  const suffixStart = pos;
  i = pos;
  while (i < end && 'eEinumkKMGTP'.includes(str[i] as string)) i++;
  if (i >= end) return { positive, num, denom, suffix: str.slice(suffixStart) };
  pos = i;
  if (str[pos] === '-' || str[pos] === '+') pos++;
  i = pos;
  while (i < end && isDigit(str[i])) i++;
  if (i >= end) return { positive, num, denom, suffix: str.slice(suffixStart) };
  throw new QuantityParseError(ERR_FORMAT_WRONG);
}

interface Interpreted {
  base: 2 | 10;
  exponent: number;
  format: QuantityFormat;
}

function interpretSuffix(s: string): Interpreted {
  const dec = DEC_SUFFIX.get(s);
  if (dec !== undefined) return { base: 10, exponent: dec, format: 'DecimalSI' };
  const bin = BIN_SUFFIX.get(s);
  if (bin !== undefined) return { base: 2, exponent: bin, format: 'BinarySI' };
  if (s.length > 1 && (s[0] === 'e' || s[0] === 'E') && /^[+-]?[0-9]+$/.test(s.slice(1))) {
    const e = BigInt(s.slice(1));
    if (e <= MAX_INT64 && e >= MIN_INT64 && absBig(e) <= BigInt(MAX_ABS_EXPONENT)) {
      return { base: 10, exponent: Number(e), format: 'DecimalExponent' };
    }
  }
  throw new QuantityParseError(ERR_SUFFIX);
}

/** A fixed-point amount with a format, immutable; see the file comment. */
export class Quantity {
  /** The value is unscaled × 10^exp. */
  readonly unscaled: bigint;
  readonly exp: number;
  readonly format: QuantityFormat;
  private cached: string | undefined;

  /** Builds unscaled × 10^exp in a format; `text` is a known-canonical rendering, if any. */
  constructor(unscaled: bigint, exp: number, format: QuantityFormat, text?: string) {
    this.unscaled = unscaled;
    this.exp = unscaled === 0n ? 0 : exp;
    this.format = format;
    this.cached = text;
  }

  /** The integer quantity `value` (upstream's NewQuantity). */
  static of(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(value), 0, format);
  }

  /** `value` thousandths (upstream's NewMilliQuantity). */
  static milli(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(value), -3, format);
  }

  /** value × 10^scale in DecimalSI (upstream's NewScaledQuantity). */
  static scaled(value: number | bigint, scale: number): Quantity {
    return new Quantity(BigInt(value), scale, 'DecimalSI');
  }

  /** True when the amount is zero. */
  isZero(): boolean {
    return this.unscaled === 0n;
  }

  /** -1, 0 or 1. */
  sign(): number {
    return this.unscaled === 0n ? 0 : this.unscaled > 0n ? 1 : -1;
  }

  /** -1, 0 or 1 as this is less than, equal to or greater than y. */
  cmp(y: Quantity): number {
    const sa = this.sign();
    const sb = y.sign();
    if (sa !== sb || sa === 0) return Math.sign(sa - sb);
    // Compare magnitudes by order first so distant exponents never get expanded.
    const ma = digitCount(this.unscaled) + this.exp;
    const mb = digitCount(y.unscaled) + y.exp;
    if (ma !== mb) return ma > mb ? sa : -sa;
    const e = Math.min(this.exp, y.exp);
    const a = this.unscaled * pow10(this.exp - e);
    const b = y.unscaled * pow10(y.exp - e);
    return a === b ? 0 : a > b ? 1 : -1;
  }

  /** Compares with an integer. */
  cmpInt(y: number | bigint): number {
    return this.cmp(new Quantity(BigInt(y), 0, 'DecimalSI'));
  }

  /** True when both amounts are equal (formats may differ). */
  equal(y: Quantity): boolean {
    return this.cmp(y) === 0;
  }

  /** this + y; a zero left side takes y's format, as upstream. */
  add(y: Quantity): Quantity {
    const format = this.isZero() ? y.format : this.format;
    const e = Math.min(this.exp, y.exp);
    return new Quantity(this.unscaled * pow10(this.exp - e) + y.unscaled * pow10(y.exp - e), e, format);
  }

  /** this - y; a zero left side takes y's format, as upstream. */
  sub(y: Quantity): Quantity {
    return this.add(y.neg());
  }

  /** this × n for an integer n. */
  mul(n: number | bigint): Quantity {
    return new Quantity(this.unscaled * BigInt(n), this.exp, this.format);
  }

  /** -this. */
  neg(): Quantity {
    return new Quantity(-this.unscaled, this.exp, this.format);
  }

  /** The same amount printed in another format. */
  withFormat(format: QuantityFormat): Quantity {
    return format === this.format ? this : new Quantity(this.unscaled, this.exp, format);
  }

  /** The amount rounded away from zero to a multiple of 10^scale, and whether that was exact. */
  roundUp(scale: number): [Quantity, boolean] {
    if (this.exp >= scale) return [this, true];
    const [v, exact] = divPow10Up(this.unscaled, scale - this.exp);
    return [exact ? this : new Quantity(v, scale, this.format), exact];
  }

  /** The amount in units of 10^scale, rounded away from zero, as a bigint. */
  scaledValueBig(scale: number): bigint {
    return divPow10Up(this.unscaled, scale - this.exp)[0];
  }

  /** The amount in units of 10^scale, rounded away from zero (upstream's ScaledValue). */
  scaledValue(scale: number): number {
    return Number(this.scaledValueBig(scale));
  }

  /** The amount rounded away from zero to an integer (upstream's Value). */
  value(): number {
    return this.scaledValue(0);
  }

  /** The amount in thousandths, rounded away from zero (upstream's MilliValue). */
  milliValue(): number {
    return this.scaledValue(-3);
  }

  /** The nearest float64 (upstream's AsApproximateFloat64). */
  asApproximateFloat64(): number {
    const base = Number(this.unscaled);
    if (this.exp === 0) return base;
    // 10^n is exact as a double up to n = 22, so dividing keeps 1500e-3 at exactly 1.5.
    if (this.exp < 0 && this.exp >= -22) return base / 10 ** -this.exp;
    return base * 10 ** this.exp;
  }

  /** The canonical string (upstream's String()); the JSON form. */
  toString(): string {
    if (this.cached === undefined) this.cached = canonicalize(this);
    return this.cached;
  }

  /** Quantities serialise as their canonical string. */
  toJSON(): string {
    return this.toString();
  }
}

function canonicalize(q: Quantity): string {
  if (q.isZero()) return '0';
  let format = q.format;
  let integer = 0n;
  if (format === 'BinarySI') {
    if (q.cmpInt(-1024) > 0 && q.cmpInt(1024) < 0) {
      format = 'DecimalSI';
    } else {
      const [v, exact] = divPow10Up(q.unscaled, -q.exp);
      if (exact) integer = v;
      else format = 'DecimalSI';
    }
  } else if (format !== 'DecimalSI' && format !== 'DecimalExponent') {
    format = 'DecimalExponent';
  }
  if (format === 'BinarySI') {
    let times = 0;
    while (integer % 1024n === 0n) {
      integer /= 1024n;
      times++;
    }
    // Upstream prints no suffix when none exists for the exponent (beyond Ei).
    return integer.toString() + (BIN_BY_EXP.get(times * 10) ?? '');
  }
  let m = q.unscaled;
  let e = q.exp;
  while (m % 10n === 0n) {
    m /= 10n;
    e++;
  }
  while (e % 3 !== 0) {
    m *= 10n;
    e--;
  }
  if (format === 'DecimalSI') return m.toString() + (DEC_BY_EXP.get(e) ?? '');
  return m.toString() + (e === 0 ? '' : `e${e}`);
}

/** Parses a quantity (`100m`, `1.5Gi`, `1e3`, `-5Ki`, `.5`); throws QuantityParseError. */
export function parseQuantity(str: string): Quantity {
  if (str.length === 0) throw new QuantityParseError(ERR_FORMAT_WRONG);
  if (str === '0') return new Quantity(0n, 0, 'DecimalSI', '0');
  const { positive, num, denom, suffix } = splitQuantity(str);
  const { base, exponent, format: parsedFormat } = interpretSuffix(suffix);
  let format = parsedFormat;
  const digits = BigInt(num + denom);

  // Upstream's int64 fast path decides whether the input text is kept as the canonical form.
  let keepText = false;
  if (format === 'BinarySI') {
    const precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
    if (denom === '' && precision >= 0 && digits << BigInt(exponent) <= MAX_INT64) {
      keepText = exponent % 10 === 0 && (digits & 7n) !== 0n;
    }
  } else {
    const precision = 18 - num.length - denom.length;
    const scale = exponent - denom.length;
    if (precision >= 0 && scale >= Scale.Nano) {
      const shifted = num + denom;
      keepText = scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
    }
  }

  let unscaled: bigint;
  let exp: number;
  if (base === 10) {
    unscaled = digits;
    exp = exponent - denom.length;
  } else {
    unscaled = digits << BigInt(exponent);
    exp = -denom.length;
  }
  if (unscaled !== 0n && exp < Scale.Nano) {
    unscaled = divPow10Up(unscaled, Scale.Nano - exp)[0];
    exp = Scale.Nano;
  }
  if (format === 'BinarySI') {
    const q = new Quantity(unscaled, exp, format);
    if (q.cmpInt(MAX_INT64) > 0) {
      unscaled = MAX_INT64;
      exp = 0;
    } else if (q.sign() > 0 && q.cmpInt(1) < 0) {
      format = 'DecimalSI';
    }
  }
  if (!positive) unscaled = -unscaled;
  return new Quantity(unscaled, exp, format, keepText ? str : undefined);
}

/** Parses a quantity that is known to be valid; throws `cannot parse '<s>': <why>` otherwise. */
export function mustParse(str: string): Quantity {
  try {
    return parseQuantity(str);
  } catch (e) {
    throw new QuantityParseError(`cannot parse '${str}': ${(e as Error).message}`);
  }
}

/**
 * Decodes a quantity from its JSON form: a string (surrounding whitespace ignored, as
 * upstream's UnmarshalJSON) or a number; null stays undefined.
 */
export function quantityFromJSON(v: unknown): Quantity | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return parseQuantity(v.trim());
  if (typeof v === 'number' && Number.isFinite(v)) return parseQuantity(String(v));
  if (typeof v === 'bigint') return parseQuantity(v.toString());
  throw new QuantityParseError(ERR_FORMAT_WRONG);
}

/** The serialised form the API server stores for a quantity given as JSON string or number. */
export function canonicalQuantity(v: string | number): string {
  return (quantityFromJSON(v) as Quantity).toString();
}

/** Sums quantities (zero in DecimalSI for none). */
export function sumQuantities(qs: Iterable<Quantity>): Quantity {
  let total = new Quantity(0n, 0, 'DecimalSI');
  for (const q of qs) total = total.add(q);
  return total;
}
