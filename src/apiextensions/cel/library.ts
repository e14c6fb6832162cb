// The function table both the checker and the interpreter read: every function CEL rules
// may call, each overload with its signature (checked statically) and its implementation
// (dispatched at run time on the argument values, since int-or-string and unknown fields
// are dyn). Signatures are written as cel-go prints them: `(int, int) -> int` for a global
// call, `string.(string) -> bool` for a receiver call; single capitals are type parameters.
import { type CelType, parseTypeSpec } from './types.js';
import {
  Duration,
  CelEvalError,
  ListVal,
  MapVal,
  Opaque,
  Optional,
  Timestamp,
  TypeVal,
  UInt,
  type Val,
} from './values.js';

/** What an implementation may charge cost to. */
export interface Runtime {
  /** Adds cost units; throws CostLimitError past the per-call limit. */
  cost(units: number): void;
}

/** An implementation of one overload. */
export type Impl = (args: Val[], rt: Runtime) => Val;

/** One overload: signature text and implementation. */
export interface OverloadSpec {
  sig: string;
  impl: Impl;
}

/** A parsed overload. */
export interface Overload {
  sig: string;
  receiver: boolean;
  /** Parameter types, the receiver first for a receiver call. */
  params: CelType[];
  result: CelType;
  impl: Impl;
}

/** The function table: name → overloads. */
export type FunctionTable = Map<string, Overload[]>;

function parseSig(sig: string): Omit<Overload, 'impl' | 'sig'> {
  const [lhs = '', rhs = ''] = sig.split('->');
  const result = parseTypeSpec(rhs);
  const text = lhs.trim();
  // The parameter list is the last top-level parenthesis; a receiver precedes it with a dot.
  let depth = 0;
  let open = -1;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') {
      if (depth === 0) open = i;
      depth++;
    } else if (text[i] === ')') depth--;
  }
  if (open < 0 || !text.endsWith(')')) throw new Error(`bad signature ${sig}`);
  const params = splitParams(text.slice(open + 1, -1)).map(parseTypeSpec);
  const recv = text.slice(0, open).replace(/\.$/, '').trim();
  if (recv !== '') return { receiver: true, params: [parseTypeSpec(recv), ...params], result };
  return { receiver: false, params, result };
}

function splitParams(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

/** Adds overloads to a table. */
export function define(table: FunctionTable, name: string, specs: readonly OverloadSpec[]): void {
  const list = table.get(name) ?? [];
  for (const s of specs) list.push({ sig: s.sig, impl: s.impl, ...parseSig(s.sig) });
  table.set(name, list);
}

/** Whether a runtime value fits a parameter type (dispatch; type parameters take anything). */
export function valueFits(t: CelType, v: Val): boolean {
  switch (t.k) {
    case 'dyn':
    case 'param':
    case 'error':
      return true;
    case 'prim':
      switch (t.name) {
        case 'int':
          return typeof v === 'bigint';
        case 'uint':
          return v instanceof UInt;
        case 'double':
          return typeof v === 'number';
        case 'string':
          return typeof v === 'string';
        case 'bool':
          return typeof v === 'boolean';
        case 'bytes':
          return v instanceof Uint8Array;
        case 'null_type':
          return v === null;
        case 'google.protobuf.Duration':
          return v instanceof Duration;
        case 'google.protobuf.Timestamp':
          return v instanceof Timestamp;
      }
      return false;
    case 'list':
      return v instanceof ListVal;
    case 'map':
    case 'object':
      return v instanceof MapVal;
    case 'optional':
      return v instanceof Optional;
    case 'type':
      return v instanceof TypeVal;
    case 'opaque':
      return v instanceof Opaque && v.typeName === t.name;
  }
}

/** Calls the first overload of fn whose parameters fit args (cel-go's "no such overload" otherwise). */
export function dispatch(table: FunctionTable, fn: string, receiver: boolean, args: Val[], rt: Runtime): Val {
  const list = table.get(fn);
  if (list !== undefined) {
    for (const o of list) {
      if (o.receiver !== receiver || o.params.length !== args.length) continue;
      if (o.params.every((p, i) => valueFits(p, args[i]!))) return o.impl(args, rt);
    }
  }
  throw new CelEvalError('no such overload');
}

/** Narrowing helpers for implementations (the dispatcher already checked the kinds). */
export const as = {
  int: (v: Val | undefined): bigint => v as bigint,
  str: (v: Val | undefined): string => v as string,
  num: (v: Val | undefined): number => v as number,
  list: (v: Val | undefined): ListVal => v as ListVal,
  map: (v: Val | undefined): MapVal => v as MapVal,
};
