// The CEL type checker: resolves identifiers (comprehension variables, then the declared
// variables, then type names), field selections against the declared object types,
// function overloads against the function table (with type parameters), homogeneous list
// and map literals (Kubernetes enables HomogeneousAggregateLiterals) and the macros'
// ranges. Messages are cel-go's (`undeclared reference to 'x' (in container '')`,
// `found no matching overload for '_+_' applied to '(int, string)'`, `undefined field 'x'`),
// because upstream prints them when it refuses a CRD. Namespaced calls (`optional.of(x)`,
// `strings.quote(s)`) are rewritten in place into global calls, as cel-go resolves them.
import type { Expr, Issue } from './ast.js';
import type { FunctionTable } from './library.js';
import { assignable, type Bindings, type CelType, formatType, sameType, substitute, T } from './types.js';

const TYPE_IDENTS: Readonly<Record<string, CelType>> = {
  int: T.int,
  uint: T.uint,
  double: T.double,
  bool: T.bool,
  string: T.string,
  bytes: T.bytes,
  null_type: T.null,
  dyn: T.dyn,
  list: { k: 'list', elem: T.dyn },
  map: { k: 'map', key: T.dyn, val: T.dyn },
  type: { k: 'type', of: T.dyn },
};

/** What the checker reports. */
export interface CheckResult {
  type: CelType;
  issues: Issue[];
  /** The declared variables the expression references. */
  references: Set<string>;
}

/** Checks e against declared variables and the function table. */
export function check(e: Expr, vars: ReadonlyMap<string, CelType>, fns: FunctionTable): CheckResult {
  const c = new Checker(vars, fns);
  const type = c.check(e, new Map());
  return { type, issues: c.issues, references: c.references };
}

type Scope = ReadonlyMap<string, CelType>;

const isDyn = (t: CelType): boolean => t.k === 'dyn' || t.k === 'error';

class Checker {
  readonly issues: Issue[] = [];
  readonly references = new Set<string>();

  constructor(
    private readonly vars: ReadonlyMap<string, CelType>,
    private readonly fns: FunctionTable,
  ) {}

  private error(pos: number, message: string): CelType {
    this.issues.push({ pos, message });
    return T.error;
  }

  check(e: Expr, scope: Scope): CelType {
    switch (e.k) {
      case 'lit':
        switch (e.lit.t) {
          case 'null':
            return T.null;
          default:
            return T[e.lit.t];
        }
      case 'ident':
        return this.ident(e.name, e.pos, scope);
      case 'select':
        return this.select(e, scope);
      case 'call':
        return this.call(e, scope);
      case 'list':
        return this.list(e, scope);
      case 'map':
        return this.map(e, scope);
      case 'macro':
        return this.macro(e, scope);
    }
  }

  private ident(name: string, pos: number, scope: Scope): CelType {
    const local = scope.get(name);
    if (local !== undefined) return local;
    const v = this.vars.get(name);
    if (v !== undefined) {
      this.references.add(name);
      return v;
    }
    const ty = TYPE_IDENTS[name];
    if (ty !== undefined) return { k: 'type', of: ty };
    return this.error(pos, `undeclared reference to '${name}' (in container '')`);
  }

  private fieldOf(operand: CelType, field: string, pos: number): CelType {
    switch (operand.k) {
      case 'object': {
        const f = operand.fields.get(field);
        return f ?? this.error(pos, `undefined field '${field}'`);
      }
      case 'map':
        if (!isDyn(operand.key) && !sameType(operand.key, T.string)) {
          return this.error(pos, `type '${formatType(operand)}' does not support field selection`);
        }
        return operand.val;
      case 'dyn':
      case 'error':
        return T.dyn;
      default:
        return this.error(pos, `type '${formatType(operand)}' does not support field selection`);
    }
  }

  private select(e: Extract<Expr, { k: 'select' }>, scope: Scope): CelType {
    const operand = this.check(e.operand, scope);
    if (e.optional) {
      const inner = operand.k === 'optional' ? operand.elem : operand;
      const f = this.fieldOf(inner, e.field, e.pos);
      return f.k === 'error' ? f : { k: 'optional', elem: f };
    }
    const f = this.fieldOf(operand, e.field, e.pos);
    return e.test ? (f.k === 'error' ? f : T.bool) : f;
  }

  private call(e: Extract<Expr, { k: 'call' }>, scope: Scope): CelType {
    // A namespaced function (`optional.of`) unless the qualifier is a variable in scope.
    if (
      e.target?.k === 'ident' &&
      !scope.has(e.target.name) &&
      !this.vars.has(e.target.name) &&
      this.fns.has(`${e.target.name}.${e.fn}`)
    ) {
      e.fn = `${e.target.name}.${e.fn}`;
      delete e.target;
    }
    if (e.fn === '_&&_' || e.fn === '_||_') {
      const ts = e.args.map((a) => this.check(a, scope));
      if (ts.every((t) => isDyn(t) || sameType(t, T.bool))) return T.bool;
      return this.noOverload(e.pos, e.fn, ts, false);
    }
    const receiver = e.target !== undefined;
    const argTypes = [
      ...(e.target !== undefined ? [this.check(e.target, scope)] : []),
      ...e.args.map((a) => this.check(a, scope)),
    ];
    const overloads = this.fns.get(e.fn);
    if (overloads === undefined)
      return this.error(e.pos, `undeclared reference to '${e.fn}' (in container '')`);
    const results: CelType[] = [];
    for (const o of overloads) {
      if (o.receiver !== receiver || o.params.length !== argTypes.length) continue;
      const b: Bindings = new Map();
      if (o.params.every((p, i) => assignable(p, argTypes[i]!, b))) results.push(substitute(o.result, b));
    }
    if (results.length === 0) {
      if (argTypes.some((t) => t.k === 'error')) return T.error;
      return this.noOverload(e.pos, e.fn, argTypes, receiver);
    }
    const first = results[0]!;
    return results.every((r) => sameType(r, first)) ? first : T.dyn;
  }

  private noOverload(pos: number, fn: string, args: CelType[], receiver: boolean): CelType {
    const fmt = args.map(formatType);
    const sig = receiver ? `${fmt[0]}.(${fmt.slice(1).join(', ')})` : `(${fmt.join(', ')})`;
    return this.error(pos, `found no matching overload for '${fn}' applied to '${sig}'`);
  }

  /** cel-go's joinTypes with homogeneous aggregate literals: each member must fit the first. */
  private join(types: Array<{ t: CelType; pos: number }>): CelType {
    let acc: CelType | undefined;
    for (const { t, pos } of types) {
      if (t.k === 'error') return T.error;
      if (acc === undefined) {
        acc = t;
        continue;
      }
      if (assignable(acc, t, new Map())) {
        if (isDyn(t)) acc = T.dyn;
        continue;
      }
      return this.error(pos, `expected type '${formatType(acc)}' but found '${formatType(t)}'`);
    }
    return acc ?? T.dyn;
  }

  private list(e: Extract<Expr, { k: 'list' }>, scope: Scope): CelType {
    const elems = e.elems.map((x, i) => {
      let t = this.check(x, scope);
      if (e.optional.includes(i)) {
        if (t.k === 'optional') t = t.elem;
        else if (!isDyn(t))
          t = this.error(
            x.pos,
            `expected type 'optional_type(${formatType(t)})' but found '${formatType(t)}'`,
          );
      }
      return { t, pos: x.pos };
    });
    const elem = this.join(elems);
    return elem.k === 'error' ? elem : { k: 'list', elem };
  }

  private map(e: Extract<Expr, { k: 'map' }>, scope: Scope): CelType {
    const keys: Array<{ t: CelType; pos: number }> = [];
    const vals: Array<{ t: CelType; pos: number }> = [];
    for (const en of e.entries) {
      keys.push({ t: this.check(en.key, scope), pos: en.key.pos });
      let vt = this.check(en.value, scope);
      if (en.optional && vt.k === 'optional') vt = vt.elem;
      vals.push({ t: vt, pos: en.value.pos });
    }
    const key = this.join(keys);
    const val = this.join(vals);
    if (key.k === 'error' || val.k === 'error') return T.error;
    return { k: 'map', key, val };
  }

  private macro(e: Extract<Expr, { k: 'macro' }>, scope: Scope): CelType {
    const range = this.check(e.range, scope);
    let iter: CelType;
    if (range.k === 'list') iter = range.elem;
    else if (range.k === 'map') iter = range.key;
    else if (isDyn(range)) iter = T.dyn;
    else {
      return this.error(
        e.pos,
        `expression of type '${formatType(range)}' cannot be range of a comprehension (must be list, map, or dynamic)`,
      );
    }
    const inner = new Map(scope);
    inner.set(e.iterVar, iter);
    const isBool = (t: CelType): boolean => isDyn(t) || sameType(t, T.bool);
    if (e.filter !== undefined) {
      const ft = this.check(e.filter, inner);
      if (!isBool(ft)) this.noOverload(e.pos, '_?_:_', [ft, T.dyn, T.dyn], false);
    }
    const body = this.check(e.body, inner);
    switch (e.macro) {
      case 'map':
        return body.k === 'error' ? body : { k: 'list', elem: body };
      case 'filter':
        if (!isBool(body))
          return this.noOverload(
            e.pos,
            '_?_:_',
            [body, { k: 'list', elem: iter }, { k: 'list', elem: iter }],
            false,
          );
        return { k: 'list', elem: iter };
      case 'all':
        if (!isBool(body)) return this.noOverload(e.pos, '_&&_', [T.bool, body], false);
        return T.bool;
      case 'exists':
        if (!isBool(body)) return this.noOverload(e.pos, '_||_', [T.bool, body], false);
        return T.bool;
      case 'exists_one':
        if (!isBool(body)) return this.noOverload(e.pos, '_?_:_', [body, T.int, T.int], false);
        return T.bool;
    }
  }
}
