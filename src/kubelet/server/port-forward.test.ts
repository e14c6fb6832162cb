// The port-forward protocol against an in-memory SPDY client that speaks like kubectl:
// error stream first (half-closed at once), then the data stream, paired by requestID.

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Duplex, PassThrough } from 'node:stream';
import type { PortForwarder } from '../runtime/runtime.js';
import { portForwardConnection } from '../runtime/cri/streaming.js';
import {
  PORT_FORWARD_WEBSOCKET_PROTOCOL,
  servePortForward,
  servePortForwardWebSocket,
  validatePortForwardStream,
} from './port-forward.js';
import type { SpdyConnection, SpdyStream, SpdyTransport } from './spdy-connection.js';
import { acceptWebSocket, refuseUpgrade } from './websocket.js';
import {
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

/** A kubectl-like client on an in-memory transport; records what the server sends. */
class FakeClient {
  readonly frames: (WireFrame & { headers?: SpdyHeaders })[] = [];
  private readonly deflater = new HeaderDeflater();
  private readonly inflater = new HeaderInflater();
  private readonly decoder = new FrameDecoder();
  private toServer: ((b: Buffer) => void) | undefined;
  private closeServer: (() => void) | undefined;
  private chain: Promise<void> = Promise.resolve();
  ended = false;
  readonly transport: SpdyTransport;

  constructor() {
    this.transport = {
      write: (data) => {
        for (const f of this.decoder.push(data)) {
          this.chain = this.chain.then(async () => {
            this.frames.push('block' in f ? { ...f, headers: await this.inflater.inflate(f.block) } : f);
          });
        }
        return true;
      },
      onceDrain: (cb) => cb(),
      onData: (cb) => {
        this.toServer = cb;
      },
      onClose: (cb) => {
        this.closeServer = cb;
      },
      pause: () => {},
      resume: () => {},
      end: () => {
        this.ended = true;
        this.closeServer?.();
      },
    };
  }

  send(frame: OutFrame): void {
    this.toServer?.(encodeFrame(frame, this.deflater));
  }

  /** Opens the error + data pair for one forwarded connection. */
  openPair(requestId: string, port: number, errorId: number): void {
    const h = (type: string): SpdyHeaders => ({
      streamtype: [type],
      port: [String(port)],
      requestid: [requestId],
    });
    this.send({ type: 'synStream', streamId: errorId, headers: h('error') });
    this.send({ type: 'data', streamId: errorId, flags: FLAG_FIN, data: Buffer.alloc(0) });
    this.send({ type: 'synStream', streamId: errorId + 2, headers: h('data') });
  }

  /** Everything received on a stream, and whether it was FIN'd. */
  async stream(id: number): Promise<{ data: string; fin: boolean; replied: boolean; reset: boolean }> {
    await this.chain;
    let data = '';
    let fin = false;
    let replied = false;
    let reset = false;
    for (const f of this.frames) {
      if (f.type === 'synReply' && f.streamId === id) replied = true;
      if (f.type === 'rstStream' && f.streamId === id) reset = true;
      if (f.type === 'data' && f.streamId === id) {
        data += f.data.toString();
        if ((f.flags & FLAG_FIN) !== 0) fin = true;
      }
    }
    return { data, fin, replied, reset };
  }

  /** Disconnects the transport from the client side. */
  disconnect(): void {
    this.closeServer?.();
  }
}

async function eventually<T>(fn: () => Promise<T | undefined>, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A forwarder whose port 7 echoes upper-cased, port 9 is closed, port 5 answers and hangs up. */
function fakeForwarder(): PortForwarder & { open: Set<Duplex> } {
  const open = new Set<Duplex>();
  return {
    open,
    async connect(port: number): Promise<Duplex> {
      if (port === 9) throw new Error('dial tcp4 127.0.0.1:9: connect: connection refused');
      const inbound = new PassThrough();
      const outbound = new PassThrough();
      const d = Duplex.from({ readable: outbound, writable: inbound });
      open.add(d);
      d.once('close', () => open.delete(d));
      if (port === 5) {
        outbound.end('bye');
        inbound.resume();
      } else {
        inbound.on('data', (c: Buffer) => outbound.write(c.toString().toUpperCase()));
        inbound.on('end', () => outbound.end());
      }
      return d;
    },
    close() {},
  };
}

describe('port-forward protocol over SPDY', () => {
  let client: FakeClient;
  let conn: SpdyConnection;
  let forwarder: ReturnType<typeof fakeForwarder>;
  before(() => {
    client = new FakeClient();
    forwarder = fakeForwarder();
    conn = servePortForward(client.transport, { forwarder, podId: 'sandbox-1', uid: '' });
  });
  after(() => conn.close());

  it('accepts a pair and forwards bytes both ways', async () => {
    client.openPair('0', 7, 1);
    client.send({ type: 'data', streamId: 3, data: Buffer.from('hello') });
    const s = await eventually(async () => {
      const r = await client.stream(3);
      return r.data === 'HELLO' ? r : undefined;
    });
    assert.ok(s.replied);
    assert.ok((await client.stream(1)).replied);
    // The client's half-close reaches the target, whose end closes both streams.
    client.send({ type: 'data', streamId: 3, flags: FLAG_FIN, data: Buffer.alloc(0) });
    await eventually(async () => ((await client.stream(3)).fin ? true : undefined));
    const e = await eventually(async () => {
      const r = await client.stream(1);
      return r.fin ? r : undefined;
    });
    assert.equal(e.data, '');
  });

  it('serves concurrent pairs independently', async () => {
    client.openPair('1', 7, 5);
    client.openPair('2', 7, 9);
    client.send({ type: 'data', streamId: 11, data: Buffer.from('two') });
    client.send({ type: 'data', streamId: 7, data: Buffer.from('one') });
    await eventually(async () => ((await client.stream(7)).data === 'ONE' ? true : undefined));
    await eventually(async () => ((await client.stream(11)).data === 'TWO' ? true : undefined));
  });

  it('ends both streams when the target hangs up first', async () => {
    client.openPair('3', 5, 13);
    const d = await eventually(async () => {
      const r = await client.stream(15);
      return r.fin ? r : undefined;
    });
    assert.equal(d.data, 'bye');
    assert.ok((await client.stream(13)).fin);
  });

  it('writes a connect failure on the error stream, as upstream words it', async () => {
    client.openPair('4', 9, 17);
    const e = await eventually(async () => {
      const r = await client.stream(17);
      return r.fin ? r : undefined;
    });
    assert.equal(
      e.data,
      'error forwarding port 9 to pod sandbox-1, uid : dial tcp4 127.0.0.1:9: connect: connection refused',
    );
    assert.ok((await client.stream(19)).fin);
  });

  it('resets streams with bad headers', async () => {
    client.send({ type: 'synStream', streamId: 21, headers: { streamtype: ['data'] } });
    client.send({ type: 'synStream', streamId: 23, headers: { port: ['80'], streamtype: ['bogus'] } });
    await eventually(async () => ((await client.stream(23)).reset ? true : undefined));
    assert.ok((await client.stream(21)).reset);
    assert.ok(client.frames.some((f) => f.type === 'rstStream' && f.status === RstStatus.cancel));
  });

  it('refuses a stream id that goes backwards', async () => {
    client.send({ type: 'synStream', streamId: 3, headers: { port: ['7'], streamtype: ['data'] } });
    await eventually(async () => {
      await client.stream(3);
      return client.frames.some(
        (f) => f.type === 'rstStream' && f.streamId === 3 && f.status === RstStatus.protocolError,
      )
        ? true
        : undefined;
    });
  });

  it('echoes the client’s pings', async () => {
    client.send({ type: 'ping', id: 1 });
    await eventually(async () => {
      await client.stream(0);
      return client.frames.some((f) => f.type === 'ping' && f.id === 1) ? true : undefined;
    });
  });

  it('closes every forwarded connection when the transport goes away', async () => {
    client.openPair('5', 7, 25);
    await eventually(async () =>
      (await client.stream(27)).replied && forwarder.open.size > 0 ? true : undefined,
    );
    client.disconnect();
    await eventually(async () => (forwarder.open.size === 0 ? true : undefined));
    assert.equal(conn.streamCount, 0);
  });
});

describe('validatePortForwardStream', () => {
  const table: [SpdyHeaders, string | undefined][] = [
    [{ port: ['80'], streamtype: ['data'] }, undefined],
    [{ port: ['80'], streamtype: ['error'] }, undefined],
    [{ streamtype: ['data'] }, '"port" header is required'],
    [{ port: ['0'], streamtype: ['data'] }, 'port "0" must be > 0'],
    [{ port: ['80'] }, '"streamType" header is required'],
    [{ port: ['80'], streamtype: ['x'] }, 'invalid stream type "x"'],
  ];
  for (const [headers, want] of table) {
    it(`${JSON.stringify(headers)} → ${want ?? 'ok'}`, () => {
      const stream = { header: (n: string) => headers[n.toLowerCase()]?.[0] ?? '' } as unknown as SpdyStream;
      assert.equal(validatePortForwardStream(stream), want);
    });
  }
  it('rejects a port that is not a number', () => {
    const stream = {
      header: (n: string) => (n === 'port' ? 'http' : 'data'),
    } as unknown as SpdyStream;
    assert.match(validatePortForwardStream(stream) ?? '', /^unable to parse "http" as a port/);
  });
});

describe('port-forward over a plain WebSocket (v4.channel.k8s.io)', () => {
  let server: Server;
  let base = '';
  const forwarder = fakeForwarder();
  const sockets = new Set<Duplex>();
  before(async () => {
    server = createServer((_req, res) => res.writeHead(400).end());
    server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
      sockets.add(socket);
      const accepted = acceptWebSocket(req.headers, socket, head, [PORT_FORWARD_WEBSOCKET_PROTOCOL]);
      if (!('ws' in accepted)) {
        refuseUpgrade(socket, accepted);
        return;
      }
      const ports = new URL(req.url ?? '/', 'http://x').searchParams.getAll('port').map(Number);
      // The CRI client used here listens only after its handshake resolves: frames that
      // arrive in the same packet as the 101 would be lost, so the server waits a moment.
      setTimeout(() => servePortForwardWebSocket(accepted.ws, ports, { forwarder, podId: 'sandbox-2' }), 50);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pf`;
  });
  after(() => {
    for (const sk of sockets) sk.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });

  it('forwards a connection, port preambles skipped by the client', async () => {
    const d = await portForwardConnection(base, 7);
    const got = new Promise<string>((resolve) => d.once('data', (c: Buffer) => resolve(c.toString())));
    // Past the server's start-up delay (see above), so the write is not sent before it listens.
    await new Promise((r) => setTimeout(r, 150));
    d.write('abc');
    assert.equal(await got, 'ABC');
    d.destroy();
    await eventually(async () => (forwarder.open.size === 0 ? true : undefined));
  });

  it('ends the stream when the target hangs up and reports connect failures', async () => {
    const bye = await portForwardConnection(base, 5);
    let text = '';
    bye.on('data', (c: Buffer) => {
      text += c.toString();
    });
    await new Promise<void>((r) => bye.once('end', () => r()));
    assert.equal(text, 'bye');
    const refused = await portForwardConnection(base, 9);
    refused.resume();
    const err = await new Promise<Error>((resolve) => refused.once('error', resolve));
    assert.match(err.message, /error forwarding port 9 to pod sandbox-2, uid : .*connection refused/);
  });
});
