import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Http2Server, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  frameMessage,
  GrpcCallError,
  GrpcStatus,
  grpcStatusName,
  grpcTimeout,
  UnaryChannel,
  unaryMessage,
} from './grpc-unary.js';

/** What the fake server does with a request body, by path. */
type Handler = (stream: ServerHttp2Stream, body: Buffer, headers: Record<string, unknown>) => void;

const handlers: Record<string, Handler> = {
  // Echoes the request, split into three DATA writes.
  '/t.S/Echo': (s, body) => {
    s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': '0' }));
    s.write(body.subarray(0, 2));
    s.write(body.subarray(2, 6));
    s.end(body.subarray(6));
  },
  '/t.S/Timeout': (s, _b, h) => {
    s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': '0' }));
    s.end(frameMessage(Buffer.from(String(h['grpc-timeout']))));
  },
  '/t.S/NotFound': (s) => {
    s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    s.on('wantTrailers', () =>
      s.sendTrailers({ 'grpc-status': '5', 'grpc-message': 'sandbox %22x%22 not found' }),
    );
    s.end();
  },
  // A trailers-only response: the status rides on the only HEADERS frame.
  '/t.S/Unimplemented': (s) => {
    s.respond(
      { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'no' },
      { endStream: true },
    );
  },
  '/t.S/Empty': (s) => {
    s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': '0' }));
    s.end();
  },
  '/t.S/Http503': (s) => {
    s.respond({ ':status': 503 }, { endStream: true });
  },
  '/t.S/Hang': () => {},
  '/t.S/Big': (s) => {
    s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': '0' }));
    s.end(frameMessage(Buffer.alloc(4096, 1)));
  },
};

let dir = '';
let socket = '';
/** Server sessions, destroyed when the server stops so a client's idle session cannot hold it. */
const sessions = new Set<ServerHttp2Session>();

function serve(): Promise<Http2Server> {
  const server = createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const h = handlers[String(headers[':path'])];
      if (h === undefined) stream.respond({ ':status': 404 }, { endStream: true });
      else h(stream, Buffer.concat(chunks), headers);
    });
  });
  return new Promise((resolve) => server.listen(socket, () => resolve(server)));
}

function close(server: Http2Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    for (const s of sessions) s.destroy();
  });
}

async function rejectsWith(p: Promise<unknown>, code: number, details?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof GrpcCallError, String(e));
    assert.equal(grpcStatusName(e.code), grpcStatusName(code), e.message);
    if (details !== undefined) assert.match(e.details, details);
    return true;
  });
}

describe('UnaryChannel', () => {
  let server: Http2Server;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kts-grpc-unary-'));
    socket = join(dir, 'grpc.sock');
    server = await serve();
    server.on('session', (s) => sessions.add(s));
  });
  after(async () => {
    await close(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('frames the request and reassembles a response written in pieces', async () => {
    const ch = new UnaryChannel(socket);
    const out = await ch.call('/t.S/Echo', Buffer.from('hello grpc'), 5000);
    assert.equal(out.toString(), 'hello grpc');
    // Calls share the session and may run side by side.
    const many = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ch.call('/t.S/Echo', Buffer.from(`m${i}`), 5000)),
    );
    assert.deepEqual(
      many.map((b) => b.toString()),
      Array.from({ length: 20 }, (_, i) => `m${i}`),
    );
    ch.close();
  });

  it('sends the deadline as grpc-timeout', async () => {
    const ch = new UnaryChannel(socket);
    assert.equal((await ch.call('/t.S/Timeout', Buffer.alloc(0), 2500)).toString(), '2500m');
    ch.close();
  });

  it('turns statuses into errors: trailers, trailers-only, HTTP, none', async () => {
    const ch = new UnaryChannel(socket);
    await rejectsWith(
      ch.call('/t.S/NotFound', Buffer.alloc(0), 5000),
      GrpcStatus.NOT_FOUND,
      /^sandbox "x" not found$/,
    );
    await rejectsWith(ch.call('/t.S/Unimplemented', Buffer.alloc(0), 5000), GrpcStatus.UNIMPLEMENTED, /^no$/);
    await rejectsWith(ch.call('/t.S/Http503', Buffer.alloc(0), 5000), GrpcStatus.UNAVAILABLE, /503/);
    await rejectsWith(ch.call('/t.S/Missing', Buffer.alloc(0), 5000), GrpcStatus.UNIMPLEMENTED, /404/);
    await rejectsWith(ch.call('/t.S/Empty', Buffer.alloc(0), 5000), GrpcStatus.UNIMPLEMENTED, /No message/);
    ch.close();
  });

  it('gives up at the deadline, and the session still serves other calls', async () => {
    const ch = new UnaryChannel(socket);
    const t0 = Date.now();
    await rejectsWith(ch.call('/t.S/Hang', Buffer.alloc(0), 150), GrpcStatus.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - t0 < 2000);
    assert.equal((await ch.call('/t.S/Echo', Buffer.from('after'), 5000)).toString(), 'after');
    ch.close();
  });

  it('refuses a response larger than the limit', async () => {
    const ch = new UnaryChannel(socket, { maxReceiveBytes: 1024 });
    await rejectsWith(ch.call('/t.S/Big', Buffer.alloc(0), 5000), GrpcStatus.RESOURCE_EXHAUSTED);
    ch.close();
  });

  it('is UNAVAILABLE without a server and reconnects once there is one again', async () => {
    const ch = new UnaryChannel(socket);
    assert.equal((await ch.call('/t.S/Echo', Buffer.from('one'), 5000)).toString(), 'one');
    await close(server);
    await rejectsWith(ch.call('/t.S/Echo', Buffer.from('two'), 5000), GrpcStatus.UNAVAILABLE);
    server = await serve();
    server.on('session', (s) => sessions.add(s));
    assert.equal((await ch.call('/t.S/Echo', Buffer.from('three'), 5000)).toString(), 'three');
    ch.close();
    await rejectsWith(ch.call('/t.S/Echo', Buffer.from('four'), 5000), GrpcStatus.UNAVAILABLE, /closed/);
  });

  it('is UNAVAILABLE for a socket that does not exist', async () => {
    const ch = new UnaryChannel(join(dir, 'absent.sock'));
    await rejectsWith(ch.call('/t.S/Echo', Buffer.alloc(0), 5000), GrpcStatus.UNAVAILABLE, /ENOENT/);
    ch.close();
  });
});

describe('gRPC framing helpers', () => {
  it('formats grpc-timeout within 8 digits', () => {
    for (const [ms, want] of [
      [0, '0m'],
      [1500, '1500m'],
      [99_999_999, '99999999m'],
      [100_000_000, '100000S'],
      [1e14, '27777778H'],
    ] as const)
      assert.equal(grpcTimeout(ms), want);
  });

  it('reads exactly one uncompressed message', () => {
    assert.deepEqual(unaryMessage(frameMessage(Buffer.from('ab'))), Buffer.from('ab'));
    assert.deepEqual(unaryMessage(frameMessage(Buffer.alloc(0))), Buffer.alloc(0));
    const cases: [Buffer, RegExp][] = [
      [Buffer.alloc(0), /No message/],
      [Buffer.from([1, 0, 0, 0, 0]), /compressed/],
      [Buffer.from([0, 0, 0, 0, 3, 1]), /truncated/],
      [Buffer.concat([frameMessage(Buffer.from('a')), frameMessage(Buffer.from('b'))]), /Too many/],
    ];
    for (const [body, re] of cases) assert.throws(() => unaryMessage(body), re);
  });
});
