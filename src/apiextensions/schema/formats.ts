// The string formats a CRD schema may name and how each is checked, as kube-openapi's
// strfmt.Default registry does for the formats apiextensions keeps (others are stripped from
// the schema before validation, so they never fail). Names are compared with dashes removed
// (`date-time` is `datetime`), as go-openapi normalises them.
import { parseDurationNs } from '../../machinery/duration.js';
import { parseIP, parsesAsCIDR } from '../../machinery/validation/names.js';

/** A format check: true when the string is valid. */
type FormatCheck = (s: string) => boolean;

/** Formats apiextensions 1.32 validates on `type: string` (dash-free names). */
const STRING_FORMATS: ReadonlyMap<string, FormatCheck> = new Map<string, FormatCheck>([
  ['bsonobjectid', (s) => /^[0-9a-fA-F]{24}$/.test(s)],
  ['uri', isRequestURI],
  ['email', isEmail],
  ['hostname', isHostname],
  ['ipv4', (s) => parseIP(s) !== undefined && s.includes('.')],
  ['ipv6', (s) => parseIP(s) !== undefined && s.includes(':')],
  ['cidr', parsesAsCIDR],
  ['mac', isMAC],
  ['uuid', (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s)],
  ['uuid3', (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s)],
  ['uuid4', (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i.test(s)],
  ['uuid5', (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i.test(s)],
  ['isbn', (s) => isISBN(s, 10) || isISBN(s, 13)],
  ['isbn10', (s) => isISBN(s, 10)],
  ['isbn13', (s) => isISBN(s, 13)],
  ['creditcard', isCreditCard],
  ['ssn', (s) => s.length === 11 && /^\d{3}[- ]?\d{2}[- ]?\d{4}$/.test(s)],
  ['hexcolor', (s) => /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(s)],
  [
    'rgbcolor',
    (s) =>
      /^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$/.test(
        s,
      ),
  ],
  ['byte', (s) => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/.test(s)],
  ['password', () => true],
  ['date', isDate],
  ['duration', isDuration],
  ['datetime', isDateTime],
]);

/** go-openapi's format-name normalisation: dashes removed. */
export function normalizeFormat(format: string): string {
  return format.replaceAll('-', '');
}

/**
 * The format kept for validation after upstream's StripUnsupportedFormatsPostProcess: string
 * (and untyped) schemas keep only known string formats, integers int32/int64, numbers
 * float/double; every other format becomes "".
 */
export function effectiveFormat(type: string, format: string | undefined): string {
  if (format === undefined || format === '') return '';
  switch (type) {
    case '':
    case 'string':
      return STRING_FORMATS.has(normalizeFormat(format)) ? format : '';
    case 'integer':
      return format === 'int32' || format === 'int64' ? format : '';
    case 'number':
      return format === 'float' || format === 'double' ? format : '';
    default:
      return '';
  }
}

/** True when the registry knows this format (kube-openapi's ContainsName). */
export function isKnownStringFormat(format: string): boolean {
  return STRING_FORMATS.has(normalizeFormat(format));
}

/** True when s is valid for the (known) format. */
export function checkStringFormat(format: string, s: string): boolean {
  const check = STRING_FORMATS.get(normalizeFormat(format));
  return check === undefined || check(s);
}

// Go's url.ParseRequestURI: an absolute URI or an absolute path, no fragment handling.
function isRequestURI(s: string): boolean {
  if (s === '' || /[\s\x00-\x1f\x7f]/.test(s)) return false;
  if (s.startsWith('/')) return true;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/.exec(s);
  if (m === null) return false;
  const rest = m[2] ?? '';
  if (rest.startsWith('//')) {
    const authEnd = rest.indexOf('/', 2);
    const host = authEnd < 0 ? rest.slice(2) : rest.slice(2, authEnd);
    const at = host.lastIndexOf('@');
    const hostPort = at < 0 ? host : host.slice(at + 1);
    if (/[^A-Za-z0-9._~!$&'()*+,;=:[\]%-]/.test(hostPort)) return false;
    const port = /:([^\]]*)$/.exec(hostPort)?.[1];
    if (port !== undefined && !/^\d*$/.test(port)) return false;
  }
  return true;
}

// net/mail.ParseAddress accepts `Name <a@b>` and bare `a@b`; both need a local part and a domain.
function isEmail(s: string): boolean {
  const angle = /<([^<>]*)>\s*$/.exec(s);
  const addr = (angle !== null ? (angle[1] ?? '') : s).trim();
  const at = addr.lastIndexOf('@');
  if (at <= 0 || at === addr.length - 1) return false;
  const local = addr.slice(0, at);
  const domain = addr.slice(at + 1);
  if (!/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/.test(local) && !/^"[^"]*"$/.test(local)) return false;
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return false;
  return /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/.test(domain) || /^\[[^\]]*\]$/.test(domain);
}

const HOSTNAME =
  /^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9\-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$/u;

function isHostname(s: string): boolean {
  if (!HOSTNAME.test(s) || Buffer.byteLength(s) > 255) return false;
  return s.split('.').every((p) => Buffer.byteLength(p) <= 63);
}

// net.ParseMAC: 6, 8 or 20 octets, separated by ':' or '-' (pairs) or '.' (groups of four).
function isMAC(s: string): boolean {
  const colon = /^([0-9a-fA-F]{2})([:-][0-9a-fA-F]{2})*$/;
  if (colon.test(s)) {
    const sep = s[2];
    const parts = s.split(sep ?? ':');
    return [6, 8, 20].includes(parts.length) && parts.every((p) => p.length === 2);
  }
  if (/^[0-9a-fA-F]{4}(\.[0-9a-fA-F]{4})*$/.test(s)) {
    const groups = s.split('.').length;
    return [3, 4, 10].includes(groups);
  }
  return false;
}

function isISBN(s: string, version: 10 | 13): boolean {
  const t = s.replace(/[\s-]+/g, '');
  if (version === 10) {
    if (!/^(?:[0-9]{9}X|[0-9]{10})$/.test(t)) return false;
    let sum = 0;
    for (let i = 0; i < 9; i++) sum += (i + 1) * (t.charCodeAt(i) - 48);
    sum += t[9] === 'X' ? 100 : 10 * (t.charCodeAt(9) - 48);
    return sum % 11 === 0;
  }
  if (!/^[0-9]{13}$/.test(t)) return false;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += (i % 2 === 0 ? 1 : 3) * (t.charCodeAt(i) - 48);
  return t.charCodeAt(12) - 48 - ((10 - (sum % 10)) % 10) === 0;
}

function isCreditCard(s: string): boolean {
  const d = s.replace(/[^0-9]+/g, '');
  if (
    !/^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11})$/.test(
      d,
    )
  )
    return false;
  let sum = 0;
  let double = false;
  for (let i = d.length - 1; i >= 0; i--) {
    let n = d.charCodeAt(i) - 48;
    if (double) {
      n *= 2;
      if (n >= 10) n = (n % 10) + 1;
    }
    sum += n;
    double = !double;
  }
  return sum % 10 === 0;
}

// time.Parse("2006-01-02"): a real calendar date.
function isDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (m === null) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1) return false;
  const days = [
    31,
    y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28,
    31,
    30,
    31,
    30,
    31,
    31,
    30,
    31,
    30,
    31,
  ];
  return d <= (days[mo - 1] ?? 0);
}

// strfmt.IsDateTime: a date, a 't', then hh:mm:ss[.frac](z|±hh:mm), compared case-insensitively.
function isDateTime(s: string): boolean {
  if (s.length < 4) return false;
  const parts = s.toLowerCase().split('t');
  if (parts.length < 2 || !isDate(parts[0] ?? '')) return false;
  const m = /^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$/.exec(parts[1] ?? '');
  if (m === null) return false;
  return (m[1] ?? '') <= '23' && (m[2] ?? '') <= '59' && (m[3] ?? '') <= '59';
}

const UNIT_VARIANTS: readonly (readonly string[])[] = [
  ['ns', 'nano'],
  ['us', 'µs', 'micro'],
  ['ms', 'milli'],
  ['s', 'sec'],
  ['m', 'min'],
  ['h', 'hr', 'hour'],
  ['d', 'day'],
  ['w', 'wk', 'week'],
];

// strfmt.ParseDuration: Go's time.ParseDuration, else "<n> <unit>" pairs with loose unit names.
function isDuration(s: string): boolean {
  try {
    parseDurationNs(s);
    return true;
  } catch {
    // fall through to the loose form
  }
  for (const m of s.matchAll(/(\d+)\s*([A-Za-zµ]+)/g)) {
    const unit = (m[2] ?? '').trim().toLowerCase();
    for (const variants of UNIT_VARIANTS) {
      const last = variants.length - 1;
      for (let i = 0; i < variants.length; i++) {
        const v = variants[i]!;
        if ((i === last && unit.startsWith(v)) || v === unit) return true;
      }
    }
  }
  return false;
}
