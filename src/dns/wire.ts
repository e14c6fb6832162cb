// DNS messages on the wire (RFC 1035 §4, EDNS0 per RFC 6891, TCP framing per RFC 1035 §4.2.2).
// Two readers live here: `decodeMessage` builds a full message (the forwarder and tests use
// it) and `parseQuery` reads only what the server needs to answer, without building objects,
// because it runs once per packet on the hot path. Names are dotted strings without the
// trailing dot; the root is ''. Decoding never throws anything but WireError, so a hostile
// packet can only be answered FORMERR or dropped.

import { formatIPv6, ipv4Bytes, ipv6Bytes } from './ip.js';

/** Resource record type codes used by the cluster DNS. */
export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

/** Response codes (the low 4 bits in the header; BADVERS needs the OPT extension). */
export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
} as const;

/** The Internet class. */
export const CLASS_IN = 1;
/** The query class that matches any class. */
export const CLASS_ANY = 255;

/** Header flag bits (second 16-bit word). */
export const Flag = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const;

/** Size of the fixed header. */
export const HEADER_SIZE = 12;
/** The UDP payload a client without EDNS accepts (RFC 1035 §4.2.1). */
export const CLASSIC_UDP_SIZE = 512;

/** A malformed packet or a value that cannot be encoded. */
export class WireError extends Error {
  override name = 'WireError';
}

/** The typed data of a resource record. */
export type RecordData =
  | { kind: 'A'; address: string }
  | { kind: 'AAAA'; address: string }
  | { kind: 'CNAME'; target: string }
  | { kind: 'NS'; target: string }
  | { kind: 'PTR'; target: string }
  | { kind: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { kind: 'TXT'; texts: string[] }
  | {
      kind: 'SOA';
      mname: string;
      rname: string;
      serial: number;
      refresh: number;
      retry: number;
      expire: number;
      minimum: number;
    }
  | { kind: 'raw'; type: number; bytes: Uint8Array };

/** One resource record (never OPT: that lives in `DNSMessage.edns`). */
export interface ResourceRecord {
  name: string;
  class: number;
  ttl: number;
  data: RecordData;
}

/** One entry of the question section. */
export interface Question {
  name: string;
  type: number;
  class: number;
}

/** The EDNS0 pseudo-record (RFC 6891 §6.1.3). */
export interface Edns {
  udpSize: number;
  /** The upper 8 bits of the 12-bit response code. */
  extendedRcode: number;
  version: number;
  dnssecOk: boolean;
  options: { code: number; data: Uint8Array }[];
}

/** A whole DNS message. `rcode` may exceed 15 when `edns` carries the upper bits. */
export interface DNSMessage {
  id: number;
  /** The header flag bits (QR, AA, TC, RD, RA, AD, CD); opcode and rcode are separate. */
  flags: number;
  opcode: number;
  rcode: number;
  questions: Question[];
  answers: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
  edns?: Edns;
}

const TYPE_OF_KIND: Record<Exclude<RecordData['kind'], 'raw'>, number> = {
  A: RRType.A,
  AAAA: RRType.AAAA,
  CNAME: RRType.CNAME,
  NS: RRType.NS,
  PTR: RRType.PTR,
  SRV: RRType.SRV,
  TXT: RRType.TXT,
  SOA: RRType.SOA,
};

/** The numeric RR type of record data. */
export function typeOf(data: RecordData): number {
  return data.kind === 'raw' ? data.type : TYPE_OF_KIND[data.kind];
}

// ---------------------------------------------------------------------------------------
// Names

/** Splits a dotted name into labels; `\.` and `\\` escape a literal dot or backslash. */
export function nameLabels(name: string): string[] {
  if (name === '' || name === '.') return [];
  if (name.endsWith('.') && !name.endsWith('\\.')) name = name.slice(0, -1);
  if (!name.includes('\\')) return name.split('.');
  const labels: string[] = [];
  let cur = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i] as string;
    if (c === '\\' && i + 1 < name.length) {
      cur += name[++i];
    } else if (c === '.') {
      labels.push(cur);
      cur = '';
    } else cur += c;
  }
  labels.push(cur);
  return labels;
}

function escapeLabel(label: string): string {
  return label.includes('.') || label.includes('\\') ? label.replace(/[.\\]/g, (m) => `\\${m}`) : label;
}

// ---------------------------------------------------------------------------------------
// Encoding

/**
 * Builds a message with name compression. Writers are single-use; `rrEnds` records where
 * each record ends so a caller can cut a truncated copy at a record boundary.
 */
export class MessageWriter {
  private buf: Buffer;
  private pos = 0;
  private readonly names = new Map<string, number>();
  /** End offset of each record written, in order. */
  readonly rrEnds: number[] = [];

  constructor(initial = 512) {
    this.buf = Buffer.alloc(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Current write offset. */
  get offset(): number {
    return this.pos;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Writes a name, pointing at an earlier copy of its longest known suffix when `compress`. */
  name(name: string, compress = true): void {
    const labels = nameLabels(name);
    let wireLen = 1;
    for (const l of labels) wireLen += Buffer.byteLength(l, 'latin1') + 1;
    if (wireLen > 255) throw new WireError(`name longer than 255 bytes: "${name}"`);
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).map(escapeLabel).join('.').toLowerCase();
      if (compress) {
        const at = this.names.get(suffix);
        if (at !== undefined) {
          this.u16(0xc000 | at);
          return;
        }
      }
      if (this.pos < 0x4000) this.names.set(suffix, this.pos);
      const bytes = Buffer.from(labels[i] as string, 'latin1');
      if (bytes.length === 0 || bytes.length > 63) throw new WireError(`invalid label in name "${name}"`);
      this.u8(bytes.length);
      this.bytes(bytes);
    }
    this.u8(0);
  }

  /** Writes the header; counts are the caller's to keep consistent with what follows. */
  header(id: number, flags: number, counts: [number, number, number, number]): void {
    this.u16(id);
    this.u16(flags);
    for (const c of counts) this.u16(c);
  }

  question(q: Question): void {
    this.name(q.name);
    this.u16(q.type);
    this.u16(q.class);
  }

  record(rr: ResourceRecord): void {
    this.name(rr.name);
    this.u16(typeOf(rr.data));
    this.u16(rr.class);
    this.u32(rr.ttl);
    const lenAt = this.pos;
    this.u16(0);
    this.rdata(rr.data);
    this.buf.writeUInt16BE(this.pos - lenAt - 2, lenAt);
    this.rrEnds.push(this.pos);
  }

  private rdata(d: RecordData): void {
    switch (d.kind) {
      case 'A':
      case 'AAAA': {
        const b = d.kind === 'A' ? ipv4Bytes(d.address) : ipv6Bytes(d.address);
        if (!b) throw new WireError(`invalid ${d.kind} address ${d.address}`);
        this.bytes(b);
        return;
      }
      case 'CNAME':
      case 'NS':
      case 'PTR':
        this.name(d.target);
        return;
      case 'SRV':
        this.u16(d.priority);
        this.u16(d.weight);
        this.u16(d.port);
        // RFC 2782: the target is never compressed.
        this.name(d.target, false);
        return;
      case 'TXT':
        for (const t of d.texts) {
          const b = Buffer.from(t, 'utf8');
          if (b.length > 255) throw new WireError('TXT string longer than 255 bytes');
          this.u8(b.length);
          this.bytes(b);
        }
        return;
      case 'SOA':
        this.name(d.mname);
        this.name(d.rname);
        this.u32(d.serial);
        this.u32(d.refresh);
        this.u32(d.retry);
        this.u32(d.expire);
        this.u32(d.minimum);
        return;
      case 'raw':
        this.bytes(d.bytes);
        return;
    }
  }

  /** Writes an OPT pseudo-record. */
  opt(e: Edns): void {
    this.u8(0);
    this.u16(RRType.OPT);
    this.u16(e.udpSize);
    this.u8(e.extendedRcode);
    this.u8(e.version);
    this.u16(e.dnssecOk ? 0x8000 : 0);
    let len = 0;
    for (const o of e.options) len += 4 + o.data.length;
    this.u16(len);
    for (const o of e.options) {
      this.u16(o.code);
      this.u16(o.data.length);
      this.bytes(o.data);
    }
  }

  /** A copy of what was written. */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

/** Encodes a whole message. */
export function encodeMessage(m: DNSMessage): Buffer {
  const w = new MessageWriter();
  const flags = (m.flags & ~0x780f) | ((m.opcode & 0xf) << 11) | (m.rcode & 0xf);
  w.header(m.id, flags, [
    m.questions.length,
    m.answers.length,
    m.authority.length,
    m.additional.length + (m.edns ? 1 : 0),
  ]);
  for (const q of m.questions) w.question(q);
  for (const rr of m.answers) w.record(rr);
  for (const rr of m.authority) w.record(rr);
  for (const rr of m.additional) w.record(rr);
  if (m.edns) w.opt({ ...m.edns, extendedRcode: m.rcode >> 4 });
  return w.finish();
}

// ---------------------------------------------------------------------------------------
// Decoding

/** Reads a possibly compressed name at `at`; returns it and the offset after it. */
export function readName(buf: Uint8Array, at: number): { name: string; end: number } {
  const labels: string[] = [];
  let pos = at;
  let end = -1;
  let jumps = 0;
  let wireLen = 1;
  for (;;) {
    if (pos >= buf.length) throw new WireError('name runs past the end of the message');
    const len = buf[pos] as number;
    if (len === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    const top = len & 0xc0;
    if (top === 0xc0) {
      if (pos + 1 >= buf.length) throw new WireError('truncated compression pointer');
      const target = ((len & 0x3f) << 8) | (buf[pos + 1] as number);
      // A pointer must point backwards; together with the jump limit this rules out loops.
      if (target >= pos || ++jumps > 64) throw new WireError('bad compression pointer');
      if (end < 0) end = pos + 2;
      pos = target;
      continue;
    }
    if (top !== 0) throw new WireError('unsupported label type');
    if (pos + 1 + len > buf.length) throw new WireError('label runs past the end of the message');
    wireLen += len + 1;
    if (wireLen > 255) throw new WireError('name longer than 255 bytes');
    labels.push(escapeLabel(Buffer.from(buf.buffer, buf.byteOffset + pos + 1, len).toString('latin1')));
    pos += 1 + len;
  }
  return { name: labels.join('.'), end };
}

function readRecord(buf: Buffer, at: number): { rr: ResourceRecord | null; opt: Edns | null; end: number } {
  const { name, end: afterName } = readName(buf, at);
  if (afterName + 10 > buf.length) throw new WireError('truncated resource record');
  const type = buf.readUInt16BE(afterName);
  const klass = buf.readUInt16BE(afterName + 2);
  const ttl = buf.readUInt32BE(afterName + 4);
  const rdlen = buf.readUInt16BE(afterName + 8);
  const rd = afterName + 10;
  const end = rd + rdlen;
  if (end > buf.length) throw new WireError('rdata runs past the end of the message');
  if (type === RRType.OPT) {
    if (name !== '') throw new WireError('OPT record with a non-root owner');
    const options: Edns['options'] = [];
    for (let p = rd; p < end; ) {
      if (p + 4 > end) throw new WireError('truncated EDNS option');
      const code = buf.readUInt16BE(p);
      const olen = buf.readUInt16BE(p + 2);
      if (p + 4 + olen > end) throw new WireError('truncated EDNS option');
      options.push({ code, data: Uint8Array.from(buf.subarray(p + 4, p + 4 + olen)) });
      p += 4 + olen;
    }
    const edns: Edns = {
      udpSize: klass,
      extendedRcode: ttl >>> 24,
      version: (ttl >>> 16) & 0xff,
      dnssecOk: (ttl & 0x8000) !== 0,
      options,
    };
    return { rr: null, opt: edns, end };
  }
  return { rr: { name, class: klass, ttl, data: readRdata(buf, type, rd, rdlen) }, opt: null, end };
}

function readRdata(buf: Buffer, type: number, rd: number, rdlen: number): RecordData {
  const end = rd + rdlen;
  const nameIn = (at: number): { name: string; end: number } => {
    const r = readName(buf, at);
    if (r.end > end) throw new WireError('name runs past its rdata');
    return r;
  };
  switch (type) {
    case RRType.A:
      if (rdlen !== 4) throw new WireError('A record with a bad length');
      return { kind: 'A', address: Array.from(buf.subarray(rd, end)).join('.') };
    case RRType.AAAA: {
      if (rdlen !== 16) throw new WireError('AAAA record with a bad length');
      return { kind: 'AAAA', address: formatIPv6(buf.subarray(rd, end)) };
    }
    case RRType.CNAME:
      return { kind: 'CNAME', target: nameIn(rd).name };
    case RRType.NS:
      return { kind: 'NS', target: nameIn(rd).name };
    case RRType.PTR:
      return { kind: 'PTR', target: nameIn(rd).name };
    case RRType.SRV: {
      if (rdlen < 7) throw new WireError('SRV record too short');
      const target = nameIn(rd + 6).name;
      return {
        kind: 'SRV',
        priority: buf.readUInt16BE(rd),
        weight: buf.readUInt16BE(rd + 2),
        port: buf.readUInt16BE(rd + 4),
        target,
      };
    }
    case RRType.TXT: {
      const texts: string[] = [];
      for (let p = rd; p < end; ) {
        const l = buf[p] as number;
        if (p + 1 + l > end) throw new WireError('TXT string runs past its rdata');
        texts.push(buf.toString('utf8', p + 1, p + 1 + l));
        p += 1 + l;
      }
      return { kind: 'TXT', texts };
    }
    case RRType.SOA: {
      const m = nameIn(rd);
      const r = nameIn(m.end);
      if (r.end + 20 > end) throw new WireError('SOA record too short');
      const u = (i: number): number => buf.readUInt32BE(r.end + i * 4);
      return {
        kind: 'SOA',
        mname: m.name,
        rname: r.name,
        serial: u(0),
        refresh: u(1),
        retry: u(2),
        expire: u(3),
        minimum: u(4),
      };
    }
    default:
      return { kind: 'raw', type, bytes: Uint8Array.from(buf.subarray(rd, end)) };
  }
}

/** Decodes a whole message; throws WireError when it is malformed. */
export function decodeMessage(input: Uint8Array): DNSMessage {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.length);
  if (buf.length < HEADER_SIZE) throw new WireError('message shorter than its header');
  const word = buf.readUInt16BE(2);
  const counts = [buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)];
  const m: DNSMessage = {
    id: buf.readUInt16BE(0),
    flags: word & ~0x780f,
    opcode: (word >> 11) & 0xf,
    rcode: word & 0xf,
    questions: [],
    answers: [],
    authority: [],
    additional: [],
  };
  let pos = HEADER_SIZE;
  for (let i = 0; i < (counts[0] as number); i++) {
    const { name, end } = readName(buf, pos);
    if (end + 4 > buf.length) throw new WireError('truncated question');
    m.questions.push({ name, type: buf.readUInt16BE(end), class: buf.readUInt16BE(end + 2) });
    pos = end + 4;
  }
  const sections = [m.answers, m.authority, m.additional];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < (counts[s + 1] as number); i++) {
      const r = readRecord(buf, pos);
      pos = r.end;
      if (r.opt) {
        if (s !== 2 || m.edns) throw new WireError('misplaced or repeated OPT record');
        m.edns = r.opt;
        m.rcode |= r.opt.extendedRcode << 4;
      } else if (r.rr) (sections[s] as ResourceRecord[]).push(r.rr);
    }
  }
  return m;
}

// ---------------------------------------------------------------------------------------
// The server's fast path

/** What the server reads from a query packet. */
export interface ParsedQuery {
  id: number;
  flags: number;
  /** The question name, lowercased; labels joined with '.'. */
  name: string;
  /** False when a label holds a '.', which the dotted form cannot represent faithfully. */
  plain: boolean;
  type: number;
  class: number;
  /** Offset just past the question (its name ends at `questionEnd - 4`). */
  questionEnd: number;
  /** The client's EDNS record, if it sent one. */
  edns: { udpSize: number; version: number; dnssecOk: boolean } | null;
}

// A dot inside a label makes the dotted form ambiguous; DNS folds only ASCII case, so a
// non-ASCII byte would be folded differently by toLowerCase.
const NOT_PLAIN = /[.\x80-\xff]/;

/**
 * Reads one question and the client's OPT record. Returns a WireError instead of throwing
 * (cheaper on the hot path); the header has been checked by the caller.
 */
export function parseQuery(buf: Buffer): ParsedQuery | WireError {
  if (buf.length < HEADER_SIZE + 5) return new WireError('message too short');
  let pos = HEADER_SIZE;
  let name = '';
  let plain = true;
  for (;;) {
    const len = buf[pos];
    if (len === undefined) return new WireError('truncated question');
    if (len === 0) {
      pos++;
      break;
    }
    // The question is the first name in a message: a pointer has nothing to point to.
    if (len > 63) return new WireError('compressed or invalid label in the question');
    if (pos + 1 + len > buf.length) return new WireError('truncated question');
    const label = buf.toString('latin1', pos + 1, pos + 1 + len);
    if (plain && NOT_PLAIN.test(label)) plain = false;
    name = name === '' ? label : `${name}.${label}`;
    pos += 1 + len;
  }
  if (pos - HEADER_SIZE > 255) return new WireError('name longer than 255 bytes');
  if (pos + 4 > buf.length) return new WireError('truncated question');
  const q: ParsedQuery = {
    id: buf.readUInt16BE(0),
    flags: buf.readUInt16BE(2),
    name: name.toLowerCase(),
    plain,
    type: buf.readUInt16BE(pos),
    class: buf.readUInt16BE(pos + 2),
    questionEnd: pos + 4,
    edns: null,
  };
  const arcount = buf.readUInt16BE(10);
  pos += 4;
  for (let i = 0; i < arcount; i++) {
    let r: ReturnType<typeof readRecord>;
    try {
      r = readRecord(buf, pos);
    } catch (err) {
      return err instanceof WireError ? err : new WireError(String(err));
    }
    pos = r.end;
    if (r.opt) {
      if (q.edns) return new WireError('repeated OPT record');
      q.edns = { udpSize: r.opt.udpSize, version: r.opt.version, dnssecOk: r.opt.dnssecOk };
    }
  }
  return q;
}

/** Byte length of an OPT record without options. */
export const OPT_SIZE = 11;

/** Writes an option-less OPT record at `at` (used when patching cached answers). */
export function writeOpt(
  buf: Buffer,
  at: number,
  udpSize: number,
  extendedRcode = 0,
  dnssecOk = false,
): void {
  buf[at] = 0;
  buf.writeUInt16BE(RRType.OPT, at + 1);
  buf.writeUInt16BE(udpSize, at + 3);
  buf[at + 5] = extendedRcode;
  buf[at + 6] = 0;
  buf.writeUInt16BE(dnssecOk ? 0x8000 : 0, at + 7);
  buf.writeUInt16BE(0, at + 9);
}

// ---------------------------------------------------------------------------------------
// TCP framing

/** Prefixes a message with its 2-byte length for TCP. */
export function frameTcp(msg: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(msg.length + 2);
  out.writeUInt16BE(msg.length, 0);
  out.set(msg, 2);
  return out;
}

/** Splits a TCP byte stream into length-prefixed messages. */
export class TcpFramer {
  private pending: Buffer = Buffer.alloc(0);

  /** Adds bytes; returns every message completed by them. */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    while (this.pending.length >= 2) {
      const len = this.pending.readUInt16BE(0);
      if (this.pending.length < 2 + len) break;
      out.push(this.pending.subarray(2, 2 + len));
      this.pending = this.pending.subarray(2 + len);
    }
    return out;
  }

  /** Bytes received but not yet forming a whole message. */
  get buffered(): number {
    return this.pending.length;
  }
}
