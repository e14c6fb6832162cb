// Pre-encoded answers of the cluster zone. A zone answer is encoded once, as a whole
// response with id 0 and a lowercase question, and replayed for every later query of the
// same name and type: a copy, the client's id and flags, the client's own spelling of the
// name written over the question (owner names point at it, so case is preserved), and an
// OPT record when the client sent one. Entries are dropped when the model data they were
// built from changes (by invalidation key), and all at once when the cache is full.

import type { ZoneAnswer } from './records.js';
import {
  CLASSIC_UDP_SIZE,
  Flag,
  HEADER_SIZE,
  MessageWriter,
  OPT_SIZE,
  type ParsedQuery,
  type ResourceRecord,
  writeOpt,
} from './wire.js';

/** A response encoded once and replayed. */
export interface AnswerTemplate {
  buf: Buffer;
  /** The second header word without RD/CD (QR, AA, rcode). */
  flags: number;
  /** Offset just past the question. */
  questionEnd: number;
  /** End offset of each record, answers then authority then additional. */
  rrEnds: number[];
  counts: [number, number, number];
}

/** The largest UDP payload we send, whatever a client advertises. */
export const MAX_UDP_SIZE = 4096;

/** The response size a query allows: 512 without EDNS, its advertised size (bounded) with. */
export function maxResponseSize(q: ParsedQuery, transport: 'udp' | 'tcp'): number {
  if (transport === 'tcp') return 65535;
  if (!q.edns) return CLASSIC_UDP_SIZE;
  return Math.min(Math.max(q.edns.udpSize, CLASSIC_UDP_SIZE), MAX_UDP_SIZE);
}

/** Encodes an answer for a question (name, type and class taken from `q`). */
export function buildTemplate(
  q: Pick<ParsedQuery, 'name' | 'type' | 'class'>,
  a: Pick<ZoneAnswer, 'rcode' | 'answers' | 'authority' | 'additional'>,
  authoritative = true,
): AnswerTemplate {
  const w = new MessageWriter(256);
  const flags = Flag.QR | (authoritative ? Flag.AA : 0) | (a.rcode & 0xf);
  const counts: [number, number, number] = [a.answers.length, a.authority.length, a.additional.length];
  w.header(0, flags, [1, ...counts]);
  w.question({ name: q.name, type: q.type, class: q.class });
  const questionEnd = w.offset;
  const all: ResourceRecord[] = [...a.answers, ...a.authority, ...a.additional];
  for (const rr of all) w.record(rr);
  return { buf: w.finish(), flags, questionEnd, rrEnds: w.rrEnds, counts };
}

/**
 * Replays a template for one query. When the whole response does not fit in `maxSize`,
 * whole records are kept while they fit; TC is set only if an answer or authority record
 * had to go (dropping additional data is not truncation, RFC 2181 §9).
 */
export function renderTemplate(t: AnswerTemplate, q: ParsedQuery, packet: Buffer, maxSize: number): Buffer {
  const optLen = q.edns ? OPT_SIZE : 0;
  let end = t.buf.length;
  let [an, ns, ar] = t.counts;
  let tc = false;
  if (end + optLen > maxSize) {
    let k = t.rrEnds.length;
    while (k > 0 && (t.rrEnds[k - 1] as number) + optLen > maxSize) k--;
    end = k > 0 ? (t.rrEnds[k - 1] as number) : t.questionEnd;
    tc = k < an + ns;
    const keptAn = Math.min(an, k);
    const keptNs = Math.min(ns, k - keptAn);
    ar = k - keptAn - keptNs;
    an = keptAn;
    ns = keptNs;
  }
  const out = Buffer.allocUnsafe(end + optLen);
  t.buf.copy(out, 0, 0, end);
  out.writeUInt16BE(q.id, 0);
  out.writeUInt16BE(t.flags | (q.flags & (Flag.RD | Flag.CD)) | (tc ? Flag.TC : 0), 2);
  if (end !== t.buf.length) {
    out.writeUInt16BE(an, 6);
    out.writeUInt16BE(ns, 8);
  }
  packet.copy(out, HEADER_SIZE, HEADER_SIZE, q.questionEnd - 4);
  if (q.edns) {
    writeOpt(out, end, Math.min(maxSize, MAX_UDP_SIZE), 0, q.edns.dnssecOk);
    ar++;
  }
  out.writeUInt16BE(ar, 10);
  return out;
}

interface Ref {
  kind: number;
  name: string;
}

/** Pre-encoded zone answers by (type, class, name), invalidated by model keys. */
export class AnswerCache {
  private readonly byKind = new Map<number, Map<string, AnswerTemplate>>();
  private readonly byDep = new Map<string, Set<Ref>>();
  private count = 0;

  constructor(private readonly maxEntries = 50_000) {}

  /** The template for a question, if cached. */
  get(type: number, klass: number, name: string): AnswerTemplate | undefined {
    return this.byKind.get(type * 65536 + klass)?.get(name);
  }

  /** Caches a template, registered under every invalidation key it depends on. */
  set(type: number, klass: number, name: string, t: AnswerTemplate, deps: Iterable<string>): void {
    if (this.count >= this.maxEntries) this.clear();
    const kind = type * 65536 + klass;
    let m = this.byKind.get(kind);
    if (!m) {
      m = new Map();
      this.byKind.set(kind, m);
    }
    if (!m.has(name)) this.count++;
    m.set(name, t);
    const ref: Ref = { kind, name };
    for (const d of deps) {
      let s = this.byDep.get(d);
      if (!s) {
        s = new Set();
        this.byDep.set(d, s);
      }
      s.add(ref);
    }
  }

  /** Drops every entry built from data under any of `deps`. */
  invalidate(deps: readonly string[]): void {
    for (const d of deps) {
      const refs = this.byDep.get(d);
      if (!refs) continue;
      this.byDep.delete(d);
      for (const r of refs) {
        if (this.byKind.get(r.kind)?.delete(r.name)) this.count--;
      }
    }
  }

  /** Drops everything. */
  clear(): void {
    this.byKind.clear();
    this.byDep.clear();
    this.count = 0;
  }

  /** Number of cached answers. */
  get size(): number {
    return this.count;
  }
}
