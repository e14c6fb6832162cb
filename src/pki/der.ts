// A minimal DER (ASN.1 distinguished encoding) writer and reader: just what X.509
// certificates, certificate requests and PKCS#8/SEC1 keys need. Node's crypto signs and
// verifies but cannot build a certificate, and pulling a whole PKI library in for a few
// hundred bytes of ASN.1 would cost start-up time and audit surface.

/** ASN.1 universal tags used by kts. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Encodes one TLV with the given tag byte. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

/** SEQUENCE of already-encoded elements. */
export function seq(...items: Uint8Array[]): Buffer {
  return tlv(Tag.SEQUENCE, Buffer.concat(items));
}

/** SET of already-encoded elements (DER sorts SET OF members by encoding). */
export function set(...items: Uint8Array[]): Buffer {
  const sorted = [...items].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return tlv(Tag.SET, Buffer.concat(sorted));
}

/** INTEGER from a non-negative bigint or a big-endian unsigned byte string. */
export function integer(v: bigint | Uint8Array): Buffer {
  let bytes: Buffer;
  if (typeof v === 'bigint') {
    let hex = v.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    bytes = Buffer.from(hex, 'hex');
  } else {
    bytes = Buffer.from(v);
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    bytes = bytes.subarray(i);
  }
  // A leading 1 bit would read as negative: prefix a zero byte.
  if (bytes.length === 0 || (bytes[0]! & 0x80) !== 0) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(Tag.INTEGER, bytes);
}

/** OBJECT IDENTIFIER from dotted form. */
export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map((p) => Number.parseInt(p, 10));
  const out: number[] = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const stack: number[] = [p & 0x7f];
    let n = Math.floor(p / 128);
    while (n > 0) {
      stack.unshift((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(...stack);
  }
  return tlv(Tag.OID, Buffer.from(out));
}

/** BIT STRING with no unused bits. */
export function bitString(content: Uint8Array): Buffer {
  return tlv(Tag.BIT_STRING, Buffer.concat([Buffer.from([0]), content]));
}

/** OCTET STRING. */
export function octetString(content: Uint8Array): Buffer {
  return tlv(Tag.OCTET_STRING, content);
}

/** BOOLEAN. */
export function boolean(v: boolean): Buffer {
  return tlv(Tag.BOOLEAN, Buffer.from([v ? 0xff : 0]));
}

/** UTF8String. */
export function utf8(s: string): Buffer {
  return tlv(Tag.UTF8_STRING, Buffer.from(s, 'utf8'));
}

/** X.509 Time: UTCTime before 2050, GeneralizedTime after, as RFC 5280 requires. */
export function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  if (d.getUTCFullYear() < 2050) return tlv(Tag.UTC_TIME, Buffer.from(`${iso.slice(2)}Z`, 'ascii'));
  return tlv(Tag.GENERALIZED_TIME, Buffer.from(`${iso}Z`, 'ascii'));
}

/** Context-specific tag [n], constructed (explicit) or primitive (implicit). */
export function context(n: number, content: Uint8Array, constructed = true): Buffer {
  return tlv((constructed ? 0xa0 : 0x80) | n, content);
}

/** One decoded TLV. */
export interface Node {
  tag: number;
  /** The content bytes. */
  content: Buffer;
  /** The whole TLV including header. */
  raw: Buffer;
}

/** Reads one TLV at `offset`; throws on malformed input. */
export function readNode(buf: Buffer, offset = 0): Node & { end: number } {
  if (offset + 2 > buf.length) throw new Error('der: truncated header');
  const tag = buf[offset]!;
  let len = buf[offset + 1]!;
  let pos = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || pos + n > buf.length) throw new Error('der: bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos + i]!;
    pos += n;
  }
  const end = pos + len;
  if (end > buf.length) throw new Error('der: content past end');
  return { tag, content: buf.subarray(pos, end), raw: buf.subarray(offset, end), end };
}

/** The child TLVs of a constructed node. */
export function children(node: Node): Node[] {
  const out: Node[] = [];
  let off = 0;
  while (off < node.content.length) {
    const n = readNode(node.content, off);
    out.push(n);
    off = n.end;
  }
  return out;
}

/** Decodes an OBJECT IDENTIFIER's content to dotted form. */
export function readOid(content: Buffer): string {
  if (content.length === 0) throw new Error('der: empty oid');
  const first = content[0]!;
  const parts = [Math.floor(first / 40), first % 40];
  let v = 0;
  for (let i = 1; i < content.length; i++) {
    const b = content[i]!;
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}
