// The upstream OpenAPI v2 document as the generators see it: typed views over the parsed
// JSON, definition-name helpers, and the few facts (enums) that have to be recovered from
// other shapes of the same data. Generators only read data through this module, so the
// narrowing from `unknown` happens in one place.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { GenContext } from './context.js';

/** Relative path (under the shared folder) of the upstream OpenAPI v2 document. */
export const SWAGGER_PATH = 'k8s-openapi/swagger.json';

/** Relative folder (under the shared folder) of the upstream OpenAPI v3 samples. */
export const V3_SAMPLE_DIR = 'k8s-openapi/v3-sample';

/** A group/version/kind triple as upstream writes it in `x-kubernetes-group-version-kind`. */
export interface SwaggerGVK {
  group: string;
  version: string;
  kind: string;
}

/** One schema node of the v2 document (definition, property, item or map value). */
export interface SwaggerNode {
  type?: string;
  format?: string;
  $ref?: string;
  description?: string;
  items?: SwaggerNode;
  additionalProperties?: SwaggerNode | boolean;
  properties?: Record<string, SwaggerNode>;
  required?: string[];
  enum?: unknown[];
  'x-kubernetes-group-version-kind'?: SwaggerGVK[];
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
}

/** One operation of a path (get, put, post, delete, patch, head, options). */
export interface SwaggerOperation {
  operationId?: string;
  'x-kubernetes-action'?: string;
  'x-kubernetes-group-version-kind'?: SwaggerGVK;
  responses?: Record<string, { schema?: SwaggerNode }>;
}

/** The parts of the v2 document the generators use. */
export interface SwaggerDoc {
  definitions: Record<string, SwaggerNode>;
  paths: Record<string, Record<string, SwaggerOperation | unknown>>;
}

/** HTTP methods that can carry an operation in a path item. */
export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads the v2 document and checks the top-level shape the generators rely on. */
export function loadSwagger(ctx: GenContext): SwaggerDoc {
  const doc = ctx.readShared(SWAGGER_PATH);
  if (!isRecord(doc) || !isRecord(doc.definitions) || !isRecord(doc.paths)) {
    throw new Error(`${SWAGGER_PATH}: expected an object with definitions and paths`);
  }
  // The document is upstream's generated output; past the top level its shape is the
  // OpenAPI v2 schema, which SwaggerNode mirrors.
  return doc as unknown as SwaggerDoc;
}

/** The operations of one path item, keyed by HTTP method, in a fixed method order. */
export function operationsOf(item: Record<string, unknown>): [string, SwaggerOperation][] {
  const out: [string, SwaggerOperation][] = [];
  for (const m of HTTP_METHODS) {
    const op = item[m];
    if (isRecord(op)) out.push([m, op as SwaggerOperation]);
  }
  return out;
}

/** `#/definitions/io.k8s.api.core.v1.Pod` → `io.k8s.api.core.v1.Pod`. */
export function refName(ref: string): string {
  const i = ref.lastIndexOf('/');
  return i >= 0 ? ref.slice(i + 1) : ref;
}

/** `io.k8s.api.core.v1.Pod` → `io.k8s.api.core.v1`. */
export function packageOf(definition: string): string {
  return definition.slice(0, definition.lastIndexOf('.'));
}

/** `io.k8s.api.core.v1.Pod` → `Pod` (the Go type name). */
export function shortNameOf(definition: string): string {
  return definition.slice(definition.lastIndexOf('.') + 1);
}

/** Well-known definitions whose JSON form is not a plain struct. */
export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
/** IntOrString: a JSON number or string. */
export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
/** Time and MicroTime: RFC 3339 strings. */
export const TIME_DEFINITIONS: ReadonlySet<string> = new Set([
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time',
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime',
]);

/**
 * Definitions whose value is arbitrary JSON. Upstream writes them as `type: object` with no
 * properties, exactly like an empty struct, so only their names tell them apart.
 */
export const FREE_FORM_OBJECTS: ReadonlySet<string> = new Set([
  'io.k8s.apimachinery.pkg.runtime.RawExtension',
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1',
  'io.k8s.apimachinery.pkg.apis.meta.v1.Patch',
]);

/** apiextensions JSON: any JSON value at all (scalars included). */
export const ANY_JSON = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON';

/** apiextensions "X or Y" schema unions: free-form JSON on the wire. */
export const JSON_SCHEMA_UNIONS: Readonly<Record<string, 'array' | 'bool' | 'stringArray'>> = {
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray': 'array',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool': 'bool',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray': 'stringArray',
};

/** True when any JSON is allowed for values of this definition. */
export function isFreeForm(definition: string): boolean {
  return FREE_FORM_OBJECTS.has(definition) || definition === ANY_JSON || definition in JSON_SCHEMA_UNIONS;
}

/**
 * Values of an upstream `+enum` type, recovered from the generated description (the v2
 * document has no `enum` key; upstream's generator lists the values as
 * "Possible enum values:\n - `"Always"` …"). Only the quoted values are kept.
 */
export function enumFromDescription(description: string | undefined): string[] | undefined {
  if (description === undefined) return undefined;
  const at = description.indexOf('Possible enum values:');
  if (at < 0) return undefined;
  const values: string[] = [];
  for (const line of description.slice(at).split('\n')) {
    const m = /^\s*-\s*`"((?:[^"\\]|\\.)*)"`/.exec(line);
    if (m?.[1] !== undefined && !values.includes(m[1])) values.push(m[1]);
  }
  return values.length > 0 ? values : undefined;
}

/** Enum values per definition and property, as the v3 samples state them. */
export type EnumFacts = Map<string, Map<string, { values?: string[]; itemValues?: string[] }>>;

function stringList(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: string[] = [];
  for (const x of v) if (typeof x === 'string' && !out.includes(x)) out.push(x);
  return out.length > 0 ? out : undefined;
}

function listJsonFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...listJsonFiles(p));
    else if (n.endsWith('.json')) out.push(p);
  }
  return out;
}

/**
 * Enum values from the OpenAPI v3 samples (`components.schemas.<def>.properties.<p>.enum`),
 * which carry them as data where the v2 document has only prose.
 */
export function loadV3Enums(ctx: GenContext): EnumFacts {
  const facts: EnumFacts = new Map();
  const root = join(ctx.shared, V3_SAMPLE_DIR);
  for (const file of listJsonFiles(root)) {
    const doc = ctx.readShared(relative(ctx.shared, file));
    if (!isRecord(doc) || !isRecord(doc.components) || !isRecord(doc.components.schemas)) continue;
    for (const [def, schema] of Object.entries(doc.components.schemas)) {
      if (!isRecord(schema) || !isRecord(schema.properties)) continue;
      for (const [prop, node] of Object.entries(schema.properties)) {
        if (!isRecord(node)) continue;
        const values = stringList(node.enum);
        const itemValues = isRecord(node.items) ? stringList(node.items.enum) : undefined;
        if (values === undefined && itemValues === undefined) continue;
        let props = facts.get(def);
        if (props === undefined) {
          props = new Map();
          facts.set(def, props);
        }
        props.set(prop, { ...(values ? { values } : {}), ...(itemValues ? { itemValues } : {}) });
      }
    }
  }
  return facts;
}
