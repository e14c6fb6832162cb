// Pruning, null handling and defaulting of custom objects, as upstream's CR decoder does on
// every request body and every read from storage (unstructuredSchemaCoercer.apply, then the
// unstructuredDefaulter): root metadata decoded as ObjectMeta (unknown metadata fields
// dropped), fields the structural schema does not declare removed (except under
// x-kubernetes-preserve-unknown-fields, and never apiVersion/kind/metadata of the root or an
// embedded resource), non-nullable nulls without a default removed, embedded resources'
// TypeMeta/ObjectMeta coerced, then `default`s applied where a field is absent (or a
// non-nullable null). Removed paths are reported as upstream's strict decoding names them
// (`spec.foo`, `spec.items[0].bar`, `metadata.foo`).
import { badRequest } from '../../machinery/status-error.js';
import { type CSchema, childSchema, cloneJSON, isObject } from './compile.js';
import { decodeObjectMeta, goSharpV, ObjectMetaDecodeError } from './structural-checks.js';

const META_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

function keyPath(parent: string, k: string): string {
  return parent === '' ? k : `${parent}.${k}`;
}

/** pruning.PruneWithOptions: removes undeclared fields of x in place; records their paths. */
export function pruneUnknown(
  x: unknown,
  s: CSchema | undefined,
  isResourceRoot: boolean,
  out: string[],
): void {
  const root =
    isResourceRoot && s !== undefined && !s.embeddedResource ? { ...s, embeddedResource: true } : s;
  const collected: string[] = [];
  prune(x, isResourceRoot && root === undefined ? EMPTY_EMBEDDED : root, '', collected);
  collected.sort();
  out.push(...collected);
}

const EMPTY_EMBEDDED: CSchema = {
  type: '',
  types: [],
  nullable: false,
  format: '',
  numType: '',
  numFormat: '',
  exclusiveMaximum: false,
  exclusiveMinimum: false,
  uniqueItems: false,
  required: [],
  allOf: [],
  anyOf: [],
  oneOf: [],
  preserveUnknownFields: false,
  embeddedResource: true,
  intOrString: false,
};

function prune(x: unknown, s: CSchema | undefined, path: string, out: string[]): void {
  if (s?.preserveUnknownFields === true) {
    skipPrune(x, s, path, out);
    return;
  }
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) prune(x[i], s?.items, `${path}[${i}]`, out);
    return;
  }
  if (!isObject(x)) return;
  if (s === undefined) {
    for (const k of Object.keys(x)) {
      out.push(keyPath(path, k));
      delete x[k];
    }
    return;
  }
  for (const k of Object.keys(x)) {
    if (s.embeddedResource && META_FIELDS.has(k)) continue;
    const prop = s.properties?.get(k);
    if (prop !== undefined) prune(x[k], prop, keyPath(path, k), out);
    else if (s.additionalProperties !== undefined) {
      prune(
        x[k],
        typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined,
        keyPath(path, k),
        out,
      );
    } else {
      if (!META_FIELDS.has(k) || path !== '') out.push(keyPath(path, k));
      delete x[k];
    }
  }
}

// Under x-kubernetes-preserve-unknown-fields unknown keys stay, but declared ones are still pruned below.
function skipPrune(x: unknown, s: CSchema, path: string, out: string[]): void {
  if (Array.isArray(x)) {
    if (s.items !== undefined)
      for (let i = 0; i < x.length; i++) skipPrune(x[i], s.items, `${path}[${i}]`, out);
    return;
  }
  if (!isObject(x)) return;
  for (const k of Object.keys(x)) {
    if (s.embeddedResource && META_FIELDS.has(k)) continue;
    const prop = s.properties?.get(k);
    if (prop !== undefined) prune(x[k], prop, keyPath(path, k), out);
    else if (s.additionalProperties !== undefined) {
      prune(
        x[k],
        typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined,
        keyPath(path, k),
        out,
      );
    }
  }
}

/** defaulting.PruneNonNullableNullsWithoutDefaults: drops nulls the schema neither allows nor defaults. */
export function pruneNonNullableNulls(x: unknown, s: CSchema | undefined): void {
  if (Array.isArray(x)) {
    for (const item of x) pruneNonNullableNulls(item, s?.items);
    return;
  }
  if (!isObject(x)) return;
  for (const k of Object.keys(x)) {
    const sub = childSchema(s, k);
    const v = x[k];
    if (v === null && sub !== undefined && !sub.nullable && sub.default === undefined) delete x[k];
    else pruneNonNullableNulls(v, sub);
  }
}

/**
 * objectmeta.CoerceWithOptions below the root: apiVersion/kind of embedded resources must be
 * strings, and their metadata is decoded as ObjectMeta (unknown fields dropped and reported).
 */
export function coerceEmbedded(x: unknown, s: CSchema | undefined, path: string, out: string[]): void {
  if (s === undefined) return;
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) coerceEmbedded(x[i], s.items, `${path}[${i}]`, out);
    return;
  }
  if (!isObject(x)) return;
  for (const k of Object.keys(x)) {
    const v = x[k];
    if (s.embeddedResource) {
      if ((k === 'apiVersion' || k === 'kind') && typeof v !== 'string') {
        throw badRequest(`${keyPath(path, k)}: Invalid value: ${goSharpV(v)}: must be a string`);
      }
      if (k === 'metadata') {
        try {
          for (const p of decodeObjectMeta(v)) out.push(`${keyPath(path, 'metadata')}.${p}`);
        } catch (e) {
          if (!(e instanceof ObjectMetaDecodeError)) throw e;
          throw badRequest(`${keyPath(path, 'metadata')}: Invalid value: ${goSharpV(v)}: ${e.message}`);
        }
      }
    }
    const prop = s.properties?.get(k);
    if (prop !== undefined) coerceEmbedded(v, prop, keyPath(path, k), out);
    else if (typeof s.additionalProperties === 'object')
      coerceEmbedded(v, s.additionalProperties, `${path}[${k}]`, out);
  }
}

/** defaulting.Default: fills absent (or non-nullable null) fields from `default`, deep-copied. */
export function applyDefaults(x: unknown, s: CSchema | undefined): void {
  if (s === undefined) return;
  if (Array.isArray(x)) {
    const items = s.items;
    if (items === undefined) return;
    for (let i = 0; i < x.length; i++) {
      if (x[i] === null && !items.nullable && items.default !== undefined) x[i] = cloneJSON(items.default);
      applyDefaults(x[i], items);
    }
    return;
  }
  if (!isObject(x)) return;
  if (s.properties !== undefined) {
    for (const [k, prop] of s.properties) {
      if (prop.default === undefined) continue;
      if (!Object.hasOwn(x, k) || (x[k] === null && !prop.nullable)) x[k] = cloneJSON(prop.default);
    }
  }
  for (const k of Object.keys(x)) {
    const prop = s.properties?.get(k);
    if (prop !== undefined) applyDefaults(x[k], prop);
    else if (typeof s.additionalProperties === 'object') {
      const ap = s.additionalProperties;
      if (x[k] === null && !ap.nullable && ap.default !== undefined) x[k] = cloneJSON(ap.default);
      applyDefaults(x[k], ap);
    }
  }
}

/** The whole coercion of a custom object (see the file comment); returns the unknown-field paths. */
export function coerceCustomObject(obj: Record<string, unknown>, s: CSchema | undefined): string[] {
  const paths: string[] = [];
  if (Object.hasOwn(obj, 'metadata')) {
    try {
      for (const p of decodeObjectMeta(obj.metadata)) paths.push(`metadata.${p}`);
    } catch (e) {
      if (!(e instanceof ObjectMetaDecodeError)) throw e;
      throw badRequest(`${objectDescription(obj)} cannot be handled as a ${kindOf(obj)}: ${e.message}`);
    }
  }
  pruneUnknown(obj, s, true, paths);
  pruneNonNullableNulls(obj, s);
  const coerced: string[] = [];
  coerceEmbedded(obj, s, '', coerced);
  coerced.sort();
  paths.push(...coerced);
  return paths;
}

function kindOf(obj: Record<string, unknown>): string {
  return typeof obj.kind === 'string' ? obj.kind : '';
}

// `<Kind> in version "<v>"`, the subject of upstream's decode errors.
function objectDescription(obj: Record<string, unknown>): string {
  const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  return `${kindOf(obj)} in version "${apiVersion.slice(apiVersion.indexOf('/') + 1)}"`;
}
