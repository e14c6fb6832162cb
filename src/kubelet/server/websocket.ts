// A minimal server side of RFC 6455 WebSocket: the opening handshake (with subprotocol
// choice), unmasked server frames, reassembly of fragmented client messages, ping/pong and
// the closing handshake. Enough for the kubelet's channel protocols (exec, attach), which
// send only binary messages; Node 20 has no WebSocket server and kts adds no npm packages.

import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type IncomingHttpHeaders, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { FrameDecoder } from '../runtime/cri/websocket-client.js';

const OP_CONT = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Encodes one unmasked (server-to-client) frame. */
export function encodeServerFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  let head: Buffer;
  if (len < 126) head = Buffer.from([0x80 | opcode, len]);
  else if (len < 65536) {
    head = Buffer.alloc(4);
    head[0] = 0x80 | opcode;
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = 0x80 | opcode;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

/** True when the request asks to switch to the WebSocket protocol. */
export function isWebSocketRequest(headers: IncomingHttpHeaders): boolean {
  const upgrade = headers.upgrade;
  return typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket';
}

/** The subprotocols a client offers (`Sec-WebSocket-Protocol`), in its order of preference. */
export function offeredProtocols(headers: IncomingHttpHeaders): string[] {
  const raw = headers['sec-websocket-protocol'];
  const joined = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
  return joined
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/** The `Sec-WebSocket-Accept` value for a client key. */
export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + WS_GUID)
    .digest('base64');
}

/** Why a handshake was refused: an HTTP status, a plain-text message and extra headers. */
export interface HandshakeRefusal {
  code: number;
  message: string;
  headers?: [string, string][];
}

/**
 * Completes the opening handshake on an upgraded socket, choosing the first protocol the
 * client offers that `supported` contains. Returns the connection, or the refusal (which
 * the caller writes as a plain HTTP response) when the request is not a valid handshake.
 */
export function acceptWebSocket(
  headers: IncomingHttpHeaders,
  socket: Duplex,
  head: Buffer,
  supported: readonly string[],
): { ws: WebSocket; protocol: string } | HandshakeRefusal {
  const key = headers['sec-websocket-key'];
  if (!isWebSocketRequest(headers) || typeof key !== 'string' || key === '') {
    return { code: 400, message: 'not a WebSocket handshake' };
  }
  if (headers['sec-websocket-version'] !== '13') {
    return { code: 426, message: 'unsupported WebSocket version' };
  }
  const protocol = offeredProtocols(headers).find((p) => supported.includes(p));
  if (protocol === undefined) {
    return {
      code: 400,
      message: `unable to upgrade: no supported subprotocol; supported: ${supported.join(', ')}`,
    };
  }
  socket.write(
    [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${acceptKey(String(key))}`,
      `Sec-WebSocket-Protocol: ${protocol}`,
      '',
      '',
    ].join('\r\n'),
  );
  const ws = new WebSocket(socket);
  if (head.length > 0) ws.feed(head);
  return { ws, protocol };
}

/** Writes a plain HTTP error response on a socket that was not upgraded, then closes it. */
export function refuseUpgrade(socket: Duplex, refusal: HandshakeRefusal): void {
  const body = Buffer.from(refusal.message);
  const reason = STATUS_CODES[refusal.code] ?? 'Error';
  const extra = (refusal.headers ?? []).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(
    Buffer.concat([
      Buffer.from(
        `HTTP/1.1 ${refusal.code} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\n${extra}` +
          `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      ),
      body,
    ]),
  );
}

/**
 * One server-side WebSocket connection. Events: `message` (payload Buffer, binary flag),
 * `close` (once, when the socket is gone).
 */
export class WebSocket extends EventEmitter {
  private readonly decoder = new FrameDecoder();
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;
  private closeSent = false;
  private closed = false;

  /** Wraps an already-upgraded socket. */
  constructor(private readonly socket: Duplex) {
    super();
    socket.on('data', (chunk: Buffer) => this.feed(chunk));
    socket.on('close', () => this.finish());
    socket.on('error', () => this.finish());
  }

  /** True until the connection closed or a close frame was sent. */
  get open(): boolean {
    return !this.closed && !this.closeSent;
  }

  /** Feeds raw bytes read from the socket (used for bytes that arrived with the upgrade). */
  feed(chunk: Buffer): void {
    let frames: ReturnType<FrameDecoder['push']>;
    try {
      frames = this.decoder.push(chunk);
    } catch {
      this.close(1002, 'protocol error');
      return;
    }
    for (const f of frames) this.onFrame(f.fin, f.opcode, f.payload);
  }

  private onFrame(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case OP_PING:
        if (!this.closeSent) this.socket.write(encodeServerFrame(OP_PONG, payload));
        return;
      case OP_PONG:
        return;
      case OP_CLOSE: {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        if (!this.closeSent) {
          this.closeSent = true;
          const echo = code === 1005 ? Buffer.alloc(0) : payload.subarray(0, 2);
          this.socket.end(encodeServerFrame(OP_CLOSE, echo));
        } else {
          this.socket.end();
        }
        this.finish();
        return;
      }
      case OP_TEXT:
      case OP_BINARY:
        if (fin) {
          this.emit('message', payload, opcode === OP_BINARY);
          return;
        }
        this.fragmentOpcode = opcode;
        this.fragments = [payload];
        return;
      case OP_CONT:
        this.fragments.push(payload);
        if (fin) {
          const whole = Buffer.concat(this.fragments);
          this.fragments = [];
          this.emit('message', whole, this.fragmentOpcode === OP_BINARY);
        }
        return;
      default:
        this.close(1002, 'unknown opcode');
    }
  }

  /** Sends one binary message; false when the connection is closing (nothing sent). */
  send(data: Buffer): boolean {
    if (!this.open) return false;
    this.socket.write(encodeServerFrame(OP_BINARY, data));
    return true;
  }

  /** True when the socket's write buffer is full: wait for `onceDrain` before sending more. */
  get needsDrain(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** Calls `cb` once the socket's write buffer has drained (or the connection is gone). */
  onceDrain(cb: () => void): void {
    if (!this.socket.writableNeedDrain || this.closed) {
      cb();
      return;
    }
    const done = (): void => {
      this.socket.off('drain', done);
      this.off('close', done);
      cb();
    };
    this.socket.on('drain', done);
    this.on('close', done);
  }

  /** Stops reading from the peer (backpressure from a slow consumer of messages). */
  pause(): void {
    this.socket.pause();
  }

  /** Resumes reading after `pause`. */
  resume(): void {
    this.socket.resume();
  }

  /** Starts the closing handshake; the socket ends when the peer answers (or in 5 s). */
  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    if (!this.closeSent) {
      this.closeSent = true;
      const r = Buffer.from(reason);
      const payload = Buffer.alloc(2 + r.length);
      payload.writeUInt16BE(code, 0);
      r.copy(payload, 2);
      this.socket.write(encodeServerFrame(OP_CLOSE, payload));
    }
    const timer = setTimeout(() => this.socket.destroy(), 5000);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.socket.destroy();
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}
