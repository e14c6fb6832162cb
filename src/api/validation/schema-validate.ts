// Structural validation of a decoded JSON object against the schema table, reproducing what
// upstream's typed decoding (sigs.k8s.io/json into Go structs) reports: a wrong JSON type
// fails the request with 400 `<Kind> in version "<v>" cannot be handled as a <Kind>: json:
// cannot unmarshal …`, whatever fieldValidation says; unknown and duplicate fields are
// strict-decoding problems whose fate fieldValidation decides (Strict: 400, Warn: warnings,
// Ignore: nothing). The walk keeps its path on a reused stack and builds strings only for
// problems, because it runs on every write.
import { ERR_FORMAT_WRONG } from '../../machinery/quantity.js';
import { badRequest, type StatusError } from '../../machinery/status-error.js';
import { getDefinition } from '../schema.js';
import type { DefinitionSchema } from '../schema-types.js';
import { cachedQuantity } from './field.js';
import { type CompiledNode, type DefinitionLookup, NodeKind, SchemaCompiler } from './schema-compile.js';

/** The fieldValidation query parameter of writes. */
export type FieldValidationMode = 'Strict' | 'Warn' | 'Ignore';

/** Options of validateSchema. */
export interface SchemaValidateOptions {
  mode: FieldValidationMode;
  /** Paths of duplicate fields found by the JSON decoder, printed as upstream's decoder does. */
  duplicates?: string[];
  /** Resolves refs; defaults to the generated schema table. */
  lookup?: DefinitionLookup;
  /**
   * Normalises `obj` in place as decoding into Go structs would: unknown fields are dropped
   * (a write accepted under Warn or Ignore must not persist them), a null struct field is
   * left unset, and a null list item or map value becomes its type's zero value (`""`, 0,
   * false, {}), so later stages never meet a null where the type allows none.
   */
  prune?: boolean;
  /**
   * Builds the error Strict mode throws from upstream's `strict decoding error: …` text;
   * by default a 400 with that text. Create and update wrap it in the decoder's
   * `cannot be handled as` sentence, patches in a 422 on the field `patch`.
   */
  strictError?: (message: string) => Error;
  /** Builds the error a type mismatch throws from the decoder's `json: cannot unmarshal …` text. */
  decodeError?: (message: string) => Error;
}

/** What a successful structural validation returns. */
export interface SchemaValidateResult {
  /** One `Warning:` header text per problem (Warn mode only). */
  warnings: string[];
}

const SEG_FIELD = 0;
const SEG_INDEX = 1;
const SEG_KEY = 2;

/** Mutable state of one walk; a single instance is reused because validation is synchronous. */
interface WalkState {
  segs: (string | number)[];
  segKinds: number[];
  /** Per field segment: the Go struct that declares the field. */
  structs: string[];
  unknown: string[];
  decodeError: string | undefined;
  prune: boolean;
}

const state: WalkState = {
  segs: [],
  segKinds: [],
  structs: [],
  unknown: [],
  decodeError: undefined,
  prune: false,
};
const compilers = new WeakMap<DefinitionLookup, SchemaCompiler>();

function compilerFor(lookup: DefinitionLookup): SchemaCompiler {
  let c = compilers.get(lookup);
  if (c === undefined) {
    c = new SchemaCompiler(lookup);
    compilers.set(lookup, c);
  }
  return c;
}

/**
 * Checks obj against definition as upstream's decoder would. Throws a 400 StatusError for a
 * type error (any mode) or for unknown/duplicate fields in Strict mode; returns the warnings
 * of Warn mode.
 */
export function validateSchema(
  obj: unknown,
  definition: DefinitionSchema,
  opts: SchemaValidateOptions,
): SchemaValidateResult {
  const root = compilerFor(opts.lookup ?? getDefinition).definition(definition);
  const st = state;
  st.unknown = [];
  st.decodeError = undefined;
  st.prune = opts.prune === true;
  walk(obj, root, st, 0);
  if (st.decodeError !== undefined) {
    throw opts.decodeError !== undefined
      ? opts.decodeError(st.decodeError)
      : undecodable(obj, definition, st.decodeError);
  }
  const dups = opts.duplicates;
  const hasDups = dups !== undefined && dups.length > 0;
  if (opts.mode === 'Ignore' || (st.unknown.length === 0 && !hasDups)) return { warnings: [] };
  const problems = st.unknown.map((p) => `unknown field "${p}"`);
  if (hasDups) for (const d of dups) problems.push(`duplicate field "${d}"`);
  if (opts.mode === 'Strict') {
    const message = `strict decoding error: ${problems.join(', ')}`;
    throw opts.strictError !== undefined ? opts.strictError(message) : badRequest(message);
  }
  return { warnings: problems };
}

/**
 * The 400 upstream's create and update handlers answer when a body cannot be decoded into
 * its Go type (transformDecodeError): `<Kind> in version "<v>" cannot be handled as a
 * <Kind>: <why>`, or `the object provided is unrecognized …` for a body without a kind.
 */
export function undecodable(obj: unknown, definition: DefinitionSchema, err: string): StatusError {
  const into = definition.gvk?.[0]?.kind ?? definition.name.slice(definition.name.lastIndexOf('.') + 1);
  const rec =
    obj !== null && typeof obj === 'object' && !Array.isArray(obj) ? (obj as Record<string, unknown>) : {};
  const kind = typeof rec.kind === 'string' ? rec.kind : '';
  if (kind !== '') {
    const apiVersion = typeof rec.apiVersion === 'string' ? rec.apiVersion : '';
    const version = apiVersion.slice(apiVersion.indexOf('/') + 1);
    return badRequest(`${kind} in version "${version}" cannot be handled as a ${into}: ${err}`);
  }
  return badRequest(`the object provided is unrecognized (must be of type ${into}): ${err}`);
}

function jsonKind(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  return Array.isArray(v) ? 'array' : 'object';
}

function typeError(st: WalkState, depth: number, value: string, goType: string): void {
  if (st.decodeError !== undefined) return;
  const fields: string[] = [];
  let struct = '';
  for (let i = 0; i < depth; i++) {
    if (st.segKinds[i] === SEG_FIELD) {
      fields.push(String(st.segs[i]));
      struct = st.structs[i] ?? '';
    }
  }
  st.decodeError =
    fields.length === 0
      ? `json: cannot unmarshal ${value} into Go value of type ${goType}`
      : `json: cannot unmarshal ${value} into Go struct field ${struct}.${fields.join('.')} of type ${goType}`;
}

function pathString(st: WalkState, depth: number, last: string): string {
  let s = '';
  for (let i = 0; i < depth; i++) {
    const seg = st.segs[i];
    if (st.segKinds[i] === SEG_INDEX) s += `[${String(seg)}]`;
    else s += s === '' ? String(seg) : `.${String(seg)}`;
  }
  return s === '' ? last : `${s}.${last}`;
}

function walk(v: unknown, node: CompiledNode, st: WalkState, depth: number): void {
  if (v === null || st.decodeError !== undefined) return;
  switch (node.kind) {
    case NodeKind.Any:
      return;
    case NodeKind.String:
      if (typeof v !== 'string') typeError(st, depth, jsonKind(v), node.goType);
      return;
    case NodeKind.DateTime:
      if (typeof v !== 'string') typeError(st, depth, jsonKind(v), 'string');
      else if (!isRFC3339(v)) st.decodeError = timeParseError(v);
      return;
    case NodeKind.Bytes:
      if (typeof v !== 'string') typeError(st, depth, jsonKind(v), node.goType);
      else {
        const at = base64ErrorOffset(v);
        if (at >= 0) st.decodeError = `illegal base64 data at input byte ${at}`;
      }
      return;
    case NodeKind.Boolean:
      if (typeof v !== 'boolean') typeError(st, depth, jsonKind(v), node.goType);
      return;
    case NodeKind.Number:
      if (typeof v !== 'number') typeError(st, depth, jsonKind(v), node.goType);
      return;
    case NodeKind.Integer:
    case NodeKind.IntOrString:
      if (typeof v === 'number') {
        if (!Number.isInteger(v) || v < node.min || v > node.max)
          typeError(st, depth, `number ${String(v)}`, node.goType);
      } else if (typeof v !== 'string' || node.kind === NodeKind.Integer) {
        typeError(st, depth, jsonKind(v), node.goType);
      }
      return;
    case NodeKind.Quantity: {
      const err =
        typeof v === 'string'
          ? quantityError(v.trim())
          : typeof v === 'number'
            ? undefined
            : ERR_FORMAT_WRONG;
      if (err !== undefined) st.decodeError = err;
      return;
    }
    case NodeKind.Array:
      walkArray(v, node, st, depth);
      return;
    case NodeKind.Map:
      walkMap(v, node, st, depth);
      return;
    case NodeKind.Struct:
      walkStruct(v, node, st, depth);
      return;
  }
}

function walkArray(v: unknown, node: CompiledNode, st: WalkState, depth: number): void {
  if (!Array.isArray(v)) {
    typeError(st, depth, jsonKind(v), node.goType);
    return;
  }
  const elem = node.elem;
  if (elem === undefined || elem.kind === NodeKind.Any) return;
  st.segKinds[depth] = SEG_INDEX;
  st.structs[depth] = '';
  for (let i = 0; i < v.length; i++) {
    st.segs[depth] = i;
    if (v[i] === null && st.prune) v[i] = zeroValue(elem.kind);
    walk(v[i], elem, st, depth + 1);
  }
}

function walkMap(v: unknown, node: CompiledNode, st: WalkState, depth: number): void {
  if (typeof v !== 'object' || Array.isArray(v)) {
    typeError(st, depth, jsonKind(v), node.goType);
    return;
  }
  const elem = node.elem;
  if (elem === undefined || elem.kind === NodeKind.Any) return;
  st.segKinds[depth] = SEG_KEY;
  st.structs[depth] = '';
  const rec = v as Record<string, unknown>;
  for (const key in rec) {
    st.segs[depth] = key;
    if (rec[key] === null && st.prune) rec[key] = zeroValue(elem.kind);
    walk(rec[key], elem, st, depth + 1);
  }
}

function walkStruct(v: unknown, node: CompiledNode, st: WalkState, depth: number): void {
  if (typeof v !== 'object' || Array.isArray(v)) {
    typeError(st, depth, jsonKind(v), node.goType);
    return;
  }
  const props = node.props;
  if (props === undefined) return;
  const rec = v as Record<string, unknown>;
  for (const key in rec) {
    const child = props.get(key);
    if (child === undefined) {
      if (!node.openStruct) {
        st.unknown.push(pathString(st, depth, key));
        if (st.prune) delete rec[key];
      }
      continue;
    }
    if (rec[key] === null && st.prune) {
      delete rec[key];
      continue;
    }
    st.segs[depth] = key;
    st.segKinds[depth] = SEG_FIELD;
    st.structs[depth] = node.structName;
    walk(rec[key], child, st, depth + 1);
  }
}

// Go's zero value of a list item or map value decoded from null (times and free-form
// values stay null, which is how Go encodes their zero).
function zeroValue(kind: NodeKind): unknown {
  switch (kind) {
    case NodeKind.String:
    case NodeKind.Bytes:
      return '';
    case NodeKind.Integer:
    case NodeKind.Number:
    case NodeKind.IntOrString:
      return 0;
    case NodeKind.Boolean:
      return false;
    case NodeKind.Quantity:
      return '0';
    case NodeKind.Struct:
    case NodeKind.Map:
      return {};
    case NodeKind.Array:
      return [];
    default:
      return null;
  }
}

/** Offset Go's base64.StdEncoding reports for malformed input, or -1 when it decodes. */
export function base64ErrorOffset(s: string): number {
  const n = s.length;
  let si = 0;
  for (;;) {
    let j = 0;
    while (j < 4) {
      if (si === n) return j === 0 ? -1 : si - j;
      const c = s.charCodeAt(si);
      si++;
      if (isBase64Char(c)) {
        j++;
        continue;
      }
      if (c === 10 || c === 13) continue;
      if (c !== 61) return si - 1;
      // padding: only after two or three data characters, and nothing but newlines after it
      if (j < 2) return si - 1;
      if (j === 2) {
        while (si < n && (s.charCodeAt(si) === 10 || s.charCodeAt(si) === 13)) si++;
        if (si === n) return n;
        if (s.charCodeAt(si) !== 61) return si - 1;
        si++;
      }
      while (si < n && (s.charCodeAt(si) === 10 || s.charCodeAt(si) === 13)) si++;
      return si < n ? si : -1;
    }
  }
}

function isBase64Char(c: number): boolean {
  return (
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    (c >= 48 && c <= 57) ||
    c === 43 /* + */ ||
    c === 47 /* / */
  );
}

/** The error upstream's resource.ParseQuantity gives for s, or undefined when it parses. */
export function quantityError(s: string): string | undefined {
  const q = cachedQuantity(s);
  return typeof q === 'string' ? q : undefined;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function isRFC3339(s: string): boolean {
  return RFC3339.test(s);
}

// Go's time.Parse names the first layout element that failed; the year is the common case.
function timeParseError(s: string): string {
  return `parsing time "${s}" as "2006-01-02T15:04:05Z07:00": cannot parse "${s}" as "2006"`;
}
