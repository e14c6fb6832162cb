import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from '../../api/generated/types/core-v1.js';
import type { GroupVersionResource, KubeObject } from '../../client/interface.js';
import { PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, PODS } from '../../client/resources.js';
import { FakeClient } from '../../client/testing/fake-client.js';
import { type FakeControllerContext, newFakeControllerContext } from '../common/fake-context.js';
import { PVCProtectionController, PVProtectionController, podUsesClaim } from './protection.js';

const DELETED = '2024-01-01T00:00:00Z';

function pod(
  name: string,
  o: { node?: string; claim?: string; ephemeral?: string; phase?: string } = {},
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      ...(o.node !== undefined ? { nodeName: o.node } : {}),
      containers: [{ name: 'c', image: 'i' }],
      volumes: [
        ...(o.claim !== undefined ? [{ name: 'v', persistentVolumeClaim: { claimName: o.claim } }] : []),
        ...(o.ephemeral !== undefined ? [{ name: o.ephemeral, ephemeral: {} }] : []),
      ],
    },
    ...(o.phase !== undefined ? { status: { phase: o.phase } } : {}),
  };
}

describe('podUsesClaim', () => {
  const table: Array<[string, Pod, string, boolean]> = [
    ['scheduled pod with the claim', pod('p', { node: 'n', claim: 'data' }), 'data', true],
    ['unscheduled pod does not hold it', pod('p', { claim: 'data' }), 'data', false],
    [
      'finished pod still holds a named claim',
      pod('p', { node: 'n', claim: 'data', phase: 'Succeeded' }),
      'data',
      true,
    ],
    ['ephemeral claim <pod>-<volume>', pod('p', { node: 'n', ephemeral: 'scratch' }), 'p-scratch', true],
    [
      'finished pod frees its ephemeral claim',
      pod('p', { node: 'n', ephemeral: 'scratch', phase: 'Failed' }),
      'p-scratch',
      false,
    ],
    ['other claim', pod('p', { node: 'n', claim: 'other' }), 'data', false],
  ];
  for (const [name, p, claimName, want] of table)
    it(name, () => assert.equal(podUsesClaim(p, claimName), want));
});

const fake = (objects: Array<{ gvr: GroupVersionResource; object: KubeObject }>): FakeControllerContext =>
  newFakeControllerContext(undefined, new FakeClient(objects));

describe('protection controllers', () => {
  let stop: AbortController | undefined;
  afterEach(() => stop?.abort());

  it('pvc-protection holds a deleted claim while a pod uses it, and adds the finalizer to new claims', async () => {
    const claim = (name: string, deleting: boolean, finalizers: string[]): PersistentVolumeClaim => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name,
        namespace: 'default',
        finalizers,
        ...(deleting ? { deletionTimestamp: DELETED } : {}),
      },
    });
    const t = fake([
      { gvr: PERSISTENTVOLUMECLAIMS, object: claim('used', true, ['kubernetes.io/pvc-protection']) },
      {
        gvr: PERSISTENTVOLUMECLAIMS,
        object: claim('free', true, ['kubernetes.io/pvc-protection', 'x/keep']),
      },
      { gvr: PERSISTENTVOLUMECLAIMS, object: claim('new', false, []) },
      { gvr: PODS, object: pod('user', { node: 'n', claim: 'used' }) },
    ]);
    const c = new PVCProtectionController(t.ctx);
    stop = new AbortController();
    await t.start(stop.signal);
    for (const name of ['used', 'free', 'new']) await c.sync(`default/${name}`);
    // A deleted object whose last finalizer goes is gone: `gone` stands for that.
    const get = async (n: string) =>
      (
        await t.client
          .resource(PERSISTENTVOLUMECLAIMS)
          .get('default', n)
          .catch(() => undefined)
      )?.metadata?.finalizers ?? 'gone';
    assert.deepEqual(await get('used'), ['kubernetes.io/pvc-protection']);
    assert.deepEqual(await get('free'), ['x/keep']);
    assert.deepEqual(await get('new'), ['kubernetes.io/pvc-protection']);
    await t.client.resource(PODS).delete('default', 'user');
    await t.settle();
    await c.sync('default/used');
    assert.equal(await get('used'), 'gone');
  });

  it('pv-protection releases a deleted volume only once it is not Bound', async () => {
    const volume = (name: string, phase: string): PersistentVolume => ({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name, finalizers: ['kubernetes.io/pv-protection'], deletionTimestamp: DELETED },
      status: { phase },
    });
    const t = fake([
      { gvr: PERSISTENTVOLUMES, object: volume('bound', 'Bound') },
      { gvr: PERSISTENTVOLUMES, object: volume('released', 'Released') },
    ]);
    const c = new PVProtectionController(t.ctx);
    stop = new AbortController();
    await t.start(stop.signal);
    await c.sync('bound');
    await c.sync('released');
    const get = async (n: string) =>
      (
        await t.client
          .resource(PERSISTENTVOLUMES)
          .get('', n)
          .catch(() => undefined)
      )?.metadata?.finalizers ?? 'gone';
    assert.deepEqual(await get('bound'), ['kubernetes.io/pv-protection']);
    assert.equal(await get('released'), 'gone');
  });
});
