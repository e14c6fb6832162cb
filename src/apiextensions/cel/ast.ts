// The parsed form of a CEL expression and the issues a compile reports. Operators are calls
// with cel-go's internal names (`_+_`, `_[_]`, `!_`, `@in` …) so the checker and the
// interpreter treat them like any other function; macros (has, all, exists, exists_one,
// map, filter) keep a node of their own instead of cel-go's comprehension expansion, with
// the same semantics. Every node carries the source offset cel-go reports errors at (an
// operator's token, a call's `(`, a selection's `.`), so messages point where upstream's do.

/** A literal's value as the parser produces it. */
export type Literal =
  | { t: 'int'; v: bigint }
  | { t: 'uint'; v: bigint }
  | { t: 'double'; v: number }
  | { t: 'string'; v: string }
  | { t: 'bytes'; v: Uint8Array }
  | { t: 'bool'; v: boolean }
  | { t: 'null' };

/** The comprehension macros. */
export type MacroName = 'all' | 'exists' | 'exists_one' | 'map' | 'filter';

/** One node of a CEL expression. */
export type Expr =
  | { k: 'lit'; pos: number; lit: Literal }
  | { k: 'ident'; pos: number; name: string }
  /** `operand.field`; `test` for has(), `optional` for `.?field`. */
  | { k: 'select'; pos: number; operand: Expr; field: string; test: boolean; optional: boolean }
  | { k: 'call'; pos: number; fn: string; target?: Expr; args: Expr[] }
  /** `optional` holds the indexes of `?elem` entries. */
  | { k: 'list'; pos: number; elems: Expr[]; optional: number[] }
  | { k: 'map'; pos: number; entries: MapEntry[] }
  | {
      k: 'macro';
      pos: number;
      macro: MacroName;
      range: Expr;
      iterVar: string;
      /** The predicate (all, exists, exists_one, filter) or transform (map). */
      body: Expr;
      /** The filter of the three-argument map. */
      filter?: Expr;
    };

/** One `key: value` of a map literal (`?key: value` when optional). */
export interface MapEntry {
  key: Expr;
  value: Expr;
  optional: boolean;
}

/** One compile issue at a source offset. */
export interface Issue {
  pos: number;
  message: string;
}

/** A compile failure: cel-go's issues, rendered by issuesString. */
export class CompileError extends Error {
  constructor(
    readonly issues: readonly Issue[],
    readonly source: string,
  ) {
    super(issuesString(issues, source));
    this.name = 'CompileError';
  }
}

/** 1-based line and 0-based column (in code points) of an offset. */
function location(source: string, pos: number): { line: number; col: number; text: string } {
  const chars = [...source];
  let line = 1;
  let start = 0;
  for (let i = 0; i < pos && i < chars.length; i++) {
    if (chars[i] === '\n') {
      line++;
      start = i + 1;
    }
  }
  let end = start;
  while (end < chars.length && chars[end] !== '\n') end++;
  return { line, col: pos - start, text: chars.slice(start, end).join('') };
}

/**
 * cel-go's Issues.String(): each error as `ERROR: <input>:L:C: msg`, then the source line
 * and a caret under the column, sorted by position, joined by newlines.
 */
export function issuesString(issues: readonly Issue[], source: string): string {
  const sorted = [...issues].sort((a, b) => a.pos - b.pos);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const is of sorted) {
    const { line, col, text } = location(source, is.pos);
    const head = `ERROR: <input>:${line}:${col + 1}: ${is.message}`;
    if (seen.has(head)) continue;
    seen.add(head);
    const snippet = text.replace(/\t/g, ' ');
    let ind = '';
    const chars = [...snippet];
    const wide = (c: string | undefined): boolean => (c?.codePointAt(0) ?? 0) > 0x7f;
    for (let i = 0; i < col && i < chars.length; i++) ind += wide(chars[i]) ? '\uff0e' : '.';
    ind += wide(chars[col]) ? '\uff3e' : '^';
    out.push(`${head}\n | ${snippet}\n | ${ind}`);
  }
  return out.join('\n');
}
