// The `proxy` subresource of nodes, pods and services (upstream's UpgradeAwareHandler behind
// the registries' ProxyREST): any method is forwarded to the resolved location with the
// path after `proxy/` and the original query, request and response bodies streamed, and
// headers copied except hop-by-hop ones and the caller's credentials (the API server
// consumed them). A root request without a trailing slash is redirected to one, and a
// target that cannot be reached is upstream's 503 "error trying to reach service".

import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { serviceUnavailable } from '../../machinery/status-error.js';
import type { RawRequest, RawResponse } from '../http.js';
import type { RequestInfo } from '../request-info.js';
import type { StoreRegistry } from '../stores.js';
import type { KubeletConnector } from './kubelet-location.js';
import {
  nodeProxyLocation,
  podProxyLocation,
  type ProxyLocation,
  serviceProxyLocation,
} from './proxy-location.js';

/** The resources whose `proxy` subresource is served (all in the core group). */
export const PROXY_RESOURCES = new Set(['nodes', 'pods', 'services']);

/** Headers that describe one connection, never forwarded (Go's httputil hop-by-hop list). */
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Request headers the API server consumed itself (authentication, impersonation). */
function isCredential(name: string): boolean {
  return name === 'authorization' || name.startsWith('impersonate-');
}

function connectionTokens(headers: IncomingHttpHeaders): Set<string> {
  const v = headers.connection;
  const list = Array.isArray(v) ? v.join(',') : (v ?? '');
  return new Set(
    list
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== ''),
  );
}

/** The headers to forward one way: without hop-by-hop, HTTP/2 pseudo headers or `drop`ped ones. */
export function forwardHeaders(
  headers: IncomingHttpHeaders,
  drop: (name: string) => boolean = () => false,
): OutgoingHttpHeaders {
  const named = connectionTokens(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase();
    if (v === undefined || name.startsWith(':') || HOP_BY_HOP.has(name) || named.has(name) || drop(name))
      continue;
    out[name] = v;
  }
  return out;
}

/**
 * The raw (still percent-encoded) path after the `proxy` segment of a request path: '' for
 * `…/proxy`, '/' for `…/proxy/`, `/a/b` for `…/proxy/a/b`.
 */
export function proxySubpath(pathname: string, info: RequestInfo): string {
  const raw = pathname.split('/');
  for (let i = 2; i < raw.length; i++) {
    if (raw[i] !== 'proxy' || raw[i - 2] !== info.resource) continue;
    let name = raw[i - 1] ?? '';
    try {
      name = decodeURIComponent(name);
    } catch {
      // keep the raw segment
    }
    if (name !== info.name) continue;
    const rest = raw.slice(i + 1);
    return rest.length === 0 ? '' : `/${rest.join('/')}`;
  }
  return '';
}

/** Go's text for a dial failure (`dial tcp H:P: connect: connection refused`). */
export function dialErrorText(loc: ProxyLocation, err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  const host = loc.host.includes(':') ? `[${loc.host}]` : loc.host;
  const where = `dial tcp ${host}:${loc.port}`;
  switch (code) {
    case 'ECONNREFUSED':
      return `${where}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `${where}: connect: no route to host`;
    case 'ENETUNREACH':
      return `${where}: connect: network is unreachable`;
    case 'ETIMEDOUT':
      return `${where}: i/o timeout`;
    default:
      return `${where}: ${err.message}`;
  }
}

/** What one proxy request needs from the server. */
export interface ProxyRequest {
  info: RequestInfo;
  url: URL;
  req: RawRequest;
  res: RawResponse;
  signal: AbortSignal;
}

/** Resolves a `proxy` request's target (404/400/503 as upstream's registries answer). */
export function resolveProxyLocation(
  stores: StoreRegistry,
  kubelets: KubeletConnector,
  info: RequestInfo,
): Promise<ProxyLocation> {
  if (info.resource === 'pods') return podProxyLocation(stores, info.namespace, info.name);
  if (info.resource === 'services') return serviceProxyLocation(stores, info.namespace, info.name);
  return nodeProxyLocation(stores, kubelets, info.name);
}

function clientAddress(req: RawRequest): string | undefined {
  const sock = (req as { socket?: { remoteAddress?: unknown } }).socket;
  return typeof sock?.remoteAddress === 'string' ? sock.remoteAddress : undefined;
}

async function drain(res: RawResponse): Promise<void> {
  const once = (res as { once?: unknown }).once;
  if (typeof once !== 'function') return;
  await new Promise<void>((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      resolve();
    };
    once.call(res, 'drain', finish);
    once.call(res, 'close', finish);
  });
}

/** Serves one `nodes|pods|services/<id>/proxy[/path]` request by forwarding it. */
export async function handleResourceProxy(
  p: ProxyRequest,
  stores: StoreRegistry,
  kubelets: KubeletConnector,
): Promise<void> {
  const loc = await resolveProxyLocation(stores, kubelets, p.info);
  const method = (p.req.method ?? 'GET').toUpperCase();
  const sub = proxySubpath(p.url.pathname, p.info);
  if (sub === '' && (method === 'GET' || method === 'HEAD')) {
    // Relative links of the proxied page only work below a directory (kubernetes#4958).
    p.res.statusCode = 301;
    p.res.setHeader('Location', `${p.url.pathname}/${p.url.search}`);
    p.res.end();
    return;
  }
  const path = `${sub === '' ? '/' : sub}${p.url.search}`;
  const headers = forwardHeaders(p.req.headers, isCredential);
  const authority = p.req.headers[':authority'];
  if (headers.host === undefined && typeof authority === 'string') headers.host = authority;
  const from = clientAddress(p.req);
  if (from !== undefined) {
    const prior = p.req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = prior ? `${String(prior)}, ${from}` : from;
  }
  const options = { method, path, headers, agent: false as const };
  const outgoing =
    loc.scheme === 'https'
      ? https.request({ ...loc.tls, ...options, host: loc.host, port: loc.port })
      : http.request({ ...options, host: loc.host, port: loc.port });
  const abort = (): void => void outgoing.destroy();
  p.signal.addEventListener('abort', abort, { once: true });
  try {
    const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
      outgoing.once('response', resolve);
      outgoing.once('error', (e) =>
        reject(serviceUnavailable(`error trying to reach service: ${dialErrorText(loc, e)}`)),
      );
      void sendBody(p.req, outgoing).catch((e: unknown) => outgoing.destroy(e as Error));
    });
    await relayResponse(upstream, p.res);
  } finally {
    p.signal.removeEventListener('abort', abort);
  }
}

async function sendBody(req: RawRequest, outgoing: http.ClientRequest): Promise<void> {
  for await (const chunk of req) {
    if (!outgoing.write(chunk)) await new Promise((r) => outgoing.once('drain', r));
  }
  outgoing.end();
}

async function relayResponse(upstream: IncomingMessage, res: RawResponse): Promise<void> {
  res.statusCode = upstream.statusCode ?? 502;
  for (const [k, v] of Object.entries(forwardHeaders(upstream.headers))) {
    if (v !== undefined) res.setHeader(k, typeof v === 'number' ? String(v) : v);
  }
  try {
    for await (const chunk of upstream) {
      if (!res.write(chunk as Buffer)) await drain(res);
    }
  } catch {
    // the target or the client went away: end what was sent
  } finally {
    res.end();
  }
}
