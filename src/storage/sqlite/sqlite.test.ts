import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runStorageConformance, takeEvents } from '../conformance.js';
import { SqliteStorage } from './sqlite-storage.js';

const dir = mkdtempSync(join(tmpdir(), 'kts-sqlite-conf-'));
let n = 0;
after(() => rmSync(dir, { recursive: true, force: true }));

runStorageConformance({
  name: 'sqlite',
  open: async () => new SqliteStorage({ path: join(dir, `store-${n++}.db`) }),
});

describe('sqlite specifics', () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

  it('reopening keeps data, the revision counter and the compact revision', async () => {
    const path = join(dir, 'reopen.db');
    let s = new SqliteStorage({ path, sync: 'full' });
    const a = await s.create('/r/a', enc('1'));
    const d = await s.delete('/r/a');
    await s.create('/r/b', enc('2'));
    await s.compact(d.revision);
    await s.close();
    s = new SqliteStorage({ path });
    try {
      assert.equal(await s.compactRevision(), d.revision);
      await assert.rejects(s.get('/r/a', { revision: a.modRevision }), { code: 'Compacted' });
      const c = await s.create('/r/c', enc('3'));
      assert.equal(c.modRevision, d.revision + 2, 'revisions continue; a compacted tombstone is not reused');
      assert.deepEqual(
        (await s.list('/r/')).items.map((i) => i.key),
        ['/r/b', '/r/c'],
      );
    } finally {
      await s.close();
    }
  });

  it('a second store cannot open a file in use (one writer owns the revision counter)', async () => {
    const path = join(dir, 'locked.db');
    const s = new SqliteStorage({ path });
    try {
      await s.create('/l/a', enc('1'));
      assert.throws(() => new SqliteStorage({ path }));
    } finally {
      await s.close();
    }
  });

  it('replays long histories in pages, filtered by prefix, then goes live', async () => {
    const s = new SqliteStorage({ path: join(dir, 'replay.db') });
    try {
      const start = await s.currentRevision();
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 1500; i++)
        writes.push(s.create(`/${i % 3 === 0 ? 'x' : 'y'}/${i}`, enc(String(i))));
      await Promise.all(writes);
      const w = s.watch('/x/', { fromRevision: start });
      const live = s.create('/x/live', enc('live'));
      const evs = await takeEvents(w, 501);
      assert.equal(evs.length, 501);
      assert.deepEqual(
        evs.slice(0, 500).map((e) => e.key),
        Array.from({ length: 500 }, (_, j) => `/x/${j * 3}`),
      );
      assert.equal(evs[500]!.modRevision, (await live).modRevision);
      w.close();
    } finally {
      await s.close();
    }
  });

  it('retention: keeps the newest revisions and recent ones, bounded by maxRevisions', async () => {
    let now = 1_000_000;
    const s = new SqliteStorage({
      path: join(dir, 'retention.db'),
      now: () => now,
      compaction: { keepRevisions: 10, keepAgeMs: 60_000, maxRevisions: 100, intervalMs: 0, everyWrites: 0 },
    });
    try {
      let kv = await s.create('/p/k', enc('0'));
      for (let i = 1; i < 50; i++) kv = await s.update('/p/k', enc(String(i)), kv.modRevision);
      await s.runCompactionPolicy();
      assert.equal(await s.compactRevision(), 0, 'all 50 revisions are younger than a minute');
      now += 61_000;
      for (let i = 50; i < 60; i++) kv = await s.update('/p/k', enc(String(i)), kv.modRevision);
      await s.runCompactionPolicy();
      // The sample at open (revision 0) is the newest older than a minute: still nothing.
      assert.equal(await s.compactRevision(), 0);
      now += 61_000;
      await s.runCompactionPolicy();
      const cur = await s.currentRevision();
      assert.equal(await s.compactRevision(), cur - 10, 'older than a minute and beyond the newest 10');
      for (let i = 60; i < 300; i++) kv = await s.update('/p/k', enc(String(i)), kv.modRevision);
      await s.runCompactionPolicy();
      assert.equal(
        await s.compactRevision(),
        (await s.currentRevision()) - 100,
        'maxRevisions bounds history',
      );
    } finally {
      await s.close();
    }
  });
});
