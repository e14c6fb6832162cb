import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QueryHandler } from './handler.js';
import { ClusterDNSModel } from './model.js';
import { ClusterZone } from './records.js';
import { fixtureModel, mkQuery } from './testing.js';
import { decodeMessage, encodeMessage, Flag, Rcode, RRType } from './wire.js';

function handlerFor(model: ClusterDNSModel = fixtureModel()): QueryHandler {
  return new QueryHandler({ zone: new ClusterZone({ model }) });
}

function ask(h: QueryHandler, packet: Buffer, transport: 'udp' | 'tcp' = 'udp'): Buffer | null {
  const r = h.handle(packet, transport);
  assert.ok(!(r instanceof Promise), 'zone answers are synchronous');
  return r;
}

function header(id: number, flags: number, counts: number[]): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(flags, 2);
  for (const [i, c] of counts.entries()) b.writeUInt16BE(c, 4 + i * 2);
  return b;
}

describe('dns query handler', () => {
  it('replays a cached answer with the client id, flags and spelling', () => {
    const h = handlerFor();
    for (const [id, name] of [
      [1, 'svc1.testns.svc.cluster.local'],
      [2, 'SVC1.TestNS.svc.CLUSTER.local'],
    ] as const) {
      const { packet } = mkQuery(name, RRType.A, false, id);
      const m = decodeMessage(ask(h, packet) as Buffer);
      assert.equal(m.id, id);
      assert.ok(m.flags & Flag.QR && m.flags & Flag.AA && m.flags & Flag.RD);
      assert.equal(m.questions[0]?.name, name);
      assert.equal(m.answers[0]?.name, name, 'owner names point at the question');
      assert.deepEqual(m.answers[0]?.data, { kind: 'A', address: '10.0.0.1' });
      assert.equal(m.edns, undefined);
    }
    assert.equal(h.cachedAnswers, 1);
  });

  it('echoes EDNS and the DO bit', () => {
    const h = handlerFor();
    const { packet } = mkQuery('svc1.testns.svc.cluster.local', RRType.A, true);
    const m = decodeMessage(ask(h, packet) as Buffer);
    assert.equal(m.edns?.udpSize, 1232);
    assert.equal(m.answers.length, 1);
  });

  it('drops cached answers when the model changes', () => {
    const model = fixtureModel();
    const h = handlerFor(model);
    const { packet } = mkQuery('new.testns.svc.cluster.local', RRType.A);
    assert.equal(decodeMessage(ask(h, packet) as Buffer).rcode, Rcode.NXDOMAIN);
    model.setService({
      metadata: { namespace: 'testns', name: 'new' },
      spec: { clusterIP: '10.0.9.9', ports: [{ port: 1 }] },
    });
    assert.deepEqual(decodeMessage(ask(h, packet) as Buffer).answers[0]?.data, {
      kind: 'A',
      address: '10.0.9.9',
    });
    model.setEndpointSlice({
      metadata: { namespace: 'testns', name: 'x', labels: { 'kubernetes.io/service-name': 'hdls1' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['172.0.0.77'] }],
    });
    const hd = mkQuery('hdls1.testns.svc.cluster.local', RRType.A).packet;
    const before = decodeMessage(ask(h, hd) as Buffer).answers.length;
    model.deleteEndpointSlice({ metadata: { namespace: 'testns', name: 'x' } });
    assert.equal(decodeMessage(ask(h, hd) as Buffer).answers.length, before - 1);
    model.deleteService({ metadata: { namespace: 'testns', name: 'new' } });
    assert.equal(decodeMessage(ask(h, packet) as Buffer).rcode, Rcode.NXDOMAIN);
  });

  it('truncates oversized UDP answers at a record boundary with TC, and not over TCP', () => {
    const model = new ClusterDNSModel();
    model.setService({ metadata: { namespace: 'ns', name: 'big' }, spec: { clusterIP: 'None' } });
    model.setEndpointSlice({
      metadata: { namespace: 'ns', name: 'big-1', labels: { 'kubernetes.io/service-name': 'big' } },
      addressType: 'IPv4',
      endpoints: Array.from({ length: 100 }, (_, i) => ({ addresses: [`10.42.0.${i + 1}`] })),
    });
    const h = handlerFor(model);
    const { packet } = mkQuery('big.ns.svc.cluster.local', RRType.A);
    const udp = ask(h, packet) as Buffer;
    assert.ok(udp.length <= 512);
    const m = decodeMessage(udp);
    assert.ok(m.flags & Flag.TC);
    assert.equal(m.answers.length, Math.floor((512 - 12 - 30) / 16));
    const withEdns = decodeMessage(
      ask(h, mkQuery('big.ns.svc.cluster.local', RRType.A, true).packet) as Buffer,
    );
    assert.ok(withEdns.flags & Flag.TC && withEdns.edns);
    const tcp = decodeMessage(ask(h, packet, 'tcp') as Buffer);
    assert.equal(tcp.flags & Flag.TC, 0);
    assert.equal(tcp.answers.length, 100);
  });

  it('answers or drops malformed packets without throwing', () => {
    const h = handlerFor();
    const good = mkQuery('svc1.testns.svc.cluster.local', RRType.A, false, 9).packet;
    const formerr = (b: Buffer): void => {
      const r = ask(h, b) as Buffer;
      assert.equal(r.length, 12);
      assert.equal(r.readUInt16BE(0), b.readUInt16BE(0));
      assert.equal(r.readUInt16BE(2) & 0xf, Rcode.FORMERR);
    };
    assert.equal(ask(h, Buffer.from([1, 2, 3])), null);
    assert.equal(ask(h, header(5, Flag.QR, [1, 0, 0, 0])), null);
    formerr(header(5, 0, [0, 0, 0, 0]));
    formerr(header(5, 0, [2, 0, 0, 0]));
    formerr(Buffer.concat([header(5, 0, [1, 0, 0, 0]), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]));
    formerr(Buffer.concat([header(5, 0, [1, 0, 0, 0]), Buffer.from([5, 97, 98])]));
    formerr(good.subarray(0, good.length - 2));
    const withAnswer = Buffer.from(good);
    withAnswer.writeUInt16BE(1, 6);
    formerr(withAnswer);
    const badOpt = Buffer.concat([good, Buffer.from([0, 0, 41, 4, 0])]);
    badOpt.writeUInt16BE(1, 10);
    formerr(badOpt);
    for (let i = 0; i < 300; i++) {
      const junk = Buffer.from(good);
      junk[12 + (i % (junk.length - 12))] = (i * 37) & 0xff;
      h.handle(junk, 'udp');
    }
    const notify = Buffer.from(good);
    notify.writeUInt16BE(2 << 11, 2);
    assert.equal((ask(h, notify) as Buffer).readUInt16BE(2) & 0xf, Rcode.NOTIMP);
  });

  it('answers SERVFAIL, not an exception, for model data that cannot be encoded', () => {
    const model = fixtureModel();
    const long = Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.');
    model.setService({
      metadata: { namespace: 'testns', name: 'bad' },
      spec: { type: 'ExternalName', externalName: long },
    });
    const r = decodeMessage(
      ask(handlerFor(model), mkQuery('bad.testns.svc.cluster.local', RRType.CNAME).packet) as Buffer,
    );
    assert.equal(r.rcode, Rcode.SERVFAIL);
  });

  it('answers BADVERS to EDNS versions it does not speak', () => {
    const h = handlerFor();
    const packet = encodeMessage({
      id: 3,
      flags: 0,
      opcode: 0,
      rcode: 0,
      questions: [{ name: 'svc1.testns.svc.cluster.local', type: 1, class: 1 }],
      answers: [],
      authority: [],
      additional: [],
      edns: { udpSize: 1232, extendedRcode: 0, version: 1, dnssecOk: false, options: [] },
    });
    assert.equal(decodeMessage(ask(h, packet) as Buffer).rcode, Rcode.BADVERS);
  });

  it('refuses other classes in the zone and fails names it cannot forward', () => {
    const h = handlerFor();
    const chaos = Buffer.from(mkQuery('svc1.testns.svc.cluster.local', RRType.TXT).packet);
    chaos.writeUInt16BE(3, chaos.length - 2);
    assert.equal(decodeMessage(ask(h, chaos) as Buffer).rcode, Rcode.REFUSED);
    const out = decodeMessage(ask(h, mkQuery('example.com', RRType.A).packet) as Buffer);
    assert.equal(out.rcode, Rcode.SERVFAIL);
    assert.equal(out.questions[0]?.name, 'example.com');
  });
});
