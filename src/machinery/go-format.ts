// Go's fmt renderings of decoded JSON values, for the API error messages that upstream
// builds with fmt: `%q` of a string (strconv.Quote), `%v`/`%+v` of a value decoded into
// `interface{}` (maps as `map[k:v]` with sorted keys, slices as `[a b]`, strings bare,
// integers as int64 and other numbers as float64 `%g`). Messages a client shows verbatim
// (kubectl prints them as they come) only match upstream when these match byte for byte.

const NAMED_ESCAPES: Readonly<Record<string, string>> = {
  '\u0007': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\u000b': '\\v',
  '"': '\\"',
  '\\': '\\\\',
};

// Runes strconv.IsPrint rejects that JavaScript's \p{…} classes can name: controls, format
// characters, line/paragraph separators, private use, unassigned and surrogate code points,
// and every space but U+0020.
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}]|[^\P{Zs} ]/u;

/** strconv.Quote: Go's `%q` of a string. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const named = NAMED_ESCAPES[ch];
    if (named !== undefined) {
      out += named;
      continue;
    }
    const cp = ch.codePointAt(0) ?? 0;
    if (!NON_PRINTABLE.test(ch)) out += ch;
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/**
 * strconv.FormatFloat(f, 'g', -1, 64), Go's `%v` of a float64: the shortest digits that
 * round-trip, in exponent form when the decimal exponent is below -4 or at least 6 (the
 * precision 'g' assumes for the shortest form), else as a plain decimal.
 */
export function goFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mant = '', expText = '0'] = n.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    const abs = Math.abs(exp);
    return `${mant}e${sign}${abs < 10 ? `0${abs}` : String(abs)}`;
  }
  return String(n);
}

/**
 * Go's `%v` (and `%+v`, the same for these types) of a JSON value decoded the way the API
 * server decodes patches (sigs.k8s.io/json with integers kept as int64).
 */
export function goSprintV(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? intString(v) : goFloat(v);
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map(goSprintV).join(' ')}]`;
  if (typeof v === 'object') {
    const m = v as Record<string, unknown>;
    const keys = Object.keys(m).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${keys.map((k) => `${k}:${goSprintV(m[k])}`).join(' ')}]`;
  }
  return String(v);
}

// Integers beyond 2^53 print in full, as the int64 they were decoded into.
function intString(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
}
