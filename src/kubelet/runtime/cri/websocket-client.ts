// A minimal RFC 6455 WebSocket client over node:http, enough to talk to containerd's CRI
// streaming server on loopback (binary messages, ping/pong, close). Node 20 has no stable
// WebSocket client and kts takes no new npm packages for this one use.

import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { request } from 'node:http';
import type { Socket } from 'node:net';

const OP_CONT = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Encodes one masked client frame. */
export function encodeFrame(opcode: number, payload: Buffer, mask: Buffer = randomBytes(4)): Buffer {
  const len = payload.length;
  const head: number[] = [0x80 | opcode];
  if (len < 126) head.push(0x80 | len);
  else if (len < 65536) head.push(0x80 | 126, len >> 8, len & 0xff);
  else {
    head.push(0x80 | 127);
    const l = Buffer.alloc(8);
    l.writeBigUInt64BE(BigInt(len));
    head.push(...l);
  }
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = (payload[i] ?? 0) ^ (mask[i & 3] ?? 0);
  return Buffer.concat([Buffer.from(head), mask, masked]);
}

/** Incrementally decodes frames from a byte stream (masked or not). */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns every complete frame. */
  push(chunk: Buffer): { fin: boolean; opcode: number; payload: Buffer }[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: { fin: boolean; opcode: number; payload: Buffer }[] = [];
    for (;;) {
      if (this.buf.length < 2) break;
      const b0 = this.buf[0] ?? 0;
      const b1 = this.buf[1] ?? 0;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) break;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) break;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      const maskKey = masked ? this.buf.subarray(off, off + 4) : undefined;
      if (masked) off += 4;
      if (this.buf.length < off + len) break;
      const payload = Buffer.from(this.buf.subarray(off, off + len));
      if (maskKey !== undefined)
        for (let i = 0; i < len; i++) payload[i] = (payload[i] ?? 0) ^ (maskKey[i & 3] ?? 0);
      out.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload });
      this.buf = this.buf.subarray(off + len);
    }
    return out;
  }
}

/** An open client WebSocket: emits `message` (Buffer) and `close` (code). */
export class WebSocketClient extends EventEmitter {
  private closed = false;
  private readonly decoder = new FrameDecoder();
  private fragments: Buffer[] = [];

  constructor(
    private readonly socket: Socket,
    head: Buffer,
    /** The subprotocol the server chose. */
    readonly protocol: string,
  ) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => this.finish(1006));
    socket.on('error', () => this.finish(1006));
    if (head.length > 0) queueMicrotask(() => this.onData(head));
  }

  private onData(chunk: Buffer): void {
    for (const f of this.decoder.push(chunk)) {
      if (f.opcode === OP_PING) this.writeFrame(OP_PONG, f.payload);
      else if (f.opcode === OP_CLOSE) {
        const code = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005;
        this.writeFrame(OP_CLOSE, f.payload.subarray(0, 2));
        this.socket.end();
        this.finish(code);
      } else if (f.opcode === OP_BINARY || f.opcode === OP_TEXT || f.opcode === OP_CONT) {
        this.fragments.push(f.payload);
        if (f.fin) {
          const message = Buffer.concat(this.fragments);
          this.fragments = [];
          this.emit('message', message);
        }
      }
    }
  }

  private writeFrame(opcode: number, payload: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(encodeFrame(opcode, payload));
  }

  private finish(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close', code);
  }

  /** Sends one binary message. */
  send(data: Buffer): void {
    if (!this.closed) this.writeFrame(OP_BINARY, data);
  }

  /** Starts the closing handshake and drops the connection shortly after. */
  close(code = 1000): void {
    if (this.closed) return;
    const p = Buffer.alloc(2);
    p.writeUInt16BE(code);
    this.writeFrame(OP_CLOSE, p);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.finish(code);
  }
}

/** Opens a WebSocket to `url` (http:// or ws://) offering `protocols`. */
export function openWebSocket(
  url: string,
  protocols: string[],
  timeoutMs = 10_000,
): Promise<WebSocketClient> {
  const u = new URL(url.replace(/^ws/, 'http'));
  if (u.protocol !== 'http:') return Promise.reject(new Error(`unsupported streaming URL ${url}`));
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const req = request({
      host: u.hostname,
      port: u.port === '' ? 80 : Number(u.port),
      path: `${u.pathname}${u.search}`,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': key,
        'Sec-WebSocket-Protocol': protocols.join(', '),
      },
      timeout: timeoutMs,
    });
    req.once('timeout', () => req.destroy(new Error(`timed out opening ${u.origin}${u.pathname}`)));
    req.once('error', reject);
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () =>
        reject(new Error(`streaming server refused upgrade: ${res.statusCode} ${body.trim()}`)),
      );
    });
    req.once('upgrade', (res, socket, head) => {
      const accept = createHash('sha1').update(`${key}${WS_GUID}`).digest('base64');
      if (res.headers['sec-websocket-accept'] !== accept) {
        socket.destroy();
        reject(new Error('streaming server sent a bad Sec-WebSocket-Accept'));
        return;
      }
      const protocol = String(res.headers['sec-websocket-protocol'] ?? '');
      resolve(new WebSocketClient(socket, head, protocol));
    });
    req.end();
  });
}
