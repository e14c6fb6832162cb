// CRD `pattern`s are Go RE2 syntax (upstream compiles them with regexp.Compile); this file
// translates them into JavaScript RegExps with the `u` flag. Differences bridged here: leading
// inline flags `(?i)`/`(?s)`/`(?m)` become RegExp flags, `\A`/`\z` become anchors, `\Q…\E`
// quotes, `(?P<n>…)` names, POSIX classes `[[:alpha:]]`, one-letter `\pL` classes, Unicode
// script names (`\p{Greek}`), punctuation escapes JS's `u` mode rejects, and literal braces.
// Constructs RE2 rejects (lookaround, backreferences) are rejected with Go's wording, so a
// CRD that upstream refuses is refused here too. Not bridged: inline flags in the middle of a
// pattern (applied to the whole pattern), RE2's ASCII-only `\s`, and RE2's leftmost-first
// vs. JS backtracking (same match/no-match answer for `test`, which is all CRDs need).

/** A compiled pattern, or the RE2-style error text `error parsing regexp: …`. */
export type CompiledPattern = { ok: true; re: RegExp } | { ok: false; error: string };

const cache = new Map<string, CompiledPattern>();
const CACHE_LIMIT = 1024;

/** Compiles a Go RE2 pattern into an equivalent JavaScript RegExp (memoised). */
export function compileGoRegexp(pattern: string): CompiledPattern {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  const out = translate(pattern);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, out);
  return out;
}

const POSIX: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

// Unicode general categories JS accepts as bare \p{X}; anything else is a script name.
const CATEGORIES = new Set([
  'C',
  'Cc',
  'Cf',
  'Co',
  'Cs',
  'L',
  'Ll',
  'Lm',
  'Lo',
  'Lt',
  'Lu',
  'M',
  'Mc',
  'Me',
  'Mn',
  'N',
  'Nd',
  'Nl',
  'No',
  'P',
  'Pc',
  'Pd',
  'Pe',
  'Pf',
  'Pi',
  'Po',
  'Ps',
  'S',
  'Sc',
  'Sk',
  'Sm',
  'So',
  'Z',
  'Zl',
  'Zp',
  'Zs',
]);

const JS_SYNTAX = new Set(['^', '$', '\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '/']);

function fail(msg: string): CompiledPattern {
  return { ok: false, error: `error parsing regexp: ${msg}` };
}

function unicodeClass(name: string, negated: boolean): string {
  const p = negated ? 'P' : 'p';
  if (name === 'Any') return negated ? '[^\\s\\S]' : '[\\s\\S]';
  return CATEGORIES.has(name) ? `\\${p}{${name}}` : `\\${p}{Script=${name}}`;
}

function escapeLiteral(ch: string, inClass: boolean): string {
  if (JS_SYNTAX.has(ch) || (inClass && ch === '-')) return `\\${ch}`;
  return ch;
}

function translate(pattern: string): CompiledPattern {
  let flags = 'u';
  let src = pattern;
  // Leading flag groups like (?i) or (?is); RE2 also allows them later, which JS cannot express.
  for (;;) {
    const m = /^\(\?([imsU]+)\)/.exec(src);
    if (m === null) break;
    for (const f of m[1] ?? '') if (f !== 'U' && !flags.includes(f)) flags += f;
    src = src.slice(m[0].length);
  }
  let out = '';
  let inClass = false;
  let classStart = false;
  let depth = 0;
  // Whether the previous token can take a repetition operator (Go: "missing argument").
  let canRepeat = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined) return fail('trailing backslash at end of expression: ``');
      i++;
      if (n === 'Q') {
        const end = src.indexOf('\\E', i + 1);
        const lit = end < 0 ? src.slice(i + 1) : src.slice(i + 1, end);
        for (const ch of lit) out += escapeLiteral(ch, inClass);
        i = end < 0 ? src.length : end + 1;
        canRepeat = lit.length > 0;
        continue;
      }
      if (n === 'A' && !inClass) {
        out += '^';
        canRepeat = false;
        continue;
      }
      if (n === 'z' && !inClass) {
        out += '$';
        canRepeat = false;
        continue;
      }
      if (n === 'p' || n === 'P') {
        let name: string;
        if (src[i + 1] === '{') {
          const end = src.indexOf('}', i + 2);
          if (end < 0) return fail(`invalid character class range: \`${src.slice(i - 1)}\``);
          name = src.slice(i + 2, end);
          i = end;
        } else {
          name = src[i + 1] ?? '';
          i++;
        }
        let negated = n === 'P';
        if (name.startsWith('^')) {
          negated = !negated;
          name = name.slice(1);
        }
        out += unicodeClass(name, negated);
        canRepeat = true;
        continue;
      }
      if (/[1-9]/.test(n)) return fail(`invalid escape sequence: \`\\${n}\``);
      if (/[dDwWsSbBnrtfv0x]/.test(n) || (n === 'a' && !inClass)) {
        out += n === 'a' ? '\\x07' : `\\${n}`;
        canRepeat = n !== 'b' && n !== 'B';
        continue;
      }
      if (/[A-Za-z0-9]/.test(n)) return fail(`invalid escape sequence: \`\\${n}\``);
      out += escapeLiteral(n, inClass);
      canRepeat = true;
      continue;
    }
    if (inClass) {
      if (c === '[' && src[i + 1] === ':') {
        const end = src.indexOf(':]', i + 2);
        if (end > 0) {
          let name = src.slice(i + 2, end);
          const neg = name.startsWith('^');
          if (neg) name = name.slice(1);
          const ranges = POSIX[name];
          if (ranges === undefined)
            return fail(`invalid character class range: \`${src.slice(i, end + 2)}\``);
          // A negated POSIX class inside a bracket has no JS spelling short of set operations.
          if (neg) return fail(`invalid character class range: \`${src.slice(i, end + 2)}\``);
          out += ranges;
          i = end + 1;
          classStart = false;
          continue;
        }
      }
      if (c === ']' && !classStart) {
        inClass = false;
        out += ']';
        canRepeat = true;
        continue;
      }
      classStart = false;
      out += c === '[' || c === ']' || c === '/' ? `\\${c}` : c;
      continue;
    }
    switch (c) {
      case '[': {
        inClass = true;
        classStart = true;
        out += '[';
        if (src[i + 1] === '^') {
          out += '^';
          i++;
        }
        // A ']' first in a class is a literal in RE2.
        if (src[i + 1] === ']') {
          out += '\\]';
          i++;
          classStart = false;
        }
        continue;
      }
      case '(': {
        if (src[i + 1] === '?') {
          const rest = src.slice(i + 2);
          if (rest.startsWith('P<')) {
            out += '(?<';
            i += 3;
          } else if (rest.startsWith(':')) {
            out += '(?:';
            i += 2;
          } else if (rest.startsWith('<') && !rest.startsWith('<=') && !rest.startsWith('<!')) {
            out += '(?<';
            i += 2;
          } else {
            const m = /^([imsU-]*)(:|\))/.exec(rest);
            if (m === null) {
              const shown = src.slice(i, i + 3 + (rest.startsWith('<') ? 1 : 0));
              return fail(`invalid or unsupported Perl syntax: \`${shown}\``);
            }
            for (const f of m[1] ?? '') if (f !== 'U' && f !== '-' && !flags.includes(f)) flags += f;
            if (m[2] === ')') {
              i += 1 + m[0].length;
              canRepeat = false;
              continue;
            }
            out += '(?:';
            i += 1 + m[0].length;
          }
        } else {
          out += '(';
        }
        depth++;
        canRepeat = false;
        continue;
      }
      case ')':
        if (depth === 0) return fail(`unexpected ): \`${pattern}\``);
        depth--;
        out += ')';
        canRepeat = true;
        continue;
      case '|':
        out += '|';
        canRepeat = false;
        continue;
      case '*':
      case '+':
      case '?': {
        if (!canRepeat) return fail(`missing argument to repetition operator: \`${c}\``);
        out += c;
        // A lazy suffix belongs to this operator; a second operator is an error in RE2.
        if (src[i + 1] === '?') {
          out += '?';
          i++;
        }
        const next = src[i + 1];
        if (next === '*' || next === '+' || next === '?')
          return fail(`invalid nested repetition operator: \`${c}${next}\``);
        canRepeat = false;
        continue;
      }
      case '{': {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
        if (m === null) {
          out += '\\{';
          canRepeat = true;
          continue;
        }
        if (!canRepeat) return fail(`missing argument to repetition operator: \`${m[0]}\``);
        const lo = Number(m[1]);
        const hi = m[3] === undefined || m[3] === '' ? lo : Number(m[3]);
        if (lo > 1000 || hi > 1000 || (m[3] !== undefined && m[3] !== '' && hi < lo))
          return fail(`invalid repeat count: \`${m[0]}\``);
        out += m[0];
        i += m[0].length - 1;
        if (src[i + 1] === '?') {
          out += '?';
          i++;
        }
        canRepeat = false;
        continue;
      }
      case '}':
        out += '\\}';
        canRepeat = true;
        continue;
      case '^':
      case '$':
        out += c;
        canRepeat = false;
        continue;
      case '/':
        out += '\\/';
        canRepeat = true;
        continue;
      default:
        out += c;
        canRepeat = true;
    }
  }
  if (inClass) return fail(`missing closing ]: \`${src.slice(src.lastIndexOf('['))}\``);
  if (depth > 0) return fail(`missing closing ): \`${pattern}\``);
  try {
    return { ok: true, re: new RegExp(out, flags) };
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
}
