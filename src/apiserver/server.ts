// `kts apiserver`: the Kubernetes API over HTTPS (HTTP/2 via ALPN, and HTTP/1.1). One
// handler chain per request: request info → authentication → authorization → route
// (non-resource endpoints, or resource verbs through the generic Stores). Components start in
// order — PKI, storage, stores, bootstrap objects — and `close()` undoes them in reverse.
import { mkdirSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { ensureClusterPKI } from '../pki/cluster-pki.js';
import { writeKubeconfig } from '../pki/kubeconfig.js';
import { openStorage } from '../storage/factory.js';
import type { Storage } from '../storage/storage.js';
import {
  type AdmissionChain,
  chainOf,
  createAdmissionChain,
  ensureBuiltinPriorityClasses,
} from './admission/index.js';
import { Authenticator, type TokenAuthenticator } from './auth/authenticate.js';
import { type BootstrapSecret, BootstrapTokenAuthenticator } from './auth/bootstrap-token.js';
import { TokenFileAuthenticator } from './auth/token-file.js';
import { forbiddenError } from './auth/authorizer.js';
import { impersonate, impersonationHeaders } from './auth/impersonation.js';
import { ApiServerMetrics, requestLabels } from './metrics.js';
import {
  createRBACAuthorizer,
  ensureBootstrapPolicy,
  type RBACChain,
  RBACEscalationPlugin,
  startClusterRoleAggregation,
} from './auth/rbac/index.js';
import { TokenIssuer } from './auth/service-account-token.js';
import { bootstrapObjects } from './bootstrap.js';
import { Discovery } from './discovery.js';
import { MasterEndpointReconciler } from './endpoint-reconciler.js';
import { handleUpgrade, KubeletConnector } from './connect/index.js';
import { handleResource } from './dispatch.js';
import { defaultHooks } from './hooks.js';
import { type RawRequest, type RawResponse, writeError } from './http.js';
import { serveNonResource } from './non-resource.js';
import { parseRequestInfo } from './request-info.js';
import { StoreRegistry } from './stores.js';
import type { Authorizer } from './endpoints/reviews.js';
import type { UserInfo } from './endpoints/scope.js';
import { ServiceAllocationRepair } from './registry/service-allocation-repair.js';
import { ServiceAllocator } from './registry/service-allocator.js';
import { serviceStrategyOverride } from './registry/service-strategy.js';
import { CustomResourceDefinitionController } from '../apiextensions/crd-controller.js';
import { crdStrategyOverride } from '../apiextensions/crd-strategy.js';
import type { CustomResourceRegistry } from '../apiextensions/registry.js';
import { ServedAPIs } from './served.js';

// Why a request's signal aborts once its response is closed (nothing reads the reason).
const RESPONSE_CLOSED = new Error('response closed');

/** Options of `kts apiserver`. */
export interface ApiServerOptions {
  dataDir: string;
  httpsPort: number;
  /** Address to listen on (default 0.0.0.0). */
  bindAddress?: string;
  /** memory://, sqlite://PATH or etcd://HOST:PORT,… (default sqlite in the data dir). */
  datastoreEndpoint?: string;
  /** Extra SANs for the serving certificate. */
  tlsSans?: string[];
  /** The address clients should use (default 127.0.0.1). */
  advertiseAddress?: string;
  /** Service CIDR (default 10.43.0.0/16). */
  serviceCIDR?: string;
  /** NodePort range (default 30000-32767). */
  nodePortRange?: [number, number];
  /** Static bearer tokens (`--token-auth-file`, upstream CSV format). */
  tokenAuthFile?: string;
  /** This server's identity Lease, behind the `kubernetes` endpoints (endpoint-reconciler.ts). */
  identityLease?: {
    /** Distinct per API server sharing a datastore (default: host name and data dir). */
    seed?: string;
    /** Default 15 s (upstream's master lease TTL). */
    durationSeconds?: number;
    /** Default 10 s (upstream's endpoint reconciler interval). */
    renewIntervalMs?: number;
  };
  /** Background failures of the endpoint reconciler (default: ignored; the next round retries). */
  onError?: (err: unknown) => void;
  /** Timing of the Service allocation repair loop (service-allocation-repair.ts). */
  serviceAllocationRepair?: { intervalMs?: number; graceMs?: number };
}

/** A running API server. */
export interface ApiServer {
  /** https://HOST:PORT */
  url: string;
  port: number;
  kubeconfigPath: string;
  stores: StoreRegistry;
  storage: Storage;
  /** The custom resources this server serves (its CRDs' established versions). */
  customResources: CustomResourceRegistry;
  /** What this server serves; in-process extension APIs (metrics.k8s.io) register here. */
  served: ServedAPIs;
  /** The server's client identity towards kubelets. */
  kubelets: KubeletConnector;
  close(): Promise<void>;
}

/** Shared services of the request handlers. */
export interface ServerContext {
  stores: StoreRegistry;
  storage: Storage;
  /** What this server serves: built-in resources and custom resources (`served.custom`). */
  served: ServedAPIs;
  /** The custom resources of this server's CRDs (OpenAPI publishes their schemas from it). */
  customResources: CustomResourceRegistry;
  discovery: Discovery;
  tokens: TokenIssuer;
  /** Request authentication, also answering TokenReviews. */
  authn: Authenticator;
  /** Request counts and process figures for /metrics. */
  metrics: ApiServerMetrics;
  authorizer: Authorizer;
  /** The admission chain (built after bootstrap). */
  admission: AdmissionChain;
  /** Becomes true once bootstrap objects exist. */
  ready: () => boolean;
  /** The API server's client identity towards kubelets (logs, exec, attach, port-forward). */
  kubelets: KubeletConnector;
}

// Go's MarshalIndent layout; a body that is not one JSON value goes out unchanged.
function indentJSON(chunk: string | Uint8Array): string | Uint8Array {
  try {
    return JSON.stringify(
      JSON.parse(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')),
      null,
      2,
    );
  } catch {
    return chunk;
  }
}

/** Whether upstream would pretty-print the response to this request (`isPrettyPrint`). */
export function isPrettyPrint(url: URL, userAgent: string | undefined): boolean {
  const p = url.searchParams.get('pretty');
  // Go's strconv.ParseBool; anything else is false.
  if (p !== null && p !== '') return ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(p);
  const ua = userAgent ?? '';
  return ua.startsWith('curl') || ua.startsWith('Wget') || ua.startsWith('Mozilla/5.0');
}

// Applies `Warning` headers collected while handling, just before the response starts, and
// indents a whole JSON body for people: upstream pretty-prints for `?pretty=true` and for
// curl, Wget and browsers (negotiation's isPrettyPrint), so `curl` shows indented Status.
class WarningResponse implements RawResponse {
  private contentType = '';
  private streamed = false;

  constructor(
    private readonly raw: RawResponse,
    private readonly warnings: string[],
    private readonly pretty = false,
  ) {}

  get statusCode(): number {
    return this.raw.statusCode;
  }
  set statusCode(v: number) {
    this.raw.statusCode = v;
  }
  get headersSent(): boolean {
    return this.raw.headersSent;
  }
  get writableLength(): number | undefined {
    return this.raw.writableLength;
  }
  setHeader(name: string, value: string | string[]): unknown {
    if (name.toLowerCase() === 'content-type') this.contentType = String(value);
    return this.raw.setHeader(name, value);
  }
  private flush(): void {
    if (this.raw.headersSent || this.warnings.length === 0) return;
    const uniq = [...new Set(this.warnings)];
    this.raw.setHeader(
      'Warning',
      uniq.map((w) => `299 - ${JSON.stringify(w)}`),
    );
  }
  write(chunk: string | Uint8Array): boolean {
    this.flush();
    this.streamed = true;
    return this.raw.write(chunk);
  }
  end(chunk?: string | Uint8Array): unknown {
    this.flush();
    if (this.pretty && !this.streamed && chunk !== undefined && this.contentType === 'application/json')
      return this.raw.end(indentJSON(chunk));
    return this.raw.end(chunk);
  }
  on(event: 'close', listener: () => void): unknown {
    return this.raw.on(event, listener);
  }
}

/** Starts an API server. */
export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  mkdirSync(opts.dataDir, { recursive: true });
  const advertise = opts.advertiseAddress ?? '127.0.0.1';
  const pki = ensureClusterPKI(opts.dataDir, { sans: [advertise, ...(opts.tlsSans ?? [])] });
  const endpoint = opts.datastoreEndpoint ?? `sqlite://${join(opts.dataDir, 'db', 'state.db')}`;
  if (endpoint.startsWith('sqlite://')) mkdirSync(join(opts.dataDir, 'db'), { recursive: true });
  const storage = await openStorage(endpoint);
  const allocator = new ServiceAllocator(
    opts.serviceCIDR ?? '10.43.0.0/16',
    opts.nodePortRange ?? [30000, 32767],
    // Allocation keys live in the shared datastore, so API servers on it never hand out one value twice.
    { storage, ...(opts.onError !== undefined ? { onError: opts.onError } : {}) },
  );
  const served = new ServedAPIs();
  const serviceOverride = serviceStrategyOverride(allocator);
  const stores = new StoreRegistry(
    storage,
    defaultHooks(),
    (r) => crdStrategyOverride(r) ?? serviceOverride(r),
    served,
  );
  const tokens = new TokenIssuer(pki.serviceAccountKeyPem);
  // Bootstrap tokens are checked against the Secret watch cache (a map read per request).
  const secrets = stores.byName('', 'secrets');
  await secrets.start();
  const bearer: TokenAuthenticator[] = [
    new BootstrapTokenAuthenticator(
      (name) => secrets.cache.get(secrets.key('kube-system', name))?.obj as BootstrapSecret | undefined,
    ),
  ];
  if (opts.tokenAuthFile !== undefined) bearer.unshift(TokenFileAuthenticator.fromFile(opts.tokenAuthFile));
  const authn = new Authenticator(tokens, bearer);
  // RBAC reads roles and bindings from the stores' watch caches, so it is built from the
  // stores before the server listens; the default policy is ensured after bootstrap.
  await ensureBootstrapPolicy(stores);
  const aggregation = await startClusterRoleAggregation(stores);
  const authorizer: RBACChain = await createRBACAuthorizer(stores);
  let isReady = false;
  const ctx: ServerContext = {
    stores,
    storage,
    served,
    customResources: served.custom,
    discovery: new Discovery({ serverAddress: `${advertise}:${opts.httpsPort}`, served }),
    tokens,
    authn,
    metrics: new ApiServerMetrics(),
    authorizer,
    admission: chainOf([...createAdmissionChain(stores).plugins, new RBACEscalationPlugin(authorizer)]),
    ready: () => isReady,
    kubelets: new KubeletConnector(pki.ca),
  };
  const inflight = new Set<AbortController>();

  const handler = async (req: http2.Http2ServerRequest, rawRes: http2.Http2ServerResponse): Promise<void> => {
    const warnings: string[] = [];
    const url = new URL(req.url ?? '/', 'https://kts.invalid');
    const res = new WarningResponse(
      rawRes as unknown as RawResponse,
      warnings,
      isPrettyPrint(url, req.headers['user-agent']),
    );
    const ac = new AbortController();
    inflight.add(ac);
    const method = req.method ?? 'GET';
    const info = parseRequestInfo(method, url);
    const finished = ctx.metrics.start(!['GET', 'HEAD', 'OPTIONS'].includes(method));
    rawRes.on('close', () => {
      // A shared reason: the default one is a new DOMException (with a stack) per request.
      ac.abort(RESPONSE_CLOSED);
      inflight.delete(ac);
      const contentType = req.headers['content-type'];
      const dryRun = url.searchParams.get('dryRun') === 'All';
      finished(requestLabels(info, method, contentType, rawRes.statusCode, dryRun));
    });
    try {
      const now = new Date();
      const requestor: UserInfo = authn.authenticate(
        {
          // HTTP/2: the session's socket is one object per connection (req.socket is a new
          // proxy per stream); HTTP/1.1 requests (allowHTTP1) have no stream.
          socket: ((req as { stream?: http2.ServerHttp2Stream }).stream?.session?.socket ??
            req.socket) as unknown as TLSSocket,
          authorization:
            typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined,
        },
        now,
      );
      const user = impersonate(requestor, impersonationHeaders(req.rawHeaders), authorizer);
      const attrs = {
        user,
        verb: info.verb,
        namespace: info.namespace,
        apiGroup: info.apiGroup,
        resource: info.resource,
        subresource: info.subresource,
        name: info.name,
        path: url.pathname,
        resourceRequest: info.isResourceRequest,
      };
      // system:masters is allowed before RBAC is asked (upstream's privileged-groups
      // authorizer), so no change to RBAC objects can lock the cluster admin out.
      if (!user.groups.includes('system:masters')) {
        const decision = authorizer.authorize({
          ...attrs,
          fieldSelector: url.searchParams.get('fieldSelector') ?? '',
        });
        if (!decision.allowed) throw forbiddenError(attrs, decision.reason);
      }
      if (!info.isResourceRequest) {
        await serveNonResource(ctx, req as unknown as RawRequest, res, url, method);
        return;
      }
      await handleResource(ctx, {
        info,
        url,
        req: req as unknown as RawRequest,
        res,
        user,
        signal: ac.signal,
        now,
        warnings,
      });
    } catch (err) {
      writeError(res, err);
    }
  };

  const server = http2.createSecureServer(
    {
      allowHTTP1: true,
      key: pki.serving.keyPem,
      cert: pki.serving.certPem,
      ca: [pki.ca.certPem],
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      void handler(req, res);
    },
  );
  // HTTP/1.1 upgrades (exec, attach, port-forward over WebSocket or SPDY) bypass the
  // request handler: the connect proxy authenticates them and splices them to a kubelet.
  server.on(
    'upgrade',
    (req: import('node:http').IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
      void handleUpgrade(ctx, authn, req, socket, head);
    },
  );
  // Long watches must not be cut by the default socket timeouts.
  server.setTimeout(0);
  // Open connections are tracked so close() can end them at once instead of waiting for
  // clients (kubectl keeps HTTP/2 sessions open; watches never end by themselves).
  const sockets = new Set<import('node:net').Socket>();
  server.on('secureConnection', (sock) => {
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.httpsPort, opts.bindAddress ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  ctx.discovery.close();
  ctx.discovery = new Discovery({ serverAddress: `${advertise}:${port}`, served });
  // The repair's first round gives keys to Services stored before allocation keys existed.
  await allocator.start();
  const services = stores.byName('', 'services');
  const repair = new ServiceAllocationRepair(
    allocator,
    async () => (await services.listAll('')).map((e) => e.obj),
    { ...opts.serviceAllocationRepair, ...(opts.onError !== undefined ? { onError: opts.onError } : {}) },
  );
  await repair.start();
  await bootstrapObjects(stores, allocator, { advertiseAddress: advertise, port });
  const lease = opts.identityLease ?? {};
  const endpoints = new MasterEndpointReconciler(stores, {
    address: advertise,
    port,
    identitySeed: lease.seed ?? `${hostname()}:${resolvePath(opts.dataDir)}`,
    ...(lease.durationSeconds !== undefined ? { leaseDurationSeconds: lease.durationSeconds } : {}),
    ...(lease.renewIntervalMs !== undefined ? { renewIntervalMs: lease.renewIntervalMs } : {}),
    ...(opts.onError !== undefined ? { onError: opts.onError } : {}),
  });
  await endpoints.start();
  await ensureBuiltinPriorityClasses(stores);
  // Established CRDs are served before the server reports ready.
  const crds = new CustomResourceDefinitionController(
    stores.byName('apiextensions.k8s.io', 'customresourcedefinitions'),
    served,
    (entry) => stores.customStore(entry),
    undefined,
    opts.onError,
  );
  await crds.start();
  isReady = true;
  const url = `https://${advertise}:${port}`;
  const kubeconfigPath = join(opts.dataDir, 'kubeconfig.yaml');
  writeKubeconfig(kubeconfigPath, {
    server: url,
    caPem: pki.ca.certPem,
    clientCertPem: pki.admin.certPem,
    clientKeyPem: pki.admin.keyPem,
  });
  return {
    url,
    port,
    kubeconfigPath,
    stores,
    storage,
    customResources: served.custom,
    served,
    kubelets: ctx.kubelets,
    async close(): Promise<void> {
      isReady = false;
      // Leave the `kubernetes` endpoints before the listener goes, as upstream's reconciler does.
      await endpoints.stop({ removeSelf: true });
      for (const ac of inflight) ac.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const sock of sockets) sock.destroy();
      await closed;
      await repair.stop();
      await allocator.stop();
      crds.close();
      ctx.discovery.close();
      ctx.admission.close();
      aggregation.close();
      authorizer.close();
      stores.close();
      await storage.close();
    },
  };
}
