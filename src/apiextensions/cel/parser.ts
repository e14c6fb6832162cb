// The CEL parser: recursive descent over cel-go's grammar (ternary, ||, &&, relations
// including `in`, additive, multiplicative, unary ! and -, member selection, calls,
// indexing, list and map literals, the optional syntax `.?f`, `[?i]`, `[?e]`, `{?k: v}`),
// expanding the macros has/all/exists/exists_one/map/filter at parse time as cel-go does.
// Syntax errors use cel-go's (ANTLR's) wording where it is predictable; the first one stops
// the parse.
import { CompileError, type Expr, type Issue, type MacroName, type MapEntry } from './ast.js';
import { RESERVED_WORDS, type Token, tokenize } from './lexer.js';

const PRIMARY_EXPECTED =
  "{'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

class CelSyntaxError extends Error {}

const RECEIVER_MACROS: Readonly<Record<string, readonly number[]>> = {
  all: [2],
  exists: [2],
  exists_one: [2],
  map: [2, 3],
  filter: [2],
};

/** Parses a CEL expression; throws CompileError with cel-go's issues. */
export function parse(src: string): Expr {
  const issues: Issue[] = [];
  const toks = tokenize(src, issues);
  if (issues.length > 0) throw new CompileError(issues, src);
  const p = new Parser(toks, issues);
  try {
    const e = p.expr();
    if (p.peek().t !== 'eof') p.fail(p.peek(), `mismatched input ${show(p.peek())} expecting <EOF>`);
    if (issues.length > 0) throw new CompileError(issues, src);
    return e;
  } catch (err) {
    if (err instanceof CelSyntaxError) throw new CompileError(issues, src);
    throw err;
  }
}

function show(t: Token): string {
  return `'${t.text}'`;
}

class Parser {
  private i = 0;
  private depth = 0;

  constructor(
    private readonly toks: Token[],
    private readonly issues: Issue[],
  ) {}

  peek(n = 0): Token {
    return this.toks[Math.min(this.i + n, this.toks.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }

  private isOp(text: string, n = 0): boolean {
    const t = this.peek(n);
    return t.t === 'op' && t.text === text;
  }

  fail(t: Token, message: string): never {
    this.issues.push({ pos: t.pos, message: `Syntax error: ${message}` });
    throw new CelSyntaxError(message);
  }

  private expect(text: string): Token {
    const t = this.peek();
    if (t.t === 'op' && t.text === text) return this.next();
    if (t.t === 'eof') this.fail(t, `missing '${text}' at '<EOF>'`);
    return this.fail(t, `mismatched input ${show(t)} expecting '${text}'`);
  }

  expr(): Expr {
    if (++this.depth > 250) this.fail(this.peek(), 'expression recursion limit exceeded');
    try {
      const cond = this.or();
      if (!this.isOp('?')) return cond;
      const q = this.next();
      const a = this.or();
      this.expect(':');
      const b = this.expr();
      return { k: 'call', pos: q.pos, fn: '_?_:_', args: [cond, a, b] };
    } finally {
      this.depth--;
    }
  }

  private or(): Expr {
    let l = this.and();
    while (this.isOp('||')) {
      const t = this.next();
      l = { k: 'call', pos: t.pos, fn: '_||_', args: [l, this.and()] };
    }
    return l;
  }

  private and(): Expr {
    let l = this.relation();
    while (this.isOp('&&')) {
      const t = this.next();
      l = { k: 'call', pos: t.pos, fn: '_&&_', args: [l, this.relation()] };
    }
    return l;
  }

  private relation(): Expr {
    let l = this.addition();
    for (;;) {
      const t = this.peek();
      let fn: string | undefined;
      if (t.t === 'op') {
        fn = { '<': '_<_', '<=': '_<=_', '>': '_>_', '>=': '_>=_', '==': '_==_', '!=': '_!=_' }[t.text];
      } else if (t.t === 'ident' && t.text === 'in') fn = '@in';
      if (fn === undefined) return l;
      this.next();
      l = { k: 'call', pos: t.pos, fn, args: [l, this.addition()] };
    }
  }

  private addition(): Expr {
    let l = this.multiplication();
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.next();
      l = { k: 'call', pos: t.pos, fn: t.text === '+' ? '_+_' : '_-_', args: [l, this.multiplication()] };
    }
    return l;
  }

  private multiplication(): Expr {
    let l = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const t = this.next();
      const fn = t.text === '*' ? '_*_' : t.text === '/' ? '_/_' : '_%_';
      l = { k: 'call', pos: t.pos, fn, args: [l, this.unary()] };
    }
    return l;
  }

  private unary(): Expr {
    if (this.isOp('!')) {
      const first = this.peek();
      let n = 0;
      while (this.isOp('!')) {
        this.next();
        n++;
      }
      const m = this.member();
      return n % 2 === 0 ? m : { k: 'call', pos: first.pos, fn: '!_', args: [m] };
    }
    if (this.isOp('-')) {
      const first = this.peek();
      let n = 0;
      while (this.isOp('-') && !(this.peek(1).t === 'int' || this.peek(1).t === 'double')) {
        this.next();
        n++;
      }
      const m = this.member();
      return n % 2 === 0 ? m : { k: 'call', pos: first.pos, fn: '-_', args: [m] };
    }
    return this.member();
  }

  private member(): Expr {
    let e = this.primary();
    for (;;) {
      if (this.isOp('.')) {
        const dot = this.next();
        let optional = false;
        if (this.isOp('?')) {
          this.next();
          optional = true;
        }
        const id = this.peek();
        if (id.t !== 'ident') this.fail(id, `no viable alternative at input '.${id.text}'`);
        this.next();
        this.checkReserved(id);
        if (!optional && this.isOp('(')) {
          const open = this.next();
          const args = this.args(')');
          e = this.receiverCall(open.pos, id.text, e, args);
          continue;
        }
        e = { k: 'select', pos: dot.pos, operand: e, field: id.text, test: false, optional };
        continue;
      }
      if (this.isOp('[')) {
        const open = this.next();
        let optional = false;
        if (this.isOp('?')) {
          this.next();
          optional = true;
        }
        const idx = this.expr();
        this.expect(']');
        e = { k: 'call', pos: open.pos, fn: optional ? '_[?_]' : '_[_]', args: [e, idx] };
        continue;
      }
      if (this.isOp('{')) this.fail(this.peek(), 'message construction is not supported');
      return e;
    }
  }

  private checkReserved(t: Token): void {
    if (RESERVED_WORDS.has(t.text)) this.fail(t, `reserved identifier: ${t.text}`);
  }

  private args(close: string): Expr[] {
    const out: Expr[] = [];
    if (this.isOp(close)) {
      this.next();
      return out;
    }
    for (;;) {
      out.push(this.expr());
      if (this.isOp(',')) {
        this.next();
        continue;
      }
      this.expect(close);
      return out;
    }
  }

  private receiverCall(pos: number, fn: string, target: Expr, args: Expr[]): Expr {
    const arities = RECEIVER_MACROS[fn];
    if (arities?.includes(args.length)) {
      const v = args[0]!;
      if (v.k !== 'ident') {
        this.issues.push({ pos: v.pos, message: 'argument must be a simple name' });
        throw new CelSyntaxError('argument must be a simple name');
      }
      const macro = fn as MacroName;
      if (args.length === 3) {
        return { k: 'macro', pos, macro, range: target, iterVar: v.name, filter: args[1]!, body: args[2]! };
      }
      return { k: 'macro', pos, macro, range: target, iterVar: v.name, body: args[1]! };
    }
    return { k: 'call', pos, fn, target, args };
  }

  private primary(): Expr {
    const t = this.peek();
    if (t.t === 'op') {
      if (t.text === '.') {
        const id = this.peek(1);
        if (id.t === 'ident') {
          this.next();
          return this.identOrCall();
        }
      }
      if (t.text === '(') {
        this.next();
        const e = this.expr();
        this.expect(')');
        return e;
      }
      if (t.text === '[') return this.listLit();
      if (t.text === '{') return this.mapLit();
      if (t.text === '-') {
        const n = this.peek(1);
        if (n.t === 'int' || n.t === 'double') {
          this.next();
          return this.literal(this.next(), true);
        }
      }
    }
    if (t.t === 'int' || t.t === 'uint' || t.t === 'double' || t.t === 'string' || t.t === 'bytes') {
      return this.literal(this.next(), false);
    }
    if (t.t === 'ident') return this.identOrCall();
    return this.fail(t, `mismatched input ${show(t)} expecting ${PRIMARY_EXPECTED}`);
  }

  private literal(t: Token, neg: boolean): Expr {
    const pos = neg ? t.pos - 1 : t.pos;
    switch (t.t) {
      case 'int': {
        const v = neg ? -(t.int ?? 0n) : (t.int ?? 0n);
        if (v < INT64_MIN || v > INT64_MAX) this.fail(t, 'invalid int literal');
        return { k: 'lit', pos, lit: { t: 'int', v } };
      }
      case 'uint':
        return { k: 'lit', pos, lit: { t: 'uint', v: t.int ?? 0n } };
      case 'double':
        return { k: 'lit', pos, lit: { t: 'double', v: neg ? -(t.double ?? 0) : (t.double ?? 0) } };
      case 'string':
        return { k: 'lit', pos, lit: { t: 'string', v: t.str ?? '' } };
      default:
        return { k: 'lit', pos, lit: { t: 'bytes', v: t.bytes ?? new Uint8Array() } };
    }
  }

  private identOrCall(): Expr {
    const id = this.next();
    if (id.text === 'true' || id.text === 'false') {
      return { k: 'lit', pos: id.pos, lit: { t: 'bool', v: id.text === 'true' } };
    }
    if (id.text === 'null') return { k: 'lit', pos: id.pos, lit: { t: 'null' } };
    if (id.text === 'in') this.fail(id, `mismatched input 'in' expecting ${PRIMARY_EXPECTED}`);
    this.checkReserved(id);
    if (!this.isOp('(')) return { k: 'ident', pos: id.pos, name: id.text };
    const open = this.next();
    const args = this.args(')');
    if (id.text === 'has' && args.length === 1) {
      const a = args[0]!;
      if (a.k !== 'select' || a.optional) {
        this.issues.push({ pos: a.pos, message: 'invalid argument to has() macro' });
        throw new CelSyntaxError('invalid argument to has() macro');
      }
      return { ...a, pos: open.pos, test: true };
    }
    return { k: 'call', pos: open.pos, fn: id.text, args };
  }

  private listLit(): Expr {
    const open = this.next();
    const elems: Expr[] = [];
    const optional: number[] = [];
    while (!this.isOp(']')) {
      if (this.isOp('?')) {
        this.next();
        optional.push(elems.length);
      }
      elems.push(this.expr());
      if (!this.isOp(',')) break;
      this.next();
    }
    this.expect(']');
    return { k: 'list', pos: open.pos, elems, optional };
  }

  private mapLit(): Expr {
    const open = this.next();
    const entries: MapEntry[] = [];
    while (!this.isOp('}')) {
      let optional = false;
      if (this.isOp('?')) {
        this.next();
        optional = true;
      }
      const key = this.expr();
      this.expect(':');
      const value = this.expr();
      entries.push({ key, value, optional });
      if (!this.isOp(',')) break;
      this.next();
    }
    this.expect('}');
    return { k: 'map', pos: open.pos, entries };
  }
}
