// JSON forms of the Kubernetes well-known protobuf types whose JSON is a string rather than
// an object: metav1.Time (RFC 3339, whole seconds), metav1.MicroTime (RFC 3339 with six
// fractional digits) and metav1.Duration (Go's time.Duration String / ParseDuration).
import { badRequest } from '../../machinery/status-error.js';

const MAX_SECONDS = 253402300799; // 9999-12-31T23:59:59Z: Go's JSON time encoding limit
const MIN_SECONDS = -62167219200; // 0000-01-01T00:00:00Z

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function checkRange(seconds: number): void {
  if (seconds > MAX_SECONDS || seconds < MIN_SECONDS) {
    throw badRequest(`Time.MarshalJSON: year outside of range [0,9999] (seconds ${seconds})`);
  }
}

function datePart(seconds: number): string {
  const d = new Date(seconds * 1000);
  const y = d.getUTCFullYear();
  const ys = y < 1000 ? String(y).padStart(4, '0') : String(y);
  return `${ys}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}:${pad2(
    d.getUTCMinutes(),
  )}:${pad2(d.getUTCSeconds())}`;
}

/** metav1.Time as JSON: `2024-01-02T03:04:05Z` (upstream drops sub-second precision). */
export function formatTime(seconds: number): string {
  checkRange(seconds);
  return `${datePart(seconds)}Z`;
}

/** metav1.MicroTime as JSON: `2024-01-02T03:04:05.123456Z`. */
export function formatMicroTime(seconds: number, nanos: number): string {
  checkRange(seconds);
  if (nanos < 0 || nanos > 999999999) throw badRequest(`MicroTime nanos ${nanos} out of range`);
  const micros = Math.floor(nanos / 1000);
  return `${datePart(seconds)}.${String(micros).padStart(6, '0')}Z`;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Parses an RFC 3339 timestamp into whole seconds and nanoseconds since the epoch. */
export function parseTime(s: string): { seconds: number; nanos: number } {
  const m = RFC3339.exec(s);
  if (!m) throw badRequest(`parsing time ${JSON.stringify(s)} as "2006-01-02T15:04:05Z07:00": cannot parse`);
  const [year, month, day, hour, min, sec] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 59) {
    throw badRequest(`parsing time ${JSON.stringify(s)}: field out of range`);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, min, sec, 0);
  if (date.getUTCDate() !== day) throw badRequest(`parsing time ${JSON.stringify(s)}: day out of range`);
  let seconds = date.getTime() / 1000;
  if (m[9] !== undefined) {
    const offset = (Number(m[10]) * 60 + Number(m[11])) * 60;
    seconds -= m[9] === '+' ? offset : -offset;
  }
  const nanos = m[7] === undefined ? 0 : Number(m[7].padEnd(9, '0'));
  return { seconds, nanos };
}

function frac(v: number, prec: number): string {
  if (prec === 0) return '';
  const p = 10 ** prec;
  const f = v % p;
  if (f === 0) return '';
  return `.${String(f).padStart(prec, '0').replace(/0+$/, '')}`;
}

/** time.Duration.String(): `1h0m0s`, `1.5s`, `300ms`, `0s`. */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  const u = Math.abs(ns);
  let out: string;
  if (u < 1e9) {
    let unit: string;
    let prec: number;
    if (u < 1e3) {
      unit = 'ns';
      prec = 0;
    } else if (u < 1e6) {
      unit = 'µs';
      prec = 3;
    } else {
      unit = 'ms';
      prec = 6;
    }
    out = `${Math.floor(u / 10 ** prec)}${frac(u, prec)}${unit}`;
  } else {
    const secs = Math.floor(u / 1e9);
    out = `${secs % 60}${frac(u, 9)}s`;
    const mins = Math.floor(secs / 60);
    if (mins > 0) {
      out = `${mins % 60}m${out}`;
      const hours = Math.floor(mins / 60);
      if (hours > 0) out = `${hours}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** time.ParseDuration: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, or `0`. Returns nanoseconds. */
export function parseDuration(s: string): number {
  const quoted = JSON.stringify(s);
  let rest = s;
  let neg = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    neg = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw badRequest(`time: invalid duration ${quoted}`);
  let total = 0;
  const part = /^(\d*)(?:\.(\d*))?([^\d.]*)/;
  while (rest !== '') {
    const m = part.exec(rest);
    const whole = m?.[1] ?? '';
    const fracDigits = m?.[2];
    const unitName = m?.[3] ?? '';
    if (!m || (whole === '' && (fracDigits === undefined || fracDigits === ''))) {
      throw badRequest(`time: invalid duration ${quoted}`);
    }
    if (unitName === '') throw badRequest(`time: missing unit in duration ${quoted}`);
    const unit = UNITS[unitName];
    if (unit === undefined)
      throw badRequest(`time: unknown unit ${JSON.stringify(unitName)} in duration ${quoted}`);
    let v = Number(whole || '0') * unit;
    if (fracDigits) v += Math.floor(Number(`0.${fracDigits}`) * unit);
    total += v;
    if (total > Number.MAX_SAFE_INTEGER) throw badRequest(`time: invalid duration ${quoted}`);
    rest = rest.slice(m[0].length);
  }
  return neg ? -total : total;
}
