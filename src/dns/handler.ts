// One query in, one response out, whatever the transport. The hot path (a cluster name
// answered before) is synchronous and allocates the response buffer and the name string
// only; everything that must wait for an upstream returns a promise. Malformed input never
// throws: it is dropped (too short to answer, or itself a response) or answered FORMERR,
// following what CoreDNS's DNS library accepts (one question, no answer or authority
// records, at most two additional records).

import type { Logger } from '../client/log.js';
import { AnswerCache, buildTemplate, maxResponseSize, renderTemplate } from './answer-cache.js';
import { type Forwarder, failure } from './forwarder.js';
import type { ClusterZone, ZoneAnswer } from './records.js';
import {
  CLASS_ANY,
  CLASS_IN,
  Flag,
  HEADER_SIZE,
  type ParsedQuery,
  parseQuery,
  Rcode,
  WireError,
} from './wire.js';

/** Options of the query handler. */
export interface QueryHandlerOptions {
  zone: ClusterZone;
  /** Where names outside the zone go; without one they are answered SERVFAIL. */
  forwarder?: Forwarder | null;
  /** Most pre-encoded zone answers kept (default 50,000). */
  cacheMaxEntries?: number;
  logger?: Logger;
}

/** A response, or null when the packet is dropped. */
export type HandlerResult = Buffer | null;

/** Answers DNS queries for the cluster zone and forwards the rest. */
export class QueryHandler {
  private readonly zone: ClusterZone;
  private readonly forwarder: Forwarder | null;
  private readonly cache: AnswerCache;
  private readonly logger: Logger | undefined;
  private readonly unsubscribe: () => void;

  constructor(opts: QueryHandlerOptions) {
    this.zone = opts.zone;
    this.forwarder = opts.forwarder ?? null;
    this.cache = new AnswerCache(opts.cacheMaxEntries);
    this.logger = opts.logger;
    this.unsubscribe = opts.zone.model.onChange((deps) => this.cache.invalidate(deps));
  }

  /** Number of pre-encoded answers held. */
  get cachedAnswers(): number {
    return this.cache.size;
  }

  /** Handles one query packet. */
  handle(packet: Buffer, transport: 'udp' | 'tcp'): HandlerResult | Promise<HandlerResult> {
    if (packet.length < HEADER_SIZE) return null;
    const flags = packet.readUInt16BE(2);
    if (flags & Flag.QR) return null;
    if ((flags >> 11) & 0xf) return headerOnly(packet, Rcode.NOTIMP);
    if (
      packet.readUInt16BE(4) !== 1 ||
      packet.readUInt16BE(6) !== 0 ||
      packet.readUInt16BE(8) !== 0 ||
      packet.readUInt16BE(10) > 2
    ) {
      return headerOnly(packet, Rcode.FORMERR);
    }
    const q = parseQuery(packet);
    if (q instanceof WireError) return headerOnly(packet, Rcode.FORMERR);
    if (q.edns && q.edns.version !== 0) return failure(packet, q, Rcode.BADVERS);
    const maxSize = maxResponseSize(q, transport);

    if (this.zone.owns(q.name)) {
      if (q.class !== CLASS_IN && q.class !== CLASS_ANY) return failure(packet, q, Rcode.REFUSED);
      if (q.plain) {
        const t = this.cache.get(q.type, q.class, q.name);
        if (t) return renderTemplate(t, q, packet, maxSize);
      }
      try {
        const res = this.zone.resolve(q.name, q.type);
        if (res !== 'forward') {
          if (res.external) return this.external(res, q, packet, maxSize);
          if (!q.plain) {
            // The dotted key cannot stand for this name faithfully: answer without caching.
            return failure(packet, q, res.rcode === Rcode.NOERROR ? Rcode.NXDOMAIN : res.rcode);
          }
          const t = buildTemplate(q, res);
          this.cache.set(q.type, q.class, q.name, t, res.deps);
          return renderTemplate(t, q, packet, maxSize);
        }
      } catch (err) {
        // Model data that cannot be encoded (say, an over-long name) fails this answer only.
        this.logger?.error('cluster DNS answer failed', { name: q.name, type: q.type, err: String(err) });
        return failure(packet, q, Rcode.SERVFAIL);
      }
    }
    if (!this.forwarder || this.forwarder.servers.length === 0) return failure(packet, q, Rcode.SERVFAIL);
    return this.forwarder.forward(packet, q, maxSize);
  }

  /** An ExternalName pointing outside the zone: the CNAME, then what upstream says of its target. */
  private async external(
    res: ZoneAnswer,
    q: ParsedQuery,
    packet: Buffer,
    maxSize: number,
  ): Promise<HandlerResult> {
    const ext = res.external;
    if (!ext) return null;
    const upstream = this.forwarder
      ? await this.forwarder.lookup(ext.target, ext.type).catch(() => null)
      : null;
    const answer = {
      rcode: Rcode.NOERROR,
      answers: [...res.answers, ext.cname, ...(upstream?.answers ?? [])],
      authority: [],
      additional: [],
    };
    try {
      return renderTemplate(buildTemplate(q, answer), q, packet, maxSize);
    } catch (err) {
      this.logger?.error('cluster DNS answer failed', { name: q.name, err: String(err) });
      return failure(packet, q, Rcode.SERVFAIL);
    }
  }

  /** Stops listening to the model. */
  close(): void {
    this.unsubscribe();
    this.cache.clear();
  }
}

/** A bare header echoing the query's id and opcode, for packets whose question is unusable. */
export function headerOnly(packet: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(HEADER_SIZE);
  out.writeUInt16BE(packet.readUInt16BE(0), 0);
  const flags = packet.readUInt16BE(2);
  out.writeUInt16BE(Flag.QR | (flags & (0x7800 | Flag.RD)) | rcode, 2);
  return out;
}
