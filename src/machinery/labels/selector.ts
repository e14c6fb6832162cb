// Label selectors as upstream's k8s.io/apimachinery/pkg/labels: the string syntax that
// `kubectl -l` and `?labelSelector=` carry, the Requirement model and matching. Parsing
// follows upstream's lexer and parser token by token so that the same inputs are accepted
// and rejected with the same messages; the canonical string sorts requirements by key.

import { isQualifiedName, isValidLabelValue } from '../validation/names.js';

/** A set of labels (metadata.labels). */
export type Labels = Record<string, string>;

/** selection.Operator values, spelled as upstream. */
export type Operator = '!' | '=' | '==' | 'in' | '!=' | 'notin' | 'exists' | 'gt' | 'lt';

const BINARY_OPERATORS: readonly Operator[] = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];
const VALID_OPERATORS: readonly Operator[] = [...BINARY_OPERATORS, 'exists', '!'];

/** A label selector failed to parse or validate; the message is upstream's. */
export class SelectorParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorParseError';
  }
}

// Upstream renders field errors with Go's %q / %#v; only strings and string lists occur here.
function goQuote(s: string): string {
  return JSON.stringify(s);
}

function goStringSlice(v: readonly string[]): string {
  return `[]string{${v.map(goQuote).join(', ')}}`;
}

function fieldPath(base: string | undefined, child: string): string {
  return base === undefined || base === '' ? child : `${base}.${child}`;
}

// An aggregate of several errors prints as `[a, b]` with duplicates dropped, one error bare.
function aggregate(msgs: string[]): string | undefined {
  if (msgs.length === 0) return undefined;
  if (msgs.length === 1) return msgs[0];
  return `[${[...new Set(msgs)].join(', ')}]`;
}

/** Parses a base-10 int64 as Go's strconv.ParseInt does (optional sign, digits only). */
export function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = BigInt(s);
  if (v > 9223372036854775807n || v < -9223372036854775808n) return undefined;
  return v;
}

/** The error for an invalid label key at path (`<nil>` when the caller gave no path). */
function labelKeyError(key: string, path: string | undefined): string | undefined {
  const errs = isQualifiedName(key);
  if (errs.length === 0) return undefined;
  return `${path ?? '<nil>'}: Invalid value: ${goQuote(key)}: ${errs.join('; ')}`;
}

/** One requirement of a selector: key, operator and (for binary operators) values. */
export class Requirement {
  readonly key: string;
  readonly operator: Operator;
  readonly values: readonly string[];

  private constructor(key: string, operator: Operator, values: readonly string[]) {
    this.key = key;
    this.operator = operator;
    this.values = values;
  }

  /**
   * Validates and builds a requirement as upstream's NewRequirement; throws
   * SelectorParseError with upstream's aggregated field-error message.
   */
  static create(key: string, operator: Operator, values: readonly string[], path?: string): Requirement {
    const errs: string[] = [];
    const keyErr = labelKeyError(key, fieldPath(path, 'key'));
    if (keyErr !== undefined) errs.push(keyErr);
    const valuePath = fieldPath(path, 'values');
    switch (operator) {
      case 'in':
      case 'notin':
        if (values.length === 0) {
          errs.push(
            `${valuePath}: Invalid value: ${goStringSlice(values)}: for 'in', 'notin' operators, values set can't be empty`,
          );
        }
        break;
      case '=':
      case '==':
      case '!=':
        if (values.length !== 1) {
          errs.push(
            `${valuePath}: Invalid value: ${goStringSlice(values)}: exact-match compatibility requires one single value`,
          );
        }
        break;
      case 'exists':
      case '!':
        if (values.length !== 0) {
          errs.push(
            `${valuePath}: Invalid value: ${goStringSlice(values)}: values set must be empty for exists and does not exist`,
          );
        }
        break;
      case 'gt':
      case 'lt':
        if (values.length !== 1) {
          errs.push(
            `${valuePath}: Invalid value: ${goStringSlice(values)}: for 'Gt', 'Lt' operators, exactly one value is required`,
          );
        }
        values.forEach((v, i) => {
          if (parseInt64(v) === undefined) {
            errs.push(
              `${valuePath}[${i}]: Invalid value: ${goQuote(v)}: for 'Gt', 'Lt' operators, the value must be an integer`,
            );
          }
        });
        break;
      default: {
        const supported = VALID_OPERATORS.map(goQuote).join(', ');
        errs.push(
          `${fieldPath(path, 'operator')}: Unsupported value: ${goQuote(String(operator))}: supported values: ${supported}`,
        );
      }
    }
    values.forEach((v, i) => {
      const msgs = isValidLabelValue(v);
      if (msgs.length > 0) {
        errs.push(`${valuePath}[${i}][${key}]: Invalid value: ${goQuote(v)}: ${msgs.join('; ')}`);
      }
    });
    const msg = aggregate(errs);
    if (msg !== undefined) throw new SelectorParseError(msg);
    return new Requirement(key, operator, [...values]);
  }

  /** Builds a requirement without validation (upstream's pre-validated set selectors). */
  static unchecked(key: string, operator: Operator, values: readonly string[]): Requirement {
    return new Requirement(key, operator, [...values]);
  }

  /** True when the labels satisfy this requirement. */
  matches(labels: Labels | undefined): boolean {
    const has = labels !== undefined && Object.hasOwn(labels, this.key);
    const value = has ? (labels as Labels)[this.key] : undefined;
    switch (this.operator) {
      case 'in':
      case '=':
      case '==':
        return has && this.values.includes(value as string);
      case 'notin':
      case '!=':
        return !has || !this.values.includes(value as string);
      case 'exists':
        return has;
      case '!':
        return !has;
      case 'gt':
      case 'lt': {
        if (!has) return false;
        const lv = parseInt64(value as string);
        if (lv === undefined || this.values.length !== 1) return false;
        const rv = parseInt64(this.values[0] as string);
        if (rv === undefined) return false;
        return this.operator === 'gt' ? lv > rv : lv < rv;
      }
      default:
        return false;
    }
  }

  /** The values in sorted order (upstream's Values() set). */
  sortedValues(): string[] {
    return [...new Set(this.values)].sort(compareStrings);
  }

  /** Upstream's Requirement.String(): `a=b`, `a in (x,y)`, `!a`, `a>1`. */
  toString(): string {
    let s = this.operator === '!' ? '!' : '';
    s += this.key;
    switch (this.operator) {
      case '=':
        s += '=';
        break;
      case '==':
        s += '==';
        break;
      case '!=':
        s += '!=';
        break;
      case 'in':
        s += ' in ';
        break;
      case 'notin':
        s += ' notin ';
        break;
      case 'gt':
        s += '>';
        break;
      case 'lt':
        s += '<';
        break;
      case 'exists':
      case '!':
        return s;
    }
    const vals = this.values.length === 1 ? (this.values[0] as string) : sortedCopy(this.values).join(',');
    if (this.operator === 'in' || this.operator === 'notin') return `${s}(${vals})`;
    return s + vals;
  }

  /** True when both requirements have the same key, operator and values (in order). */
  equals(other: Requirement): boolean {
    return (
      this.key === other.key &&
      this.operator === other.operator &&
      this.values.length === other.values.length &&
      this.values.every((v, i) => v === other.values[i])
    );
  }
}

/** Byte-wise string order, as Go's sort.Strings. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function sortedCopy(values: readonly string[]): string[] {
  return [...values].sort(compareStrings);
}

function sortByKey(reqs: Requirement[]): Requirement[] {
  // Go's sort.Sort is not stable, but requirements with equal keys keep their order here;
  // the canonical string is the same whenever upstream's is deterministic.
  return reqs.sort((a, b) => compareStrings(a.key, b.key));
}

/** A label selector (upstream's labels.Selector). */
export interface Selector {
  /** True when the labels satisfy every requirement. */
  matches(labels: Labels | undefined): boolean;
  /** True for the selector that matches everything. */
  empty(): boolean;
  /** True for the selector that matches nothing (a nil metav1.LabelSelector). */
  matchesNothing(): boolean;
  /** Canonical form: requirements sorted by key, joined by ','. */
  toString(): string;
  /** The requirements, sorted by key. */
  requirements(): readonly Requirement[];
  /** A new selector with more requirements. */
  add(...reqs: Requirement[]): Selector;
  /** The value a label must have exactly (`k=v`, `k==v`, `k in (v)`), if the selector says so. */
  requiresExactMatch(label: string): string | undefined;
}

class InternalSelector implements Selector {
  constructor(private readonly reqs: readonly Requirement[]) {}

  matches(labels: Labels | undefined): boolean {
    return this.reqs.every((r) => r.matches(labels));
  }

  empty(): boolean {
    return this.reqs.length === 0;
  }

  matchesNothing(): boolean {
    return false;
  }

  toString(): string {
    return this.reqs.map((r) => r.toString()).join(',');
  }

  requirements(): readonly Requirement[] {
    return this.reqs;
  }

  add(...reqs: Requirement[]): Selector {
    return new InternalSelector(sortByKey([...this.reqs, ...reqs]));
  }

  requiresExactMatch(label: string): string | undefined {
    const r = this.reqs.find((x) => x.key === label);
    if (r === undefined) return undefined;
    if ((r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) {
      return r.values[0];
    }
    return undefined;
  }
}

class NothingSelector implements Selector {
  matches(): boolean {
    return false;
  }
  empty(): boolean {
    return false;
  }
  matchesNothing(): boolean {
    return true;
  }
  toString(): string {
    return '';
  }
  requirements(): readonly Requirement[] {
    return [];
  }
  add(): Selector {
    return this;
  }
  requiresExactMatch(): string | undefined {
    return undefined;
  }
}

const EVERYTHING: Selector = new InternalSelector([]);
const NOTHING: Selector = new NothingSelector();

/** The selector that matches every object. */
export function everything(): Selector {
  return EVERYTHING;
}

/** The selector that matches no object. */
export function nothing(): Selector {
  return NOTHING;
}

/** A selector from requirements (sorted by key). */
export function newSelector(...reqs: Requirement[]): Selector {
  return new InternalSelector(sortByKey([...reqs]));
}

/** A selector requiring every label of the set (`k=v` each); an empty set selects everything. */
export function selectorFromSet(set: Labels | undefined | null): Selector {
  if (set === undefined || set === null) return EVERYTHING;
  const reqs = Object.entries(set).map(([k, v]) => Requirement.unchecked(k, '=', [v]));
  return new InternalSelector(sortByKey(reqs));
}

/** Like selectorFromSet, but validates keys and values; throws SelectorParseError. */
export function validatedSelectorFromSet(set: Labels | undefined | null): Selector {
  if (set === undefined || set === null) return EVERYTHING;
  const reqs = Object.entries(set).map(([k, v]) => Requirement.create(k, '=', [v]));
  return new InternalSelector(sortByKey(reqs));
}

// ---- lexer and parser (same tokens, lookahead and messages as upstream) ----

enum Token {
  Error,
  EndOfString,
  ClosedPar,
  Comma,
  DoesNotExist,
  DoubleEquals,
  Equals,
  GreaterThan,
  Identifier,
  In,
  LessThan,
  NotEquals,
  NotIn,
  OpenPar,
}

const STRING_TO_TOKEN: ReadonlyMap<string, Token> = new Map([
  [')', Token.ClosedPar],
  [',', Token.Comma],
  ['!', Token.DoesNotExist],
  ['==', Token.DoubleEquals],
  ['=', Token.Equals],
  ['>', Token.GreaterThan],
  ['in', Token.In],
  ['<', Token.LessThan],
  ['!=', Token.NotEquals],
  ['notin', Token.NotIn],
  ['(', Token.OpenPar],
]);

interface Item {
  tok: Token;
  lit: string;
}

function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

function isSpecialSymbol(ch: string): boolean {
  return '=!(),><'.includes(ch) && ch.length === 1;
}

function lex(s: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isWhitespace(s[pos] as string)) pos++;
    if (pos >= s.length) {
      items.push({ tok: Token.EndOfString, lit: '' });
      return items;
    }
    const ch = s[pos] as string;
    if (isSpecialSymbol(ch)) {
      // Longest run of special symbols that still forms a token.
      let buffer = '';
      let last: Item | undefined;
      while (pos < s.length && isSpecialSymbol(s[pos] as string)) {
        buffer += s[pos];
        const tok = STRING_TO_TOKEN.get(buffer);
        if (tok !== undefined) {
          last = { tok, lit: buffer };
          pos++;
        } else if (last !== undefined) {
          break;
        } else {
          pos++;
        }
      }
      items.push(last ?? { tok: Token.Error, lit: `error expected: keyword found '${buffer}'` });
    } else {
      let buffer = '';
      while (pos < s.length && !isSpecialSymbol(s[pos] as string) && !isWhitespace(s[pos] as string)) {
        buffer += s[pos];
        pos++;
      }
      items.push({ tok: STRING_TO_TOKEN.get(buffer) ?? Token.Identifier, lit: buffer });
    }
  }
}

// In the Values context the keywords `in` and `notin` are plain identifiers.
type Context = 'keyAndOperator' | 'values';

class Parser {
  private position = 0;
  constructor(
    private readonly items: Item[],
    private readonly path: string | undefined,
  ) {}

  private lookahead(ctx: Context): Item {
    const it = this.items[this.position] as Item;
    if (ctx === 'values' && (it.tok === Token.In || it.tok === Token.NotIn))
      return { tok: Token.Identifier, lit: it.lit };
    return it;
  }

  private consume(ctx: Context): Item {
    const it = this.lookahead(ctx);
    this.position++;
    return it;
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    for (;;) {
      const { tok, lit } = this.lookahead('values');
      if (tok === Token.Identifier || tok === Token.DoesNotExist) {
        let r: Requirement;
        try {
          r = this.parseRequirement();
        } catch (e) {
          throw new SelectorParseError(`unable to parse requirement: ${(e as Error).message}`);
        }
        reqs.push(r);
        const t = this.consume('values');
        if (t.tok === Token.EndOfString) return reqs;
        if (t.tok === Token.Comma) {
          const t2 = this.lookahead('values');
          if (t2.tok !== Token.Identifier && t2.tok !== Token.DoesNotExist) {
            throw new SelectorParseError(`found '${t2.lit}', expected: identifier after ','`);
          }
        } else {
          throw new SelectorParseError(`found '${t.lit}', expected: ',' or 'end of string'`);
        }
      } else if (tok === Token.EndOfString) {
        return reqs;
      } else {
        throw new SelectorParseError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
    }
  }

  private parseRequirement(): Requirement {
    const [key, inferred] = this.parseKeyAndInferOperator();
    if (inferred === 'exists' || inferred === '!') return Requirement.create(key, inferred, [], this.path);
    const op = this.parseOperator();
    const values = op === 'in' || op === 'notin' ? this.parseValues() : this.parseExactValue();
    return Requirement.create(key, op, [...values].sort(compareStrings), this.path);
  }

  private parseKeyAndInferOperator(): [string, Operator | undefined] {
    let op: Operator | undefined;
    let it = this.consume('values');
    if (it.tok === Token.DoesNotExist) {
      op = '!';
      it = this.consume('values');
    }
    if (it.tok !== Token.Identifier) throw new Error(`found '${it.lit}', expected: identifier`);
    const keyErr = labelKeyError(it.lit, this.path);
    if (keyErr !== undefined) throw new Error(keyErr);
    const next = this.lookahead('values').tok;
    if ((next === Token.EndOfString || next === Token.Comma) && op !== '!') op = 'exists';
    return [it.lit, op];
  }

  private parseOperator(): Operator {
    const { tok, lit } = this.consume('keyAndOperator');
    switch (tok) {
      case Token.In:
        return 'in';
      case Token.Equals:
        return '=';
      case Token.DoubleEquals:
        return '==';
      case Token.GreaterThan:
        return 'gt';
      case Token.LessThan:
        return 'lt';
      case Token.NotIn:
        return 'notin';
      case Token.NotEquals:
        return '!=';
      default:
        throw new Error(`found '${lit}', expected: ${BINARY_OPERATORS.join(', ')}`);
    }
  }

  private parseValues(): Set<string> {
    const open = this.consume('values');
    if (open.tok !== Token.OpenPar) throw new Error(`found '${open.lit}' expected: '('`);
    const { tok, lit } = this.lookahead('values');
    switch (tok) {
      case Token.Identifier:
      case Token.Comma: {
        const s = this.parseIdentifiersList();
        if (this.consume('values').tok !== Token.ClosedPar) throw new Error(`found '${lit}', expected: ')'`);
        return s;
      }
      case Token.ClosedPar:
        this.consume('values');
        return new Set(['']);
      default:
        throw new Error(`found '${lit}', expected: ',', ')' or identifier`);
    }
  }

  private parseIdentifiersList(): Set<string> {
    const s = new Set<string>();
    for (;;) {
      const { tok, lit } = this.consume('values');
      if (tok === Token.Identifier) {
        s.add(lit);
        const next = this.lookahead('values');
        if (next.tok === Token.Comma) continue;
        if (next.tok === Token.ClosedPar) return s;
        throw new Error(`found '${next.lit}', expected: ',' or ')'`);
      }
      if (tok === Token.Comma) {
        // `(,a)`, `(a,)` and `(a,,b)` each contribute an empty value.
        if (s.size === 0) s.add('');
        const next = this.lookahead('values');
        if (next.tok === Token.ClosedPar) {
          s.add('');
          return s;
        }
        if (next.tok === Token.Comma) {
          this.consume('values');
          s.add('');
        }
        continue;
      }
      throw new Error(`found '${lit}', expected: ',', or identifier`);
    }
  }

  private parseExactValue(): Set<string> {
    const next = this.lookahead('values');
    if (next.tok === Token.EndOfString || next.tok === Token.Comma) return new Set(['']);
    const { tok, lit } = this.consume('values');
    if (tok === Token.Identifier) return new Set([lit]);
    throw new Error(`found '${lit}', expected: identifier`);
  }
}

/** Parses the requirements of a selector string, sorted by key; throws SelectorParseError. */
export function parseToRequirements(selector: string, path?: string): Requirement[] {
  return sortByKey(new Parser(lex(selector), path).parse());
}

/**
 * Parses a label selector string (`a=b,c in (x,y),!d`); the empty string selects
 * everything. Throws SelectorParseError with upstream's message.
 */
export function parseSelector(selector: string, path?: string): Selector {
  return new InternalSelector(parseToRequirements(selector, path));
}

/** `k1=v1,k2=v2` with keys sorted (upstream's labels.Set.String()). */
export function labelsToString(labels: Labels | undefined | null): string {
  if (labels === undefined || labels === null) return '';
  return Object.keys(labels)
    .sort(compareStrings)
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

/** Labels as kubectl shows them: `k=v,…`, or `<none>` when there are none. */
export function formatLabels(labels: Labels | undefined | null): string {
  const s = labelsToString(labels);
  return s === '' ? '<none>' : s;
}

/** True when both sets have a key with different values. */
export function labelsConflict(a: Labels, b: Labels): boolean {
  const [small, big] = Object.keys(a).length <= Object.keys(b).length ? [a, b] : [b, a];
  return Object.entries(small).some(([k, v]) => Object.hasOwn(big, k) && big[k] !== v);
}

/** A new set with b's labels layered over a's. */
export function mergeLabels(a: Labels | undefined, b: Labels | undefined): Labels {
  return { ...(a ?? {}), ...(b ?? {}) };
}

/** True when both sets hold the same labels. */
export function labelsEqual(a: Labels | undefined, b: Labels | undefined): boolean {
  const la = a ?? {};
  const lb = b ?? {};
  const ka = Object.keys(la);
  if (ka.length !== Object.keys(lb).length) return false;
  return ka.every((k) => Object.hasOwn(lb, k) && lb[k] === la[k]);
}

/**
 * Parses `k1=v1,k2=v2` into a label set (upstream's ConvertSelectorToLabelsMap); throws
 * `invalid selector: …` for a term without '='.
 */
export function convertSelectorToLabelsMap(selector: string): Labels {
  const out: Labels = {};
  if (selector === '') return out;
  for (const term of selector.split(',')) {
    const parts = term.split('=');
    // Go prints the split slice with %s: `[a b]`.
    if (parts.length !== 2) throw new SelectorParseError(`invalid selector: [${parts.join(' ')}]`);
    const key = (parts[0] as string).trim();
    const keyErr = labelKeyError(key, undefined);
    if (keyErr !== undefined) throw new SelectorParseError(keyErr);
    const value = (parts[1] as string).trim();
    const msgs = isValidLabelValue(value);
    if (msgs.length > 0) {
      throw new SelectorParseError(`[${key}]: Invalid value: ${goQuote(value)}: ${msgs.join('; ')}`);
    }
    out[key] = value;
  }
  return out;
}
