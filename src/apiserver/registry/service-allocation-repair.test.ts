import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { resourceFor } from '../../api/registry.js';
import { MemoryStorage } from '../../storage/memory.js';
import { defaultHooks } from '../hooks.js';
import type { KObject } from './object.js';
import { ServiceAllocationRepair } from './service-allocation-repair.js';
import { encodeOwner, RANGES_PREFIX, ServiceAllocator } from './service-allocator.js';
import { ServiceStrategy } from './service-strategy.js';
import { Store, type WriteOptions } from './store.js';

const wo = (): WriteOptions => ({ dryRun: false, fieldManager: 'test', subresource: '', warnings: [] });
const IPS = `${RANGES_PREFIX}serviceips/`;
const PORTS = `${RANGES_PREFIX}servicenodeports/`;

function setup() {
  const storage = new MemoryStorage();
  const alloc = new ServiceAllocator('10.43.0.0/16', [30000, 32767], { storage });
  const store = new Store(
    new ServiceStrategy(resourceFor('', 'v1', 'services')!, alloc),
    storage,
    defaultHooks(),
  );
  let now = 1_000_000;
  const repair = new ServiceAllocationRepair(alloc, async () => (await store.listAll('')).map((e) => e.obj), {
    graceMs: 60_000,
    now: () => now,
  });
  return {
    storage,
    alloc,
    store,
    repair,
    advance(ms: number) {
      now += ms;
    },
    async keys(): Promise<string[]> {
      return (await storage.list(RANGES_PREFIX)).items.map((kv) => kv.key);
    },
    async close() {
      await repair.stop();
      store.cache.close();
      await storage.close();
    },
  };
}

function svc(name: string, spec: Record<string, unknown>): KObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }], ...spec } };
}

describe('ServiceAllocationRepair', () => {
  const envs: ReturnType<typeof setup>[] = [];
  const env = () => {
    const e = setup();
    envs.push(e);
    return e;
  };
  after(async () => {
    for (const e of envs) await e.close();
  });

  it('deletes a leaked key only after it stayed unused for the grace period', async () => {
    const e = env();
    await e.store.create('default', svc('kept', { clusterIP: '10.43.0.20' }), wo());
    const leak = `${IPS}10.43.0.21`;
    await e.storage.create(leak, encodeOwner({ namespace: 'default', name: 'gone', uid: 'dead' }));
    let r = await e.repair.runOnce();
    assert.deepEqual(r.suspected, [leak]);
    assert.deepEqual(r.released, []);
    e.advance(30_000);
    r = await e.repair.runOnce();
    assert.deepEqual(r.released, [], 'still inside the grace period');
    e.advance(31_000);
    r = await e.repair.runOnce();
    assert.deepEqual(r.released, [leak]);
    assert.deepEqual(await e.keys(), [`${IPS}10.43.0.20`]);
  });

  it('does not race an in-flight create: a key that changes or gets its Service is kept', async () => {
    const e = env();
    const owner = { namespace: 'default', name: 'late', uid: 'pending' };
    await e.alloc.allocateIP(owner, '10.43.0.30');
    assert.deepEqual((await e.repair.runOnce()).suspected, [`${IPS}10.43.0.30`]);
    // The Service arrives (here: a Service holding the key's uid) before the grace ends.
    await e.storage.delete(`${IPS}10.43.0.30`);
    const o = await e.store.create('default', svc('late', { clusterIP: '10.43.0.30' }), wo());
    e.advance(120_000);
    const r = await e.repair.runOnce();
    assert.deepEqual(r.released, []);
    assert.deepEqual(r.suspected, []);
    assert.deepEqual(await e.keys(), [`${IPS}10.43.0.30`]);
    assert.equal(o.metadata?.name, 'late');
    // A key rewritten since it was judged is judged afresh.
    const other = `${PORTS}30100`;
    const first = await e.storage.create(other, encodeOwner({ namespace: 'x', name: 'y', uid: 'z' }));
    await e.repair.runOnce();
    e.advance(120_000);
    await e.storage.update(other, encodeOwner({ namespace: 'x', name: 'y', uid: 'z2' }), first.modRevision);
    assert.deepEqual((await e.repair.runOnce()).released, []);
  });

  it('gives keys to Services stored before keys existed, and reports values used twice', async () => {
    const e = env();
    await e.store.create(
      'default',
      svc('a', { type: 'NodePort', clusterIP: '10.43.0.40', ports: [{ port: 80, nodePort: 30040 }] }),
      wo(),
    );
    await e.store.create('default', svc('b', { clusterIP: '10.43.0.41' }), wo());
    await e.store.create('default', svc('headless', { clusterIP: 'None' }), wo());
    // An old cluster: the same Services, no keys.
    for (const k of await e.keys()) await e.storage.delete(k);
    const r = await e.repair.runOnce();
    assert.deepEqual(r.created.sort(), [`${PORTS}30040`, `${IPS}10.43.0.40`, `${IPS}10.43.0.41`].sort());
    assert.deepEqual(r.conflicts, []);
    await assert.rejects(
      e.store.create('default', svc('c', { clusterIP: '10.43.0.41' }), wo()),
      /provided IP is already allocated/,
    );
    // A duplicate from before the keys (written around the allocator) is reported, not "fixed".
    const dup = (await e.store.get('default', 'b')) as KObject;
    await e.storage.create(
      '/registry/core/services/default/dup',
      new TextEncoder().encode(
        JSON.stringify({ ...dup, metadata: { name: 'dup', namespace: 'default', uid: 'dup-uid' } }),
      ),
    );
    const r2 = await e.repair.runOnce();
    assert.equal(r2.conflicts.length, 1);
    assert.match(r2.conflicts[0] ?? '', /Cluster IP 10\.43\.0\.41/);
  });

  it('runs at start and on its interval until stopped', async () => {
    const storage = new MemoryStorage();
    const alloc = new ServiceAllocator('10.43.0.0/16', [30000, 32767], { storage });
    let lists = 0;
    const repair = new ServiceAllocationRepair(
      alloc,
      async () => {
        lists++;
        return [];
      },
      { intervalMs: 10 },
    );
    await repair.start();
    assert.equal(lists, 1);
    await new Promise((r) => setTimeout(r, 60));
    await repair.stop();
    const seen = lists;
    assert.ok(seen >= 2, `ran ${seen} times`);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(lists, seen);
    await storage.close();
  });
});
