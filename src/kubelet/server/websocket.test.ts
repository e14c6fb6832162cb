import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duplex } from 'node:stream';
import { encodeFrame, FrameDecoder } from '../runtime/cri/websocket-client.js';
import { exitStatus } from './remote-command.js';
import {
  acceptKey,
  acceptWebSocket,
  encodeServerFrame,
  offeredProtocols,
  type WebSocket,
} from './websocket.js';

/** A socket whose written bytes are collected and whose input is pushed by the test. */
class FakeSocket extends Duplex {
  written: Buffer[] = [];
  ended = false;
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.written.push(chunk);
    cb();
  }
  override _final(cb: () => void): void {
    this.ended = true;
    cb();
  }
  frames(): { fin: boolean; opcode: number; payload: Buffer }[] {
    const all = Buffer.concat(this.written);
    const body = all.subarray(all.indexOf('\r\n\r\n') + 4);
    return new FrameDecoder().push(Buffer.from(body));
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

const HANDSHAKE = {
  upgrade: 'websocket',
  connection: 'Upgrade',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-version': '13',
  'sec-websocket-protocol': 'v5.channel.k8s.io, v4.channel.k8s.io',
};

function open(): { sock: FakeSocket; ws: WebSocket; protocol: string } {
  const sock = new FakeSocket();
  const r = acceptWebSocket(HANDSHAKE, sock, Buffer.alloc(0), ['v4.channel.k8s.io', 'v5.channel.k8s.io']);
  assert.ok('ws' in r);
  return { sock, ws: r.ws, protocol: r.protocol };
}

describe('server WebSocket', () => {
  it('computes the RFC 6455 accept key', () => {
    assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('chooses the first offered protocol it supports and answers 101', () => {
    const { sock, protocol } = open();
    assert.equal(protocol, 'v5.channel.k8s.io');
    const head = Buffer.concat(sock.written).toString();
    assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(head, /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
    assert.match(head, /Sec-WebSocket-Protocol: v5\.channel\.k8s\.io\r\n/);
    assert.deepEqual(offeredProtocols({ 'sec-websocket-protocol': 'a, b,c' }), ['a', 'b', 'c']);
  });

  it('refuses handshakes without a supported protocol or key', () => {
    const sock = new FakeSocket();
    const r = acceptWebSocket({ ...HANDSHAKE, 'sec-websocket-protocol': 'x' }, sock, Buffer.alloc(0), ['y']);
    assert.ok(!('ws' in r) && r.code === 400);
    const r2 = acceptWebSocket({ upgrade: 'websocket' }, sock, Buffer.alloc(0), ['y']);
    assert.ok(!('ws' in r2) && r2.code === 400);
  });

  it('encodes every payload length form', () => {
    for (const n of [0, 125, 126, 65535, 65536]) {
      const [f] = new FrameDecoder().push(encodeServerFrame(2, Buffer.alloc(n, 7)));
      assert.equal(f?.payload.length, n);
      assert.equal(f?.opcode, 2);
    }
  });

  it('reassembles fragmented masked messages, answers pings and closes', async () => {
    const { sock, ws } = open();
    const got: Buffer[] = [];
    ws.on('message', (m: Buffer) => got.push(m));
    const first = encodeFrame(2, Buffer.from([0, 0x61]));
    first[0] = (first[0] ?? 0) & 0x7f; // not final
    sock.push(Buffer.concat([first, encodeFrame(9, Buffer.from('p')), encodeFrame(0, Buffer.from('bc'))]));
    await tick();
    assert.deepEqual(got, [Buffer.from([0, 0x61, 0x62, 0x63])]);
    ws.send(Buffer.from([1, 0x68]));
    ws.close(1000);
    const frames = sock.frames();
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.payload.toString('hex')]),
      [
        [0xa, Buffer.from('p').toString('hex')],
        [2, '0168'],
        [8, '03e8'],
      ],
    );
    assert.equal(ws.open, false);
  });

  it('answers the close handshake', async () => {
    const { sock, ws } = open();
    let closed = false;
    ws.on('close', () => {
      closed = true;
    });
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(1000);
    sock.push(encodeFrame(8, payload));
    await tick();
    assert.ok(closed);
    assert.deepEqual(sock.frames().at(-1)?.opcode, 8);
  });
});

describe('exec status', () => {
  it('has upstream shapes for success and non-zero exit codes', () => {
    assert.equal(JSON.stringify(exitStatus(0, ['true'])), '{"metadata":{},"status":"Success"}');
    assert.deepEqual(exitStatus(3, ['sh', '-c', 'exit 3']), {
      metadata: {},
      status: 'Failure',
      message:
        'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });
});
