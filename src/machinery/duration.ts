// Durations as Go writes them (`time.ParseDuration`, `Duration.String()`), used by
// metav1.Duration fields and component flags, and the human-readable ages kubectl prints
// (k8s.io/apimachinery/pkg/util/duration). Exact arithmetic is done in nanoseconds as
// bigint, as Go's int64; the number-based helpers work in milliseconds like Date.

/** A Go duration failed to parse; the message is Go's. */
export class DurationParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DurationParseError';
  }
}

const NANOSECOND = 1n;
const MICROSECOND = 1000n * NANOSECOND;
const MILLISECOND = 1000n * MICROSECOND;
const SECOND = 1000n * MILLISECOND;
const MINUTE = 60n * SECOND;
const HOUR = 60n * MINUTE;

const UNITS: ReadonlyMap<string, bigint> = new Map([
  ['ns', NANOSECOND],
  ['us', MICROSECOND],
  ['\u00b5s', MICROSECOND], // U+00B5 micro sign
  ['\u03bcs', MICROSECOND], // U+03BC Greek small letter mu
  ['ms', MILLISECOND],
  ['s', SECOND],
  ['m', MINUTE],
  ['h', HOUR],
]);

const ONE_SHL_63 = 1n << 63n;

// Go's time.quote: ASCII printable characters verbatim (with '"' and '\' escaped), every
// other byte as \xNN.
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (c >= 0x80 || c < 0x20) {
      for (const b of Buffer.from(ch, 'utf8')) out += `\\x${b.toString(16).padStart(2, '0')}`;
    } else {
      if (ch === '"' || ch === '\\') out += '\\';
      out += ch;
    }
  }
  return `${out}"`;
}

function invalid(orig: string): DurationParseError {
  return new DurationParseError(`time: invalid duration ${goQuote(orig)}`);
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** Parses a Go duration (`1h2m3.5s`, `300ms`, `-1.5h`) into nanoseconds; throws Go's errors. */
export function parseDurationNs(orig: string): bigint {
  let s = orig;
  let d = 0n;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid(orig);
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) throw invalid(orig);
    // Integer part; overflow past 2^63 is an error.
    let i = 0;
    let v = 0n;
    while (isDigit(s[i])) {
      if (v > ONE_SHL_63 / 10n) throw invalid(orig);
      v = v * 10n + BigInt((s[i] as string).charCodeAt(0) - 48);
      if (v > ONE_SHL_63) throw invalid(orig);
      i++;
    }
    const pre = i > 0;
    s = s.slice(i);
    // Fraction; digits past int64 precision are consumed and ignored, as Go does.
    let f = 0n;
    let scale = 1;
    let post = false;
    if (s[0] === '.') {
      s = s.slice(1);
      let j = 0;
      let overflow = false;
      while (isDigit(s[j])) {
        if (!overflow) {
          if (f > (ONE_SHL_63 - 1n) / 10n) overflow = true;
          else {
            const y = f * 10n + BigInt((s[j] as string).charCodeAt(0) - 48);
            if (y > ONE_SHL_63) overflow = true;
            else {
              f = y;
              scale *= 10;
            }
          }
        }
        j++;
      }
      post = j > 0;
      s = s.slice(j);
    }
    if (!pre && !post) throw invalid(orig);
    let u = 0;
    while (u < s.length && !(s[u] === '.' || isDigit(s[u]))) u++;
    if (u === 0) throw new DurationParseError(`time: missing unit in duration ${goQuote(orig)}`);
    const unitName = s.slice(0, u);
    s = s.slice(u);
    const unit = UNITS.get(unitName);
    if (unit === undefined) {
      throw new DurationParseError(`time: unknown unit ${goQuote(unitName)} in duration ${goQuote(orig)}`);
    }
    if (v > ONE_SHL_63 / unit) throw invalid(orig);
    v *= unit;
    if (f > 0n) {
      // Go converts the fraction through float64 here; so does this.
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > ONE_SHL_63) throw invalid(orig);
    }
    d += v;
    if (d > ONE_SHL_63) throw invalid(orig);
  }
  if (neg) return -d;
  if (d > ONE_SHL_63 - 1n) throw invalid(orig);
  return d;
}

/** Parses a Go duration into milliseconds (fractions kept). */
export function parseDuration(s: string): number {
  return Number(parseDurationNs(s)) / 1e6;
}

// Formats v / 10^prec with trailing zeros of the fraction dropped, Go's fmtFrac + fmtInt.
function fmtFrac(v: bigint, prec: number): [string, bigint] {
  let digits = '';
  let printed = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    printed = printed || digit !== 0n;
    if (printed) digits = digit.toString() + digits;
    v /= 10n;
  }
  return [printed ? `.${digits}` : '', v];
}

/** Go's Duration.String() for nanoseconds: `1h0m0s`, `1.5s`, `300ms`, `1µs`, `0s`. */
export function formatDurationNs(d: bigint): string {
  if (d === 0n) return '0s';
  const neg = d < 0n;
  let u = neg ? -d : d;
  let out: string;
  if (u < SECOND) {
    if (u < MICROSECOND) out = `${u}ns`;
    else if (u < MILLISECOND) {
      const [frac, whole] = fmtFrac(u, 3);
      out = `${whole}${frac}\u00b5s`;
    } else {
      const [frac, whole] = fmtFrac(u, 6);
      out = `${whole}${frac}ms`;
    }
  } else {
    const [frac, secs] = fmtFrac(u, 9);
    u = secs;
    out = `${u % 60n}${frac}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** Go's Duration.String() for a duration in milliseconds. */
export function formatDuration(ms: number): string {
  return formatDurationNs(BigInt(Math.round(ms * 1e6)));
}

/**
 * kubectl's age format (upstream's duration.HumanDuration) for a duration in milliseconds:
 * `5s`, `119s`, `3m20s`, `10m`, `179m`, `3h20m`, `47h`, `2d5h`, `95d`, `3y200d`, `9y`.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(ms / 60000);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(ms / 3600000);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const y = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** The coarser one-unit form (upstream's duration.ShortHumanDuration): `5s`, `3m`, `2h`, `4d`, `1y`. */
export function shortHumanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.trunc(ms / 60000);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.trunc(ms / 3600000);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${Math.trunc(hours / 24)}d`;
  return `${Math.trunc(ms / 3600000 / 24 / 365)}y`;
}

/**
 * The AGE column for an RFC 3339 timestamp, as kubectl's printers compute it:
 * `<unknown>` for a missing or unparsable timestamp, else humanDuration(now - t).
 */
export function translateTimestampSince(
  timestamp: string | undefined | null,
  nowMs: number = Date.now(),
): string {
  if (timestamp === undefined || timestamp === null || timestamp === '') return '<unknown>';
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(nowMs - t);
}
