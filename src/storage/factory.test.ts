import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EtcdStorage } from './etcd.js';
import { joinEndpoints, openStorage } from './factory.js';
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
      ['http://127.0.0.1:1,http://127.0.0.1:2', EtcdStorage],
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
      'https://h:1,https://h:2',
    ]) {
      await assert.rejects(openStorage(endpoint), { code: 'InvalidArgument' }, endpoint);
    }
  });

  it('joins repeated --datastore-endpoint values', () => {
    const cases: [string[], string][] = [
      [['etcd://a:1,b:2'], 'etcd://a:1,b:2'],
      [['etcd://a:1', 'b:2', 'c:3'], 'etcd://a:1,b:2,c:3'],
      [['etcd://a:1', 'etcd://b:2?cacert=/ca'], 'etcd://a:1,b:2?cacert=%2Fca'],
      [['https://a:2379', 'https://b:2379'], 'https://a:2379,b:2379'],
      [['http://a:1,http://b:2', 'http://c:3'], 'http://a:1,b:2,c:3'],
    ];
    for (const [values, want] of cases) assert.equal(joinEndpoints(values), want, values.join(' '));
    for (const bad of [[], ['etcd://a:1', 'http://b:2'], ['sqlite:///x', 'sqlite:///y'], ['a:1', 'b:2']])
      assert.throws(() => joinEndpoints(bad), { code: 'InvalidArgument' }, bad.join(' '));
  });
});
