// The sockets of the userspace proxier: one listener per service port that relays each
// client to a backend chosen by the port's RoundRobin (upstream pkg/proxy/userspace
// proxysocket.go). TCP: one backend connection per client connection, retried on the next
// endpoint when a backend refuses. UDP: one connected socket per client address, so
// replies find their way back, closed after an idle timeout.

import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../client/log.js';
import { type RoundRobin, splitHostPort } from './load-balancer.js';

/** A listening proxy socket for one service port. */
export interface ProxySocket {
  /** The address actually bound (port resolved when 0 was asked for). */
  address(): { host: string; port: number };
  /** Stops listening and drops every relayed connection. */
  close(): Promise<void>;
}

/** Connection attempts per client before giving up (upstream tries 5 endpoints). */
const MAX_TCP_ATTEMPTS = 5;
const TCP_CONNECT_TIMEOUT_MS = 2000;

/** Opens a TCP relay on host:port. */
export async function listenTcp(
  host: string,
  port: number,
  lb: RoundRobin,
  log: Logger,
): Promise<ProxySocket> {
  const conns = new Set<Socket>();
  const server: Server = createServer((client) => {
    conns.add(client);
    client.on('close', () => conns.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    relayTcp(client, lb, new Set(), 0, conns, log);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: () => {
      const a = server.address();
      return typeof a === 'object' && a !== null ? { host: a.address, port: a.port } : { host, port };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.destroy();
        server.close(() => resolve());
      }),
  };
}

function relayTcp(
  client: Socket,
  lb: RoundRobin,
  failed: Set<string>,
  attempt: number,
  conns: Set<Socket>,
  log: Logger,
): void {
  if (client.destroyed) return;
  const endpoint = attempt < MAX_TCP_ATTEMPTS ? lb.next(client.remoteAddress ?? '', failed) : undefined;
  if (endpoint === undefined) {
    // Like a REJECT: the client sees its connection reset rather than a hang.
    client.resetAndDestroy();
    return;
  }
  const { host, port } = splitHostPort(endpoint);
  const backend = connect({ host, port });
  conns.add(backend);
  backend.setTimeout(TCP_CONNECT_TIMEOUT_MS);
  let connected = false;
  backend.once('connect', () => {
    connected = true;
    backend.setTimeout(0);
    client.pipe(backend);
    backend.pipe(client);
    client.resume();
  });
  const retry = (why: string): void => {
    backend.destroy();
    failed.add(endpoint);
    log.debug('userspace proxy: backend failed, trying another', { component: 'proxy', endpoint, why });
    relayTcp(client, lb, failed, attempt + 1, conns, log);
  };
  backend.once('timeout', () => {
    if (!connected) retry('timeout');
  });
  backend.on('error', (err) => {
    if (!connected) retry(err.message);
    else client.destroy();
  });
  backend.on('close', () => {
    conns.delete(backend);
    if (connected) client.end();
  });
  client.on('close', () => backend.destroy());
}

interface UdpSession {
  socket: UdpSocket;
  timer: NodeJS.Timeout;
  /** Datagrams that arrived before the upstream socket finished connecting. */
  pending: Buffer[] | undefined;
}

/** Opens a UDP relay on host:port; client sessions close after `idleTimeoutMs` of silence. */
export async function listenUdp(
  host: string,
  port: number,
  lb: RoundRobin,
  idleTimeoutMs: number,
  log: Logger,
): Promise<ProxySocket> {
  const sock = createSocket('udp4');
  const sessions = new Map<string, UdpSession>();
  const endSession = (key: string): void => {
    const s = sessions.get(key);
    if (s === undefined) return;
    sessions.delete(key);
    clearTimeout(s.timer);
    s.socket.close();
  };
  const touch = (key: string, s: UdpSession): void => {
    clearTimeout(s.timer);
    s.timer = setTimeout(() => endSession(key), idleTimeoutMs);
  };
  sock.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let s = sessions.get(key);
    if (s === undefined) {
      const endpoint = lb.next(rinfo.address);
      if (endpoint === undefined) return;
      const { host: bh, port: bp } = splitHostPort(endpoint);
      const upstream = createSocket('udp4');
      const session: UdpSession = {
        socket: upstream,
        timer: setTimeout(() => endSession(key), idleTimeoutMs),
        pending: [],
      };
      upstream.on('message', (reply: Buffer) => {
        touch(key, session);
        sock.send(reply, rinfo.port, rinfo.address);
      });
      upstream.on('error', (err) => {
        log.debug('userspace proxy: udp backend error', { component: 'proxy', endpoint, error: err.message });
        endSession(key);
      });
      upstream.connect(bp, bh, () => {
        for (const m of session.pending ?? []) upstream.send(m);
        session.pending = undefined;
      });
      sessions.set(key, session);
      s = session;
    }
    touch(key, s);
    if (s.pending !== undefined) s.pending.push(msg);
    else s.socket.send(msg);
  });
  sock.on('error', (err) =>
    log.error('userspace proxy: udp socket error', { component: 'proxy', error: err.message }),
  );
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, host, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  return {
    address: () => {
      const a = sock.address();
      return { host: a.address, port: a.port };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const key of [...sessions.keys()]) endSession(key);
        sock.close(() => resolve());
      }),
  };
}
