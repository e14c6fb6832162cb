// OpenAPI v3: the index at /openapi/v3 and one document per group/version (plus `api`,
// `apis`, `apis/<group>` and `version`), as upstream's apiserver publishes them. kubectl
// fetches the index, then the document of the group/version it works on through the index's
// `serverRelativeURL` (whose `hash` lets it cache the bytes forever), and needs every kind it
// handles in there: a kind missing from v3 sends it to /openapi/v2 as protobuf, which kts
// does not serve. All documents are built together on first use and kept as bytes.
import { createHash } from 'node:crypto';
import type { CustomResourceRegistry } from '../../apiextensions/registry.js';
import { customResourceDocuments } from './custom-documents.js';
import {
  documentSources,
  type Param,
  type PathItem,
  pathItems,
  type Response,
  META,
  type Route,
  referencedDefinitions,
  type SchemaRef,
} from './routes.js';
import { definitionClosure, type JsonObject, refTo, renderDefinitions } from './schema-json.js';

/** One entry of the /openapi/v3 index. */
export interface OpenAPIV3PathEntry {
  serverRelativeURL: string;
}

/** The /openapi/v3 index document. */
export interface OpenAPIV3Index {
  paths: Record<string, OpenAPIV3PathEntry>;
}

interface Built {
  bytes: Uint8Array;
  hash: string;
}

const REASONS: Record<string, string> = {
  '200': 'OK',
  '201': 'Created',
  '202': 'Accepted',
  '401': 'Unauthorized',
  '405': 'Method Not Allowed',
};

function schemaOf(s: SchemaRef): JsonObject {
  return 'def' in s ? { $ref: refTo('v3', s.def) } : { type: 'string' };
}

function renderParam(p: Param): JsonObject {
  const out: JsonObject = { name: p.name, in: p.in };
  if (p.in === 'path') out.required = true;
  // uniqueItems on a scalar is meaningless but upstream emits it; kept for fidelity.
  out.schema = { type: p.type, uniqueItems: true };
  return out;
}

function renderResponse(code: string, r: Response): JsonObject {
  const out: JsonObject = { description: REASONS[code] ?? code };
  if (r.schema !== undefined && r.contentTypes.length > 0) {
    const content: JsonObject = {};
    for (const t of r.contentTypes) content[t] = { schema: schemaOf(r.schema) };
    out.content = content;
  }
  return out;
}

function renderOperation(route: Route, own: Param[]): JsonObject {
  const op: JsonObject = { tags: route.tags, operationId: route.operationId };
  if (route.validationOnly === true) {
    op.description =
      'Not served. Declares that the server validates the fields of this kind (fieldValidation).';
  }
  if (own.length > 0) op.parameters = own.map(renderParam);
  if (route.body !== undefined) {
    const content: JsonObject = {};
    for (const t of route.body.contentTypes) content[t] = { schema: schemaOf(route.body.schema) };
    const body: JsonObject = { content };
    if (route.body.required) body.required = true;
    op.requestBody = body;
  }
  const responses: JsonObject = {};
  for (const [code, r] of Object.entries(route.responses)) responses[code] = renderResponse(code, r);
  op.responses = responses;
  if (route.action !== undefined) op['x-kubernetes-action'] = route.action;
  if (route.gvk !== undefined) {
    op['x-kubernetes-group-version-kind'] = {
      group: route.gvk.group,
      version: route.gvk.version,
      kind: route.gvk.kind,
    };
  }
  return op;
}

function renderPathItem(item: PathItem): JsonObject {
  const out: JsonObject = {};
  for (const { route, own } of item.ops) out[route.method] = renderOperation(route, own);
  if (item.shared.length > 0) out.parameters = item.shared.map(renderParam);
  return out;
}

/**
 * Builds the v3 document object for a set of routes; `extra` holds definitions that are not
 * in the schema table (custom resources), rendered already, which may refer to meta types.
 */
export function buildV3Document(routes: readonly Route[], extra: JsonObject = {}): JsonObject {
  const paths: JsonObject = {};
  for (const item of pathItems(routes)) paths[item.path] = renderPathItem(item);
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'unversioned' },
    paths,
    components: { schemas: mergeDefinitions(routes, extra, 'v3') },
  };
}

/** Table definitions the routes reach, plus `extra` (and the meta types extra refers to), by name. */
export function mergeDefinitions(
  routes: readonly Route[],
  extra: JsonObject,
  dialect: 'v2' | 'v3',
): JsonObject {
  const roots = referencedDefinitions(routes).filter((n) => !Object.hasOwn(extra, n));
  if (Object.keys(extra).length > 0) roots.push(`${META}.ObjectMeta`, `${META}.ListMeta`);
  const all: JsonObject = { ...renderDefinitions(definitionClosure(roots), dialect), ...extra };
  const out: JsonObject = {};
  for (const k of Object.keys(all).sort()) out[k] = all[k];
  return out;
}

/** Upstream's document hash: SHA-512 of the bytes, upper-case hex. */
export function documentHash(bytes: Uint8Array): string {
  return createHash('sha512').update(bytes).digest('hex').toUpperCase();
}

let built: Map<string, Built> | undefined;

function all(): Map<string, Built> {
  if (built === undefined) {
    const out = new Map<string, Built>();
    const encoder = new TextEncoder();
    for (const src of documentSources()) {
      const bytes = encoder.encode(JSON.stringify(buildV3Document(src.routes)));
      out.set(src.key, { bytes, hash: documentHash(bytes) });
    }
    built = out;
  }
  return built;
}

function customBuilt(custom: CustomResourceRegistry | undefined): ReadonlyMap<string, Built> {
  if (custom === undefined) return new Map();
  return customResourceDocuments(custom).v3((routes, extra) => {
    const bytes = new TextEncoder().encode(JSON.stringify(buildV3Document(routes, extra)));
    return { bytes, hash: documentHash(bytes) };
  });
}

/**
 * The /openapi/v3 index: every document key with its hash-pinned URL, the custom resource
 * groups of `custom` (one API server's CRDs) included.
 */
export function openapiV3Paths(custom?: CustomResourceRegistry): OpenAPIV3Index {
  const entries = new Map(all());
  for (const [key, b] of customBuilt(custom)) if (!entries.has(key)) entries.set(key, b);
  const paths: Record<string, OpenAPIV3PathEntry> = {};
  for (const key of [...entries.keys()].sort()) {
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${entries.get(key)!.hash}` };
  }
  return { paths };
}

function normaliseKey(path: string): string {
  const noQuery = path.split('?')[0] ?? '';
  return noQuery
    .replace(/^\/+/, '')
    .replace(/^openapi\/v3\/?/, '')
    .replace(/\/+$/, '');
}

/**
 * The JSON bytes of one v3 document, by index key (`apis/apps/v1`); a leading `/`, an
 * `/openapi/v3/` prefix and a query string are tolerated. Undefined for unknown keys.
 */
export function openapiV3Document(path: string, custom?: CustomResourceRegistry): Uint8Array | undefined {
  const key = normaliseKey(path);
  return all().get(key)?.bytes ?? customBuilt(custom).get(key)?.bytes;
}

/** The hash of one v3 document (for ETag / immutable caching), by index key. */
export function openapiV3Hash(path: string, custom?: CustomResourceRegistry): string | undefined {
  const key = normaliseKey(path);
  return all().get(key)?.hash ?? customBuilt(custom).get(key)?.hash;
}
