// One CRD schema (JSONSchemaProps) compiled once into the tree every algorithm here walks:
// value validation (which also reads allOf/anyOf/oneOf/not, as kube-openapi does), pruning
// and defaulting (which read only the structural part: properties, additionalProperties,
// items and the x-kubernetes extensions, as upstream's Structural type does). Formats are
// reduced to the ones upstream validates, and patterns are translated from RE2 up front.
import type { JSONSchemaProps } from '../../api/generated/types/apiextensions-v1.js';
import { effectiveFormat } from './formats.js';
import { type CompiledPattern, compileGoRegexp } from './regex.js';

/** A compiled schema node. */
export interface CSchema {
  /** The declared `type` ("" when absent). */
  type: string;
  /** The types kube-openapi checks: [type], ["integer","string"] for int-or-string, or none. */
  types: readonly string[];
  nullable: boolean;
  /** The format after upstream's stripping of unsupported formats ("" when none). */
  format: string;
  /** numberValidator's type and format: set only for a single integer/number type. */
  numType: '' | 'integer' | 'number';
  numFormat: '' | 'int32' | 'int64' | 'float' | 'double';
  maximum?: number;
  exclusiveMaximum: boolean;
  minimum?: number;
  exclusiveMinimum: boolean;
  multipleOf?: number;
  maxLength?: number;
  minLength?: number;
  pattern?: string;
  patternRe?: CompiledPattern;
  maxItems?: number;
  minItems?: number;
  uniqueItems: boolean;
  enum?: readonly unknown[];
  maxProperties?: number;
  minProperties?: number;
  required: readonly string[];
  /** Properties in declaration order. */
  properties?: ReadonlyMap<string, CSchema>;
  /** additionalProperties: a schema, or the boolean form. */
  additionalProperties?: CSchema | boolean;
  items?: CSchema;
  allOf: readonly CSchema[];
  anyOf: readonly CSchema[];
  oneOf: readonly CSchema[];
  not?: CSchema;
  preserveUnknownFields: boolean;
  embeddedResource: boolean;
  intOrString: boolean;
  listType?: string;
  listMapKeys?: readonly string[];
  mapType?: string;
  /** The `default` value (undefined when absent; upstream treats a null default as absent). */
  default?: unknown;
  description?: string;
}

/** Compiles a JSONSchemaProps tree (never throws; invalid parts are reported by validateCrdSchema). */
export function compileSchema(s: JSONSchemaProps): CSchema {
  const type = s.type ?? '';
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const types = intOrString ? ['integer', 'string'] : type !== '' ? [type] : [];
  const format = effectiveFormat(intOrString ? '' : type, s.format);
  const c: CSchema = {
    type,
    types,
    nullable: s.nullable === true,
    format,
    numType: type === 'integer' || type === 'number' ? type : '',
    numFormat:
      (type === 'integer' && (format === 'int32' || format === 'int64')) ||
      (type === 'number' && (format === 'float' || format === 'double'))
        ? (format as CSchema['numFormat'])
        : '',
    exclusiveMaximum: s.exclusiveMaximum === true,
    exclusiveMinimum: s.exclusiveMinimum === true,
    uniqueItems: s.uniqueItems === true,
    required: s.required ?? [],
    allOf: (s.allOf ?? []).map(compileSchema),
    anyOf: (s.anyOf ?? []).map(compileSchema),
    oneOf: (s.oneOf ?? []).map(compileSchema),
    preserveUnknownFields: s['x-kubernetes-preserve-unknown-fields'] === true,
    embeddedResource: s['x-kubernetes-embedded-resource'] === true,
    intOrString,
  };
  if (s.maximum !== undefined) c.maximum = s.maximum;
  if (s.minimum !== undefined) c.minimum = s.minimum;
  if (s.multipleOf !== undefined) c.multipleOf = s.multipleOf;
  if (s.maxLength !== undefined) c.maxLength = s.maxLength;
  if (s.minLength !== undefined) c.minLength = s.minLength;
  if (s.pattern !== undefined && s.pattern !== '') {
    c.pattern = s.pattern;
    c.patternRe = compileGoRegexp(s.pattern);
  }
  if (s.maxItems !== undefined) c.maxItems = s.maxItems;
  if (s.minItems !== undefined) c.minItems = s.minItems;
  if (s.enum !== undefined) c.enum = s.enum;
  if (s.maxProperties !== undefined) c.maxProperties = s.maxProperties;
  if (s.minProperties !== undefined) c.minProperties = s.minProperties;
  if (s.properties !== undefined) {
    const props = new Map<string, CSchema>();
    for (const [k, v] of Object.entries(s.properties)) props.set(k, compileSchema(v));
    c.properties = props;
  }
  if (s.additionalProperties !== undefined) {
    c.additionalProperties =
      typeof s.additionalProperties === 'boolean'
        ? s.additionalProperties
        : compileSchema(s.additionalProperties);
  }
  if (s.items !== undefined && !Array.isArray(s.items)) c.items = compileSchema(s.items);
  if (s.not !== undefined) c.not = compileSchema(s.not);
  if (s['x-kubernetes-list-type'] !== undefined) c.listType = s['x-kubernetes-list-type'];
  if (s['x-kubernetes-list-map-keys'] !== undefined) c.listMapKeys = s['x-kubernetes-list-map-keys'];
  if (s['x-kubernetes-map-type'] !== undefined) c.mapType = s['x-kubernetes-map-type'];
  if (s.default !== undefined && s.default !== null) c.default = s.default;
  if (s.description !== undefined) c.description = s.description;
  return c;
}

/** The schema of the value under key k of an object described by s (property, else additionalProperties). */
export function childSchema(s: CSchema | undefined, k: string): CSchema | undefined {
  if (s === undefined) return undefined;
  const p = s.properties?.get(k);
  if (p !== undefined) return p;
  return typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
}

/** A deep copy of a JSON value (defaults are copied before they are written into objects). */
export function cloneJSON<T>(v: T): T {
  return v === undefined ? v : (structuredClone(v) as T);
}

/** Deep equality of JSON values, key order ignored (Go's reflect.DeepEqual on decoded JSON). */
export function deepEqualJSON(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqualJSON(a[i], bb[i])) return false;
    return true;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra);
  if (ka.length !== Object.keys(rb).length) return false;
  for (const k of ka) if (!Object.hasOwn(rb, k) || !deepEqualJSON(ra[k], rb[k])) return false;
  return true;
}

/** A plain JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
