// The CEL lexer: numbers (decimal and hex ints, `u` unsigned suffix, doubles with fraction
// or exponent), strings and bytes in every quoting CEL has (single, double, triple, raw
// `r` prefix, `b` prefix) with CEL's escapes (\a \b \f \n \r \t \v \\ \' \" \` \?, octal,
// \x, \u, \U), identifiers, punctuation and `//` comments. Offsets are code-point indexes
// into the source, the unit cel-go's error columns count in.
import type { Issue } from './ast.js';

/** Words CEL's grammar reserves for the future: never identifiers. */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([
  'as',
  'break',
  'const',
  'continue',
  'else',
  'for',
  'function',
  'if',
  'import',
  'let',
  'loop',
  'package',
  'namespace',
  'return',
  'var',
  'void',
  'while',
]);

/** One token. */
export interface Token {
  t: 'int' | 'uint' | 'double' | 'string' | 'bytes' | 'ident' | 'op' | 'eof';
  /** The source text (for punctuation, the operator itself). */
  text: string;
  pos: number;
  int?: bigint;
  double?: number;
  str?: string;
  bytes?: Uint8Array;
}

const OPS = [
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '!',
  '?',
  ':',
  '.',
  ',',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
];

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);
const isIdentStart = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z_]$/.test(c);
const isIdentPart = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z0-9_]$/.test(c);

const UINT64_MAX = 2n ** 64n - 1n;

/** Tokenizes src; lexical errors are pushed to issues (cel-go's "token recognition error"). */
export function tokenize(src: string, issues: Issue[]): Token[] {
  const cs = [...src];
  const out: Token[] = [];
  let i = 0;
  while (i < cs.length) {
    const c = cs[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    if (c === '/' && cs[i + 1] === '/') {
      while (i < cs.length && cs[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (isDigit(c) || (c === '.' && isDigit(cs[i + 1]))) {
      i = lexNumber(cs, i, out, issues);
      continue;
    }
    // String prefixes: r, R, b, B and their pairs.
    let j = i;
    let raw = false;
    let bytes = false;
    while (j < cs.length && j - i < 2 && /^[rRbB]$/.test(cs[j]!)) {
      if (cs[j] === 'r' || cs[j] === 'R') raw = true;
      else bytes = true;
      j++;
    }
    if ((cs[j] === '"' || cs[j] === "'") && (j - i <= 1 || (raw && bytes))) {
      const end = lexString(cs, j, raw, bytes, start, out, issues);
      if (end >= 0) {
        i = end;
        continue;
      }
      return out;
    }
    if (isIdentStart(c)) {
      while (isIdentPart(cs[i])) i++;
      out.push({ t: 'ident', text: cs.slice(start, i).join(''), pos: start });
      continue;
    }
    const two = c + (cs[i + 1] ?? '');
    const op = OPS.includes(two) ? two : OPS.includes(c) ? c : undefined;
    if (op !== undefined) {
      out.push({ t: 'op', text: op, pos: start });
      i += op.length;
      continue;
    }
    issues.push({ pos: start, message: `Syntax error: token recognition error at: '${c}'` });
    i++;
  }
  out.push({ t: 'eof', text: '<EOF>', pos: cs.length });
  return out;
}

function lexNumber(cs: string[], i: number, out: Token[], issues: Issue[]): number {
  const start = i;
  if (cs[i] === '0' && (cs[i + 1] === 'x' || cs[i + 1] === 'X') && isHex(cs[i + 2])) {
    i += 2;
    while (isHex(cs[i])) i++;
    const text = cs.slice(start, i).join('');
    const v = BigInt(text);
    return pushInt(cs, i, start, text, v, out, issues);
  }
  while (isDigit(cs[i])) i++;
  let isDouble = false;
  if (cs[i] === '.' && isDigit(cs[i + 1])) {
    isDouble = true;
    i++;
    while (isDigit(cs[i])) i++;
  }
  if (
    (cs[i] === 'e' || cs[i] === 'E') &&
    (isDigit(cs[i + 1]) || ((cs[i + 1] === '+' || cs[i + 1] === '-') && isDigit(cs[i + 2])))
  ) {
    isDouble = true;
    i += 2;
    while (isDigit(cs[i])) i++;
  }
  const text = cs.slice(start, i).join('');
  if (isDouble) {
    out.push({ t: 'double', text, pos: start, double: Number(text) });
    return i;
  }
  return pushInt(cs, i, start, text, BigInt(text), out, issues);
}

function pushInt(
  cs: string[],
  i: number,
  start: number,
  text: string,
  v: bigint,
  out: Token[],
  issues: Issue[],
): number {
  if (cs[i] === 'u' || cs[i] === 'U') {
    if (v > UINT64_MAX) issues.push({ pos: start, message: 'invalid uint literal' });
    out.push({ t: 'uint', text: `${text}${cs[i]}`, pos: start, int: v });
    return i + 1;
  }
  // Range is checked by the parser: -9223372036854775808 is valid only with its sign.
  out.push({ t: 'int', text, pos: start, int: v });
  return i;
}

const ESCAPES: Readonly<Record<string, string>> = {
  a: '\u0007',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\u000b',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '`': '`',
  '?': '?',
};

function lexString(
  cs: string[],
  q: number,
  raw: boolean,
  bytes: boolean,
  start: number,
  out: Token[],
  issues: Issue[],
): number {
  const quote = cs[q]!;
  const triple = cs[q + 1] === quote && cs[q + 2] === quote;
  let i = triple ? q + 3 : q + 1;
  const units: Array<string | number> = [];
  for (;;) {
    if (i >= cs.length || (!triple && (cs[i] === '\n' || cs[i] === '\r'))) {
      issues.push({
        pos: start,
        message: `Syntax error: token recognition error at: '${cs.slice(start, i).join('')}'`,
      });
      return -1;
    }
    if (triple ? cs[i] === quote && cs[i + 1] === quote && cs[i + 2] === quote : cs[i] === quote) {
      i += triple ? 3 : 1;
      break;
    }
    const c = cs[i]!;
    if (c === '\\' && !raw) {
      const e = cs[i + 1];
      if (e !== undefined && ESCAPES[e] !== undefined) {
        units.push(ESCAPES[e]);
        i += 2;
        continue;
      }
      if (
        e !== undefined &&
        /^[0-3]$/.test(e) &&
        /^[0-7]$/.test(cs[i + 2] ?? '') &&
        /^[0-7]$/.test(cs[i + 3] ?? '')
      ) {
        const n = Number.parseInt(cs.slice(i + 1, i + 4).join(''), 8);
        units.push(bytes ? n : String.fromCodePoint(n));
        i += 4;
        continue;
      }
      const hexLen = e === 'x' || e === 'X' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
      const hex = cs.slice(i + 2, i + 2 + hexLen).join('');
      if (hexLen > 0 && hex.length === hexLen && /^[0-9a-fA-F]+$/.test(hex)) {
        const n = Number.parseInt(hex, 16);
        if (hexLen === 2 && bytes) units.push(n);
        else if (n > 0x10ffff || (n >= 0xd800 && n < 0xe000)) {
          issues.push({ pos: start, message: 'Syntax error: invalid unicode code point' });
          return -1;
        } else units.push(String.fromCodePoint(n));
        i += 2 + hexLen;
        continue;
      }
      issues.push({
        pos: start,
        message: `Syntax error: token recognition error at: '${cs.slice(start, i + 2).join('')}'`,
      });
      return -1;
    }
    units.push(c);
    i++;
  }
  const text = cs.slice(start, i).join('');
  if (bytes) {
    const enc = new TextEncoder();
    const parts: number[] = [];
    for (const u of units) {
      if (typeof u === 'number') parts.push(u);
      else parts.push(...enc.encode(u));
    }
    out.push({ t: 'bytes', text, pos: start, bytes: Uint8Array.from(parts) });
  } else {
    out.push({ t: 'string', text, pos: start, str: units.join('') });
  }
  return i;
}
