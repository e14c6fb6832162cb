// Evaluation of a checked CEL expression with cel-go's semantics: `&&` and `||` are
// commutative over errors (false && error is false, true || error is true, in either
// order), the all/exists macros absorb errors the same way, the ternary evaluates only the
// chosen branch, and every other error propagates. A running cost (one unit per node and
// per comprehension step, plus size-based charges in the libraries) is checked against the
// per-call limit so a pathological rule stops with cel-go's "operation cancelled: actual
// cost limit exceeded" instead of hanging the server.
import type { Expr } from './ast.js';
import { dispatch, type FunctionTable, type Runtime } from './library.js';
import {
  CostLimitError,
  CelEvalError,
  ListVal,
  MapVal,
  mapKey,
  Optional,
  TypeVal,
  UInt,
  type Val,
} from './values.js';

const TYPE_NAMES = new Set([
  'int',
  'uint',
  'double',
  'bool',
  'string',
  'bytes',
  'null_type',
  'dyn',
  'list',
  'map',
  'type',
]);

/** The outcome of one evaluation: a value or an error, and the cost it took. */
export interface EvalResult {
  value?: Val;
  error?: Error;
  cost: number;
}

/** Evaluates e with the given variables; never throws. */
export function evaluate(
  e: Expr,
  vars: ReadonlyMap<string, Val>,
  fns: FunctionTable,
  costLimit: number,
): EvalResult {
  const it = new Interpreter(vars, fns, costLimit);
  try {
    const value = it.eval(e, undefined);
    return { value, cost: it.used };
  } catch (err) {
    if (err instanceof CelEvalError || err instanceof CostLimitError) return { error: err, cost: it.used };
    if (err instanceof RangeError) return { error: new CelEvalError(err.message), cost: it.used };
    throw err;
  }
}

interface Scope {
  name: string;
  value: Val;
  parent: Scope | undefined;
}

class Interpreter implements Runtime {
  used = 0;

  constructor(
    private readonly vars: ReadonlyMap<string, Val>,
    private readonly fns: FunctionTable,
    private readonly limit: number,
  ) {}

  cost(units: number): void {
    this.used += units;
    if (this.used > this.limit) throw new CostLimitError();
  }

  private attempt(e: Expr, scope: Scope | undefined): { v?: Val; err?: CelEvalError } {
    try {
      return { v: this.eval(e, scope) };
    } catch (err) {
      if (err instanceof CelEvalError) return { err };
      throw err;
    }
  }

  eval(e: Expr, scope: Scope | undefined): Val {
    this.cost(1);
    switch (e.k) {
      case 'lit':
        switch (e.lit.t) {
          case 'null':
            return null;
          case 'uint':
            return new UInt(e.lit.v);
          default:
            return e.lit.v;
        }
      case 'ident': {
        for (let s = scope; s !== undefined; s = s.parent) if (s.name === e.name) return s.value;
        const v = this.vars.get(e.name);
        if (v !== undefined) return v;
        if (TYPE_NAMES.has(e.name)) return new TypeVal(e.name);
        throw new CelEvalError(`no such attribute: ${e.name}`);
      }
      case 'select':
        return this.select(e, scope);
      case 'call':
        return this.call(e, scope);
      case 'list': {
        const out: Val[] = [];
        e.elems.forEach((x, i) => {
          const v = this.eval(x, scope);
          if (!e.optional.includes(i)) out.push(v);
          else if (v instanceof Optional) {
            if (v.value !== undefined) out.push(v.value);
          } else throw new CelEvalError('no such overload');
        });
        return ListVal.of(out);
      }
      case 'map': {
        const entries: Array<[Val, Val]> = [];
        const seen = new Set<string>();
        for (const en of e.entries) {
          const k = this.eval(en.key, scope);
          const nk = mapKey(k);
          if (nk === undefined) throw new CelEvalError('unsupported key type');
          if (seen.has(nk)) throw new CelEvalError(`Failed with repeated key`);
          seen.add(nk);
          let v = this.eval(en.value, scope);
          if (en.optional) {
            if (!(v instanceof Optional)) throw new CelEvalError('no such overload');
            if (v.value === undefined) continue;
            v = v.value;
          }
          entries.push([k, v]);
        }
        return MapVal.of(entries);
      }
      case 'macro':
        return this.macro(e, scope);
    }
  }

  private select(e: Extract<Expr, { k: 'select' }>, scope: Scope | undefined): Val {
    let operand = this.eval(e.operand, scope);
    if (e.optional) {
      if (operand instanceof Optional) {
        if (operand.value === undefined) return operand;
        operand = operand.value;
      }
      if (!(operand instanceof MapVal)) throw new CelEvalError('no such overload');
      const v = operand.get(e.field);
      return v === undefined ? Optional.none : new Optional(v);
    }
    if (!(operand instanceof MapVal)) {
      throw new CelEvalError(e.test ? 'invalid type for field selection.' : 'no such overload');
    }
    if (e.test) return operand.has(e.field);
    const v = operand.get(e.field);
    if (v === undefined) throw new CelEvalError(`no such key: ${e.field}`);
    return v;
  }

  private logic(e: Extract<Expr, { k: 'call' }>, scope: Scope | undefined, and: boolean): Val {
    const absorbing = !and;
    const l = this.attempt(e.args[0]!, scope);
    if (l.v === absorbing) return absorbing;
    const r = this.attempt(e.args[1]!, scope);
    if (r.v === absorbing) return absorbing;
    if (l.err !== undefined) throw l.err;
    if (r.err !== undefined) throw r.err;
    if (typeof l.v !== 'boolean' || typeof r.v !== 'boolean') throw new CelEvalError('no such overload');
    return !absorbing;
  }

  private call(e: Extract<Expr, { k: 'call' }>, scope: Scope | undefined): Val {
    switch (e.fn) {
      case '_&&_':
        return this.logic(e, scope, true);
      case '_||_':
        return this.logic(e, scope, false);
      case '_?_:_': {
        const c = this.eval(e.args[0]!, scope);
        if (typeof c !== 'boolean') throw new CelEvalError('no such overload');
        return this.eval(c ? e.args[1]! : e.args[2]!, scope);
      }
    }
    const args: Val[] = [];
    if (e.target !== undefined) args.push(this.eval(e.target, scope));
    for (const a of e.args) args.push(this.eval(a, scope));
    return dispatch(this.fns, e.fn, e.target !== undefined, args, this);
  }

  private macro(e: Extract<Expr, { k: 'macro' }>, scope: Scope | undefined): Val {
    const range = this.eval(e.range, scope);
    let items: Val[];
    if (range instanceof ListVal) items = range.values();
    else if (range instanceof MapVal) items = range.keys();
    else throw new CelEvalError('no such overload');
    const bind = (v: Val): Scope => ({ name: e.iterVar, value: v, parent: scope });
    const asBool = (r: { v?: Val; err?: CelEvalError }): { v?: boolean; err?: CelEvalError } => {
      if (r.err !== undefined) return r as { err: CelEvalError };
      if (typeof r.v !== 'boolean') return { err: new CelEvalError('no such overload') };
      return { v: r.v };
    };
    switch (e.macro) {
      case 'all':
      case 'exists': {
        // cel-go folds with && (all) or || (exists): a deciding value wins over any error.
        const decisive = e.macro === 'exists';
        let firstErr: CelEvalError | undefined;
        for (const it of items) {
          this.cost(1);
          const r = asBool(this.attempt(e.body, bind(it)));
          if (r.v === decisive) return decisive;
          if (r.err !== undefined && firstErr === undefined) firstErr = r.err;
        }
        if (firstErr !== undefined) throw firstErr;
        return !decisive;
      }
      case 'exists_one': {
        let n = 0;
        for (const it of items) {
          this.cost(1);
          const r = asBool(this.attempt(e.body, bind(it)));
          if (r.err !== undefined) throw r.err;
          if (r.v === true) n++;
        }
        return n === 1;
      }
      case 'filter': {
        const out: Val[] = [];
        for (const it of items) {
          this.cost(1);
          const r = asBool(this.attempt(e.body, bind(it)));
          if (r.err !== undefined) throw r.err;
          if (r.v === true) out.push(it);
        }
        return ListVal.of(out);
      }
      case 'map': {
        const out: Val[] = [];
        for (const it of items) {
          this.cost(1);
          const s = bind(it);
          if (e.filter !== undefined) {
            const f = asBool(this.attempt(e.filter, s));
            if (f.err !== undefined) throw f.err;
            if (f.v !== true) continue;
          }
          out.push(this.eval(e.body, s));
        }
        return ListVal.of(out);
      }
    }
  }
}
