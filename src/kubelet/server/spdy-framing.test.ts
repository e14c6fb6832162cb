import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import {
  adler32,
  decodeHeaderBlock,
  encodeFrame,
  encodeHeaderBlock,
  FLAG_FIN,
  FrameDecoder,
  HeaderDeflater,
  HeaderInflater,
  type OutFrame,
  SPDY3_DICTIONARY,
  type SpdyHeaders,
  SpdyProtocolError,
  type WireFrame,
} from './spdy-framing.js';

/** Compresses blocks the way Go's spdy framer does: one zlib stream, a sync flush each. */
function goStyleCompressor(): (raw: Buffer) => Promise<Buffer> {
  const z = zlib.createDeflate({ level: 9, dictionary: SPDY3_DICTIONARY });
  return (raw) =>
    new Promise((resolve) => {
      z.write(raw);
      z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        const out: Buffer[] = [];
        for (let c = z.read() as Buffer | null; c !== null; c = z.read() as Buffer | null) out.push(c);
        resolve(Buffer.concat(out));
      });
    });
}

function decodeAll(bytes: Buffer, pieceSize = bytes.length): WireFrame[] {
  const d = new FrameDecoder();
  const out: WireFrame[] = [];
  for (let i = 0; i < bytes.length; i += pieceSize) out.push(...d.push(bytes.subarray(i, i + pieceSize)));
  return out;
}

describe('SPDY/3 dictionary', () => {
  it('is the 1423 bytes of the spec (dictionary id e3c6a7c2, as kubectl sends it)', () => {
    assert.equal(SPDY3_DICTIONARY.length, 1423);
    assert.equal(adler32(SPDY3_DICTIONARY).toString(16), 'e3c6a7c2');
    assert.equal(
      createHash('sha256').update(SPDY3_DICTIONARY).digest('hex'),
      '51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02',
    );
  });
});

describe('header blocks', () => {
  it('round-trips names (lower-cased) and NUL-separated multiple values', () => {
    const raw = encodeHeaderBlock({ streamType: ['data'], port: ['8080'], multi: ['a', 'b'] });
    assert.deepEqual(decodeHeaderBlock(raw), { streamtype: ['data'], port: ['8080'], multi: ['a', 'b'] });
    assert.deepEqual(decodeHeaderBlock(encodeHeaderBlock({})), {});
  });

  it('rejects a truncated block', () => {
    const raw = encodeHeaderBlock({ port: ['80'] });
    assert.throws(() => decodeHeaderBlock(raw.subarray(0, raw.length - 1)), SpdyProtocolError);
  });

  it('compresses into one zlib stream any inflater with the dictionary reads, block by block', () => {
    const d = new HeaderDeflater();
    const blocks: SpdyHeaders[] = [
      { a: ['1'] },
      {},
      { requestid: ['0'], port: ['80'], streamtype: ['error'] },
    ];
    const compressed = blocks.map((b) => d.compress(b));
    // Each block ends like a sync flush (an empty stored block), so a reader can stop there.
    for (const c of compressed) assert.deepEqual([...c.subarray(-5)], [0, 0, 0, 0xff, 0xff]);
    assert.deepEqual([...(compressed[0] ?? Buffer.alloc(0)).subarray(0, 2)], [0x78, 0xbb]);
    const all = zlib.inflateSync(Buffer.concat(compressed), {
      dictionary: SPDY3_DICTIONARY,
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    assert.deepEqual(all, Buffer.concat(blocks.map((b) => encodeHeaderBlock(b))));
  });

  it('inflates consecutive blocks of a Go-style stream that refer back to earlier ones', async () => {
    const compress = goStyleCompressor();
    const inflater = new HeaderInflater();
    const h1 = { streamtype: ['error'], port: ['8080'], requestid: ['0'] };
    const h2 = { streamtype: ['data'], port: ['8080'], requestid: ['0'] };
    const c1 = await compress(encodeHeaderBlock(h1));
    const c2 = await compress(encodeHeaderBlock(h2));
    // The second block is smaller than its text: it reuses the first one's strings.
    assert.ok(c2.length < encodeHeaderBlock(h2).length, `${c2.length}`);
    const [r1, r2] = await Promise.all([inflater.inflate(c1), inflater.inflate(c2)]);
    assert.deepEqual(r1, h1);
    assert.deepEqual(r2, h2);
    inflater.close();
  });

  it('fails on garbage', async () => {
    const inflater = new HeaderInflater();
    await assert.rejects(inflater.inflate(Buffer.from('not zlib at all')), SpdyProtocolError);
    inflater.close();
  });
});

describe('frames', () => {
  const cases: { name: string; frame: OutFrame; want: Partial<WireFrame> }[] = [
    {
      name: 'data with FIN',
      frame: { type: 'data', streamId: 7, flags: FLAG_FIN, data: Buffer.from('hello') },
      want: { type: 'data', streamId: 7, flags: FLAG_FIN, data: Buffer.from('hello') },
    },
    {
      name: 'empty data',
      frame: { type: 'data', streamId: 1, data: Buffer.alloc(0) },
      want: { type: 'data', streamId: 1, flags: 0, data: Buffer.alloc(0) },
    },
    {
      name: 'RST_STREAM',
      frame: { type: 'rstStream', streamId: 3, status: 5 },
      want: { type: 'rstStream', streamId: 3, status: 5 },
    },
    {
      name: 'SETTINGS',
      frame: { type: 'settings', entries: [{ flags: 1, id: 7, value: 65536 }] },
      want: { type: 'settings', flags: 0, entries: [{ flags: 1, id: 7, value: 65536 }] },
    },
    { name: 'PING', frame: { type: 'ping', id: 0xfffffffe }, want: { type: 'ping', id: 0xfffffffe } },
    {
      name: 'GOAWAY',
      frame: { type: 'goAway', lastGoodStreamId: 9, status: 1 },
      want: { type: 'goAway', lastGoodStreamId: 9, status: 1 },
    },
    {
      name: 'WINDOW_UPDATE',
      frame: { type: 'windowUpdate', streamId: 5, delta: 32768 },
      want: { type: 'windowUpdate', streamId: 5, delta: 32768 },
    },
  ];
  for (const c of cases) {
    it(`round-trips ${c.name}, whole and byte by byte`, () => {
      const bytes = encodeFrame(c.frame, new HeaderDeflater());
      for (const piece of [bytes.length, 1]) {
        const got = decodeAll(bytes, piece);
        assert.equal(got.length, 1);
        assert.deepEqual(got[0], c.want);
      }
    });
  }

  it('round-trips SYN_STREAM, SYN_REPLY and HEADERS with compressed headers', async () => {
    const deflater = new HeaderDeflater();
    const bytes = Buffer.concat([
      encodeFrame(
        { type: 'synStream', streamId: 1, priority: 2, flags: FLAG_FIN, headers: { port: ['80'] } },
        deflater,
      ),
      encodeFrame({ type: 'synReply', streamId: 1, headers: {} }, deflater),
      encodeFrame({ type: 'headers', streamId: 1, headers: { x: ['y'] } }, deflater),
    ]);
    const frames = decodeAll(bytes, 3);
    assert.deepEqual(
      frames.map((f) => f.type),
      ['synStream', 'synReply', 'headers'],
    );
    const syn = frames[0];
    assert.ok(syn?.type === 'synStream');
    assert.equal(syn.streamId, 1);
    assert.equal(syn.priority, 2);
    assert.equal(syn.flags, FLAG_FIN);
    const inflater = new HeaderInflater();
    const headers = await Promise.all(
      frames.map((f) => ('block' in f ? inflater.inflate(f.block) : Promise.resolve({}))),
    );
    assert.deepEqual(headers, [{ port: ['80'] }, {}, { x: ['y'] }]);
    inflater.close();
  });

  it('reads the control header fields: version 3, type, flags, 24-bit length', () => {
    const bytes = encodeFrame({ type: 'ping', id: 1 }, new HeaderDeflater());
    assert.deepEqual([...bytes], [0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1]);
  });

  it('passes unknown control frames through and rejects data on stream 0', () => {
    const unknown = Buffer.from([0x80, 0x03, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, 0xaa]);
    assert.deepEqual(decodeAll(unknown), [
      { type: 'unknown', version: 3, frameType: 5, flags: 0, payload: Buffer.from([0xaa]) },
    ]);
    assert.throws(() => decodeAll(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0])), SpdyProtocolError);
  });

  it('waits for a whole frame across pieces and splits several in one piece', () => {
    const d = new FrameDecoder();
    const a = encodeFrame({ type: 'data', streamId: 1, data: Buffer.alloc(70_000, 1) }, new HeaderDeflater());
    const b = encodeFrame({ type: 'ping', id: 3 }, new HeaderDeflater());
    assert.deepEqual(d.push(a.subarray(0, 5)), []);
    assert.deepEqual(d.push(a.subarray(5, 40_000)), []);
    const got = d.push(Buffer.concat([a.subarray(40_000), b]));
    assert.deepEqual(
      got.map((f) => f.type),
      ['data', 'ping'],
    );
    assert.equal(got[0]?.type === 'data' ? got[0].data.length : 0, 70_000);
  });
});
