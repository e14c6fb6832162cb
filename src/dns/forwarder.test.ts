import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';
import { Forwarder, hostUpstreams, parseUpstream } from './forwarder.js';
import { mkQuery } from './testing.js';
import { decodeMessage, Flag, Rcode, RRType } from './wire.js';

const a = (name: string, address: string, ttl = 60) => ({
  name,
  class: 1,
  ttl,
  data: { kind: 'A' as const, address },
});
const soa = {
  name: 'example.com',
  class: 1,
  ttl: 3600,
  data: {
    kind: 'SOA' as const,
    mname: 'ns.example.com',
    rname: 'h.example.com',
    serial: 1,
    refresh: 1,
    retry: 1,
    expire: 1,
    minimum: 20,
  },
};

describe('dns forwarder', () => {
  let up: FakeUpstream;
  let silent: FakeUpstream;
  let now = 1_000_000;
  let fwd: Forwarder;

  before(async () => {
    up = await startFakeUpstream({
      'example.com 1': { answers: [a('example.com', '192.0.2.1')] },
      'big.example.com 1': {
        truncateUdp: true,
        answers: Array.from({ length: 60 }, (_, i) => a('big.example.com', `192.0.2.${i + 1}`)),
      },
      'missing.example.com 1': { rcode: Rcode.NXDOMAIN, authority: [soa] },
    });
    silent = await startFakeUpstream({ 'example.com 1': { silent: true } });
    fwd = new Forwarder({ upstreams: [up.address], now: () => now, timeoutMs: 500 });
  });
  after(async () => {
    fwd.close();
    await up.close();
    await silent.close();
  });

  it('forwards, caches for the record TTL (capped) and counts TTLs down', async () => {
    const { packet, q } = mkQuery('example.com', RRType.A, false, 77);
    const first = decodeMessage(await fwd.forward(packet, q, 512));
    assert.equal(first.id, 77);
    assert.deepEqual(
      first.answers.map((r) => [r.ttl, r.data]),
      [[60, { kind: 'A', address: '192.0.2.1' }]],
    );
    now += 3000;
    const second = decodeMessage(await fwd.forward(packet, q, 512));
    assert.equal(second.answers[0]?.ttl, 57);
    assert.equal(up.log.filter((l) => l.endsWith('example.com 1') && !l.includes('big')).length, 1);
    now += 30_000; // past the 30 s cap
    await fwd.forward(packet, q, 512);
    assert.equal(up.log.filter((l) => l === 'udp example.com 1').length, 2);
  });

  it("keeps the client's spelling of the name", async () => {
    const { packet, q } = mkQuery('ExAmPle.COM', RRType.A);
    const resp = decodeMessage(await fwd.forward(packet, q, 512));
    assert.equal(resp.questions[0]?.name, 'ExAmPle.COM');
  });

  it('retries over TCP when the UDP answer is truncated, and truncates for a small client', async () => {
    const { packet, q } = mkQuery('big.example.com', RRType.A, true);
    const resp = await fwd.forward(packet, q, 65535);
    assert.equal(decodeMessage(resp).answers.length, 60);
    assert.deepEqual(
      up.log.filter((l) => l.includes('big')),
      ['udp big.example.com 1', 'tcp big.example.com 1'],
    );
    const small = await fwd.forward(packet, q, 512);
    const m = decodeMessage(small);
    assert.ok(m.flags & Flag.TC);
    assert.equal(m.answers.length, 0);
    assert.ok(m.edns);
  });

  it('caches negative answers for the SOA minimum', async () => {
    const { packet, q } = mkQuery('missing.example.com', RRType.A);
    const r1 = decodeMessage(await fwd.forward(packet, q, 512));
    assert.equal(r1.rcode, Rcode.NXDOMAIN);
    now += 10_000;
    await fwd.forward(packet, q, 512);
    assert.equal(up.log.filter((l) => l.includes('missing')).length, 1);
    now += 11_000;
    await fwd.forward(packet, q, 512);
    assert.equal(up.log.filter((l) => l.includes('missing')).length, 2);
  });

  it('tries the next upstream, and answers SERVFAIL when none replies', async () => {
    const two = new Forwarder({ upstreams: [silent.address, up.address], timeoutMs: 100 });
    const { packet, q } = mkQuery('example.com', RRType.A);
    assert.equal(decodeMessage(await two.forward(packet, q, 512)).answers.length, 1);
    two.close();
    const none = new Forwarder({ upstreams: [silent.address], timeoutMs: 100 });
    const failed = decodeMessage(await none.forward(packet, q, 512));
    assert.equal(failed.rcode, Rcode.SERVFAIL);
    assert.equal(failed.id, 0x1234);
    none.close();
  });

  it('shares one upstream exchange between identical queries in flight', async () => {
    up.set('shared.example.com', RRType.A, { answers: [a('shared.example.com', '192.0.2.9')] });
    const { packet, q } = mkQuery('shared.example.com', RRType.A);
    await Promise.all([
      fwd.forward(packet, q, 512),
      fwd.forward(packet, q, 512),
      fwd.forward(packet, q, 512),
    ]);
    assert.equal(up.log.filter((l) => l.includes('shared')).length, 1);
  });

  it('looks names up for ExternalName targets', async () => {
    const m = await fwd.lookup('example.com', RRType.A);
    assert.deepEqual(
      m?.answers.map((r) => r.data),
      [{ kind: 'A', address: '192.0.2.1' }],
    );
  });
});

describe('dns upstream configuration', () => {
  it('parses upstream addresses', () => {
    assert.deepEqual(parseUpstream('10.0.0.1'), { host: '10.0.0.1', port: 53 });
    assert.deepEqual(parseUpstream('10.0.0.1:5353'), { host: '10.0.0.1', port: 5353 });
    assert.deepEqual(parseUpstream('[FD00::1]:54'), { host: 'fd00::1', port: 54 });
    assert.deepEqual(parseUpstream('fe80::1%eth0'), { host: 'fe80::1', port: 53 });
    assert.throws(() => parseUpstream('dns.google'));
  });

  it("reads the host's resolvers, skipping loopback stubs", () => {
    const dir = mkdtempSync(join(tmpdir(), 'kts-dns-'));
    try {
      const main = join(dir, 'resolv.conf');
      const real = join(dir, 'real.conf');
      writeFileSync(main, '# generated\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n');
      writeFileSync(real, 'nameserver 192.0.2.53\nnameserver 2001:db8::53\n');
      assert.deepEqual(hostUpstreams({ resolvConf: main, fallbackResolvConf: real }), [
        '192.0.2.53',
        '2001:db8::53',
      ]);
      writeFileSync(main, 'nameserver 127.0.0.1\nnameserver 198.51.100.1\n');
      assert.deepEqual(hostUpstreams({ resolvConf: main, fallbackResolvConf: real }), ['198.51.100.1']);
      assert.deepEqual(hostUpstreams({ resolvConf: main, skip: (ip) => ip === '198.51.100.1' }), [
        '127.0.0.1',
      ]);
      assert.deepEqual(
        hostUpstreams({ resolvConf: join(dir, 'none'), fallbackResolvConf: join(dir, 'none') }),
        [],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
