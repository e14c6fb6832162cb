import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressFromDashed, addressFromReverse, canonicalIP, reverseName } from './ip.js';
import {
  type DNSMessage,
  decodeMessage,
  encodeMessage,
  Flag,
  frameTcp,
  MessageWriter,
  nameLabels,
  parseQuery,
  readName,
  TcpFramer,
  WireError,
} from './wire.js';

const full: DNSMessage = {
  id: 0xbeef,
  flags: Flag.QR | Flag.AA | Flag.RD,
  opcode: 0,
  rcode: 3,
  questions: [{ name: 'web.ns.svc.cluster.local', type: 1, class: 1 }],
  answers: [
    { name: 'web.ns.svc.cluster.local', class: 1, ttl: 5, data: { kind: 'A', address: '10.43.0.1' } },
    { name: 'web.ns.svc.cluster.local', class: 1, ttl: 5, data: { kind: 'AAAA', address: 'fd00::1' } },
    {
      name: 'x.ns.svc.cluster.local',
      class: 1,
      ttl: 5,
      data: { kind: 'CNAME', target: 'web.ns.svc.cluster.local' },
    },
    {
      name: '_http._tcp.web.ns.svc.cluster.local',
      class: 1,
      ttl: 5,
      data: { kind: 'SRV', priority: 0, weight: 100, port: 80, target: 'web.ns.svc.cluster.local' },
    },
    { name: 'dns-version.cluster.local', class: 1, ttl: 28800, data: { kind: 'TXT', texts: ['1.1.0', ''] } },
    {
      name: '1.0.43.10.in-addr.arpa',
      class: 1,
      ttl: 5,
      data: { kind: 'PTR', target: 'web.ns.svc.cluster.local' },
    },
    { name: 'odd', class: 1, ttl: 1, data: { kind: 'raw', type: 99, bytes: new Uint8Array([1, 2, 3]) } },
  ],
  authority: [
    {
      name: 'cluster.local',
      class: 1,
      ttl: 5,
      data: {
        kind: 'SOA',
        mname: 'ns.dns.cluster.local',
        rname: 'hostmaster.cluster.local',
        serial: 1700000000,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: 5,
      },
    },
  ],
  additional: [
    { name: 'ns.dns.cluster.local', class: 1, ttl: 5, data: { kind: 'NS', target: 'cluster.local' } },
  ],
  edns: {
    udpSize: 1232,
    extendedRcode: 0,
    version: 0,
    dnssecOk: true,
    options: [{ code: 10, data: new Uint8Array(8) }],
  },
};

describe('dns wire format', () => {
  it('round-trips every record kind, EDNS included', () => {
    const got = decodeMessage(encodeMessage(full));
    assert.deepEqual(got, full);
  });

  it('compresses repeated names', () => {
    const buf = encodeMessage(full);
    // Spelled out once in the question and once in the SRV target (never compressed).
    let spelled = 0;
    for (let at = buf.indexOf('cluster'); at >= 0; at = buf.indexOf('cluster', at + 1)) spelled++;
    assert.equal(spelled, 2);
    // The first answer's owner is a pointer to the question at offset 12.
    const qEnd = readName(buf, 12).end + 4;
    assert.equal(buf.readUInt16BE(qEnd), 0xc00c);
  });

  it('carries the extended rcode in OPT', () => {
    const m: DNSMessage = { ...full, rcode: 16, answers: [], authority: [], additional: [] };
    const buf = encodeMessage(m);
    assert.equal(buf.readUInt16BE(2) & 0xf, 0);
    assert.equal(decodeMessage(buf).rcode, 16);
  });

  it('escapes dots inside labels', () => {
    const w = new MessageWriter();
    w.name('a\\.b.c');
    const buf = w.finish();
    assert.deepEqual([...buf], [3, 97, 46, 98, 1, 99, 0]);
    assert.equal(readName(buf, 0).name, 'a\\.b.c');
    assert.deepEqual(nameLabels('a\\.b.c.'), ['a.b', 'c']);
  });

  const malformed: [string, number[]][] = [
    ['pointer loop', [0xc0, 0x00]],
    ['forward pointer', [0xc0, 0x05, 0, 0, 0, 1, 97, 0]],
    ['label past end', [5, 97, 98]],
    ['reserved label type', [0x80, 0]],
  ];
  for (const [what, bytes] of malformed) {
    it(`rejects a name with a ${what}`, () => {
      assert.throws(() => readName(Buffer.from(bytes), 0), WireError);
    });
  }

  it('rejects truncated messages with WireError only', () => {
    const buf = encodeMessage(full);
    for (let n = 0; n < buf.length; n += 7) {
      assert.throws(() => decodeMessage(buf.subarray(0, n)), WireError, `cut at ${n}`);
    }
  });

  it('parses a query on the fast path, lowercasing the name', () => {
    const q = encodeMessage({
      id: 7,
      flags: Flag.RD,
      opcode: 0,
      rcode: 0,
      questions: [{ name: 'Web.NS.svc.Cluster.Local', type: 28, class: 1 }],
      answers: [],
      authority: [],
      additional: [],
      edns: { udpSize: 4096, extendedRcode: 0, version: 0, dnssecOk: false, options: [] },
    });
    const p = parseQuery(q);
    assert.ok(!(p instanceof WireError));
    assert.equal(p.name, 'web.ns.svc.cluster.local');
    assert.equal(p.plain, true);
    assert.equal(p.type, 28);
    assert.equal(p.questionEnd, 12 + 26 + 4);
    assert.deepEqual(p.edns, { udpSize: 4096, version: 0, dnssecOk: false });
    assert.ok(parseQuery(q.subarray(0, 20)) instanceof WireError);
  });

  it('frames and reassembles TCP messages split anywhere', () => {
    const a = frameTcp(Buffer.from('hello'));
    const b = frameTcp(Buffer.from('world!'));
    const stream = Buffer.concat([a, b]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const f = new TcpFramer();
      const got = [...f.push(stream.subarray(0, cut)), ...f.push(stream.subarray(cut))].map(String);
      assert.deepEqual(got, ['hello', 'world!']);
      assert.equal(f.buffered, 0);
    }
  });
});

describe('dns ip helpers', () => {
  const cases: [string, string | null, string | null][] = [
    ['10.43.0.1', '10.43.0.1', '1.0.43.10.in-addr.arpa'],
    ['FD00:0:0::1', 'fd00::1', `1.0.0.0.${'0.'.repeat(24)}0.0.d.f.ip6.arpa`],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1', null],
    ['::ffff:10.0.0.1', '::ffff:a00:1', null],
    ['300.1.1.1', null, null],
    ['1::2::3', null, null],
  ];
  for (const [input, canonical, rev] of cases) {
    it(`canonicalizes ${input}`, () => {
      assert.equal(canonicalIP(input), canonical);
      if (rev) {
        assert.equal(reverseName(input), rev);
        assert.equal(addressFromReverse(rev), canonical);
      }
    });
  }

  it('reads dashed pod labels as CoreDNS does', () => {
    assert.equal(addressFromDashed('10-42-0-5'), '10.42.0.5');
    assert.equal(addressFromDashed('fd00--1'), 'fd00::1');
    assert.equal(addressFromDashed('web'), null);
    assert.equal(addressFromReverse('10.in-addr.arpa'), null);
  });
});
