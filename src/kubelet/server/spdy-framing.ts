// SPDY/3 framing as kubectl's transport (moby/spdystream) speaks it: the eight control
// frame types and data frames, the name/value header block, and its zlib compression with
// the SPDY/3 dictionary. Each direction of a connection is one zlib stream, so a header
// block can refer back to earlier ones: one HeaderDeflater and one HeaderInflater per
// connection. Outbound blocks are written as stored (uncompressed) deflate blocks, which is
// valid zlib for any inflater and keeps encoding synchronous; inbound blocks are real
// deflate from Go's compressor and go through Node's zlib.

import zlib from 'node:zlib';

/** The SPDY version spoken (kubectl's `Upgrade: SPDY/3.1` is SPDY/3 framing). */
export const SPDY_VERSION = 3;

/** Control frame type codes. */
export const ControlType = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goAway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

/** FLAG_FIN on data, SYN_STREAM, SYN_REPLY and HEADERS frames. */
export const FLAG_FIN = 0x01;
/** FLAG_UNIDIRECTIONAL on SYN_STREAM. */
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  protocolError: 1,
  invalidStream: 2,
  refusedStream: 3,
  unsupportedVersion: 4,
  cancel: 5,
  internalError: 6,
  flowControlError: 7,
  streamInUse: 8,
  streamAlreadyClosed: 9,
  frameTooLarge: 11,
} as const;

/** The SETTINGS id of the initial per-stream window. */
export const SETTINGS_INITIAL_WINDOW_SIZE = 7;

/** The flow-control window every stream starts with (SPDY/3 default). */
export const DEFAULT_WINDOW = 64 * 1024;

/** The largest payload a frame's 24-bit length can carry. */
export const MAX_FRAME_PAYLOAD = 0xffffff;

/** Header names (lower case) and their values; one name may carry several values. */
export type SpdyHeaders = Record<string, string[]>;

/** One SETTINGS entry. */
export interface SettingsEntry {
  flags: number;
  id: number;
  value: number;
}

/** A decoded frame. Frames with header blocks carry them still compressed (`block`). */
export type WireFrame =
  | { type: 'data'; streamId: number; flags: number; data: Buffer }
  | {
      type: 'synStream';
      streamId: number;
      associatedStreamId: number;
      priority: number;
      flags: number;
      block: Buffer;
    }
  | { type: 'synReply'; streamId: number; flags: number; block: Buffer }
  | { type: 'headers'; streamId: number; flags: number; block: Buffer }
  | { type: 'rstStream'; streamId: number; status: number }
  | { type: 'settings'; flags: number; entries: SettingsEntry[] }
  | { type: 'ping'; id: number }
  | { type: 'goAway'; lastGoodStreamId: number; status: number }
  | { type: 'windowUpdate'; streamId: number; delta: number }
  | { type: 'unknown'; version: number; frameType: number; flags: number; payload: Buffer };

/** A frame to encode. Frames with header blocks carry plain headers. */
export type OutFrame =
  | { type: 'data'; streamId: number; flags?: number; data: Buffer }
  | {
      type: 'synStream';
      streamId: number;
      associatedStreamId?: number;
      priority?: number;
      flags?: number;
      headers: SpdyHeaders;
    }
  | { type: 'synReply'; streamId: number; flags?: number; headers: SpdyHeaders }
  | { type: 'headers'; streamId: number; flags?: number; headers: SpdyHeaders }
  | { type: 'rstStream'; streamId: number; status: number }
  | { type: 'settings'; flags?: number; entries: SettingsEntry[] }
  | { type: 'ping'; id: number }
  | { type: 'goAway'; lastGoodStreamId: number; status: number }
  | { type: 'windowUpdate'; streamId: number; delta: number };

/** A malformed frame or header block: the connection cannot continue. */
export class SpdyProtocolError extends Error {
  override readonly name = 'SpdyProtocolError';
}

// The SPDY/3 dictionary: length-prefixed header names and common values, then a tail of
// status lines, dates and media types without prefixes. Built from its parts so it reads.
const DICTIONARY_WORDS = (
  'options head post put delete trace accept accept-charset accept-encoding accept-language ' +
  'accept-ranges age allow authorization cache-control connection content-base ' +
  'content-encoding content-language content-length content-location content-md5 ' +
  'content-range content-type date etag expect expires from host if-match ' +
  'if-modified-since if-none-match if-range if-unmodified-since last-modified location ' +
  'max-forwards pragma proxy-authenticate proxy-authorization range referer retry-after ' +
  'server te trailer transfer-encoding upgrade user-agent vary via warning ' +
  'www-authenticate method get status 200+OK version HTTP/1.1 url public set-cookie ' +
  'keep-alive origin'
)
  .split(' ')
  // One entry holds a space ("200 OK"); it is written with `+` so the list splits on spaces.
  .map((w) => w.replace('+', ' '));
const DICTIONARY_TAIL =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request' +
  '401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented' +
  '503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 ' +
  'Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,' +
  'application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=' +
  'gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

/** The zlib dictionary of SPDY/3 header compression (1423 bytes). */
export const SPDY3_DICTIONARY: Buffer = Buffer.concat([
  ...DICTIONARY_WORDS.map((w) => {
    const b = Buffer.alloc(4 + w.length);
    b.writeUInt32BE(w.length, 0);
    b.write(w, 4, 'latin1');
    return b;
  }),
  Buffer.from(DICTIONARY_TAIL, 'latin1'),
]);

/** Adler-32 of `data` (zlib's dictionary id). */
export function adler32(data: Buffer): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; i++) {
    a = (a + (data[i] ?? 0)) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** Serializes a header block (uncompressed): count, then length-prefixed names and values. */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [];
  const names = Object.keys(headers);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(names.length, 0);
  parts.push(count);
  for (const name of names) {
    // Several values of one name travel as one value separated by NUL.
    for (const s of [name.toLowerCase(), (headers[name] ?? []).join('\0')]) {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length, 0);
      parts.push(len, b);
    }
  }
  return Buffer.concat(parts);
}

/** Parses an uncompressed header block; names are lower-cased. */
export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  const out: SpdyHeaders = {};
  let off = 0;
  const u32 = (): number => {
    if (off + 4 > block.length) throw new SpdyProtocolError('truncated header block');
    const v = block.readUInt32BE(off);
    off += 4;
    return v;
  };
  const str = (): string => {
    const len = u32();
    if (off + len > block.length) throw new SpdyProtocolError('truncated header block');
    const s = block.toString('utf8', off, off + len);
    off += len;
    return s;
  };
  const n = u32();
  for (let i = 0; i < n; i++) {
    const name = str().toLowerCase();
    const values = str().split('\0');
    out[name] = [...(out[name] ?? []), ...values];
  }
  return out;
}

/** The first value of a header (names are matched case-insensitively), or ''. */
export function headerValue(headers: SpdyHeaders, name: string): string {
  return headers[name.toLowerCase()]?.[0] ?? '';
}

/**
 * The compressing side of one connection's header stream. The first block starts the
 * zlib stream (header with the dictionary id); every block is a run of stored deflate
 * blocks ending with an empty one, byte for byte what a sync flush ends with.
 */
export class HeaderDeflater {
  private started = false;

  /** The compressed form of one header block. */
  compress(headers: SpdyHeaders): Buffer {
    const raw = encodeHeaderBlock(headers);
    const parts: Buffer[] = [];
    if (!this.started) {
      this.started = true;
      // CMF 0x78 (deflate, 32 KiB window); FLG 0xbb: FDICT set, check bits making it % 31 == 0.
      const head = Buffer.from([0x78, 0xbb, 0, 0, 0, 0]);
      head.writeUInt32BE(adler32(SPDY3_DICTIONARY), 2);
      parts.push(head);
    }
    let off = 0;
    do {
      const piece = raw.subarray(off, off + 0xffff);
      const h = Buffer.alloc(5);
      h[0] = 0; // BFINAL=0, BTYPE=00 (stored), padding to the byte boundary
      h.writeUInt16LE(piece.length, 1);
      h.writeUInt16LE(~piece.length & 0xffff, 3);
      parts.push(h, piece);
      off += piece.length;
    } while (off < raw.length);
    // An empty stored block ends every block, as a sync flush does: Go's inflater hands out
    // what it has decoded only when it reaches one, and would otherwise read past the frame.
    parts.push(Buffer.from([0, 0, 0, 0xff, 0xff]));
    return Buffer.concat(parts);
  }
}

/** The decompressing side of one connection's header stream (blocks in arrival order). */
export class HeaderInflater {
  private readonly z = zlib.createInflate({ dictionary: SPDY3_DICTIONARY });
  private chain: Promise<unknown> = Promise.resolve();
  private failed: Error | undefined;

  constructor() {
    this.z.on('error', (e: Error) => {
      this.failed = e;
    });
  }

  /** Decompresses and parses the next header block of the stream. */
  inflate(block: Buffer): Promise<SpdyHeaders> {
    const next = this.chain.then(() => this.inflateOne(block));
    this.chain = next.catch(() => {});
    return next;
  }

  private inflateOne(block: Buffer): Promise<SpdyHeaders> {
    return new Promise((resolve, reject) => {
      if (this.failed !== undefined) {
        reject(new SpdyProtocolError(`header decompression failed: ${this.failed.message}`));
        return;
      }
      const onError = (e: Error): void =>
        reject(new SpdyProtocolError(`header decompression failed: ${e.message}`));
      this.z.once('error', onError);
      this.z.write(block);
      // The output of a sync flush is in the readable buffer when its callback runs.
      this.z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        this.z.off('error', onError);
        if (this.failed !== undefined) return;
        const chunks: Buffer[] = [];
        for (let c = this.z.read() as Buffer | null; c !== null; c = this.z.read() as Buffer | null)
          chunks.push(c);
        try {
          resolve(decodeHeaderBlock(Buffer.concat(chunks)));
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  /** Releases the zlib context. */
  close(): void {
    this.z.destroy();
  }
}

function controlHeader(type: number, flags: number, length: number): Buffer {
  if (length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError('frame too large');
  const b = Buffer.alloc(8);
  b.writeUInt32BE((0x8000 | SPDY_VERSION) * 0x10000 + type, 0);
  b.writeUInt32BE(flags * 0x1000000 + length, 4);
  return b;
}

function u31(n: number): number {
  return n & 0x7fffffff;
}

/** Encodes one frame; header blocks are compressed with the connection's `deflater`. */
export function encodeFrame(frame: OutFrame, deflater: HeaderDeflater): Buffer {
  switch (frame.type) {
    case 'data': {
      if (frame.data.length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError('frame too large');
      const h = Buffer.alloc(8);
      h.writeUInt32BE(u31(frame.streamId), 0);
      h.writeUInt32BE((frame.flags ?? 0) * 0x1000000 + frame.data.length, 4);
      return Buffer.concat([h, frame.data]);
    }
    case 'synStream': {
      const block = deflater.compress(frame.headers);
      const body = Buffer.alloc(10);
      body.writeUInt32BE(u31(frame.streamId), 0);
      body.writeUInt32BE(u31(frame.associatedStreamId ?? 0), 4);
      body[8] = ((frame.priority ?? 0) & 7) << 5;
      body[9] = 0; // slot
      return Buffer.concat([
        controlHeader(ControlType.synStream, frame.flags ?? 0, 10 + block.length),
        body,
        block,
      ]);
    }
    case 'synReply':
    case 'headers': {
      const block = deflater.compress(frame.headers);
      const id = Buffer.alloc(4);
      id.writeUInt32BE(u31(frame.streamId), 0);
      const type = frame.type === 'synReply' ? ControlType.synReply : ControlType.headers;
      return Buffer.concat([controlHeader(type, frame.flags ?? 0, 4 + block.length), id, block]);
    }
    case 'rstStream':
    case 'goAway':
    case 'windowUpdate': {
      const body = Buffer.alloc(8);
      if (frame.type === 'rstStream') {
        body.writeUInt32BE(u31(frame.streamId), 0);
        body.writeUInt32BE(frame.status >>> 0, 4);
      } else if (frame.type === 'goAway') {
        body.writeUInt32BE(u31(frame.lastGoodStreamId), 0);
        body.writeUInt32BE(frame.status >>> 0, 4);
      } else {
        body.writeUInt32BE(u31(frame.streamId), 0);
        body.writeUInt32BE(u31(frame.delta), 4);
      }
      const type =
        frame.type === 'rstStream'
          ? ControlType.rstStream
          : frame.type === 'goAway'
            ? ControlType.goAway
            : ControlType.windowUpdate;
      return Buffer.concat([controlHeader(type, 0, 8), body]);
    }
    case 'settings': {
      const body = Buffer.alloc(4 + frame.entries.length * 8);
      body.writeUInt32BE(frame.entries.length, 0);
      frame.entries.forEach((e, i) => {
        body.writeUInt32BE(((e.flags & 0xff) * 0x1000000 + (e.id & 0xffffff)) >>> 0, 4 + i * 8);
        body.writeUInt32BE(e.value >>> 0, 8 + i * 8);
      });
      return Buffer.concat([controlHeader(ControlType.settings, frame.flags ?? 0, body.length), body]);
    }
    case 'ping': {
      const body = Buffer.alloc(4);
      body.writeUInt32BE(frame.id >>> 0, 0);
      return Buffer.concat([controlHeader(ControlType.ping, 0, 4), body]);
    }
  }
}

/** Incrementally splits a byte stream into frames (bytes may arrive in any pieces). */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Feeds bytes; returns every frame they complete. Throws SpdyProtocolError. */
  push(chunk: Buffer): WireFrame[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: WireFrame[] = [];
    for (;;) {
      if (this.buffered < 8) break;
      const head = this.peek(8);
      const length = head.readUInt32BE(4) & 0xffffff;
      if (this.buffered < 8 + length) break;
      const whole = this.take(8 + length);
      out.push(parseFrame(whole.subarray(0, 8), whole.subarray(8)));
    }
    return out;
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) return first.subarray(0, n);
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all.subarray(0, n);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first !== undefined && first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    return out;
  }
}

function parseFrame(head: Buffer, payload: Buffer): WireFrame {
  const word = head.readUInt32BE(0);
  const flags = head[4] ?? 0;
  if ((word & 0x80000000) === 0) {
    const streamId = word & 0x7fffffff;
    if (streamId === 0) throw new SpdyProtocolError('data frame on stream 0');
    return { type: 'data', streamId, flags, data: Buffer.from(payload) };
  }
  const version = (word >>> 16) & 0x7fff;
  const frameType = word & 0xffff;
  const need = (n: number): void => {
    if (payload.length < n) throw new SpdyProtocolError(`control frame ${frameType} too short`);
  };
  const id31 = (off: number): number => payload.readUInt32BE(off) & 0x7fffffff;
  switch (frameType) {
    case ControlType.synStream:
      need(10);
      return {
        type: 'synStream',
        streamId: id31(0),
        associatedStreamId: id31(4),
        priority: (payload[8] ?? 0) >> 5,
        flags,
        block: Buffer.from(payload.subarray(10)),
      };
    case ControlType.synReply:
    case ControlType.headers:
      need(4);
      return {
        type: frameType === ControlType.synReply ? 'synReply' : 'headers',
        streamId: id31(0),
        flags,
        block: Buffer.from(payload.subarray(4)),
      };
    case ControlType.rstStream:
      need(8);
      return { type: 'rstStream', streamId: id31(0), status: payload.readUInt32BE(4) };
    case ControlType.settings: {
      need(4);
      const n = payload.readUInt32BE(0);
      need(4 + n * 8);
      const entries: SettingsEntry[] = [];
      for (let i = 0; i < n; i++) {
        const fid = payload.readUInt32BE(4 + i * 8);
        entries.push({ flags: fid >>> 24, id: fid & 0xffffff, value: payload.readUInt32BE(8 + i * 8) });
      }
      return { type: 'settings', flags, entries };
    }
    case ControlType.ping:
      need(4);
      return { type: 'ping', id: payload.readUInt32BE(0) };
    case ControlType.goAway:
      need(8);
      return { type: 'goAway', lastGoodStreamId: id31(0), status: payload.readUInt32BE(4) };
    case ControlType.windowUpdate:
      need(8);
      return { type: 'windowUpdate', streamId: id31(0), delta: id31(4) };
    default:
      return { type: 'unknown', version, frameType, flags, payload: Buffer.from(payload) };
  }
}
