import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterZone, type ZoneAnswer } from './records.js';
import { fixtureModel, fmt, NOW } from './testing.js';
import { Rcode, RRType } from './wire.js';

const SOA = `cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. ${NOW / 1000} 7200 1800 86400 5`;
const Z = 'testns.svc.cluster.local';

interface Case {
  name: string;
  type: number;
  rcode?: number;
  answers?: string[];
  extra?: string[];
  /** The SOA in the authority section (every negative answer). */
  soa?: boolean;
}

const cases: Case[] = [
  { name: `svc1.${Z}`, type: RRType.A, answers: [`svc1.${Z}. 5 IN A 10.0.0.1`] },
  { name: `svcempty.${Z}`, type: RRType.A, answers: [`svcempty.${Z}. 5 IN A 10.0.0.2`] },
  {
    name: `svc1.${Z}`,
    type: RRType.SRV,
    answers: [`svc1.${Z}. 5 IN SRV 0 100 80 svc1.${Z}.`],
    extra: [`svc1.${Z}. 5 IN A 10.0.0.1`],
  },
  {
    name: `svc6.${Z}`,
    type: RRType.SRV,
    answers: [`svc6.${Z}. 5 IN SRV 0 100 80 svc6.${Z}.`],
    extra: [`svc6.${Z}. 5 IN AAAA 1234:abcd::1`],
  },
  {
    name: `_http._tcp.svc1.${Z}`,
    type: RRType.SRV,
    answers: [`_http._tcp.svc1.${Z}. 5 IN SRV 0 100 80 svc1.${Z}.`],
    extra: [`svc1.${Z}. 5 IN A 10.0.0.1`],
  },
  { name: `_https._tcp.svc1.${Z}`, type: RRType.SRV, rcode: Rcode.NXDOMAIN, soa: true },
  { name: `_http._udp.svc1.${Z}`, type: RRType.SRV, rcode: Rcode.NXDOMAIN, soa: true },
  {
    name: `hdls1.${Z}`,
    type: RRType.A,
    answers: ['172.0.0.2', '172.0.0.3', '172.0.0.4', '172.0.0.5'].map((ip) => `hdls1.${Z}. 5 IN A ${ip}`),
  },
  {
    name: `hdls1.${Z}`,
    type: RRType.AAAA,
    answers: ['5678:abcd::1', '5678:abcd::2'].map((ip) => `hdls1.${Z}. 5 IN AAAA ${ip}`),
  },
  { name: `hdlsprtls.${Z}`, type: RRType.A, answers: [`hdlsprtls.${Z}. 5 IN A 172.0.0.20`] },
  { name: `hdlsprtls.${Z}`, type: RRType.SRV, soa: true },
  {
    name: `172-0-0-20.hdlsprtls.${Z}`,
    type: RRType.A,
    answers: [`172-0-0-20.hdlsprtls.${Z}. 5 IN A 172.0.0.20`],
  },
  { name: `172-0-0-2.hdls1.${Z}`, type: RRType.A, answers: [`172-0-0-2.hdls1.${Z}. 5 IN A 172.0.0.2`] },
  { name: `172-0-0-9.hdls1.${Z}`, type: RRType.A, rcode: Rcode.NXDOMAIN, soa: true },
  {
    name: `dup-name.hdls1.${Z}`,
    type: RRType.A,
    answers: [`dup-name.hdls1.${Z}. 5 IN A 172.0.0.4`, `dup-name.hdls1.${Z}. 5 IN A 172.0.0.5`],
  },
  {
    name: `5678-abcd--2.hdls1.${Z}`,
    type: RRType.AAAA,
    answers: [`5678-abcd--2.hdls1.${Z}. 5 IN AAAA 5678:abcd::2`],
  },
  {
    name: `_http._tcp.hdls1.${Z}`,
    type: RRType.SRV,
    answers: ['172-0-0-2', '172-0-0-3', 'dup-name', '5678-abcd--1', '5678-abcd--2'].map(
      (h) => `_http._tcp.hdls1.${Z}. 5 IN SRV 0 16 80 ${h}.hdls1.${Z}.`,
    ),
    extra: [
      `172-0-0-2.hdls1.${Z}. 5 IN A 172.0.0.2`,
      `172-0-0-3.hdls1.${Z}. 5 IN A 172.0.0.3`,
      `dup-name.hdls1.${Z}. 5 IN A 172.0.0.4`,
      `dup-name.hdls1.${Z}. 5 IN A 172.0.0.5`,
      `5678-abcd--1.hdls1.${Z}. 5 IN AAAA 5678:abcd::1`,
      `5678-abcd--2.hdls1.${Z}. 5 IN AAAA 5678:abcd::2`,
    ],
  },
  { name: `bogusendpoint.hdls1.${Z}`, type: RRType.A, rcode: Rcode.NXDOMAIN, soa: true },
  { name: `bogusendpoint.svc0.${Z}`, type: RRType.A, rcode: Rcode.NXDOMAIN, soa: true },
  { name: `pub.${Z}`, type: RRType.A, answers: [`pub.${Z}. 5 IN A 172.0.1.1`] },
  { name: `external.${Z}`, type: RRType.CNAME, answers: [`external.${Z}. 5 IN CNAME ext.interwebs.test.`] },
  { name: `external.${Z}`, type: RRType.SRV, soa: true },
  { name: `endpoint.external.${Z}`, type: RRType.CNAME, rcode: Rcode.NXDOMAIN, soa: true },
  {
    name: `external-to-service.${Z}`,
    type: RRType.A,
    answers: [`external-to-service.${Z}. 5 IN CNAME svc1.${Z}.`, `svc1.${Z}. 5 IN A 10.0.0.1`],
  },
  { name: `svc1.${Z}`, type: RRType.AAAA, soa: true },
  { name: `svc0.${Z}`, type: RRType.AAAA, rcode: Rcode.NXDOMAIN, soa: true },
  { name: 'svc0.svc-nons.svc.cluster.local', type: RRType.A, rcode: Rcode.NXDOMAIN, soa: true },
  { name: `svc6.${Z}`, type: RRType.AAAA, answers: [`svc6.${Z}. 5 IN AAAA 1234:abcd::1`] },
  { name: `svc-dual-stack.${Z}`, type: RRType.A, answers: [`svc-dual-stack.${Z}. 5 IN A 10.0.0.3`] },
  { name: `svc-dual-stack.${Z}`, type: RRType.AAAA, answers: [`svc-dual-stack.${Z}. 5 IN AAAA 10::3`] },
  {
    name: `svc-dual-stack.${Z}`,
    type: RRType.SRV,
    answers: [`svc-dual-stack.${Z}. 5 IN SRV 0 50 80 svc-dual-stack.${Z}.`],
    extra: [`svc-dual-stack.${Z}. 5 IN A 10.0.0.3`, `svc-dual-stack.${Z}. 5 IN AAAA 10::3`],
  },
  {
    name: 'dns-version.cluster.local',
    type: RRType.TXT,
    answers: ['dns-version.cluster.local. 28800 IN TXT 1.1.0'],
  },
  { name: `svc1.${Z}`, type: RRType.TXT, soa: true },
  { name: `svc0.${Z}`, type: RRType.TXT, rcode: Rcode.NXDOMAIN, soa: true },
  { name: 'svc.cluster.local', type: RRType.A, soa: true },
  { name: 'pod.cluster.local', type: RRType.A, soa: true },
  { name: Z, type: RRType.A, soa: true },
  { name: 'svc.cluster.local', type: RRType.NS, soa: true },
  { name: 'foo.cluster.local', type: RRType.NS, rcode: Rcode.NXDOMAIN, soa: true },
  { name: 'a.b.c.svc1.testns.svc.cluster.local', type: RRType.A, rcode: Rcode.NXDOMAIN, soa: true },
  { name: `svc1.${Z}`, type: RRType.SOA, soa: true },
  { name: `svc1.${Z}`, type: RRType.MX, soa: true },
  { name: 'cluster.local', type: RRType.SOA, answers: [SOA] },
  { name: 'cluster.local', type: RRType.A, soa: true },
  {
    name: 'cluster.local',
    type: RRType.NS,
    answers: ['cluster.local. 5 IN NS ns.dns.cluster.local.'],
    extra: ['ns.dns.cluster.local. 5 IN A 10.43.0.10'],
  },
  { name: 'ns.dns.cluster.local', type: RRType.A, answers: ['ns.dns.cluster.local. 5 IN A 10.43.0.10'] },
  { name: 'cluster.local', type: RRType.AXFR, rcode: Rcode.REFUSED },
  {
    name: '10-42-0-5.testns.pod.cluster.local',
    type: RRType.A,
    answers: ['10-42-0-5.testns.pod.cluster.local. 5 IN A 10.42.0.5'],
  },
  { name: '10-42-0-5.testns.pod.cluster.local', type: RRType.AAAA, soa: true },
  {
    name: 'fd00--5.testns.pod.cluster.local',
    type: RRType.AAAA,
    answers: ['fd00--5.testns.pod.cluster.local. 5 IN AAAA fd00::5'],
  },
  { name: 'notanip.testns.pod.cluster.local', type: RRType.A, rcode: Rcode.NXDOMAIN, soa: true },
  {
    name: 'web-0.web.apps.svc.cluster.local',
    type: RRType.A,
    answers: ['web-0.web.apps.svc.cluster.local. 5 IN A 10.42.0.10'],
  },
  {
    name: '_http._tcp.web.apps.svc.cluster.local',
    type: RRType.SRV,
    answers: [
      '_http._tcp.web.apps.svc.cluster.local. 5 IN SRV 0 50 8080 web-0.web.apps.svc.cluster.local.',
      '_http._tcp.web.apps.svc.cluster.local. 5 IN SRV 0 50 8080 web-1.web.apps.svc.cluster.local.',
    ],
    extra: [
      'web-0.web.apps.svc.cluster.local. 5 IN A 10.42.0.10',
      'web-1.web.apps.svc.cluster.local. 5 IN A 10.42.1.11',
    ],
  },
  {
    name: '1.0.0.10.in-addr.arpa',
    type: RRType.PTR,
    answers: [`1.0.0.10.in-addr.arpa. 5 IN PTR svc1.${Z}.`],
  },
  {
    name: '11.1.42.10.in-addr.arpa',
    type: RRType.PTR,
    answers: ['11.1.42.10.in-addr.arpa. 5 IN PTR web-1.web.apps.svc.cluster.local.'],
  },
];

function check(got: ZoneAnswer, c: Case): void {
  assert.equal(got.rcode, c.rcode ?? Rcode.NOERROR, 'rcode');
  assert.deepEqual(got.answers.map(fmt), c.answers ?? [], 'answer section');
  assert.deepEqual(got.additional.map(fmt).sort(), (c.extra ?? []).sort(), 'additional section');
  assert.deepEqual(got.authority.map(fmt), c.soa ? [SOA] : [], 'authority section');
}

describe('cluster zone (CoreDNS kubernetes plugin semantics)', () => {
  const zone = new ClusterZone({ model: fixtureModel() });
  for (const c of cases) {
    it(`${c.name} ${Object.entries(RRType).find(([, v]) => v === c.type)?.[0]}`, () => {
      const got = zone.resolve(c.name, c.type);
      assert.notEqual(got, 'forward');
      if (got !== 'forward') check(got, c);
    });
  }

  it('hands out-of-zone ExternalName targets to the caller', () => {
    const got = zone.resolve(`external.${Z}`, RRType.A);
    assert.ok(got !== 'forward');
    assert.equal(got.external?.target, 'ext.interwebs.test');
    assert.equal(got.external && fmt(got.external.cname), `external.${Z}. 5 IN CNAME ext.interwebs.test.`);
  });

  it('forwards names outside the zone and reverse names it cannot answer', () => {
    assert.equal(zone.resolve('example.com', RRType.A), 'forward');
    assert.equal(zone.resolve('9.9.9.9.in-addr.arpa', RRType.PTR), 'forward');
    assert.equal(zone.resolve('1.0.0.10.in-addr.arpa', RRType.A), 'forward');
    // An endpoint without a hostname has no PTR (CoreDNS only publishes named endpoints).
    assert.equal(zone.resolve('2.0.0.172.in-addr.arpa', RRType.PTR), 'forward');
  });

  it('answers pods only when they exist in verified mode, and not at all when disabled', () => {
    const model = fixtureModel();
    const verified = new ClusterZone({ model, podMode: 'verified' });
    const name = '10-42-0-5.testns.pod.cluster.local';
    assert.equal((verified.resolve(name, RRType.A) as ZoneAnswer).rcode, Rcode.NXDOMAIN);
    model.setPod({
      metadata: { namespace: 'testns', name: 'p' },
      spec: { containers: [] },
      status: { podIP: '10.42.0.5', podIPs: [{ ip: '10.42.0.5' }] },
    });
    assert.equal((verified.resolve(name, RRType.A) as ZoneAnswer).answers.length, 1);
    assert.equal((verified.resolve('10-42-0-5.other.pod.cluster.local', RRType.A) as ZoneAnswer).rcode, 3);
    model.deletePod({ metadata: { namespace: 'testns', name: 'p' } });
    assert.equal((verified.resolve(name, RRType.A) as ZoneAnswer).rcode, Rcode.NXDOMAIN);
    const disabled = new ClusterZone({ model, podMode: 'disabled' });
    assert.equal((disabled.resolve(name, RRType.A) as ZoneAnswer).rcode, Rcode.NXDOMAIN);
  });

  it('serves another cluster domain and TTL', () => {
    const z = new ClusterZone({ model: fixtureModel(), zone: 'corp.example.', ttl: 30 });
    const got = z.resolve('svc1.testns.svc.corp.example', RRType.A) as ZoneAnswer;
    assert.deepEqual(got.answers.map(fmt), ['svc1.testns.svc.corp.example. 30 IN A 10.0.0.1']);
    assert.equal(z.resolve('svc1.testns.svc.cluster.local', RRType.A), 'forward');
  });

  it('reports what an answer depends on', () => {
    const got = zone.resolve(`external-to-service.${Z}`, RRType.A) as ZoneAnswer;
    assert.ok(got.deps.has('svc:testns/external-to-service'));
    assert.ok(got.deps.has('svc:testns/svc1'));
  });
});
