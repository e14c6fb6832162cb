// CEL's static types as the checker sees them, and the types a CRD schema declares for
// `self` (upstream's model.SchemaDeclType): integer → int, number → double, boolean → bool,
// string → string (bytes for format byte, duration for format duration, timestamp for
// date/date-time), int-or-string → dyn, arrays → list(items), objects with
// additionalProperties → map(string, V), other objects → an object type whose fields are
// the escaped property names (a property whose type cannot be declared is left out). The
// root of a resource and of every embedded resource also has apiVersion, kind and
// metadata.{name,generateName}.
import type { JSONSchemaProps } from '../../api/generated/types/apiextensions-v1.js';
import { RESERVED_WORDS } from './lexer.js';

/** A schema node as far as CEL cares (the JSONSchemaProps the rules were written against). */
export type Schema = JSONSchemaProps;

/** A CEL type. */
export type CelType =
  | { k: 'prim'; name: PrimName }
  | { k: 'dyn' }
  | { k: 'error' }
  | { k: 'list'; elem: CelType }
  | { k: 'map'; key: CelType; val: CelType }
  | { k: 'object'; name: string; fields: ReadonlyMap<string, CelType>; schema?: Schema }
  | { k: 'optional'; elem: CelType }
  | { k: 'type'; of: CelType }
  | { k: 'opaque'; name: string }
  | { k: 'param'; name: string };

/** The primitive type names. */
export type PrimName =
  | 'int'
  | 'uint'
  | 'double'
  | 'string'
  | 'bytes'
  | 'bool'
  | 'null_type'
  | 'google.protobuf.Duration'
  | 'google.protobuf.Timestamp';

const prim = (name: PrimName): CelType => ({ k: 'prim', name });

/** Shared instances of the common types. */
export const T = {
  int: prim('int'),
  uint: prim('uint'),
  double: prim('double'),
  string: prim('string'),
  bytes: prim('bytes'),
  bool: prim('bool'),
  null: prim('null_type'),
  duration: prim('google.protobuf.Duration'),
  timestamp: prim('google.protobuf.Timestamp'),
  dyn: { k: 'dyn' } as CelType,
  error: { k: 'error' } as CelType,
};

/** cel-go's FormatCELType. */
export function formatType(t: CelType): string {
  switch (t.k) {
    case 'prim':
      return t.name === 'null_type' ? 'null' : t.name;
    case 'dyn':
      return 'dyn';
    case 'error':
      return '*error*';
    case 'list':
      return `list(${formatType(t.elem)})`;
    case 'map':
      return `map(${formatType(t.key)}, ${formatType(t.val)})`;
    case 'object':
      return t.name;
    case 'optional':
      return `optional_type(${formatType(t.elem)})`;
    case 'type':
      return `type(${formatType(t.of)})`;
    case 'opaque':
      return t.name;
    case 'param':
      return t.name;
  }
}

// The identifiers CEL's lexer reserves: a property with such a name is `__name__` in CEL.
const CEL_RESERVED = new Set(['true', 'false', 'null', 'in', ...RESERVED_WORDS]);

/** Upstream's cel.Escape: the CEL field name of a property, or undefined when it has none. */
export function escapeName(name: string): string | undefined {
  if (name === '' || /^[0-9]/.test(name)) return undefined;
  if (CEL_RESERVED.has(name)) return `__${name}__`;
  if (!/^[A-Za-z0-9_.\-/]*$/.test(name)) return undefined;
  return name.replace(/__|[-./]/g, (m) =>
    m === '__' ? '__underscores__' : m === '.' ? '__dot__' : m === '-' ? '__dash__' : '__slash__',
  );
}

/** Upstream's WithTypeAndObjectMeta: apiVersion, kind and metadata.{name,generateName}. */
export function withTypeAndObjectMeta(s: Schema): Schema {
  const props = { ...(s.properties ?? {}) };
  props.apiVersion = { type: 'string' };
  props.kind = { type: 'string' };
  props.metadata = {
    type: 'object',
    properties: { name: { type: 'string' }, generateName: { type: 'string' } },
  };
  return { ...s, type: s.type ?? 'object', properties: props };
}

/** The CEL type of values described by s (undefined when the schema declares none). */
export function schemaType(
  s: Schema | undefined,
  isResourceRoot: boolean,
  name = 'object',
): CelType | undefined {
  if (s === undefined) return undefined;
  if (s['x-kubernetes-int-or-string'] === true) return T.dyn;
  const node = isResourceRoot ? withTypeAndObjectMeta(s) : s;
  switch (node.type) {
    case 'array': {
      const items = node.items;
      if (items === undefined || Array.isArray(items)) return undefined;
      const elem = schemaType(items, items['x-kubernetes-embedded-resource'] === true, `${name}.@idx`);
      return elem === undefined ? undefined : { k: 'list', elem };
    }
    case 'object': {
      const ap = node.additionalProperties;
      if (ap !== undefined && typeof ap === 'object') {
        const val = schemaType(ap, ap['x-kubernetes-embedded-resource'] === true, `${name}.@elem`);
        return val === undefined ? undefined : { k: 'map', key: T.string, val };
      }
      const fields = new Map<string, CelType>();
      for (const [k, p] of Object.entries(node.properties ?? {})) {
        const esc = escapeName(k);
        if (esc === undefined) continue;
        const ft = schemaType(p, p['x-kubernetes-embedded-resource'] === true, `${name}.${esc}`);
        if (ft !== undefined) fields.set(esc, ft);
      }
      return { k: 'object', name, fields, schema: node };
    }
    case 'string':
      switch (node.format) {
        case 'byte':
          return T.bytes;
        case 'duration':
          return T.duration;
        case 'date':
        case 'date-time':
          return T.timestamp;
        default:
          return T.string;
      }
    case 'boolean':
      return T.bool;
    case 'number':
      return T.double;
    case 'integer':
      return T.int;
    default:
      return undefined;
  }
}

/** Parses a type written in the overload tables: `int`, `list(A)`, `map(K, V)`, `A` (a parameter). */
export function parseTypeSpec(spec: string): CelType {
  const s = spec.trim();
  const m = /^([\w.]+)\((.*)\)$/.exec(s);
  if (m !== null) {
    const args = splitTop(m[2]!).map(parseTypeSpec);
    switch (m[1]) {
      case 'list':
        return { k: 'list', elem: args[0]! };
      case 'map':
        return { k: 'map', key: args[0]!, val: args[1]! };
      case 'optional':
        return { k: 'optional', elem: args[0]! };
      case 'type':
        return { k: 'type', of: args[0]! };
      default:
        throw new Error(`bad type spec ${spec}`);
    }
  }
  if (/^[A-Z]$/.test(s)) return { k: 'param', name: s };
  switch (s) {
    case 'int':
    case 'uint':
    case 'double':
    case 'string':
    case 'bytes':
    case 'bool':
      return prim(s);
    case 'null':
      return T.null;
    case 'duration':
      return T.duration;
    case 'timestamp':
      return T.timestamp;
    case 'dyn':
      return T.dyn;
    default:
      return { k: 'opaque', name: s };
  }
}

function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur.trim() !== '') out.push(cur);
  return out;
}

/** Type parameter bindings during overload resolution. */
export type Bindings = Map<string, CelType>;

/** Whether a value of type `arg` may be passed where `param` is expected (binding parameters). */
export function assignable(param: CelType, arg: CelType, b: Bindings): boolean {
  if (arg.k === 'error' || arg.k === 'dyn') {
    if (param.k === 'param' && !b.has(param.name)) b.set(param.name, T.dyn);
    return true;
  }
  switch (param.k) {
    case 'dyn':
    case 'error':
      return true;
    case 'param': {
      const bound = b.get(param.name);
      if (bound === undefined) {
        b.set(param.name, arg);
        return true;
      }
      if (bound.k === 'dyn') return true;
      if (assignable(bound, arg, new Map())) return true;
      // null joins a nullable type either way round (`x == null`, `null == x`).
      if (bound.k === 'prim' && bound.name === 'null_type' && nullable(arg)) {
        b.set(param.name, arg);
        return true;
      }
      return false;
    }
    case 'prim':
      if (arg.k === 'prim' && arg.name === param.name) return true;
      return arg.k === 'prim' && arg.name === 'null_type' && nullable(param);
    case 'list':
      return arg.k === 'list' && assignable(param.elem, arg.elem, b);
    case 'map':
      return arg.k === 'map' && assignable(param.key, arg.key, b) && assignable(param.val, arg.val, b);
    case 'optional':
      return arg.k === 'optional' && assignable(param.elem, arg.elem, b);
    case 'type':
      return arg.k === 'type' && assignable(param.of, arg.of, b);
    case 'object':
      if (arg.k === 'prim' && arg.name === 'null_type') return true;
      return arg.k === 'object' && sameType(param, arg);
    case 'opaque':
      return (
        (arg.k === 'opaque' && arg.name === param.name) || (arg.k === 'prim' && arg.name === 'null_type')
      );
  }
}

function nullable(t: CelType): boolean {
  return (
    t.k === 'object' ||
    t.k === 'optional' ||
    t.k === 'opaque' ||
    t.k === 'dyn' ||
    (t.k === 'prim' &&
      (t.name === 'null_type' ||
        t.name === 'google.protobuf.Duration' ||
        t.name === 'google.protobuf.Timestamp'))
  );
}

/** Structural equality of two types (objects compare by declaration). */
export function sameType(a: CelType, b: CelType): boolean {
  if (a.k !== b.k) return false;
  switch (a.k) {
    case 'prim':
      return a.name === (b as typeof a).name;
    case 'list':
      return sameType(a.elem, (b as typeof a).elem);
    case 'map':
      return sameType(a.key, (b as typeof a).key) && sameType(a.val, (b as typeof a).val);
    case 'optional':
      return sameType(a.elem, (b as typeof a).elem);
    case 'type':
      return sameType(a.of, (b as typeof a).of);
    case 'object': {
      const o = b as typeof a;
      if (a === o || (a.schema !== undefined && a.schema === o.schema)) return true;
      if (a.fields.size !== o.fields.size) return false;
      for (const [k, v] of a.fields) {
        const w = o.fields.get(k);
        if (w === undefined || !sameType(v, w)) return false;
      }
      return true;
    }
    case 'opaque':
    case 'param':
      return a.name === (b as typeof a).name;
    default:
      return true;
  }
}

/** Replaces bound parameters (unbound ones become dyn). */
export function substitute(t: CelType, b: Bindings): CelType {
  switch (t.k) {
    case 'param':
      return b.get(t.name) ?? T.dyn;
    case 'list':
      return { k: 'list', elem: substitute(t.elem, b) };
    case 'map':
      return { k: 'map', key: substitute(t.key, b), val: substitute(t.val, b) };
    case 'optional':
      return { k: 'optional', elem: substitute(t.elem, b) };
    case 'type':
      return { k: 'type', of: substitute(t.of, b) };
    default:
      return t;
  }
}
