// Names outside the cluster zone go to the host's resolvers, like CoreDNS's `forward .
// /etc/resolv.conf` plus a small `cache`. Queries go out over UDP with a fresh random id
// (responses are accepted only from the upstream asked, with that id and question) and are
// retried over TCP when the answer comes back truncated; each upstream is tried in turn and
// SERVFAIL is the answer when none replies. Identical queries in flight share one upstream
// exchange. Responses are cached for their smallest TTL (negative ones for the SOA's,
// RFC 2308), capped, with TTLs counted down when replayed; the cache is bounded.

import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { Logger } from '../client/log.js';
import { canonicalIP, ipFamily } from './ip.js';
import {
  type DNSMessage,
  decodeMessage,
  Flag,
  frameTcp,
  HEADER_SIZE,
  OPT_SIZE,
  type ParsedQuery,
  Rcode,
  RRType,
  readName,
  TcpFramer,
  WireError,
  writeOpt,
} from './wire.js';

/** An upstream resolver. */
export interface Upstream {
  host: string;
  port: number;
}

/** Parses `1.2.3.4`, `1.2.3.4:5353`, `::1`, `[::1]:5353` into an upstream. */
export function parseUpstream(spec: string): Upstream {
  let host = spec;
  let port = 53;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  if (bracket) {
    host = bracket[1] as string;
    if (bracket[2]) port = Number(bracket[2]);
  } else if (spec.split(':').length === 2) {
    const [h, p] = spec.split(':');
    host = h as string;
    port = Number(p);
  }
  const canonical = canonicalIP(host.replace(/%.*$/, ''));
  if (!canonical || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`invalid upstream DNS server "${spec}"`);
  }
  return { host: canonical, port };
}

/** Whether an address is a loopback address (a stub resolver there is useless off-host). */
export function isLoopback(address: string): boolean {
  const c = canonicalIP(address);
  return c !== null && (c.startsWith('127.') || c === '::1');
}

/** The nameservers listed in a resolv.conf text. */
export function parseResolvConf(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) out.push(m[1] as string);
  }
  return out;
}

/** Options of `hostUpstreams`. */
export interface HostUpstreamOptions {
  /** Default /etc/resolv.conf. */
  resolvConf?: string;
  /** Nameservers to leave out; default: loopback stub resolvers (127.0.0.53, 127.0.0.1, ::1). */
  skip?: (address: string) => boolean;
  /** Read when every nameserver of `resolvConf` was skipped (systemd-resolved's real upstreams). */
  fallbackResolvConf?: string;
}

/** The host's resolvers, as upstreams for names outside the cluster (as k3s picks them). */
export function hostUpstreams(opts: HostUpstreamOptions = {}): string[] {
  const skip = opts.skip ?? isLoopback;
  const read = (path: string): string[] => {
    try {
      return parseResolvConf(readFileSync(path, 'utf8')).filter((a) => !skip(a));
    } catch {
      return [];
    }
  };
  const found = read(opts.resolvConf ?? '/etc/resolv.conf');
  if (found.length > 0) return found;
  return read(opts.fallbackResolvConf ?? '/run/systemd/resolve/resolv.conf');
}

/** Options of the forwarder. */
export interface ForwarderOptions {
  /** Upstream servers (`host` or `host:port`), tried in order. */
  upstreams: (string | Upstream)[];
  /** Time to wait for one upstream (default 2 s). */
  timeoutMs?: number;
  /** Most cached responses (default 10,000). */
  cacheMaxEntries?: number;
  /** TTL cap for cached responses, positive and negative (default 30 s, as the stock Corefile). */
  maxTTL?: number;
  /** Milliseconds since the epoch (injectable for tests). */
  now?: () => number;
  logger?: Logger;
}

interface CachedResponse {
  buf: Buffer;
  /** Offsets of the TTL field of every record but OPT. */
  ttlOffsets: number[];
  storedAt: number;
  expiresAt: number;
}

interface Pending {
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  upstream: Upstream;
  name: string;
}

/** Walks a response: TTL offsets and how long it may be cached (0: not at all). */
export function cacheLifetime(buf: Buffer, maxTTL: number): { ttlOffsets: number[]; ttl: number } {
  const rcode = buf.readUInt16BE(2) & 0xf;
  const counts = [buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)];
  let pos = HEADER_SIZE;
  for (let i = 0; i < buf.readUInt16BE(4); i++) pos = readName(buf, pos).end + 4;
  const ttlOffsets: number[] = [];
  let minTTL = Number.POSITIVE_INFINITY;
  let negTTL = -1;
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < (counts[s] as number); i++) {
      const end = readName(buf, pos).end;
      if (end + 10 > buf.length) throw new WireError('truncated record');
      const type = buf.readUInt16BE(end);
      const ttl = buf.readUInt32BE(end + 4);
      const rdEnd = end + 10 + buf.readUInt16BE(end + 8);
      if (rdEnd > buf.length) throw new WireError('truncated record');
      if (type !== RRType.OPT) {
        ttlOffsets.push(end + 4);
        if (s === 0) minTTL = Math.min(minTTL, ttl);
        if (s === 1 && type === RRType.SOA) {
          const mname = readName(buf, end + 10).end;
          const minimum = buf.readUInt32BE(readName(buf, mname).end + 16);
          negTTL = Math.min(ttl, minimum);
        }
      }
      pos = rdEnd;
    }
  }
  let ttl = 0;
  if (rcode === Rcode.NOERROR && counts[0] !== 0) ttl = minTTL;
  else if ((rcode === Rcode.NXDOMAIN || rcode === Rcode.NOERROR) && negTTL >= 0) ttl = negTTL;
  return { ttlOffsets, ttl: Math.min(ttl, maxTTL) };
}

/** Forwards queries to upstream resolvers, with a cache. */
export class Forwarder {
  private readonly upstreams: Upstream[];
  private readonly timeoutMs: number;
  private readonly maxEntries: number;
  private readonly maxTTL: number;
  private readonly now: () => number;
  private readonly logger: Logger | undefined;
  private readonly cache = new Map<string, CachedResponse>();
  private readonly inflight = new Map<string, Promise<CachedResponse | null>>();
  private readonly pending = new Map<number, Pending>();
  private readonly sockets = new Map<4 | 6, dgram.Socket>();
  private readonly tcpSockets = new Set<net.Socket>();
  private closed = false;

  constructor(opts: ForwarderOptions) {
    this.upstreams = opts.upstreams.map((u) => (typeof u === 'string' ? parseUpstream(u) : u));
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.maxEntries = opts.cacheMaxEntries ?? 10_000;
    this.maxTTL = opts.maxTTL ?? 30;
    this.now = opts.now ?? Date.now;
    this.logger = opts.logger;
  }

  /** Upstreams in use. */
  get servers(): readonly Upstream[] {
    return this.upstreams;
  }

  /** Answers a client's query from the cache or upstream; never rejects (SERVFAIL instead). */
  async forward(packet: Buffer, q: ParsedQuery, maxSize: number): Promise<Buffer> {
    const ednsFlag = q.edns ? (q.edns.dnssecOk ? 'D' : 'E') : 'N';
    const key = q.plain ? `${q.type}|${q.class}|${ednsFlag}|${q.name}` : '';
    let entry = key ? this.fresh(key) : undefined;
    if (!entry) {
      const query = Buffer.from(packet);
      const run = (): Promise<CachedResponse | null> => this.resolveRaw(query, q.name, key);
      let p = key ? this.inflight.get(key) : undefined;
      if (!p) {
        p = run();
        if (key) {
          this.inflight.set(key, p);
          const done = (): void => {
            this.inflight.delete(key);
          };
          p.then(done, done);
        }
      }
      entry = (await p) ?? undefined;
    }
    if (!entry) return failure(packet, q, Rcode.SERVFAIL);
    return this.render(entry, packet, q, maxSize);
  }

  /** Resolves a name upstream (for ExternalName targets); null when no upstream answers. */
  async lookup(name: string, type: number): Promise<DNSMessage | null> {
    const w = Buffer.alloc(HEADER_SIZE);
    w.writeUInt16BE(Flag.RD, 2);
    w.writeUInt16BE(1, 4);
    const labels = name === '' ? [] : name.split('.');
    const parts: Buffer[] = [w];
    for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l, 'latin1'));
    parts.push(Buffer.from([0, type >> 8, type & 0xff, 0, 1]));
    const packet = Buffer.concat(parts);
    const q: ParsedQuery = {
      id: 0,
      flags: Flag.RD,
      name: name.toLowerCase(),
      plain: true,
      type,
      class: 1,
      questionEnd: packet.length,
      edns: null,
    };
    const resp = await this.forward(packet, q, 65535);
    if ((resp.readUInt16BE(2) & 0xf) === Rcode.SERVFAIL) return null;
    try {
      return decodeMessage(resp);
    } catch {
      return null;
    }
  }

  private fresh(key: string): CachedResponse | undefined {
    const e = this.cache.get(key);
    if (!e) return undefined;
    if (e.expiresAt > this.now()) return e;
    this.cache.delete(key);
    return undefined;
  }

  private render(entry: CachedResponse, packet: Buffer, q: ParsedQuery, maxSize: number): Buffer {
    const out = Buffer.from(entry.buf);
    out.writeUInt16BE(q.id, 0);
    const age = Math.floor((this.now() - entry.storedAt) / 1000);
    if (age > 0) {
      for (const at of entry.ttlOffsets) out.writeUInt32BE(Math.max(0, out.readUInt32BE(at) - age), at);
    }
    // The client's spelling of the name (upstreams echo the question, so lengths agree).
    const qLen = q.questionEnd - 4 - HEADER_SIZE;
    if (out.length >= q.questionEnd && readName(out, HEADER_SIZE).end === HEADER_SIZE + qLen) {
      packet.copy(out, HEADER_SIZE, HEADER_SIZE, q.questionEnd - 4);
    }
    if (out.length <= maxSize) return out;
    // Too big for the client's UDP: the question alone with TC, so it retries over TCP.
    const optLen = q.edns ? OPT_SIZE : 0;
    const tc = Buffer.allocUnsafe(q.questionEnd + optLen);
    out.copy(tc, 0, 0, q.questionEnd);
    tc.writeUInt16BE(out.readUInt16BE(2) | Flag.TC, 2);
    tc.writeUInt32BE(0, 6);
    tc.writeUInt16BE(q.edns ? 1 : 0, 10);
    if (q.edns) writeOpt(tc, q.questionEnd, 1232, 0, q.edns.dnssecOk);
    return tc;
  }

  private async resolveRaw(query: Buffer, name: string, key: string): Promise<CachedResponse | null> {
    for (const up of this.upstreams) {
      if (this.closed) return null;
      try {
        let resp = await this.exchangeUdp(query, up, name);
        if (resp.readUInt16BE(2) & Flag.TC) resp = await this.exchangeTcp(query, up, name);
        const rcode = resp.readUInt16BE(2) & 0xf;
        // Another upstream may do better than a failing one.
        if (rcode === Rcode.SERVFAIL || rcode === Rcode.REFUSED) continue;
        const { ttlOffsets, ttl } = cacheLifetime(resp, this.maxTTL);
        const now = this.now();
        const entry: CachedResponse = { buf: resp, ttlOffsets, storedAt: now, expiresAt: now + ttl * 1000 };
        if (key && ttl > 0) {
          if (this.cache.size >= this.maxEntries) {
            const oldest = this.cache.keys().next();
            if (!oldest.done) this.cache.delete(oldest.value);
          }
          this.cache.set(key, entry);
        }
        return entry;
      } catch (err) {
        this.logger?.debug('upstream DNS query failed', {
          upstream: `${up.host}:${up.port}`,
          name,
          err: err instanceof Error ? err.message : String(err),
        });
      }
    }
    return null;
  }

  private socketFor(family: 4 | 6): dgram.Socket {
    let s = this.sockets.get(family);
    if (s) return s;
    s = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
    s.on('message', (msg, rinfo) => this.onUpstreamMessage(msg, rinfo));
    s.on('error', (err) => this.logger?.error('upstream DNS socket error', { err: err.message }));
    s.unref();
    this.sockets.set(family, s);
    return s;
  }

  private onUpstreamMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < HEADER_SIZE) return;
    const p = this.pending.get(msg.readUInt16BE(0));
    if (!p || canonicalIP(rinfo.address) !== p.upstream.host || rinfo.port !== p.upstream.port) return;
    try {
      if (msg.readUInt16BE(4) !== 1 || readName(msg, HEADER_SIZE).name.toLowerCase() !== p.name) return;
    } catch {
      return;
    }
    this.pending.delete(msg.readUInt16BE(0));
    clearTimeout(p.timer);
    p.resolve(msg);
  }

  private exchangeUdp(query: Buffer, up: Upstream, name: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let id = randomInt(0, 65536);
      while (this.pending.has(id)) id = (id + 1) & 0xffff;
      const out = Buffer.from(query);
      out.writeUInt16BE(id, 0);
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('timeout'));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer, upstream: up, name });
      this.socketFor(ipFamily(up.host) === 6 ? 6 : 4).send(out, up.port, up.host, (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err);
      });
    });
  }

  private exchangeTcp(query: Buffer, up: Upstream, name: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const id = randomInt(0, 65536);
      const out = Buffer.from(query);
      out.writeUInt16BE(id, 0);
      const sock = net.connect({ host: up.host, port: up.port });
      this.tcpSockets.add(sock);
      const framer = new TcpFramer();
      let done = false;
      const finish = (err: Error | null, resp?: Buffer): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.tcpSockets.delete(sock);
        sock.destroy();
        if (err) reject(err);
        else resolve(resp as Buffer);
      };
      const timer = setTimeout(() => finish(new Error('timeout')), this.timeoutMs);
      sock.on('connect', () => sock.write(frameTcp(out)));
      sock.on('data', (chunk) => {
        for (const m of framer.push(chunk)) {
          if (m.length < HEADER_SIZE || m.readUInt16BE(0) !== id) continue;
          try {
            if (readName(m, HEADER_SIZE).name.toLowerCase() !== name) continue;
          } catch {
            continue;
          }
          finish(null, Buffer.from(m));
          return;
        }
      });
      sock.on('error', (err) => finish(err));
      sock.on('close', () => finish(new Error('connection closed')));
    });
  }

  /** Stops: closes sockets and fails queries in flight. */
  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('forwarder closed'));
    }
    this.pending.clear();
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
    for (const s of this.tcpSockets) s.destroy();
    this.tcpSockets.clear();
    this.cache.clear();
  }
}

/** A response carrying only the question and an rcode (SERVFAIL, REFUSED, BADVERS…). */
export function failure(packet: Buffer, q: ParsedQuery, rcode: number): Buffer {
  const optLen = q.edns ? OPT_SIZE : 0;
  const out = Buffer.allocUnsafe(q.questionEnd + optLen);
  packet.copy(out, 0, 0, q.questionEnd);
  const flags = Flag.QR | (q.flags & (0x7800 | Flag.RD | Flag.CD)) | (rcode & 0xf);
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt32BE(0, 6);
  out.writeUInt16BE(q.edns ? 1 : 0, 10);
  if (q.edns) writeOpt(out, q.questionEnd, 1232, rcode >> 4, q.edns.dnssecOk);
  return out;
}
