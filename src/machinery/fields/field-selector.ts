// Field selectors as upstream's k8s.io/apimachinery/pkg/fields: `a=b,c!=d,e==f` with
// backslash escaping of ',', '=' and '\' in values. The selector is generic: each resource
// supplies the map of selectable fields (metadata.name, spec.nodeName, …) it matches against,
// and `transform` lets a resource rewrite or reject field names before matching.

/** The selectable fields of one object: field path → value. */
export type Fields = Record<string, string>;

/** `=` (also written `==`) or `!=`. */
export type FieldOperator = '=' | '!=';

/** One term of a field selector. */
export interface FieldRequirement {
  field: string;
  operator: FieldOperator;
  value: string;
}

/** Rewrites a (field, value) pair; returning both empty drops the term. May throw. */
export type TransformFunc = (field: string, value: string) => [string, string];

/** A field selector failed to parse; the message is upstream's. */
export class FieldSelectorParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FieldSelectorParseError';
  }
}

/** A field selector (upstream's fields.Selector). */
export interface FieldSelector {
  /** True when the fields satisfy every term; a missing field reads as ''. */
  matches(fields: Fields): boolean;
  /** True when there is no term (matches everything). */
  empty(): boolean;
  /** The value a field must equal, if a `=` term says so. */
  requiresExactMatch(field: string): string | undefined;
  /** A new selector with every term passed through fn; terms mapped to ('','') vanish. */
  transform(fn: TransformFunc): FieldSelector;
  /** The terms in order. */
  requirements(): FieldRequirement[];
  /** `a=b,c!=d` with values escaped. */
  toString(): string;
}

/** Escapes '\', ',' and '=' in a value with a backslash. */
export function escapeValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** Reverses escapeValue; throws on an invalid escape or an unescaped ',' or '='. */
export function unescapeValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c === '\\' || c === ',' || c === '=') out += c;
      else throw new FieldSelectorParseError(`invalid field selector: invalid escape sequence: \\${c}`);
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    else if (c === ',' || c === '=') {
      // Go prints the rune with %v, i.e. as its code point number.
      throw new FieldSelectorParseError(
        `invalid field selector: unescaped character in value: ${c.codePointAt(0)}`,
      );
    } else out += c;
  }
  if (inSlash) throw new FieldSelectorParseError('invalid field selector: invalid escape sequence: \\');
  return out;
}

class TermSelector implements FieldSelector {
  constructor(private readonly req: FieldRequirement) {}

  matches(fields: Fields): boolean {
    const v = Object.hasOwn(fields, this.req.field) ? fields[this.req.field] : '';
    return this.req.operator === '=' ? v === this.req.value : v !== this.req.value;
  }

  empty(): boolean {
    return false;
  }

  requiresExactMatch(field: string): string | undefined {
    return this.req.operator === '=' && this.req.field === field ? this.req.value : undefined;
  }

  transform(fn: TransformFunc): FieldSelector {
    const [field, value] = fn(this.req.field, this.req.value);
    if (field === '' && value === '') return everything();
    return new TermSelector({ field, operator: this.req.operator, value });
  }

  requirements(): FieldRequirement[] {
    return [{ ...this.req }];
  }

  toString(): string {
    return `${this.req.field}${this.req.operator}${escapeValue(this.req.value)}`;
  }
}

class AndSelector implements FieldSelector {
  constructor(private readonly terms: readonly FieldSelector[]) {}

  matches(fields: Fields): boolean {
    return this.terms.every((t) => t.matches(fields));
  }

  empty(): boolean {
    return this.terms.every((t) => t.empty());
  }

  requiresExactMatch(field: string): string | undefined {
    for (const t of this.terms) {
      const v = t.requiresExactMatch(field);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  transform(fn: TransformFunc): FieldSelector {
    const next: FieldSelector[] = [];
    for (const t of this.terms) {
      const n = t.transform(fn);
      if (!n.empty()) next.push(n);
    }
    return new AndSelector(next);
  }

  requirements(): FieldRequirement[] {
    return this.terms.flatMap((t) => t.requirements());
  }

  toString(): string {
    return this.terms.map((t) => t.toString()).join(',');
  }
}

class NothingSelector implements FieldSelector {
  matches(): boolean {
    return false;
  }
  empty(): boolean {
    return false;
  }
  requiresExactMatch(): string | undefined {
    return undefined;
  }
  transform(): FieldSelector {
    return this;
  }
  requirements(): FieldRequirement[] {
    return [];
  }
  toString(): string {
    return '';
  }
}

/** The field selector that matches everything. */
export function everything(): FieldSelector {
  return new AndSelector([]);
}

/** The field selector that matches nothing. */
export function nothing(): FieldSelector {
  return new NothingSelector();
}

/** `field=value`. */
export function oneTermEqualSelector(field: string, value: string): FieldSelector {
  return new TermSelector({ field, operator: '=', value });
}

/** `field!=value`. */
export function oneTermNotEqualSelector(field: string, value: string): FieldSelector {
  return new TermSelector({ field, operator: '!=', value });
}

/** All of the selectors. */
export function andSelectors(...selectors: FieldSelector[]): FieldSelector {
  return new AndSelector(selectors);
}

/** A selector requiring every field of the set to equal its value. */
export function selectorFromSet(set: Fields | undefined | null): FieldSelector {
  if (set === undefined || set === null) return everything();
  const terms = Object.entries(set).map(
    ([field, value]) => new TermSelector({ field, operator: '=', value }),
  );
  return terms.length === 1 ? (terms[0] as FieldSelector) : new AndSelector(terms);
}

// Splits on commas that are not escaped.
function splitTerms(selector: string): string[] {
  if (selector === '') return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

const TERM_OPERATORS = ['!=', '==', '='] as const;

function splitTerm(term: string): [string, string, string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of TERM_OPERATORS) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
    }
  }
  return undefined;
}

function byteOrder(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Parses a field selector (`metadata.name=x,spec.nodeName!=`), optionally passing each
 * term through fn; terms are sorted as upstream sorts them. Throws FieldSelectorParseError.
 */
export function parseFieldSelector(selector: string, fn?: TransformFunc): FieldSelector {
  const parts = splitTerms(selector).sort(byteOrder);
  const items: FieldSelector[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const split = splitTerm(part);
    if (split === undefined) {
      throw new FieldSelectorParseError(`invalid selector: '${selector}'; can't understand '${part}'`);
    }
    const [lhs, op, rhs] = split;
    const value = unescapeValue(rhs);
    items.push(new TermSelector({ field: lhs, operator: op === '!=' ? '!=' : '=', value }));
  }
  const sel = items.length === 1 ? (items[0] as FieldSelector) : new AndSelector(items);
  return fn === undefined ? sel : sel.transform(fn);
}
