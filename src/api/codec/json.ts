// JSON request bodies. The fast path is V8's JSON.parse; a hand-written scanner runs when
// that fails (to report the error as Go's encoding/json words it, with a position) and when
// a document repeats a key (strict field validation reports `duplicate field "x"`).
// Both enforce a nesting limit (with Go's "exceeded max depth" wording) and reject invalid
// UTF-8 in byte input.
import { badRequest, StatusError } from '../../machinery/status-error.js';
import { countParsedKeys, countTextKeys, TOO_DEEP } from './json-key-count.js';

/**
 * A JSON syntax error: a 400 whose `goMessage` is the bare text Go's encoding/json gives
 * (`unexpected end of JSON input`), which the API server embeds in upstream's decode errors.
 */
export class JSONSyntaxError extends StatusError {
  constructor(
    message: string,
    readonly goMessage: string,
  ) {
    super({ reason: 'BadRequest', code: 400, message });
  }
}

/**
 * The nesting limit. Upstream's encoding/json allows 10,000 levels, but V8's own recursive
 * JSON.stringify and structuredClone overflow the stack between 1,000 and 5,000 levels, so a
 * document accepted at upstream's depth could not be stored or echoed (a 500); no real API
 * object comes near 1,000.
 */
export const MAX_JSON_DEPTH = 1000;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 bytes strictly; invalid sequences are a 400 with the byte offset. */
export function decodeUTF8(bytes: Uint8Array, what = 'request body'): string {
  try {
    return utf8.decode(bytes);
  } catch {
    let offset = 0;
    try {
      // Narrow down the first bad byte for the message (rare path).
      let lo = 0;
      let hi = bytes.length;
      while (hi - lo > 1) {
        const mid = (lo + hi) >>> 1;
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
          lo = mid;
        } catch {
          hi = mid;
        }
      }
      offset = lo;
    } catch {
      offset = 0;
    }
    throw badRequest(`error decoding ${what}: invalid UTF-8 at byte offset ${offset}`);
  }
}

/** Parses a JSON value of any kind (objects, arrays, scalars). */
export function parseJSONValue(input: Uint8Array | string): unknown {
  const text = typeof input === 'string' ? input : decodeUTF8(input);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    // Re-scan only to word the error as Go does; the scanner recurses, so a pathologically
    // deep document may exhaust the stack first, and then V8's own message is reported.
    try {
      new JSONScanner(text, false).parseDocument();
    } catch (scanError) {
      if (!(scanError instanceof RangeError)) throw scanError;
    }
    const why = e instanceof Error ? e.message : String(e);
    throw new JSONSyntaxError(`error decoding JSON: ${why}`, why);
  }
  // A document shorter than the limit cannot nest deeper than it.
  if (text.length > MAX_JSON_DEPTH) checkDepth(text);
  return value;
}

/** Parses a JSON body that must be an object (an API object, a patch, options). */
export function decodeJSON(input: Uint8Array | string): Record<string, unknown> {
  return requireObject(parseJSONValue(input));
}

/** The result of a duplicate-tracking parse. */
export interface JSONWithDuplicates {
  value: unknown;
  /** Paths of repeated keys as upstream's strict decoder names them: `spec.containers[0].name`. */
  duplicates: string[];
}

/**
 * Parses JSON and reports every repeated object key (the last occurrence wins, as in Go).
 * V8's JSON.parse does the parsing; key counts (json-key-count.ts) prove the usual case of
 * no duplicates, and only a document that has some (or fails to parse, for Go's wording of
 * the error) goes through the slower scanner.
 */
export function decodeJSONWithDuplicates(input: Uint8Array | string): JSONWithDuplicates {
  const text = typeof input === 'string' ? input : decodeUTF8(input);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return scanWithDuplicates(text);
  }
  if (typeof value !== 'object' || value === null) return { value, duplicates: [] };
  const parsedKeys = countParsedKeys(value, MAX_JSON_DEPTH);
  if (parsedKeys === TOO_DEEP) checkDepth(text);
  if (parsedKeys === countTextKeys(text)) return { value, duplicates: [] };
  return scanWithDuplicates(text);
}

// The exact path: the scanner names every duplicate and words syntax errors as Go does.
function scanWithDuplicates(text: string): JSONWithDuplicates {
  if (text.length > MAX_JSON_DEPTH) checkDepth(text);
  const scanner = new JSONScanner(text, true);
  try {
    const value = scanner.parseDocument();
    return { value, duplicates: scanner.duplicates };
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    // Too deep for the recursive scanner (yet within the nesting limit): decode without
    // duplicate tracking rather than fail a valid document.
    return { value: parseJSONValue(text), duplicates: [] };
  }
}

function requireObject(v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    const what = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
    throw badRequest(
      `error decoding JSON: json: cannot unmarshal ${what} into Go value of type map[string]interface {}`,
    );
  }
  return v as Record<string, unknown>;
}

function checkDepth(text: string): void {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // skip the string, honouring escapes
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) {
        throw syntaxError(text, i, `invalid character '${text[i]}' exceeded max depth`);
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

function lineCol(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

function syntaxError(text: string, offset: number, goMessage: string): JSONSyntaxError {
  return new JSONSyntaxError(
    `error decoding JSON at ${lineCol(text, offset)} (offset ${offset}): ${goMessage}`,
    goMessage,
  );
}

// Go's quoteChar: the offending character in single quotes, escaped like strconv.Quote.
function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return `'"'`;
  const q = JSON.stringify(c);
  return `'${q.slice(1, -1)}'`;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** A recursive-descent JSON parser with Go-worded errors, depth limit and duplicate tracking. */
class JSONScanner {
  private i = 0;
  private depth = 0;
  readonly duplicates: string[] = [];
  private readonly path: string[] = [];

  constructor(
    private readonly s: string,
    private readonly trackDuplicates: boolean,
  ) {}

  parseDocument(): unknown {
    this.ws();
    const v = this.value();
    this.ws();
    if (this.i < this.s.length) this.fail(`invalid character ${this.q()} after top-level value`);
    return v;
  }

  private q(): string {
    const cp = this.s.codePointAt(this.i) as number;
    return quoteChar(String.fromCodePoint(cp));
  }

  private fail(msg: string): never {
    throw syntaxError(this.s, this.i, msg);
  }

  private eof(): never {
    throw syntaxError(this.s, this.i, 'unexpected end of JSON input');
  }

  private ws(): void {
    while (this.i < this.s.length && WS.has(this.s.charCodeAt(this.i))) this.i++;
  }

  private value(): unknown {
    if (this.i >= this.s.length) this.eof();
    const c = this.s[this.i];
    switch (c) {
      case '{':
        return this.object();
      case '[':
        return this.array();
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
        this.fail(`invalid character ${this.q()} looking for beginning of value`);
    }
  }

  private enter(): void {
    if (++this.depth > MAX_JSON_DEPTH) this.fail(`invalid character ${this.q()} exceeded max depth`);
  }

  private object(): Record<string, unknown> {
    this.enter();
    this.i++;
    const out: Record<string, unknown> = {};
    const seen = this.trackDuplicates ? new Set<string>() : undefined;
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      this.depth--;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.i >= this.s.length) this.eof();
      if (this.s[this.i] !== '"')
        this.fail(`invalid character ${this.q()} looking for beginning of object key string`);
      const key = this.string();
      this.ws();
      if (this.i >= this.s.length) this.eof();
      if (this.s[this.i] !== ':') this.fail(`invalid character ${this.q()} after object key`);
      this.i++;
      this.ws();
      if (seen) {
        if (seen.has(key)) this.duplicates.push(this.pathWith(key));
        else seen.add(key);
        this.path.push(key);
      }
      const v = this.value();
      if (seen) this.path.pop();
      if (key === '__proto__')
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.ws();
      if (this.i >= this.s.length) this.eof();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === '}') {
        this.i++;
        this.depth--;
        return out;
      }
      this.fail(`invalid character ${this.q()} after object key:value pair`);
    }
  }

  private pathWith(key: string): string {
    let p = '';
    for (const seg of this.path) p += seg.startsWith('[') ? seg : p === '' ? seg : `.${seg}`;
    return p === '' ? key : `${p}.${key}`;
  }

  private array(): unknown[] {
    this.enter();
    this.i++;
    const out: unknown[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      this.depth--;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.trackDuplicates) this.path.push(`[${out.length}]`);
      out.push(this.value());
      if (this.trackDuplicates) this.path.pop();
      this.ws();
      if (this.i >= this.s.length) this.eof();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === ']') {
        this.i++;
        this.depth--;
        return out;
      }
      this.fail(`invalid character ${this.q()} after array element`);
    }
  }

  private literal<T>(word: string, v: T): T {
    for (let k = 0; k < word.length; k++) {
      if (this.i >= this.s.length) this.eof();
      if (this.s[this.i] !== word[k]) {
        this.fail(
          `invalid character ${this.q()} in literal ${word} (expecting ${quoteChar(word[k] as string)})`,
        );
      }
      this.i++;
    }
    return v;
  }

  private number(): number {
    const s = this.s;
    const start = this.i;
    const digit = (): boolean => {
      const c = s.charCodeAt(this.i);
      return c >= 0x30 && c <= 0x39;
    };
    if (s[this.i] === '-') {
      this.i++;
      if (this.i >= s.length) this.eof();
      if (!digit()) this.fail(`invalid character ${this.q()} in numeric literal`);
    }
    if (s[this.i] === '0') this.i++;
    else while (digit()) this.i++;
    if (s[this.i] === '.') {
      this.i++;
      if (this.i >= s.length) this.eof();
      if (!digit()) this.fail(`invalid character ${this.q()} after decimal point in numeric literal`);
      while (digit()) this.i++;
    }
    if (s[this.i] === 'e' || s[this.i] === 'E') {
      this.i++;
      if (s[this.i] === '+' || s[this.i] === '-') this.i++;
      if (this.i >= s.length) this.eof();
      if (!digit()) this.fail(`invalid character ${this.q()} in exponent of numeric literal`);
      while (digit()) this.i++;
    }
    return Number(s.slice(start, this.i));
  }

  private string(): string {
    const s = this.s;
    this.i++;
    let out = '';
    let chunk = this.i;
    for (;;) {
      if (this.i >= s.length) this.eof();
      const c = s.charCodeAt(this.i);
      if (c === 0x22) {
        out += s.slice(chunk, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) this.fail(`invalid character ${this.q()} in string literal`);
      if (c !== 0x5c) {
        this.i++;
        continue;
      }
      out += s.slice(chunk, this.i);
      this.i++;
      if (this.i >= s.length) this.eof();
      const e = s[this.i] as string;
      const mapped = SIMPLE_ESCAPES[e];
      if (mapped !== undefined) {
        out += mapped;
        this.i++;
      } else if (e === 'u') {
        this.i++;
        let code = 0;
        for (let k = 0; k < 4; k++) {
          if (this.i >= s.length) this.eof();
          const h = Number.parseInt(s[this.i] as string, 16);
          if (Number.isNaN(h)) this.fail(`invalid character ${this.q()} in \\u hexadecimal character escape`);
          code = code * 16 + h;
          this.i++;
        }
        out += String.fromCharCode(code);
      } else {
        this.fail(`invalid character ${this.q()} in string escape code`);
      }
      chunk = this.i;
    }
  }
}
