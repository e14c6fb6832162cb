import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EtcdStorage } from './etcd.js';
import { openStorage } from './factory.js';
import { MemoryStorage } from './memory.js';
import { SqliteStorage } from './sqlite/sqlite-storage.js';

describe('openStorage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kts-factory-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('opens each backend by scheme', async () => {
    const cases: [string, unknown][] = [
      ['memory://', MemoryStorage],
      [`sqlite://${join(dir, 'a.db')}`, SqliteStorage],
      [`sqlite://${join(dir, 'b.db')}?sync=full&keepRevisions=10&keepAgeSeconds=0`, SqliteStorage],
      ['etcd://127.0.0.1:1,127.0.0.1:2', EtcdStorage],
    ];
    for (const [endpoint, type] of cases) {
      const s = await openStorage(endpoint);
      try {
        assert.ok(s instanceof (type as new (...a: never[]) => unknown), endpoint);
      } finally {
        await s.close();
      }
    }
  });

  it('rejects malformed endpoints with InvalidArgument', async () => {
    for (const endpoint of [
      'postgres://x',
      'nonsense',
      'sqlite://',
      `sqlite://${join(dir, 'c.db')}?sync=sometimes`,
      `sqlite://${join(dir, 'c.db')}?keepRevisions=-1`,
      'etcd://',
      'etcd://h:1?cert=/x',
    ]) {
      await assert.rejects(openStorage(endpoint), { code: 'InvalidArgument' }, endpoint);
    }
  });
});
