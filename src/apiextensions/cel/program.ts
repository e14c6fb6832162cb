// A compiled CEL program: parse, check against the declared variables and the Kubernetes
// CRD environment's function table (standard definitions, optionals, the Kubernetes
// libraries), then evaluate. The environment is built once per process.
import { CompileError, type Expr } from './ast.js';
import { check } from './checker.js';
import { evaluate, type EvalResult } from './interpreter.js';
import { defineKubernetes } from './k8s-lib.js';
import { define, type FunctionTable } from './library.js';
import { defineNet } from './net-lib.js';
import { parse } from './parser.js';
import { defineStandard } from './stdlib.js';
import type { CelType } from './types.js';
import type { Val } from './values.js';

let table: FunctionTable | undefined;

/** The function table of the CRD validation environment. */
export function functionTable(): FunctionTable {
  if (table === undefined) {
    const t: FunctionTable = new Map();
    defineStandard(t);
    // The interpreter evaluates the ternary lazily; this entry only types it.
    define(t, '_?_:_', [{ sig: '(bool, A, A) -> A', impl: (a) => (a[0] === true ? a[1]! : a[2]!) }]);
    defineKubernetes(t);
    defineNet(t);
    table = t;
  }
  return table;
}

/** A checked expression ready to evaluate. */
export interface Program {
  readonly source: string;
  readonly expr: Expr;
  /** The expression's static type. */
  readonly type: CelType;
  /** The declared variables it references (a rule referencing oldSelf is a transition rule). */
  readonly references: ReadonlySet<string>;
}

/** Parses and checks src; throws CompileError with cel-go's issues. */
export function compileExpression(src: string, vars: ReadonlyMap<string, CelType>): Program {
  const expr = parse(src);
  const r = check(expr, vars, functionTable());
  if (r.issues.length > 0) throw new CompileError(r.issues, src);
  return { source: src, expr, type: r.type, references: r.references };
}

/** Evaluates a program; errors come back in the result, never thrown. */
export function runProgram(p: Program, vars: ReadonlyMap<string, Val>, costLimit: number): EvalResult {
  return evaluate(p.expr, vars, functionTable(), costLimit);
}
