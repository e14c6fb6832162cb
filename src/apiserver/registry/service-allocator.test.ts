import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { resourceFor } from '../../api/registry.js';
import { StatusError } from '../../machinery/status-error.js';
import { MemoryStorage } from '../../storage/memory.js';
import { defaultHooks } from '../hooks.js';
import type { KObject } from './object.js';
import { AllocationError, decodeOwner, RANGES_PREFIX, ServiceAllocator } from './service-allocator.js';
import { ServiceStrategy } from './service-strategy.js';
import { Store, type WriteOptions } from './store.js';

const wo = (dryRun = false): WriteOptions => ({
  dryRun,
  fieldManager: 'test',
  subresource: '',
  warnings: [],
});
const servicesResource = resourceFor('', 'v1', 'services')!;

function svc(name: string, spec: Record<string, unknown> = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { ports: [{ port: 80, protocol: 'TCP' }], ...spec },
  };
}

function specOf(o: KObject): { clusterIP?: string; ports?: { nodePort?: number }[] } {
  return (o.spec ?? {}) as { clusterIP?: string; ports?: { nodePort?: number }[] };
}

// One "API server": its own allocator and Service Store on the shared storage.
function server(storage: MemoryStorage, cidr = '10.43.0.0/16', ports: [number, number] = [30000, 32767]) {
  const alloc = new ServiceAllocator(cidr, ports, { storage });
  const store = new Store(new ServiceStrategy(servicesResource, alloc), storage, defaultHooks());
  return { alloc, store };
}

async function keys(storage: MemoryStorage): Promise<Map<string, string>> {
  const page = await storage.list(RANGES_PREFIX);
  return new Map(page.items.map((kv) => [kv.key, decodeOwner(kv.value)?.name ?? '']));
}

async function rejectsWith(p: Promise<unknown>, code: number, message: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof StatusError, String(e));
    assert.equal(e.status.code, code);
    assert.equal(e.message, message);
    return true;
  });
}

describe('ServiceAllocator on shared storage', () => {
  const storages: MemoryStorage[] = [];
  const fresh = (): MemoryStorage => {
    const s = new MemoryStorage();
    storages.push(s);
    return s;
  };
  after(async () => {
    for (const s of storages) await s.close();
  });

  it('never hands out one IP or node port twice across two allocators under concurrent creates', async () => {
    const storage = fresh();
    // A /24 and 301 node ports: 200 Services fill most of both, so the two views collide often.
    const a = server(storage, '10.43.7.0/24', [30000, 30300]);
    const b = server(storage, '10.43.7.0/24', [30000, 30300]);
    const made = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        (i % 2 === 0 ? a : b).store.create(
          'default',
          svc(`s${i}`, i % 4 < 2 ? { type: 'NodePort' } : {}),
          wo(),
        ),
      ),
    );
    const ips = made.map((o) => specOf(o).clusterIP ?? '');
    assert.equal(new Set(ips).size, 200);
    for (const ip of ips) assert.match(ip, /^10\.43\.7\.\d+$/);
    const ports = made
      .flatMap((o) => (specOf(o).ports ?? []).map((p) => p.nodePort))
      .filter((p) => p !== undefined);
    assert.equal(ports.length, 100);
    assert.equal(new Set(ports).size, 100);
    const k = await keys(storage);
    assert.equal(k.size, 300);
    for (const [i, o] of made.entries()) {
      assert.equal(k.get(`${RANGES_PREFIX}serviceips/${specOf(o).clusterIP}`), `s${i}`);
    }
    a.store.cache.close();
    b.store.cache.close();
  });

  it('refuses a requested IP or node port another server allocated, with upstream messages', async () => {
    const storage = fresh();
    const a = server(storage);
    const b = server(storage);
    await a.store.create(
      'default',
      svc('first', { type: 'NodePort', clusterIP: '10.43.0.50', ports: [{ port: 80, nodePort: 30080 }] }),
      wo(),
    );
    await rejectsWith(
      b.store.create('default', svc('second', { clusterIP: '10.43.0.50' }), wo()),
      422,
      'Service "second" is invalid: spec.clusterIPs: Invalid value: []string{"10.43.0.50"}: failed to allocate IP 10.43.0.50: provided IP is already allocated',
    );
    await rejectsWith(
      b.store.create(
        'default',
        svc('third', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }),
        wo(),
      ),
      422,
      'Service "third" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated',
    );
    await rejectsWith(
      b.store.create('default', svc('fourth', { clusterIP: '10.44.0.1' }), wo()),
      422,
      'Service "fourth" is invalid: spec.clusterIPs: Invalid value: []string{"10.44.0.1"}: failed to allocate IP 10.44.0.1: the provided IP (10.44.0.1) is not in the valid range. The range of valid IPs is 10.43.0.0/16',
    );
    await b.alloc.settled();
    // The failed creates gave back what they had taken (third's ClusterIP).
    assert.deepEqual([...(await keys(storage)).values()].sort(), ['first', 'first']);
    a.store.cache.close();
    b.store.cache.close();
  });

  it('allows one node port for TCP and UDP of the same Service', async () => {
    const storage = fresh();
    const a = server(storage);
    const o = await a.store.create(
      'default',
      svc('dns', {
        type: 'NodePort',
        ports: [
          { name: 'tcp', port: 53, protocol: 'TCP', nodePort: 30053 },
          { name: 'udp', port: 53, protocol: 'UDP', nodePort: 30053 },
        ],
      }),
      wo(),
    );
    assert.deepEqual(
      specOf(o).ports?.map((p) => p.nodePort),
      [30053, 30053],
    );
    a.store.cache.close();
  });

  it('releases on delete and on an update that stops using a value', async () => {
    const storage = fresh();
    const a = server(storage);
    const b = server(storage);
    const o = await a.store.create(
      'default',
      svc('web', { type: 'NodePort', clusterIP: '10.43.0.60' }),
      wo(),
    );
    const port = specOf(o).ports?.[0]?.nodePort ?? 0;
    assert.ok(port >= 30000);
    // NodePort → ClusterIP gives the node port back once the update is stored.
    const cur = await a.store.get('default', 'web');
    await a.store.update(
      'default',
      'web',
      {
        ...cur,
        spec: {
          ...specOf(cur),
          type: 'ClusterIP',
          externalTrafficPolicy: undefined,
          ports: [{ port: 80, protocol: 'TCP' }],
        },
      },
      wo(),
    );
    await a.alloc.settled();
    assert.deepEqual([...(await keys(storage)).keys()], [`${RANGES_PREFIX}serviceips/10.43.0.60`]);
    await b.store.create(
      'default',
      svc('other', { type: 'NodePort', ports: [{ port: 80, nodePort: port }] }),
      wo(),
    );
    await a.store.delete('default', 'web', {}, wo());
    await a.alloc.settled();
    const again = await b.store.create('default', svc('again', { clusterIP: '10.43.0.60' }), wo());
    assert.equal(specOf(again).clusterIP, '10.43.0.60');
    a.store.cache.close();
    b.store.cache.close();
  });

  it('writes no keys for a dry run but still reports conflicts', async () => {
    const storage = fresh();
    const a = server(storage);
    const dry = await a.store.create('default', svc('dry', { type: 'NodePort' }), wo(true));
    assert.match(specOf(dry).clusterIP ?? '', /^10\.43\./);
    await a.alloc.settled();
    assert.equal((await keys(storage)).size, 0);
    await a.store.create('default', svc('real', { clusterIP: '10.43.0.70' }), wo());
    await rejectsWith(
      a.store.create('default', svc('dry2', { clusterIP: '10.43.0.70' }), wo(true)),
      422,
      'Service "dry2" is invalid: spec.clusterIPs: Invalid value: []string{"10.43.0.70"}: failed to allocate IP 10.43.0.70: provided IP is already allocated',
    );
    a.store.cache.close();
  });

  it('answers a full range as upstream does (500)', async () => {
    const storage = fresh();
    // A /29 has six addresses.
    const a = server(storage, '10.43.9.0/29', [30000, 30001]);
    for (let i = 0; i < 6; i++) await a.store.create('default', svc(`s${i}`), wo());
    await rejectsWith(
      a.store.create('default', svc('s6'), wo()),
      500,
      'Internal error occurred: failed to allocate a serviceIP: range is full',
    );
    const ports = server(fresh(), '10.43.9.0/24', [30000, 30001]);
    await ports.store.create('default', svc('np0', { type: 'NodePort' }), wo());
    await ports.store.create('default', svc('np1', { type: 'NodePort' }), wo());
    await rejectsWith(
      ports.store.create('default', svc('np2', { type: 'NodePort' }), wo()),
      500,
      'Internal error occurred: failed to allocate a nodePort: range is full',
    );
    await ports.alloc.settled();
    // The ClusterIP np2 took before its node port failed went back.
    assert.equal((await keys(ports.alloc.storage as MemoryStorage)).size, 4);
    a.store.cache.close();
    ports.store.cache.close();
  });

  it('keeps its view current from the keys another allocator writes', async () => {
    const storage = fresh();
    const a = new ServiceAllocator('10.43.0.0/16', [30000, 32767], { storage });
    const b = new ServiceAllocator('10.43.0.0/16', [30000, 32767], { storage });
    const owner = { namespace: 'default', name: 'x', uid: 'u1' };
    await a.allocateIP(owner, '10.43.0.80');
    await b.start();
    assert.ok(b.isUsed({ kind: 'ip', ip: '10.43.0.80' }));
    const port = await a.allocatePort(owner);
    await waitUntil(() => b.isUsed({ kind: 'port', port }));
    await a.releasePort(port, 'someone-else');
    assert.ok(b.isUsed({ kind: 'port', port }), 'a release by a non-owner deletes nothing');
    await a.releasePort(port, 'u1');
    await waitUntil(() => !b.isUsed({ kind: 'port', port }));
    await b.stop();
    await a.stop();
  });

  it('validates values before touching storage', async () => {
    const a = new ServiceAllocator('10.43.0.0/16', [30000, 32767]);
    const owner = { namespace: 'default', name: 'x', uid: 'u1' };
    await assert.rejects(a.allocatePort(owner, 80), (e: unknown) => {
      assert.ok(e instanceof AllocationError);
      assert.equal(
        e.message,
        'provided port is not in the valid range. The range of valid ports is 30000-32767',
      );
      return true;
    });
    assert.equal(await a.allocateIP(owner, '10.43.0.5'), '10.43.0.5');
    assert.equal(await a.allocateIP(owner, '10.43.0.5'), '10.43.0.5', 'the holder may name it again');
    await assert.rejects(
      a.allocateIP({ ...owner, uid: 'u2' }, '10.43.0.5'),
      /provided IP is already allocated/,
    );
    assert.equal(a.ipAt(10), '10.43.0.10');
    assert.equal(a.contains('10.43.255.255'), false);
    assert.equal(a.contains('10.43.255.254'), true);
  });
});

async function waitUntil(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond());
}
