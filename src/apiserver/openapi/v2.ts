// OpenAPI v2 (Swagger 2.0) at /openapi/v2: one document with every path and definition kts
// serves, the same content as the v3 documents. kubectl (1.27/1.28 for validation) asks for v2
// as gnostic protobuf, which `v2-protobuf.ts` encodes from this document; this JSON form is
// for other clients (client libraries, kustomize, editors) that accept JSON.
import type { CustomResourceRegistry } from '../../apiextensions/registry.js';
import { customResourceDocuments } from './custom-documents.js';
import { documentSources, type Param, type PathItem, pathItems, type Route } from './routes.js';
import { type JsonObject, refTo } from './schema-json.js';
import { mergeDefinitions } from './v3.js';

const REASONS: Record<string, string> = {
  '200': 'OK',
  '201': 'Created',
  '202': 'Accepted',
  '401': 'Unauthorized',
  '405': 'Method Not Allowed',
};

function renderParam(p: Param): JsonObject {
  const out: JsonObject = { name: p.name, in: p.in, type: p.type, uniqueItems: true };
  if (p.in === 'path') out.required = true;
  return out;
}

function renderOperation(route: Route, own: Param[]): JsonObject {
  const params: JsonObject[] = [];
  let consumes: readonly string[] = ['*/*'];
  if (route.body !== undefined) {
    const s = route.body.schema;
    const body: JsonObject = {
      name: 'body',
      in: 'body',
      schema: 'def' in s ? { $ref: refTo('v2', s.def) } : {},
    };
    if (route.body.required) body.required = true;
    params.push(body);
    consumes = route.body.contentTypes;
  }
  params.push(...own.map(renderParam));
  const produces = new Set<string>();
  const responses: JsonObject = {};
  for (const [code, r] of Object.entries(route.responses)) {
    const resp: JsonObject = { description: REASONS[code] ?? code };
    if (r.schema !== undefined)
      resp.schema = 'def' in r.schema ? { $ref: refTo('v2', r.schema.def) } : { type: 'string' };
    for (const t of r.contentTypes) produces.add(t);
    responses[code] = resp;
  }
  const op: JsonObject = {
    tags: route.tags,
    operationId: route.operationId,
    consumes: [...consumes],
    produces: [...produces],
    schemes: ['https'],
  };
  if (params.length > 0) op.parameters = params;
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

/** Builds the Swagger 2.0 document object for a set of routes (plus already rendered `extra` definitions). */
export function buildV2Document(routes: readonly Route[], extra: JsonObject = {}): JsonObject {
  const paths: JsonObject = {};
  for (const item of pathItems(routes)) paths[item.path] = renderPathItem(item);
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: 'unversioned' },
    paths,
    definitions: mergeDefinitions(routes, extra, 'v2'),
    securityDefinitions: { BearerToken: { type: 'apiKey', name: 'authorization', in: 'header' } },
    security: [{ BearerToken: [] }],
  };
}

let cachedRoutes: Route[] | undefined;
let cached: Uint8Array | undefined;

function builtinRoutes(): Route[] {
  cachedRoutes ??= documentSources()
    .flatMap((s) => s.routes)
    .filter((r) => r.validationOnly !== true);
  return cachedRoutes;
}

/**
 * The JSON bytes of the Swagger 2.0 document, with the custom resources of `custom` (one API
 * server's CRDs) merged in; the built-in part is built once, the whole per custom-set change.
 */
export function openapiV2Document(custom?: CustomResourceRegistry): Uint8Array {
  if (custom !== undefined && custom.current().length > 0) {
    return customResourceDocuments(custom).v2((routes, extra) =>
      new TextEncoder().encode(JSON.stringify(buildV2Document([...builtinRoutes(), ...routes], extra))),
    );
  }
  cached ??= new TextEncoder().encode(JSON.stringify(buildV2Document(builtinRoutes())));
  return cached;
}
