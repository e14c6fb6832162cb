// The cluster DNS server over real sockets on loopback: Node's own resolver (c-ares) over
// UDP, with its automatic TCP retry on truncation, and raw packets over UDP and TCP for
// what a resolver API hides (rcodes, authority section, TC, FORMERR). Names outside the
// zone go to a fake upstream started here; nothing leaves the machine.
//
// Search paths are applied by the client's stub resolver, not by the server; Node's
// Resolver queries names as given (c-ares ares_query), so `web` with search
// `ns.svc.cluster.local` is exercised as the FQDN the stub would try first.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type FakeUpstream, startFakeUpstream } from '../src/dns/fake-upstream.js';
import { ClusterDNSModel } from '../src/dns/model.js';
import { type DNSServer, startDNSServer } from '../src/dns/server.js';
import { mkQuery } from '../src/dns/testing.js';
import { type DNSMessage, decodeMessage, Flag, frameTcp, Rcode, RRType, TcpFramer } from '../src/dns/wire.js';

function udpExchange(port: number, packet: Buffer, timeoutMs = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('timeout'));
    }, timeoutMs);
    s.on('message', (msg) => {
      clearTimeout(timer);
      s.close();
      resolve(msg);
    });
    s.send(packet, port, '127.0.0.1');
  });
}

function tcpExchange(port: number, packets: Buffer[]): Promise<DNSMessage[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    const framer = new TcpFramer();
    const got: DNSMessage[] = [];
    sock.on('connect', () => {
      // One write per byte for the first message: the server must reassemble the stream.
      const first = frameTcp(packets[0] as Buffer);
      for (const byte of first) sock.write(Buffer.from([byte]));
      sock.write(Buffer.concat(packets.slice(1).map(frameTcp)));
    });
    sock.on('data', (chunk) => {
      for (const m of framer.push(chunk)) got.push(decodeMessage(m));
      if (got.length === packets.length) {
        sock.destroy();
        resolve(got.sort((a, b) => a.id - b.id));
      }
    });
    sock.on('error', reject);
    setTimeout(() => {
      sock.destroy();
      reject(new Error('timeout'));
    }, 3000);
  });
}

describe('cluster DNS server on loopback', () => {
  let upstream: FakeUpstream;
  let server: DNSServer;
  let resolver: Resolver;
  const model = new ClusterDNSModel();

  before(async () => {
    upstream = await startFakeUpstream({
      'example.com 1': {
        answers: [{ name: 'example.com', class: 1, ttl: 300, data: { kind: 'A', address: '192.0.2.10' } }],
      },
      'db.example.net 1': {
        answers: [{ name: 'db.example.net', class: 1, ttl: 300, data: { kind: 'A', address: '192.0.2.20' } }],
      },
      'broken.example.com 1': { silent: true },
    });
    model.setService({
      metadata: { namespace: 'ns', name: 'web' },
      spec: {
        clusterIP: '10.43.0.20',
        ports: [
          { name: 'http', port: 80, protocol: 'TCP' },
          { name: 'dns', port: 53, protocol: 'UDP' },
        ],
      },
    });
    model.setService({
      metadata: { namespace: 'ns', name: 'v6' },
      spec: { clusterIPs: ['fd00:43::20'], ports: [{ port: 80 }] },
    });
    model.setService({
      metadata: { namespace: 'ns', name: 'db' },
      spec: { type: 'ExternalName', externalName: 'db.example.net' },
    });
    model.setService({
      metadata: { namespace: 'ns', name: 'alias' },
      spec: { type: 'ExternalName', externalName: 'web.ns.svc.cluster.local' },
    });
    model.setService({
      metadata: { namespace: 'ns', name: 'sts' },
      spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] },
    });
    model.setEndpointSlice({
      metadata: { namespace: 'ns', name: 'sts-1', labels: { 'kubernetes.io/service-name': 'sts' } },
      addressType: 'IPv4',
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
      endpoints: [
        { addresses: ['10.42.0.10'], hostname: 'sts-0', conditions: { ready: true } },
        { addresses: ['10.42.1.10'], hostname: 'sts-1', conditions: { ready: true } },
        { addresses: ['10.42.2.10'], hostname: 'sts-2', conditions: { ready: false } },
      ],
    });
    model.setService({ metadata: { namespace: 'ns', name: 'many' }, spec: { clusterIP: 'None' } });
    model.setEndpointSlice({
      metadata: { namespace: 'ns', name: 'many-1', labels: { 'kubernetes.io/service-name': 'many' } },
      addressType: 'IPv4',
      endpoints: Array.from({ length: 200 }, (_, i) => ({
        addresses: [`10.42.${i >> 8}.${(i & 0xff) + 1}`],
      })),
    });
    server = await startDNSServer({
      model,
      address: '127.0.0.1',
      port: 0,
      forwarders: [upstream.address],
      forwardTimeoutMs: 200,
    });
    resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${server.port}`]);
  });

  after(async () => {
    await server?.close();
    await upstream?.close();
  });

  it('resolves ClusterIP services to A and AAAA with the 5 s TTL', async () => {
    assert.deepEqual(await resolver.resolve4('web.ns.svc.cluster.local', { ttl: true }), [
      { address: '10.43.0.20', ttl: 5 },
    ]);
    assert.deepEqual(await resolver.resolve6('v6.ns.svc.cluster.local'), ['fd00:43::20']);
  });

  it('resolves `web` the way a pod with search ns.svc.cluster.local asks for it', async () => {
    assert.deepEqual(await resolver.resolve4('web.ns.svc.cluster.local.'), ['10.43.0.20']);
  });

  it('answers SRV for named ports', async () => {
    assert.deepEqual(await resolver.resolveSrv('_http._tcp.web.ns.svc.cluster.local'), [
      { name: 'web.ns.svc.cluster.local', port: 80, priority: 0, weight: 100 },
    ]);
    assert.deepEqual(await resolver.resolveSrv('_dns._udp.web.ns.svc.cluster.local'), [
      { name: 'web.ns.svc.cluster.local', port: 53, priority: 0, weight: 100 },
    ]);
    const sts = await resolver.resolveSrv('_pg._tcp.sts.ns.svc.cluster.local');
    assert.deepEqual(sts.map((r) => `${r.name}:${r.port}:${r.weight}`).sort(), [
      'sts-0.sts.ns.svc.cluster.local:5432:50',
      'sts-1.sts.ns.svc.cluster.local:5432:50',
    ]);
  });

  it('resolves headless services to ready endpoints and StatefulSet pods by hostname', async () => {
    assert.deepEqual((await resolver.resolve4('sts.ns.svc.cluster.local')).sort(), [
      '10.42.0.10',
      '10.42.1.10',
    ]);
    assert.deepEqual(await resolver.resolve4('sts-1.sts.ns.svc.cluster.local'), ['10.42.1.10']);
    await assert.rejects(resolver.resolve4('sts-2.sts.ns.svc.cluster.local'), { code: 'ENOTFOUND' });
  });

  it('retries a truncated UDP answer over TCP (200 endpoints)', async () => {
    const ips = await resolver.resolve4('many.ns.svc.cluster.local');
    assert.equal(ips.length, 200);
  });

  it('answers CNAME for ExternalName services, following in-zone and upstream targets', async () => {
    assert.deepEqual(await resolver.resolveCname('db.ns.svc.cluster.local'), ['db.example.net']);
    assert.deepEqual(await resolver.resolve4('db.ns.svc.cluster.local'), ['192.0.2.20']);
    assert.deepEqual(await resolver.resolve4('alias.ns.svc.cluster.local'), ['10.43.0.20']);
  });

  it('answers pod names and PTR for cluster IPs and named endpoints', async () => {
    assert.deepEqual(await resolver.resolve4('10-42-0-5.ns.pod.cluster.local'), ['10.42.0.5']);
    assert.deepEqual(await resolver.reverse('10.43.0.20'), ['web.ns.svc.cluster.local']);
    assert.deepEqual(await resolver.reverse('10.42.1.10'), ['sts-1.sts.ns.svc.cluster.local']);
    assert.deepEqual(await resolver.reverse('fd00:43::20'), ['v6.ns.svc.cluster.local']);
  });

  it('forwards other names upstream and fails with SERVFAIL when the upstream does not answer', async () => {
    assert.deepEqual(await resolver.resolve4('example.com'), ['192.0.2.10']);
    assert.ok(upstream.log.includes('udp example.com 1'));
    const r = decodeMessage(await udpExchange(server.port, mkQuery('broken.example.com', RRType.A).packet));
    assert.equal(r.rcode, Rcode.SERVFAIL);
  });

  it('reports NXDOMAIN and NODATA with the SOA', async () => {
    await assert.rejects(resolver.resolve4('nope.ns.svc.cluster.local'), { code: 'ENOTFOUND' });
    await assert.rejects(resolver.resolve6('web.ns.svc.cluster.local'), { code: 'ENODATA' });
    for (const [name, type, rcode] of [
      ['nope.ns.svc.cluster.local', RRType.A, Rcode.NXDOMAIN],
      ['web.ns.svc.cluster.local', RRType.AAAA, Rcode.NOERROR],
    ] as const) {
      const m = decodeMessage(await udpExchange(server.port, mkQuery(name, type).packet));
      assert.equal(m.rcode, rcode);
      assert.equal(m.answers.length, 0);
      assert.ok(m.flags & Flag.AA);
      const soa = m.authority[0]?.data;
      assert.equal(soa?.kind, 'SOA');
      assert.equal(m.authority[0]?.name, 'cluster.local');
      if (soa?.kind === 'SOA') {
        assert.equal(soa.mname, 'ns.dns.cluster.local');
        assert.equal(soa.minimum, 5);
      }
    }
    const soa = decodeMessage(await udpExchange(server.port, mkQuery('cluster.local', RRType.SOA).packet));
    assert.equal(soa.answers[0]?.data.kind, 'SOA');
  });

  it('sets TC on oversized UDP answers and answers FORMERR to garbage', async () => {
    const tc = decodeMessage(
      await udpExchange(server.port, mkQuery('many.ns.svc.cluster.local', RRType.A).packet),
    );
    assert.ok(tc.flags & Flag.TC);
    const junk = Buffer.from([0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1]);
    const r = await udpExchange(server.port, junk);
    assert.equal(r.readUInt16BE(0), 0xabcd);
    assert.equal(r.readUInt16BE(2) & 0xf, Rcode.FORMERR);
    // The server is still serving.
    assert.deepEqual(await resolver.resolve4('web.ns.svc.cluster.local'), ['10.43.0.20']);
  });

  it('answers pipelined queries over TCP, in full', async () => {
    const [a, b, c] = await tcpExchange(server.port, [
      mkQuery('web.ns.svc.cluster.local', RRType.A, false, 1).packet,
      mkQuery('many.ns.svc.cluster.local', RRType.A, false, 2).packet,
      mkQuery('example.com', RRType.A, false, 3).packet,
    ]);
    assert.deepEqual(
      a?.answers.map((r) => r.data),
      [{ kind: 'A', address: '10.43.0.20' }],
    );
    assert.equal(b?.answers.length, 200);
    assert.equal(b?.flags && b.flags & Flag.TC, 0);
    assert.deepEqual(
      c?.answers.map((r) => r.data),
      [{ kind: 'A', address: '192.0.2.10' }],
    );
  });

  it('serves model changes at once', async () => {
    await assert.rejects(resolver.resolve4('later.ns.svc.cluster.local'), { code: 'ENOTFOUND' });
    model.setService({
      metadata: { namespace: 'ns', name: 'later' },
      spec: { clusterIP: '10.43.0.99', ports: [{ port: 80 }] },
    });
    assert.deepEqual(await resolver.resolve4('later.ns.svc.cluster.local'), ['10.43.0.99']);
    model.deleteService({ metadata: { namespace: 'ns', name: 'later' } });
    await assert.rejects(resolver.resolve4('later.ns.svc.cluster.local'), { code: 'ENOTFOUND' });
  });
});
