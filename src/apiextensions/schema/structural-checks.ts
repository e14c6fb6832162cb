// The checks upstream's custom-resource strategy runs beside kube-openapi validation, both
// following the structural schema: x-kubernetes-list-type set/map uniqueness
// (listtype.ValidateListSetsAndMaps) and the TypeMeta/ObjectMeta of embedded resources
// (objectmeta.Validate with isResourceRoot=false; the root's metadata is the strategy's).
// Also the ObjectMeta decoding both pruning and these checks share: metadata is decoded as
// upstream decodes it into metav1.ObjectMeta, which drops unknown fields and fails on
// wrongly typed ones.
import { validateObjectMeta } from '../../api/validation/object-meta.js';
import { validateSchema } from '../../api/validation/schema-validate.js';
import { getDefinition } from '../../api/schema.js';
import type { ObjectMeta } from '../../api/generated/types/meta-v1.js';
import { goQuote } from '../../machinery/go-format.js';
import type { FieldError } from '../../machinery/status-error.js';
import { isDNS1035Label, validatePathSegmentName } from '../../machinery/validation/names.js';
import { type CSchema, isObject } from './compile.js';

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** A metadata value that Go's JSON decoder could not put into an ObjectMeta. */
export class ObjectMetaDecodeError extends Error {}

/**
 * Decodes `metadata` as metav1.ObjectMeta would be: unknown fields (and null struct fields)
 * are removed in place and their paths (relative to metadata) returned; a wrongly typed
 * field throws ObjectMetaDecodeError with Go's `json: cannot unmarshal …` text.
 */
export function decodeObjectMeta(metadata: unknown): string[] {
  if (!isObject(metadata)) {
    const what = metadata === null ? 'null' : Array.isArray(metadata) ? 'array' : typeof metadata;
    if (metadata === null) return [];
    throw new ObjectMetaDecodeError(
      `json: cannot unmarshal ${what === 'boolean' ? 'bool' : what} into Go value of type v1.ObjectMeta`,
    );
  }
  const def = getDefinition(OBJECT_META);
  if (def === undefined) return [];
  const res = validateSchema(metadata, def, {
    mode: 'Warn',
    prune: true,
    decodeError: (m) => new ObjectMetaDecodeError(m),
  });
  const paths: string[] = [];
  for (const w of res.warnings) {
    const m = /^unknown field "(.*)"$/.exec(w);
    if (m !== null) paths.push(m[1] ?? '');
  }
  return paths;
}

/**
 * Go's `%#v` of a decoded JSON value (`map[string]interface {}{"k":"v"}`), used where upstream
 * prints a compound bad value with it.
 */
export function goSharpV(v: unknown): string {
  if (v === null || v === undefined) return 'interface {}(nil)';
  if (typeof v === 'string') return goQuote(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[]interface {}{${v.map(goSharpV).join(', ')}}`;
  const rec = v as Record<string, unknown>;
  const keys = Object.keys(rec).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `map[string]interface {}{${keys.map((k) => `${goQuote(k)}:${goSharpV(rec[k])}`).join(', ')}}`;
}

function duplicateAt(field: string, value: unknown): FieldError {
  if (value !== null && typeof value === 'object') {
    return { type: 'FieldValueDuplicate', field, renderedValue: goSharpV(value) };
  }
  return { type: 'FieldValueDuplicate', field, badValue: value };
}

function child(path: string, k: string): string {
  return path === '' ? k : `${path}.${k}`;
}

/** listtype.ValidateListSetsAndMaps over a whole object: `Duplicate value` per repeated set item or map key. */
export function validateListSetsAndMaps(s: CSchema, obj: Record<string, unknown>, path = ''): FieldError[] {
  const errs: FieldError[] = [];
  if (typeof s.additionalProperties === 'object') {
    for (const [k, v] of Object.entries(obj)) listWalk(`${path}[${k}]`, s.additionalProperties, v, errs);
  }
  if (s.properties !== undefined) {
    for (const [k, v] of Object.entries(obj)) {
      const sub = s.properties.get(k);
      if (sub !== undefined) listWalk(child(path, k), sub, v, errs);
    }
  }
  return errs;
}

function listWalk(path: string, s: CSchema, v: unknown, errs: FieldError[]): void {
  if (Array.isArray(v)) {
    if (s.listType === 'set') {
      for (const i of nonUnique(v)) errs.push(duplicateAt(`${path}[${i}]`, v[i]));
    } else if (s.listType === 'map') {
      errs.push(...validateListMap(path, s.listMapKeys ?? [], v));
    }
    if (s.items !== undefined)
      for (let i = 0; i < v.length; i++) listWalk(`${path}[${i}]`, s.items, v[i], errs);
  } else if (isObject(v)) {
    errs.push(...validateListSetsAndMaps(s, v, path));
  }
}

const UNSPECIFIED = Symbol('unspecified');

// The indices of the second appearance of each repeated element (later repeats are not reported).
function nonUnique(items: readonly unknown[]): number[] {
  const seen = new Map<unknown, number>();
  const out: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const x = items[i];
    const key = x !== null && typeof x === 'object' ? `\u0000${canonicalJSON(x)}` : x;
    const times = seen.get(key) ?? 0;
    if (times === 1) out.push(i);
    seen.set(key, times + 1);
  }
  return out;
}

// json.Marshal of a map sorts keys; equal values compare equal as text.
function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJSON(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function validateListMap(path: string, keys: readonly string[], items: readonly unknown[]): FieldError[] {
  for (let i = 0; i < items.length; i++) {
    const x = items[i];
    if (x !== null && !isObject(x)) {
      return [
        {
          type: 'FieldValueInvalid',
          field: `${path}[${i}]`,
          badValue: x,
          detail: 'must be an object for an array of list-type map',
        },
      ];
    }
  }
  if (items.length <= 1) return [];
  if (keys.length === 1) {
    const keyField = keys[0]!;
    const vals = items.map((x) => (isObject(x) && Object.hasOwn(x, keyField) ? x[keyField] : UNSPECIFIED));
    return nonUnique(vals).map((i) => {
      const k = vals[i];
      return duplicateAt(`${path}[${i}]`, k === UNSPECIFIED ? {} : { [keyField]: k });
    });
  }
  const composite = items.map((x) => {
    const key: Record<string, unknown> = {};
    if (isObject(x)) for (const k of keys) if (Object.hasOwn(x, k)) key[k] = x[k];
    return key;
  });
  return nonUnique(composite).map((i) => duplicateAt(`${path}[${i}]`, composite[i]));
}

/** objectmeta.Validate (not at the root): apiVersion, kind and metadata of every embedded resource. */
export function validateEmbeddedResources(s: CSchema, v: unknown, path = ''): FieldError[] {
  const errs: FieldError[] = [];
  embeddedWalk(path, s, v, errs);
  return errs;
}

function embeddedWalk(path: string, s: CSchema, v: unknown, errs: FieldError[]): void {
  if (Array.isArray(v)) {
    if (s.items !== undefined)
      for (let i = 0; i < v.length; i++) embeddedWalk(`${path}[${i}]`, s.items, v[i], errs);
    return;
  }
  if (!isObject(v)) return;
  if (s.embeddedResource) errs.push(...validateEmbeddedResource(path, v));
  for (const [k, x] of Object.entries(v)) {
    const p = s.properties?.get(k);
    if (p !== undefined) embeddedWalk(child(path, k), p, x, errs);
    else if (typeof s.additionalProperties === 'object')
      embeddedWalk(`${path}[${k}]`, s.additionalProperties, x, errs);
  }
}

function validateEmbeddedResource(path: string, x: Record<string, unknown>): FieldError[] {
  const errs: FieldError[] = [];
  if (!Object.hasOwn(x, 'apiVersion'))
    errs.push({ type: 'FieldValueRequired', field: child(path, 'apiVersion'), detail: '' });
  if (!Object.hasOwn(x, 'kind'))
    errs.push({ type: 'FieldValueRequired', field: child(path, 'kind'), detail: '' });
  for (const [k, v] of Object.entries(x)) {
    const f = child(path, k);
    if (k === 'apiVersion') {
      if (typeof v !== 'string') errs.push(invalid(f, v, 'must be a string'));
      else if (v === '') errs.push(invalid(f, v, 'must not be empty'));
      else if (v.split('/').length > 2) errs.push(invalid(f, v, `unexpected GroupVersion string: ${v}`));
    } else if (k === 'kind') {
      if (typeof v !== 'string') errs.push(invalid(f, v, 'must be a string'));
      else if (v === '') errs.push(invalid(f, v, 'must not be empty'));
      else {
        const bad = isDNS1035Label(v.toLowerCase());
        if (bad.length > 0)
          errs.push(invalid(f, v, `may have mixed case, but should otherwise match: ${bad.join(',')}`));
      }
    } else if (k === 'metadata') {
      const copy = structuredClone(v);
      try {
        decodeObjectMeta(copy);
      } catch (e) {
        if (!(e instanceof ObjectMetaDecodeError)) throw e;
        errs.push(invalid(f, v, e.message));
        continue;
      }
      const meta = (isObject(copy) ? copy : {}) as ObjectMeta;
      if ((meta.name ?? '') === '') meta.name = 'fakename';
      errs.push(...validateObjectMeta(meta, (meta.namespace ?? '') !== '', validatePathSegmentName, f));
    }
  }
  return errs;
}

function invalid(field: string, badValue: unknown, detail: string): FieldError {
  if (badValue !== null && typeof badValue === 'object') {
    return { type: 'FieldValueInvalid', field, renderedValue: goSharpV(badValue), detail };
  }
  return { type: 'FieldValueInvalid', field, badValue, detail };
}
