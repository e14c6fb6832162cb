// The server side of one SPDY/3.1 connection, as kubectl's client (moby/spdystream) expects
// it: the client opens streams (odd ids) with SYN_STREAM, the server accepts each with
// SYN_REPLY or refuses it with RST_STREAM; data frames carry bytes with FIN as a half-close;
// PINGs from the peer are echoed; GOAWAY ends the connection. Streams are Node Duplexes.
//
// Flow control: spdystream neither sends WINDOW_UPDATE nor honours the peer's window, so
// the server does not hold back its own data waiting for window updates (kubectl would
// never send them and a transfer would stall at 64 KiB). It does send WINDOW_UPDATE for
// what it consumed, which keeps a window-respecting peer going and is ignored by spdystream.
// Backpressure is real all the same: when a stream's reader is slow the connection stops
// reading from its transport, and a stream's writes wait for the transport to drain.
//
// The transport is an upgraded socket (`Upgrade: SPDY/3.1`) or a WebSocket whose binary
// messages carry the SPDY bytes (client-go's tunneling, `SPDY/3.1+portforward.k8s.io`).

import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import { Duplex } from 'node:stream';
import {
  DEFAULT_WINDOW,
  encodeFrame,
  FLAG_FIN,
  FrameDecoder,
  HeaderDeflater,
  HeaderInflater,
  type OutFrame,
  RstStatus,
  type SpdyHeaders,
  type WireFrame,
} from './spdy-framing.js';
import type { HandshakeRefusal, WebSocket } from './websocket.js';

/** The byte pipe a SPDY connection runs over. */
export interface SpdyTransport {
  /** Sends bytes; false when the caller should wait for `onceDrain` before sending more. */
  write(data: Buffer): boolean;
  /** Calls `cb` once buffered output has drained (or the transport is gone). */
  onceDrain(cb: () => void): void;
  /** Delivers every chunk of incoming bytes. */
  onData(cb: (chunk: Buffer) => void): void;
  /** Calls `cb` once, when the transport is closed. */
  onClose(cb: () => void): void;
  pause(): void;
  resume(): void;
  /** Ends the transport gracefully. */
  end(): void;
}

/** True when the request asks to switch to SPDY/3.1 (`Connection: Upgrade`, `Upgrade: SPDY/3.1`). */
export function isSpdyRequest(headers: IncomingHttpHeaders): boolean {
  const connection = String(headers.connection ?? '').toLowerCase();
  const upgrade = String(headers.upgrade ?? '').toLowerCase();
  return connection.includes('upgrade') && upgrade.includes('spdy/3.1');
}

/**
 * Answers a plain SPDY/3.1 upgrade: negotiates `X-Stream-Protocol-Version` against
 * `supported` (upstream's httpstream.Handshake, messages included) and writes the 101.
 * Returns the transport and protocol, or the refusal the caller writes instead.
 */
export function acceptSpdyUpgrade(
  headers: IncomingHttpHeaders,
  socket: Duplex,
  head: Buffer,
  supported: readonly string[],
): { transport: SpdyTransport; protocol: string } | HandshakeRefusal {
  const raw = headers['x-stream-protocol-version'];
  const offered = (Array.isArray(raw) ? raw : [raw ?? ''])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (offered.length === 0)
    return { code: 400, message: 'unable to upgrade: X-Stream-Protocol-Version is required' };
  const protocol = offered.find((p) => supported.includes(p));
  if (protocol === undefined) {
    return {
      code: 403,
      message: `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${supported.join(' ')}]`,
      headers: supported.map((p) => ['X-Accepted-Stream-Protocol-Versions', p]),
    };
  }
  if (!isSpdyRequest(headers)) {
    return { code: 400, message: 'unable to upgrade: missing upgrade headers in request' };
  }
  socket.write(
    [
      'HTTP/1.1 101 Switching Protocols',
      'Connection: Upgrade',
      'Upgrade: SPDY/3.1',
      `X-Stream-Protocol-Version: ${protocol}`,
      `Date: ${new Date().toUTCString()}`,
      '',
      '',
    ].join('\r\n'),
  );
  if ('setNoDelay' in socket && typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
  return { transport: socketTransport(socket, head), protocol };
}

/** A transport over an upgraded socket; `head` holds bytes that arrived with the upgrade. */
export function socketTransport(socket: Duplex, head: Buffer): SpdyTransport {
  return {
    write: (data) => socket.write(data),
    onceDrain: (cb) => {
      if (!socket.writableNeedDrain || socket.destroyed) cb();
      else {
        const done = (): void => {
          socket.off('drain', done);
          socket.off('close', done);
          cb();
        };
        socket.on('drain', done);
        socket.on('close', done);
      }
    },
    onData: (cb) => {
      if (head.length > 0) queueMicrotask(() => cb(head));
      socket.on('data', cb);
    },
    onClose: (cb) => {
      socket.once('close', cb);
      socket.on('error', () => socket.destroy());
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    end: () => {
      socket.end();
      // A peer that never closes its side must not keep the socket forever.
      setTimeout(() => socket.destroy(), 5000).unref();
    },
  };
}

/** A transport over a WebSocket whose binary messages carry the SPDY byte stream. */
export function webSocketTransport(ws: WebSocket): SpdyTransport {
  return {
    write: (data) => ws.send(data) && !ws.needsDrain,
    onceDrain: (cb) => ws.onceDrain(cb),
    onData: (cb) => ws.on('message', (m: Buffer) => cb(m)),
    onClose: (cb) => ws.once('close', cb),
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    end: () => ws.close(1000),
  };
}

/** One stream of a SPDY connection: readable = the peer's data, writable = data to the peer. */
export class SpdyStream extends Duplex {
  private replied = false;
  private localFin = false;
  private remoteFin = false;
  private wasReset = false;
  private unacked = 0;
  private waitingForReply: (() => void)[] = [];

  /** A stream of `conn` (created by the connection). */
  constructor(
    private readonly conn: SpdyConnection,
    /** The stream id. */
    readonly id: number,
    /** The SYN_STREAM headers (names lower case). */
    readonly headers: SpdyHeaders,
    /** True for a stream this side opened: its writes wait for the peer's SYN_REPLY. */
    private readonly local = false,
  ) {
    super({ allowHalfOpen: true });
  }

  /** Called by the connection when the peer accepted a stream this side opened. */
  markReplied(): void {
    if (!this.local || this.replied) return;
    this.replied = true;
    for (const go of this.waitingForReply.splice(0)) go();
  }

  /** Runs `fn` once the stream may carry data (spdystream drops data before its reply). */
  private whenReplied(fn: () => void): void {
    if (!this.local || this.replied) fn();
    else this.waitingForReply.push(fn);
  }

  /** The first value of a header (case-insensitive name), or ''. */
  header(name: string): string {
    return this.headers[name.toLowerCase()]?.[0] ?? '';
  }

  /** Accepts the stream (SYN_REPLY); data written before it waits for it. */
  reply(headers: SpdyHeaders = {}): void {
    if (this.local || this.replied || this.wasReset) return;
    this.replied = true;
    this.conn.send({ type: 'synReply', streamId: this.id, headers });
  }

  /** Refuses or abandons the stream (RST_STREAM) and destroys it. */
  reset(status: number = RstStatus.cancel): void {
    if (!this.wasReset && !(this.localFin && this.remoteFin)) {
      this.wasReset = true;
      this.conn.send({ type: 'rstStream', streamId: this.id, status });
    }
    this.destroy();
  }

  /** Called by the connection with the peer's data. */
  deliver(data: Buffer, fin: boolean): void {
    if (this.remoteFin || this.destroyed) return;
    if (data.length > 0) {
      this.unacked += data.length;
      if (this.unacked >= DEFAULT_WINDOW / 2) {
        this.conn.send({ type: 'windowUpdate', streamId: this.id, delta: this.unacked });
        this.unacked = 0;
      }
      if (!this.push(data)) this.conn.block(this);
    }
    if (fin) {
      this.remoteFin = true;
      this.push(null);
    }
  }

  /**
   * Called by the connection when the peer reset the stream or the connection is gone.
   * Data already received stays readable and then ends, as spdystream's reader sees a
   * reset (upstream servers reset every stream right after their last data); nothing more
   * is sent.
   */
  abort(): void {
    this.wasReset = true;
    this.waitingForReply = [];
    if (!this.remoteFin) {
      this.remoteFin = true;
      this.push(null);
    }
    if (!this.writableEnded) this.end();
    // Nobody may ever read the rest: the stream must not pin the peer's data forever.
    if (this.readableFlowing !== true) setImmediate(() => this.destroy());
  }

  override _read(): void {
    this.conn.unblock(this);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.wasReset) {
      cb(new Error('stream reset'));
      return;
    }
    this.reply();
    this.whenReplied(() => this.conn.sendData(this.id, chunk, false, cb));
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.wasReset) {
      cb();
      return;
    }
    this.reply();
    this.localFin = true;
    this.whenReplied(() => this.conn.sendData(this.id, Buffer.alloc(0), true, cb));
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.conn.forget(this);
    // Writes still waiting for a reply go down with the stream.
    this.waitingForReply = [];
    cb(err);
  }
}

/** Options of a SPDY connection. */
export interface SpdyConnectionOptions {
  /** Called for each stream the peer opens; it must `reply()` or `reset()` the stream. */
  onStream?(stream: SpdyStream): void;
  /** The client side (odd stream ids of its own); default the server side. */
  client?: boolean;
}

/**
 * One SPDY/3.1 connection, the server side unless `client` is set. Emits `close` once,
 * when the transport is gone (every stream is destroyed by then).
 */
export class SpdyConnection extends EventEmitter {
  private readonly decoder = new FrameDecoder();
  private readonly deflater = new HeaderDeflater();
  private readonly inflater = new HeaderInflater();
  private readonly streams = new Map<number, SpdyStream>();
  private readonly blocked = new Set<SpdyStream>();
  private readonly queue: WireFrame[] = [];
  private inflating = false;
  private transportGone = false;
  private lastRemoteId = 0;
  private nextLocalId: number;
  private goneAway = false;
  private closed = false;

  /** Serves a connection over `transport`. */
  constructor(
    private readonly transport: SpdyTransport,
    private readonly opts: SpdyConnectionOptions,
  ) {
    super();
    this.nextLocalId = opts.client === true ? 1 : 2;
    transport.onData((chunk) => this.feed(chunk));
    transport.onClose(() => {
      // Frames already read (some may wait for a header block to inflate) are still handled.
      this.transportGone = true;
      this.pump();
    });
  }

  /** Number of open streams. */
  get streamCount(): number {
    return this.streams.size;
  }

  /** Opens a stream (SYN_STREAM); its data waits for the peer's SYN_REPLY. */
  openStream(headers: SpdyHeaders): SpdyStream {
    const id = this.nextLocalId;
    this.nextLocalId += 2;
    const stream = new SpdyStream(this, id, headers, true);
    if (this.closed) {
      stream.abort();
      return stream;
    }
    this.streams.set(id, stream);
    this.send({ type: 'synStream', streamId: id, headers });
    return stream;
  }

  /** Encodes and sends one frame; false when the transport wants a drain first. */
  send(frame: OutFrame): boolean {
    if (this.closed) return false;
    return this.transport.write(encodeFrame(frame, this.deflater));
  }

  /** Sends a data frame and calls `cb` once the transport can take more. */
  sendData(streamId: number, data: Buffer, fin: boolean, cb: (err?: Error | null) => void): void {
    if (this.closed) {
      cb(new Error('connection closed'));
      return;
    }
    if (this.send({ type: 'data', streamId, flags: fin ? FLAG_FIN : 0, data })) cb();
    else this.transport.onceDrain(() => cb());
  }

  /** Says goodbye (GOAWAY) and ends the transport; open streams are destroyed. */
  close(): void {
    if (this.closed) return;
    if (!this.goneAway) {
      this.goneAway = true;
      this.send({ type: 'goAway', lastGoodStreamId: this.lastRemoteId, status: 0 });
    }
    this.transport.end();
    this.finish();
  }

  /** A stream's reader is full: stop reading from the transport until it drains. */
  block(stream: SpdyStream): void {
    if (this.blocked.size === 0) this.transport.pause();
    this.blocked.add(stream);
  }

  /** A stream's reader wants more. */
  unblock(stream: SpdyStream): void {
    if (this.blocked.delete(stream) && this.blocked.size === 0 && !this.closed) this.transport.resume();
  }

  /** Drops a destroyed stream. */
  forget(stream: SpdyStream): void {
    this.streams.delete(stream.id);
    this.unblock(stream);
  }

  private feed(chunk: Buffer): void {
    if (this.closed) return;
    try {
      this.queue.push(...this.decoder.push(chunk));
    } catch {
      this.protocolError();
      return;
    }
    this.pump();
  }

  /** Handles queued frames in order; a header block to inflate holds the queue behind it. */
  private pump(): void {
    while (!this.inflating && !this.closed) {
      const f = this.queue.shift();
      if (f === undefined) {
        if (this.transportGone) this.finish();
        return;
      }
      if (f.type === 'synStream' || f.type === 'synReply' || f.type === 'headers') {
        // Every block is inflated, even ignored ones: the zlib context spans the connection.
        this.inflating = true;
        this.inflater.inflate(f.block).then(
          (headers) => {
            this.inflating = false;
            if (f.type === 'synStream') this.onSynStream(f.streamId, f.flags, headers);
            else if (f.type === 'synReply') this.streams.get(f.streamId)?.markReplied();
            this.pump();
          },
          () => this.protocolError(),
        );
        return;
      }
      this.handle(f);
    }
  }

  private handle(f: WireFrame): void {
    switch (f.type) {
      case 'data':
        this.streams.get(f.streamId)?.deliver(f.data, (f.flags & FLAG_FIN) !== 0);
        return;
      case 'rstStream':
        this.streams.get(f.streamId)?.abort();
        return;
      case 'ping':
        // The peer's pings have the other parity than ours (clients odd, servers even).
        if (f.id % 2 === (this.nextLocalId + 1) % 2) this.send({ type: 'ping', id: f.id });
        return;
      case 'goAway':
        this.goneAway = true;
        this.close();
        return;
      default:
        // SETTINGS, WINDOW_UPDATE and unknown frames change nothing here (see the top).
        return;
    }
  }

  private onSynStream(id: number, flags: number, headers: SpdyHeaders): void {
    if (this.goneAway) return;
    if (id % 2 === this.nextLocalId % 2 || id <= this.lastRemoteId || this.opts.onStream === undefined) {
      this.send({ type: 'rstStream', streamId: id, status: RstStatus.protocolError });
      return;
    }
    this.lastRemoteId = id;
    const stream = new SpdyStream(this, id, headers);
    this.streams.set(id, stream);
    if ((flags & FLAG_FIN) !== 0) stream.deliver(Buffer.alloc(0), true);
    this.opts.onStream?.(stream);
  }

  private protocolError(): void {
    if (this.closed) return;
    this.goneAway = true;
    this.send({ type: 'goAway', lastGoodStreamId: this.lastRemoteId, status: 1 });
    this.close();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.streams.values()]) s.abort();
    this.streams.clear();
    this.blocked.clear();
    this.queue.length = 0;
    this.inflater.close();
    this.emit('close');
  }
}
