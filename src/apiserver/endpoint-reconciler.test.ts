import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Lease } from '../api/generated/types/coordination-v1.js';
import type { EndpointSlice } from '../api/generated/types/discovery-v1.js';
import type { Endpoints } from '../api/generated/types/core-v1.js';
import { MemoryStorage } from '../storage/memory.js';
import {
  apiserverLeaseName,
  endpointSubsets,
  IDENTITY_LEASE_LABEL,
  leaseAlive,
  MasterEndpointReconciler,
} from './endpoint-reconciler.js';
import { defaultHooks } from './hooks.js';
import { StoreRegistry } from './stores.js';

describe('apiserverLeaseName', () => {
  it('is apiserver- and 26 lower-case base32 characters, stable per seed', () => {
    const a = apiserverLeaseName('host:/var/lib/kts');
    assert.match(a, /^apiserver-[a-z2-7]{26}$/);
    assert.equal(apiserverLeaseName('host:/var/lib/kts'), a);
    assert.notEqual(apiserverLeaseName('host:/var/lib/kts2'), a);
  });
});

describe('endpointSubsets', () => {
  const cases: [string, { address: string; port: number }[], unknown][] = [
    ['none', [], []],
    [
      'one port, sorted and unique',
      [
        { address: '10.0.0.2', port: 6443 },
        { address: '10.0.0.1', port: 6443 },
        { address: '10.0.0.2', port: 6443 },
      ],
      [
        {
          addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }],
          ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
        },
      ],
    ],
    [
      'two ports',
      [
        { address: '127.0.0.1', port: 7000 },
        { address: '127.0.0.1', port: 6443 },
      ],
      [
        { addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] },
        { addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: 7000, protocol: 'TCP' }] },
      ],
    ],
  ];
  for (const [name, input, want] of cases) it(name, () => assert.deepEqual(endpointSubsets(input), want));
});

describe('leaseAlive', () => {
  const at = (renew: string, secs: number): Lease => ({
    spec: { renewTime: renew, leaseDurationSeconds: secs },
  });
  it('counts the lease duration from the last renewal', () => {
    const t = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(leaseAlive(at('2026-01-01T00:00:00.000000Z', 15), t + 14_000), true);
    assert.equal(leaseAlive(at('2026-01-01T00:00:00.000000Z', 15), t + 15_000), false);
    assert.equal(leaseAlive({ spec: {} }, t), false);
  });
});

describe('MasterEndpointReconciler', () => {
  const storage = new MemoryStorage();
  const stores = new StoreRegistry(storage, defaultHooks());
  after(async () => {
    stores.close();
    await storage.close();
  });
  let now = Date.parse('2026-01-01T00:00:00Z');
  const clock = (): number => now;
  const a = new MasterEndpointReconciler(stores, {
    address: '127.0.0.1',
    port: 6443,
    identitySeed: 'a',
    leaseDurationSeconds: 15,
    now: clock,
  });
  const b = new MasterEndpointReconciler(stores, {
    address: '127.0.0.2',
    port: 6443,
    identitySeed: 'b',
    leaseDurationSeconds: 15,
    now: clock,
  });
  const endpoints = async (): Promise<Endpoints> =>
    (await stores.byName('', 'endpoints').get('default', 'kubernetes')) as Endpoints;
  const slice = async (): Promise<EndpointSlice> =>
    (await stores
      .byName('discovery.k8s.io', 'endpointslices')
      .get('default', 'kubernetes')) as unknown as EndpointSlice;

  it('lists every live API server', async () => {
    await a.reconcile();
    await b.reconcile();
    assert.deepEqual(
      (await endpoints()).subsets?.[0]?.addresses?.map((x) => x.ip),
      ['127.0.0.1', '127.0.0.2'],
    );
    assert.deepEqual(
      (await slice()).endpoints?.map((e) => e.addresses[0]),
      ['127.0.0.1', '127.0.0.2'],
    );
    const lease = (await stores
      .byName('coordination.k8s.io', 'leases')
      .get('kube-system', a.leaseName)) as Lease;
    assert.equal(lease.metadata?.labels?.[IDENTITY_LEASE_LABEL], 'kube-apiserver');
    assert.equal(lease.spec?.holderIdentity, a.holderIdentity);
    assert.ok(a.holderIdentity.startsWith(`${a.leaseName}_`));
  });

  it('drops and deletes a server whose lease expired', async () => {
    now += 10_000;
    await a.reconcile();
    now += 10_000; // b last renewed 20 s ago
    await a.reconcile();
    assert.deepEqual(
      (await endpoints()).subsets?.[0]?.addresses?.map((x) => x.ip),
      ['127.0.0.1'],
    );
    await assert.rejects(stores.byName('coordination.k8s.io', 'leases').get('kube-system', b.leaseName), {
      name: 'StatusError',
    });
  });

  it('comes back when the server renews, and leaves on a graceful stop', async () => {
    await b.reconcile();
    assert.equal((await endpoints()).subsets?.[0]?.addresses?.length, 2);
    await b.stop({ removeSelf: true });
    assert.deepEqual(
      (await endpoints()).subsets?.[0]?.addresses?.map((x) => x.ip),
      ['127.0.0.1'],
    );
    await a.stop({ removeSelf: true });
    assert.equal((await endpoints()).subsets, undefined);
  });
});
