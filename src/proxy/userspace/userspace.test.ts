import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../../client/testing/fake-clock.js';
import { makeEndpointSlice, makeService } from '../testing.js';
import { RoundRobin } from './load-balancer.js';
import { UserspaceProxier } from './proxier.js';

/** A TCP server on `host` that answers every connection with `name`. */
async function nameServer(name: string, host: string): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.end(name));
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  const a = server.address();
  assert.ok(typeof a === 'object' && a !== null);
  return { server, port: a.port };
}

function fetchName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let data = '';
    s.on('data', (d) => {
      data += d.toString();
    });
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
}

describe('RoundRobin', () => {
  it('rotates, pins ClientIP affinity until idle for the timeout, and skips failed endpoints', () => {
    const clock = new FakeClock();
    const lb = new RoundRobin({ clientIP: false, timeoutSeconds: 10 }, clock);
    lb.update(['a:1', 'b:1', 'c:1'], { clientIP: false, timeoutSeconds: 10 });
    assert.deepEqual(
      [1, 2, 3, 4].map(() => lb.next('x')),
      ['a:1', 'b:1', 'c:1', 'a:1'],
    );
    lb.update(['a:1', 'b:1', 'c:1'], { clientIP: true, timeoutSeconds: 10 });
    const first = lb.next('client');
    clock.step(9_000);
    assert.equal(lb.next('client'), first);
    clock.step(10_001);
    assert.notEqual(lb.next('client'), first);
    const pinned = lb.next('other');
    assert.ok(pinned);
    assert.notEqual(lb.next('other', new Set([pinned])), pinned);
    lb.update([], { clientIP: true, timeoutSeconds: 10 });
    assert.equal(lb.next('client'), undefined);
  });
});

describe('userspace proxier on loopback', () => {
  const backends: Array<{ server: Server; port: number }> = [];
  const proxier = new UserspaceProxier({ nodeName: 'n', listen: () => ({ host: '127.0.0.1', port: 0 }) });

  before(async () => {
    backends.push(await nameServer('a', '127.0.0.1'), await nameServer('b', '127.0.0.2'));
  });

  after(async () => {
    await proxier.stop();
    for (const b of backends) b.server.close();
  });

  it('relays TCP round robin, pins ClientIP affinity, and follows endpoint changes', async () => {
    const [a, b] = backends;
    assert.ok(a && b);
    proxier.onServiceUpsert(makeService('ns', 'web', { clusterIP: '10.43.0.10' }));
    // Backends listen on different ports, so each gets its own slice (one port per slice).
    proxier.onEndpointSliceUpsert(
      makeEndpointSlice('ns', 'web', ['127.0.0.1'], { name: 'http', port: a.port }, 'web-a'),
    );
    proxier.onEndpointSliceUpsert(
      makeEndpointSlice('ns', 'web', ['127.0.0.2'], { name: 'http', port: b.port }, 'web-b'),
    );
    await proxier.syncNow();
    const addr = proxier.address('ns/web:http');
    assert.ok(addr);
    const replies: string[] = [];
    for (let i = 0; i < 4; i++) replies.push(await fetchName(addr.port));
    assert.deepEqual(replies, ['a', 'b', 'a', 'b']);

    // An endpoint nobody listens on: the relay fails over and clients never notice.
    proxier.onEndpointSliceUpsert(
      makeEndpointSlice('ns', 'web', ['127.0.0.3'], { name: 'http', port: a.port }, 'web-c'),
    );
    await proxier.syncNow();
    for (let i = 0; i < 6; i++) assert.match(await fetchName(addr.port), /^[ab]$/);

    proxier.onEndpointSliceDelete('ns', 'web-a');
    proxier.onEndpointSliceDelete('ns', 'web-c');
    await proxier.syncNow();
    assert.equal(await fetchName(addr.port), 'b');
    assert.equal(await fetchName(addr.port), 'b');

    proxier.onServiceUpsert(
      makeService('ns', 'sticky', { clusterIP: '10.43.0.11', sessionAffinity: 'ClientIP' }),
    );
    proxier.onEndpointSliceUpsert(
      makeEndpointSlice('ns', 'sticky', ['127.0.0.1'], { name: 'http', port: a.port }, 'sticky-a'),
    );
    await proxier.syncNow();
    const sticky = proxier.address('ns/sticky:http');
    assert.ok(sticky);
    assert.deepEqual(await Promise.all([1, 2, 3].map(() => fetchName(sticky.port))), ['a', 'a', 'a']);

    proxier.onServiceDelete('ns', 'sticky');
    await proxier.syncNow();
    assert.equal(proxier.address('ns/sticky:http'), undefined);
  });

  it('resets TCP clients of a service without endpoints', async () => {
    proxier.onServiceUpsert(makeService('ns', 'empty', { clusterIP: '10.43.0.12' }));
    await proxier.syncNow();
    const addr = proxier.address('ns/empty:http');
    assert.ok(addr);
    await assert.rejects(fetchName(addr.port), /ECONNRESET/);
  });

  it('relays UDP both ways, one session per client', async () => {
    const echo = createSocket('udp4');
    echo.on('message', (m, r) => echo.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
    await new Promise<void>((r) => echo.bind(0, '127.0.0.1', () => r()));
    try {
      proxier.onServiceUpsert(
        makeService('ns', 'dns', {
          clusterIP: '10.43.0.13',
          ports: [{ name: 'dns', port: 53, protocol: 'UDP' }],
        }),
      );
      proxier.onEndpointSliceUpsert(
        makeEndpointSlice('ns', 'dns', ['127.0.0.1'], {
          name: 'dns',
          port: echo.address().port,
          protocol: 'UDP',
        }),
      );
      await proxier.syncNow();
      const addr = proxier.address('ns/dns:dns');
      assert.ok(addr);
      const client = createSocket('udp4');
      try {
        const got: string[] = [];
        const done = new Promise<void>((resolve) =>
          client.on('message', (m) => {
            got.push(m.toString());
            if (got.length === 3) resolve();
          }),
        );
        for (const q of ['q1', 'q2', 'q3']) client.send(q, addr.port, '127.0.0.1');
        await done;
        assert.deepEqual(got.sort(), ['echo:q1', 'echo:q2', 'echo:q3']);
      } finally {
        client.close();
      }
    } finally {
      echo.close();
    }
  });
});
