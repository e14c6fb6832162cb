// The cluster DNS server: one UDP socket and one TCP listener on the same address and port
// (RFC 7766: TCP is not optional), both feeding the QueryHandler. TCP connections may
// pipeline queries and are closed after an idle period; both transports are owned here
// and released by close().

import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from '../client/log.js';
import { Forwarder, hostUpstreams, isLoopback, parseUpstream, type Upstream } from './forwarder.js';
import { type HandlerResult, QueryHandler } from './handler.js';
import { canonicalIP, ipFamily } from './ip.js';
import type { ClusterDNSModel } from './model.js';
import { ClusterZone, type PodMode } from './records.js';
import { frameTcp, TcpFramer } from './wire.js';

/** Options of `startDNSServer`. */
export interface DNSServerOptions {
  model: ClusterDNSModel;
  /** Address to listen on (default 0.0.0.0). */
  address?: string;
  /** Port for UDP and TCP (default 53; 0 picks a free one for both). */
  port?: number;
  /** Upstreams for names outside the zone; default the host's resolvers (`hostUpstreams()`). */
  forwarders?: string[];
  /** The cluster domain (default cluster.local). */
  zone?: string;
  /** Record TTL (default 5 s). */
  ttl?: number;
  podMode?: PodMode;
  /** Addresses served for ns.dns.<zone>; default the kube-system/kube-dns cluster IPs. */
  nsAddresses?: string[];
  /** Time to wait for one upstream (default 2 s). */
  forwardTimeoutMs?: number;
  /** Idle TCP connections are closed after this long (default 10 s, as CoreDNS). */
  tcpIdleTimeoutMs?: number;
  logger?: Logger;
}

/** A running DNS server. */
export interface DNSServer {
  /** The port both transports listen on. */
  port: number;
  address: string;
  /** The query handler (for stats and tests). */
  handler: QueryHandler;
  /** Stops listening and releases every socket. */
  close(): Promise<void>;
}

function isPromise(r: HandlerResult | Promise<HandlerResult>): r is Promise<HandlerResult> {
  return r !== null && !Buffer.isBuffer(r);
}

function bindUdp(sock: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    sock.once('error', onError);
    sock.bind(port, address, () => {
      sock.off('error', onError);
      resolve();
    });
  });
}

function listenTcp(server: net.Server, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ port, host: address, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Drops upstreams that are this server itself: forwarding to them would loop. */
function withoutSelf(upstreams: string[], address: string, port: number): Upstream[] {
  const self = canonicalIP(address);
  return upstreams
    .map(parseUpstream)
    .filter(
      (u) =>
        !(port !== 0 && u.port === port && (u.host === self || (self === '0.0.0.0' && isLoopback(u.host)))),
    );
}

/** Starts the cluster DNS server. */
export async function startDNSServer(opts: DNSServerOptions): Promise<DNSServer> {
  const address = opts.address ?? '0.0.0.0';
  const logger = opts.logger;
  const zone = new ClusterZone({
    model: opts.model,
    ...(opts.zone !== undefined && { zone: opts.zone }),
    ...(opts.ttl !== undefined && { ttl: opts.ttl }),
    ...(opts.podMode !== undefined && { podMode: opts.podMode }),
    ...(opts.nsAddresses !== undefined && { nsAddresses: opts.nsAddresses }),
  });
  const forwarder = new Forwarder({
    upstreams: withoutSelf(opts.forwarders ?? hostUpstreams(), address, opts.port ?? 53),
    ...(opts.forwardTimeoutMs !== undefined && { timeoutMs: opts.forwardTimeoutMs }),
    ...(logger && { logger }),
  });
  const handler = new QueryHandler({ zone, forwarder, ...(logger && { logger }) });
  const idleMs = opts.tcpIdleTimeoutMs ?? 10_000;
  const family = ipFamily(address) === 6 ? 'udp6' : 'udp4';

  const connections = new Set<net.Socket>();
  // Last line of defence: a bug answering one packet must not take the server down.
  const handle = (msg: Buffer, transport: 'udp' | 'tcp'): HandlerResult | Promise<HandlerResult> => {
    try {
      return handler.handle(msg, transport);
    } catch (err) {
      logger?.error('DNS query handling failed', { transport, err: String(err) });
      return null;
    }
  };
  const onConnection = (conn: net.Socket): void => {
    connections.add(conn);
    const framer = new TcpFramer();
    conn.setTimeout(idleMs, () => conn.destroy());
    conn.on('close', () => connections.delete(conn));
    conn.on('error', () => conn.destroy());
    const reply = (r: HandlerResult): void => {
      if (r && !conn.destroyed) conn.write(frameTcp(r));
    };
    conn.on('data', (chunk: Buffer) => {
      for (const msg of framer.push(chunk)) {
        const r = handle(msg, 'tcp');
        if (isPromise(r)) r.then(reply, () => undefined);
        else reply(r);
      }
    });
  };

  // UDP first (it picks the port when asked for 0), then TCP on the same port; a TCP clash
  // on a picked port is retried with another.
  let udp: dgram.Socket | undefined;
  let tcp: net.Server | undefined;
  for (let attempt = 0; ; attempt++) {
    udp = dgram.createSocket({ type: family, recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    tcp = net.createServer(onConnection);
    try {
      await bindUdp(udp, opts.port ?? 53, address);
      await listenTcp(tcp, udp.address().port, address);
      break;
    } catch (err) {
      udp.close();
      tcp.close();
      if (opts.port !== 0 || attempt >= 5) {
        forwarder.close();
        handler.close();
        throw err;
      }
    }
  }
  const udpSock = udp;
  const tcpServer = tcp;
  udpSock.on('error', (err) => logger?.error('DNS UDP socket error', { err: err.message }));
  let closed = false;
  const send = (resp: HandlerResult, port: number, to: string): void => {
    if (resp && !closed) udpSock.send(resp, port, to);
  };
  udpSock.on('message', (msg, rinfo) => {
    const r = handle(msg, 'udp');
    if (isPromise(r))
      r.then(
        (resp) => send(resp, rinfo.port, rinfo.address),
        () => undefined,
      );
    else send(r, rinfo.port, rinfo.address);
  });

  const port = udpSock.address().port;
  logger?.info('cluster DNS listening', { address, port, zone: zone.zone });
  return {
    port,
    address,
    handler,
    close: async () => {
      if (closed) return;
      closed = true;
      handler.close();
      forwarder.close();
      for (const c of connections) c.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udpSock.close(() => resolve())),
        new Promise<void>((resolve) => tcpServer.close(() => resolve())),
      ]);
    },
  };
}
