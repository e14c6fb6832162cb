// Endpoints outside the resource tree: /version, health (/healthz, /livez, /readyz),
// discovery (/api, /apis, /apis/<g>, /api/v1, /apis/<g>/<v>), OpenAPI (/openapi/v2,
// /openapi/v3[/<gv>]) and the service-account issuer's OIDC documents.
import { serveHealth, type HealthCheck } from './health.js';
import { type RawRequest, type RawResponse, writeObject, writeText } from './http.js';
import { negotiate } from './negotiation.js';
import { openapiV2Document, openapiV2Protobuf, openapiV3Document, openapiV3Paths } from './openapi/index.js';
import type { ServerContext } from './server.js';
import { METRICS_CONTENT_TYPE } from './metrics.js';
import { versionInfo } from './version.js';
import { notAcceptable, StatusError } from '../machinery/status-error.js';

/** 404 for paths nothing serves, as upstream's not-found handler answers. */
export function notFoundStatus(): StatusError {
  return new StatusError({
    reason: 'NotFound',
    code: 404,
    message: 'the server could not find the requested resource',
    details: {},
  });
}

function sendBytes(
  res: RawResponse,
  code: number,
  body: Uint8Array,
  contentType: string,
  etag?: string,
): void {
  res.statusCode = code;
  res.setHeader('Content-Type', contentType);
  if (etag) res.setHeader('Etag', etag);
  res.end(body);
}

// Upstream 1.32's post-start hooks in the order kube-apiserver registers them. kts does the
// same work during its start (admission, informers, CRDs, RBAC and priority-class bootstrap,
// the system namespaces, the kubernetes Service…), finished once the server reports ready.
const POST_START_HOOKS = [
  'start-apiserver-admission-initializer',
  'generic-apiserver-start-informers',
  'priority-and-fairness-config-consumer',
  'priority-and-fairness-filter',
  'storage-object-count-tracker-hook',
  'start-apiextensions-informers',
  'start-apiextensions-controllers',
  'crd-informer-synced',
  'start-system-namespaces-controller',
  'start-cluster-authentication-info-controller',
  'start-kube-apiserver-identity-lease-controller',
  'start-kube-apiserver-identity-lease-garbage-collector',
  'start-legacy-token-tracking-controller',
  'start-service-ip-repair-controllers',
  'rbac/bootstrap-roles',
  'scheduling/bootstrap-system-priority-classes',
  'priority-and-fairness-config-producer',
  'bootstrap-controller',
  'aggregator-reload-proxy-client-cert',
  'start-kube-aggregator-informers',
  'apiservice-status-local-available-controller',
  'apiservice-status-remote-available-controller',
  'apiservice-registration-controller',
  'apiservice-discovery-controller',
  'kube-apiserver-autoregistration',
];

const startedServers = new WeakSet<ServerContext>();

/** The checks of /healthz, /livez (the same list) and /readyz (adds readiness checks), in upstream's order. */
function checks(ctx: ServerContext, endpoint: string): HealthCheck[] {
  const storage = async (): Promise<string | undefined> => {
    try {
      await ctx.storage.currentRevision();
      return undefined;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  };
  // A server that was ready once has run its hooks; ready() turns false again on shutdown.
  if (ctx.ready()) startedServers.add(ctx);
  const wasStarted = startedServers.has(ctx);
  const started = () => (wasStarted ? undefined : 'not finished');
  const readyz = endpoint === 'readyz';
  const out: HealthCheck[] = [
    { name: 'ping', check: () => undefined },
    { name: 'log', check: () => undefined },
    { name: 'etcd', check: storage },
  ];
  if (readyz) {
    out.push({ name: 'etcd-readiness', check: storage });
    out.push({ name: 'informer-sync', check: () => (ctx.ready() ? undefined : 'not yet synced') });
  }
  for (const hook of POST_START_HOOKS) {
    out.push({ name: `poststarthook/${hook}`, check: started });
    if (hook === 'kube-apiserver-autoregistration')
      out.push({ name: 'autoregister-completion', check: started });
  }
  out.push({ name: 'poststarthook/apiservice-openapi-controller', check: started });
  out.push({ name: 'poststarthook/apiservice-openapiv3-controller', check: started });
  if (readyz) {
    out.push({
      name: 'shutdown',
      check: () => (wasStarted && !ctx.ready() ? 'process is shutting down' : undefined),
    });
  }
  return out;
}

/** Serves a non-resource request. */
export async function serveNonResource(
  ctx: ServerContext,
  req: RawRequest,
  res: RawResponse,
  url: URL,
  method: string,
): Promise<void> {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const parts = path.split('/').filter((p) => p !== '');
  const accept = typeof req.headers.accept === 'string' ? req.headers.accept : undefined;
  if (method !== 'GET' && method !== 'HEAD') {
    throw new StatusError({
      reason: 'MethodNotAllowed',
      code: 405,
      message: 'the server does not allow this method on the requested resource',
      details: {},
    });
  }
  const head = parts[0];
  if (head === 'healthz' || head === 'livez' || head === 'readyz') {
    await serveHealth(head, checks(ctx, head), parts.slice(1).join('/'), url.searchParams, res);
    return;
  }
  if (path === '/metrics') {
    res.statusCode = 200;
    res.setHeader('Content-Type', METRICS_CONTENT_TYPE);
    res.end(ctx.metrics.render());
    return;
  }
  if (path === '/version') {
    // Upstream writes /version with MarshalIndent whoever asks.
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(versionInfo(), null, 2));
    return;
  }
  if (head === 'api' || head === 'apis') {
    serveDiscovery(ctx, res, parts, accept);
    return;
  }
  if (head === 'openapi') {
    serveOpenAPI(res, parts, url, accept, ctx);
    return;
  }
  if (path === '/swagger-2.0.0.pb-v1') {
    sendBytes(res, 200, openapiV2Protobuf(ctx.served.custom), OPENAPI_V2_PROTOBUF);
    return;
  }
  if (path === '/.well-known/openid-configuration') {
    writeObject(res, 200, {
      issuer: ctx.tokens.issuer,
      jwks_uri: `${ctx.tokens.issuer}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
    return;
  }
  if (path === '/openid/v1/jwks') {
    writeObject(res, 200, { keys: [ctx.tokens.jwk()] }, 'application/jwk-set+json');
    return;
  }
  if (path === '/') {
    writeObject(res, 200, {
      paths: [
        '/api',
        '/api/v1',
        '/apis',
        '/healthz',
        '/livez',
        '/openapi/v2',
        '/openapi/v3',
        '/readyz',
        '/version',
      ],
    });
    return;
  }
  throw notFoundStatus();
}

function serveDiscovery(
  ctx: ServerContext,
  res: RawResponse,
  parts: string[],
  accept: string | undefined,
): void {
  const d = ctx.discovery;
  if (parts.length === 1) {
    const legacy = parts[0] === 'api';
    const rep = negotiate(accept, { table: false, partial: false, discovery: true });
    if (rep.kind === 'discovery') {
      const body = d.aggregated(legacy, rep.version);
      sendBytes(
        res,
        200,
        body,
        `application/json;g=apidiscovery.k8s.io;v=${rep.version};as=APIGroupDiscoveryList`,
        d.etag(body),
      );
      return;
    }
    sendBytes(res, 200, legacy ? d.apiVersions() : d.apiGroupList(), 'application/json');
    return;
  }
  if (parts[0] === 'api' && parts.length === 2) {
    const b = d.apiResourceList('', parts[1]!);
    if (!b) throw notFoundStatus();
    sendBytes(res, 200, b, 'application/json');
    return;
  }
  if (parts[0] === 'apis' && parts.length === 2) {
    const b = d.apiGroup(parts[1]!);
    if (!b) throw notFoundStatus();
    sendBytes(res, 200, b, 'application/json');
    return;
  }
  if (parts[0] === 'apis' && parts.length === 3) {
    const b = d.apiResourceList(parts[1]!, parts[2]!);
    if (!b) throw notFoundStatus();
    sendBytes(res, 200, b, 'application/json');
    return;
  }
  throw notFoundStatus();
}

// The gnostic v2 media type. Clients ask with `@v1.0`, but `@` is no token character, so the
// answer (as upstream's) says `.v1.0` for Go's mime parser to accept it.
const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
const PROTOBUF_V2_ACCEPT = /application\/com\.github\.proto-openapi\.spec\.v2[@.]v1\.0\+protobuf/;

function serveOpenAPI(
  res: RawResponse,
  parts: string[],
  url: URL,
  accept: string | undefined,
  ctx: ServerContext,
): void {
  // Custom resources' definitions join the built-in documents.
  const custom = ctx.served.custom;
  if (parts[1] === 'v2' && parts.length === 2) {
    // kubectl up to 1.28 asks for gnostic protobuf only; other clients get JSON.
    if (accept !== undefined && PROTOBUF_V2_ACCEPT.test(accept)) {
      sendBytes(res, 200, openapiV2Protobuf(custom), OPENAPI_V2_PROTOBUF);
      return;
    }
    const wantsJSON = !accept || /application\/json|\*\/\*/.test(accept);
    if (!wantsJSON) throw notAcceptable(['application/json', OPENAPI_V2_PROTOBUF]);
    sendBytes(res, 200, openapiV2Document(custom), 'application/json');
    return;
  }
  if (parts[1] === 'v3') {
    if (parts.length === 2) {
      writeObject(res, 200, openapiV3Paths(custom));
      return;
    }
    const doc = openapiV3Document(parts.slice(2).join('/'), custom);
    if (!doc) throw notFoundStatus();
    // A request with the current hash may be cached for a long time (upstream does this).
    if (url.searchParams.has('hash')) res.setHeader('Cache-Control', 'public, immutable');
    sendBytes(res, 200, doc, 'application/json');
    return;
  }
  writeText(res, 404, '404 page not found\n');
}
