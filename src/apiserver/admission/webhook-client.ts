// Calls one admission webhook: builds the AdmissionReview v1 request, resolves the
// clientConfig (a URL, or a Service resolved to one of its endpoints with the TLS name
// `<svc>.<ns>.svc`), POSTs over HTTPS verifying the server with the caBundle, and checks
// the AdmissionReview response (uid, kind). Transport failures become `CallError`s, which
// the dispatcher turns into upstream's `failed calling webhook` errors per failurePolicy.
import { randomUUID } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import type { WebhookClientConfig } from '../../api/generated/types/admissionregistration-v1.js';
import { subresourceOf } from '../../api/registry.js';
import type { KObject } from '../registry/object.js';
import type { StoreRegistry } from '../stores.js';
import { getOrUndefined } from './attributes.js';
import type { AdmissionRequest } from './types.js';

/** A webhook could not be called or answered nonsense. */
export class CallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CallError';
  }
}

/** The `response` of an AdmissionReview. */
export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code?: number; message?: string; reason?: string; status?: string; details?: unknown };
  patch?: string;
  patchType?: string;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

/** Where and how to reach a webhook. */
export interface ResolvedEndpoint {
  /** The URL as upstream prints it in errors (`https://svc.ns.svc:443/path`). */
  url: string;
  host: string;
  port: number;
  path: string;
  servername: string;
  ca?: string;
}

/** Sends an AdmissionReview and returns the parsed response body (injectable for tests). */
export type WebhookTransport = (ep: ResolvedEndpoint, body: string, timeoutMs: number) => Promise<unknown>;

function gvkOf(req: AdmissionRequest): { group: string; version: string; kind: string } {
  const r = req.resource;
  if (req.subresource !== '') {
    const sr = subresourceOf(r, req.subresource);
    if (sr && sr.kind !== r.kind)
      return { group: sr.group ?? r.group, version: sr.version ?? r.version, kind: sr.kind };
  }
  return { group: r.group, version: r.version, kind: r.kind };
}

const OPTIONS_KIND: Record<string, string> = {
  CREATE: 'CreateOptions',
  UPDATE: 'UpdateOptions',
  DELETE: 'DeleteOptions',
};

/** Builds the AdmissionReview v1 request body for one call. */
export function admissionReview(req: AdmissionRequest, uid: string = randomUUID()): Record<string, unknown> {
  const kind = gvkOf(req);
  const resource = {
    group: req.resource.group,
    version: req.resource.version,
    resource: req.resource.plural,
  };
  const user: Record<string, unknown> = { username: req.user.username };
  if (req.user.uid) user.uid = req.user.uid;
  if (req.user.groups.length > 0) user.groups = req.user.groups;
  if (req.user.extra && Object.keys(req.user.extra).length > 0) user.extra = req.user.extra;
  const optionsKind = OPTIONS_KIND[req.operation];
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind,
      resource,
      ...(req.subresource ? { subResource: req.subresource } : {}),
      requestKind: kind,
      requestResource: resource,
      ...(req.subresource ? { requestSubResource: req.subresource } : {}),
      ...(req.name || req.object?.metadata?.name ? { name: req.name || req.object?.metadata?.name } : {}),
      ...(req.namespace ? { namespace: req.namespace } : {}),
      operation: req.operation,
      userInfo: user,
      ...(req.object ? { object: req.object } : {}),
      ...(req.oldObject ? { oldObject: req.oldObject } : {}),
      dryRun: req.dryRun,
      ...(optionsKind ? { options: { kind: optionsKind, apiVersion: 'meta.k8s.io/v1' } } : {}),
    },
  };
}

/** Validates an AdmissionReview response against the request uid. */
export function parseReviewResponse(body: unknown, uid: string): AdmissionResponse {
  const b = body as { apiVersion?: unknown; kind?: unknown; response?: unknown } | null;
  if (
    b === null ||
    typeof b !== 'object' ||
    b.apiVersion !== 'admission.k8s.io/v1' ||
    b.kind !== 'AdmissionReview'
  ) {
    const got =
      b && typeof b === 'object' ? `${String(b.apiVersion ?? '')}, Kind=${String(b.kind ?? '')}` : 'nothing';
    throw new CallError(`expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${got}`);
  }
  const r = b.response as AdmissionResponse | undefined;
  if (!r || typeof r !== 'object') throw new CallError('webhook response was absent');
  if (r.uid !== uid) throw new CallError(`expected response.uid="${uid}", got "${String(r.uid ?? '')}"`);
  return r;
}

function ensureTrailing(path: string): string {
  return path === '' ? '/' : path;
}

/** Resolves a clientConfig to an endpoint, or throws a CallError saying why it cannot. */
export async function resolveClientConfig(
  stores: StoreRegistry,
  cc: WebhookClientConfig,
): Promise<ResolvedEndpoint> {
  const ca = cc.caBundle ? Buffer.from(cc.caBundle, 'base64').toString('utf8') : undefined;
  if (cc.url) {
    const u = new URL(cc.url);
    if (u.protocol !== 'https:') throw new CallError(`webhook URL ${cc.url} must use https`);
    return {
      url: cc.url,
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port ? Number(u.port) : 443,
      path: ensureTrailing(u.pathname) + u.search,
      servername: u.hostname.replace(/^\[|\]$/g, ''),
      ...(ca ? { ca } : {}),
    };
  }
  const svc = cc.service;
  if (!svc) throw new CallError('webhook clientConfig has neither url nor service');
  const port = svc.port ?? 443;
  const path = ensureTrailing(svc.path ?? '/');
  const servername = `${svc.name}.${svc.namespace}.svc`;
  const url = `https://${servername}:${port}${path}`;
  const service = await getOrUndefined(stores, '', 'services', svc.namespace, svc.name);
  if (!service) throw new CallError(`Post "${url}": service "${svc.name}" not found`);
  const spec = (service.spec ?? {}) as {
    type?: string;
    externalName?: string;
    ports?: Array<{ name?: string; port: number; targetPort?: number | string }>;
  };
  if (spec.type === 'ExternalName' && spec.externalName) {
    return { url, host: spec.externalName, port, path, servername, ...(ca ? { ca } : {}) };
  }
  const sp = (spec.ports ?? []).find((p) => p.port === port);
  if (!sp) throw new CallError(`Post "${url}": service "${svc.name}" has no port ${port}`);
  const ep = await getOrUndefined(stores, '', 'endpoints', svc.namespace, svc.name);
  const subsets = ((ep as KObject | undefined)?.subsets ?? []) as Array<{
    addresses?: Array<{ ip: string }>;
    ports?: Array<{ name?: string; port: number }>;
  }>;
  for (const ss of subsets) {
    const addr = ss.addresses?.[0];
    const p = (ss.ports ?? []).find((x) => (x.name ?? '') === (sp.name ?? '')) ?? (ss.ports ?? [])[0];
    if (addr && p) return { url, host: addr.ip, port: p.port, path, servername, ...(ca ? { ca } : {}) };
  }
  throw new CallError(`Post "${url}": no endpoints available for service "${svc.name}"`);
}

function describeNetError(e: unknown, ep: ResolvedEndpoint): string {
  const err = e as { code?: string; message?: string };
  switch (err.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${ep.host}:${ep.port}: connect: connection refused`;
    case 'ENOTFOUND':
      return `dial tcp: lookup ${ep.host}: no such host`;
    case 'ABORT_ERR':
    case 'ETIMEDOUT':
      return 'context deadline exceeded';
  }
  if (
    typeof err.code === 'string' &&
    (err.code.startsWith('ERR_TLS') || err.code.includes('CERT') || err.code.startsWith('UNABLE_TO'))
  ) {
    return `tls: failed to verify certificate: ${err.message ?? err.code}`;
  }
  return err.message ?? String(e);
}

/** The real transport: HTTPS POST with caBundle verification and a deadline. */
export const httpsTransport: WebhookTransport = (ep, body, timeoutMs) =>
  new Promise((resolve, reject) => {
    const printable = `${ep.url}${ep.url.includes('?') ? '&' : '?'}timeout=${Math.round(timeoutMs / 1000)}s`;
    const fail = (why: string) =>
      reject(new CallError(`failed to call webhook: Post "${printable}": ${why}`));
    const req = httpsRequest(
      {
        host: ep.host,
        port: ep.port,
        method: 'POST',
        path: `${ep.path}${ep.path.includes('?') ? '&' : '?'}timeout=${Math.round(timeoutMs / 1000)}s`,
        servername: ep.servername,
        ...(ep.ca ? { ca: ep.ca } : {}),
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': Buffer.byteLength(body),
        },
        signal: AbortSignal.timeout(timeoutMs),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => fail(describeNetError(e, ep)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const code = res.statusCode ?? 0;
          if (code < 200 || code >= 300) {
            reject(new CallError(`received invalid webhook response: ${code} ${text.slice(0, 200)}`.trim()));
            return;
          }
          try {
            resolve(JSON.parse(text));
          } catch {
            reject(new CallError('received invalid webhook response: response body is not JSON'));
          }
        });
      },
    );
    req.on('error', (e) => fail(describeNetError(e, ep)));
    req.end(body);
  });
