// HTTP/1.1 upgrade requests (`Upgrade: websocket` or `SPDY/3.1`) for `pods/exec`,
// `pods/attach` and `pods/portforward`: authenticated and authorized like every request
// (a WebSocket upgrade needs `create` on the subresource, as upstream's
// AuthorizePodWebsocketUpgradeCreatePermission checks), then forwarded to the pod's kubelet
// with the same upgrade headers, and the two raw sockets spliced so the kubelet's `101` and
// every frame after it pass through untouched, in both directions. Upgrades of the `proxy`
// subresource of nodes, pods and services (a WebSocket to a pod's server) are authorized by
// their method's verb and spliced the same way to the proxy target.

import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import net from 'node:net';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import tls, { type TLSSocket } from 'node:tls';
import { notFound, serviceUnavailable, toStatusError } from '../../machinery/status-error.js';
import type { Authenticator } from '../auth/authenticate.js';
import { impersonate, impersonationHeaders } from '../auth/impersonation.js';
import { forbiddenError } from '../auth/authorizer.js';
import { parseRequestInfo } from '../request-info.js';
import type { ServerContext } from '../server.js';
import { resolvePodTarget } from './kubelet-location.js';
import {
  dialErrorText,
  forwardHeaders,
  PROXY_RESOURCES,
  proxySubpath,
  resolveProxyLocation,
} from './resource-proxy.js';

/** The connect subresources that are served by upgrading the connection. */
export const UPGRADE_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

/** Request headers passed to the kubelet (the upgrade handshake of either protocol). */
const FORWARDED_HEADERS = [
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'x-stream-protocol-version',
  'user-agent',
];

/** Writes an API Status as a plain HTTP/1.1 response on a socket that was not upgraded. */
export function writeStatusToSocket(socket: Duplex, err: unknown): void {
  const se = toStatusError(err);
  const body = Buffer.from(JSON.stringify(se.status));
  socket.end(
    Buffer.concat([
      Buffer.from(
        `HTTP/1.1 ${se.code} ${STATUS_CODES[se.code] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      ),
      body,
    ]),
  );
}

/** The kubelet's query for an exec/attach/portforward query (upstream's parameter names). */
export function kubeletStreamQuery(sub: string, q: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  if (sub === 'portforward') {
    for (const p of q.getAll('ports')) out.append('port', p);
    return out;
  }
  const on = (k: string): boolean => {
    const v = q.get(k);
    return v === '1' || v === 'true';
  };
  if (on('stdin')) out.set('input', '1');
  if (on('stdout')) out.set('output', '1');
  if (on('stderr')) out.set('error', '1');
  if (on('tty')) out.set('tty', '1');
  if (sub === 'exec') for (const c of q.getAll('command')) out.append('command', c);
  return out;
}

/** Serves one HTTP/1.1 upgrade request (the server's `upgrade` event). */
export async function handleUpgrade(
  ctx: ServerContext,
  authn: Authenticator,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  socket.on('error', () => {});
  try {
    const url = new URL(req.url ?? '/', 'https://kts.invalid');
    const info = parseRequestInfo(req.method ?? 'GET', url);
    const proxy =
      info.isResourceRequest &&
      info.apiGroup === '' &&
      info.subresource === 'proxy' &&
      PROXY_RESOURCES.has(info.resource) &&
      info.name !== '';
    if (
      !proxy &&
      (!info.isResourceRequest ||
        info.apiGroup !== '' ||
        info.resource !== 'pods' ||
        !UPGRADE_SUBRESOURCES.has(info.subresource) ||
        info.name === '')
    ) {
      throw notFound({ group: '', resource: info.resource }, info.name);
    }
    const requestor = authn.authenticate(
      {
        socket: socket as TLSSocket,
        authorization: typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined,
      },
      new Date(),
    );
    const user = impersonate(requestor, impersonationHeaders(req.rawHeaders), ctx.authorizer);
    if (!user.groups.includes('system:masters')) {
      const attrs = {
        user,
        // A proxied upgrade is authorized by its method, as any proxy request.
        verb: proxy ? info.verb : 'create',
        namespace: info.namespace,
        apiGroup: '',
        resource: info.resource,
        subresource: info.subresource,
        name: info.name,
        path: url.pathname,
        resourceRequest: true,
      };
      const decision = ctx.authorizer.authorize(attrs);
      if (!decision.allowed) throw forbiddenError(attrs, decision.reason);
    }
    if (proxy) {
      const loc = await resolveProxyLocation(ctx.stores, ctx.kubelets, info);
      const sub = proxySubpath(url.pathname, info);
      const headers = forwardHeaders(
        req.headers,
        (n) => n === 'authorization' || n.startsWith('impersonate-'),
      );
      // The upgrade handshake itself is hop-by-hop, and must reach the target.
      for (const h of ['upgrade', 'connection']) {
        const v = req.headers[h];
        if (v !== undefined) headers[h] = v;
      }
      const open = (): Duplex =>
        loc.tls
          ? tls.connect({ ...loc.tls, host: loc.host, port: loc.port })
          : net.connect(loc.port, loc.host);
      await splice(
        open,
        loc.tls ? 'secureConnect' : 'connect',
        socket,
        head,
        req,
        `${sub === '' ? '/' : sub}${url.search}`,
        headers,
        loc,
      );
      return;
    }
    const sub = info.subresource as 'exec' | 'attach' | 'portforward';
    const target = await resolvePodTarget(
      ctx.stores,
      info.namespace,
      info.name,
      url.searchParams.get('container') ?? '',
      sub,
    );
    if (target === undefined) throw serviceUnavailable('no kubelet serves this pod');
    const ns = encodeURIComponent(target.namespace);
    const name = encodeURIComponent(target.name);
    const path =
      sub === 'portforward'
        ? `/portForward/${ns}/${name}`
        : `/${sub}/${ns}/${name}/${encodeURIComponent(target.container)}`;
    const query = kubeletStreamQuery(sub, url.searchParams);
    const headers: OutgoingHttpHeaders = {};
    for (const h of FORWARDED_HEADERS) {
      const v = req.headers[h];
      if (v !== undefined) headers[h] = v;
    }
    await splice(
      () => tls.connect(ctx.kubelets.tlsOptions(target.kubelet)),
      'secureConnect',
      socket,
      head,
      req,
      `${path}${query.size > 0 ? `?${query}` : ''}`,
      headers,
      target.kubelet,
    );
  } catch (e) {
    writeStatusToSocket(socket, e);
  }
}

async function splice(
  open: () => Duplex,
  ready: 'connect' | 'secureConnect',
  client: Duplex,
  head: Buffer,
  req: IncomingMessage,
  path: string,
  headers: OutgoingHttpHeaders,
  target: { host: string; port: number },
): Promise<void> {
  const where = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  const upstream = await new Promise<Duplex>((resolve, reject) => {
    const s = open();
    s.once(ready, () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', (e: Error) =>
      reject(
        serviceUnavailable(
          `error trying to reach service: ${dialErrorText({ scheme: 'http', ...target }, e)}`,
        ),
      ),
    );
  });
  (upstream as Duplex & { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
  const lines = [`${req.method ?? 'GET'} ${path} HTTP/1.1`, `Host: ${where}`];
  for (const [h, v] of Object.entries(headers)) {
    if (v === undefined || h === 'host') continue;
    for (const one of Array.isArray(v) ? v : [v]) lines.push(`${h}: ${String(one)}`);
  }
  upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
  if (head.length > 0) upstream.write(head);
  const end = (): void => {
    upstream.destroy();
    client.destroy();
  };
  upstream.on('error', end);
  client.on('error', end);
  upstream.on('close', () => client.end());
  client.on('close', () => upstream.destroy());
  upstream.pipe(client);
  client.pipe(upstream);
}
