// Bounded disk use under churn: 100,000 updates of ~1 KiB over 1,000 keys (about 100 MB
// written) with the default retention policy; the database file plus WAL must stay under
// 50 MB, both during the run (automatic compaction) and after a final compaction.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { KeyValue } from '../storage.js';
import { SqliteStorage } from './sqlite-storage.js';

const KEYS = 1000;
const UPDATES = 100_000;
const IN_FLIGHT = 500;
const LIMIT = 50 * 1024 * 1024;

function diskBytes(path: string): number {
  let total = 0;
  for (const f of [path, `${path}-wal`]) {
    try {
      total += statSync(f).size;
    } catch {
      // absent
    }
  }
  return total;
}

describe('sqlite churn', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kts-sqlite-churn-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('100,000 updates over 1,000 keys stay under 50 MB on disk', async () => {
    const path = join(dir, 'state.db');
    const errors: unknown[] = [];
    const s = new SqliteStorage({ path, onError: (e) => errors.push(e) });
    try {
      const value = (k: number, i: number): Uint8Array => {
        const b = new Uint8Array(1024);
        b.fill(97 + (i % 26));
        new DataView(b.buffer).setUint32(0, k);
        new DataView(b.buffer).setUint32(4, i);
        return b;
      };
      const latest: KeyValue[] = await Promise.all(
        Array.from({ length: KEYS }, (_, k) => s.create(`/churn/${String(k).padStart(4, '0')}`, value(k, 0))),
      );
      let next = 0;
      let peak = 0;
      const worker = async (): Promise<void> => {
        while (next < UPDATES) {
          const n = next++;
          const k = n % KEYS;
          const cur = latest[k]!;
          // Workers never share a key at the same time (IN_FLIGHT divides KEYS), so CAS holds.
          latest[k] = await s.update(cur.key, value(k, n + 1), cur.modRevision);
          if (n % 10_000 === 0) peak = Math.max(peak, diskBytes(path));
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      peak = Math.max(peak, diskBytes(path));
      await s.runCompactionPolicy();
      const final = diskBytes(path);
      assert.deepEqual(errors, []);
      assert.ok(peak < LIMIT, `peak ${(peak / 1e6).toFixed(1)} MB`);
      assert.ok(final < LIMIT, `final ${(final / 1e6).toFixed(1)} MB`);
      assert.equal(await s.count('/churn/'), KEYS);
      const page = await s.list('/churn/', { limit: 3 });
      for (const item of page.items) {
        const k = Number(item.key.slice('/churn/'.length));
        assert.equal(item.modRevision, latest[k]!.modRevision);
        assert.equal(new DataView(item.value.buffer, item.value.byteOffset).getUint32(0), k);
      }
      assert.ok((await s.compactRevision()) > 0);
      // Compacting all history gives the space back to the file system.
      await s.compact(await s.currentRevision());
      const compacted = diskBytes(path);
      assert.ok(compacted < 8 * 1024 * 1024, `after full compaction ${(compacted / 1e6).toFixed(1)} MB`);
    } finally {
      await s.close();
    }
  });
});
