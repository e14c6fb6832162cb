import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { PersistentVolume, PersistentVolumeClaim } from '../../api/generated/types/core-v1.js';
import type { StorageClass } from '../../api/generated/types/storage-v1.js';
import type { GroupVersionResource, KubeObject } from '../../client/interface.js';
import { NODES, PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES } from '../../client/resources.js';
import { FakeClient } from '../../client/testing/fake-client.js';
import { type FakeControllerContext, newFakeControllerContext } from '../common/fake-context.js';
import { PersistentVolumeController, STORAGECLASSES } from './binder.js';

function claim(
  name: string,
  spec: PersistentVolumeClaim['spec'] = {},
  annotations?: Record<string, string>,
): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ...(annotations ? { annotations } : {}) },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
    status: { phase: 'Pending' },
  };
}

function volume(
  name: string,
  spec: PersistentVolume['spec'] = {},
  extra: Partial<PersistentVolume> = {},
): PersistentVolume {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, ...(extra.metadata ?? {}) },
    spec: {
      capacity: { storage: '2Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      hostPath: { path: `/tmp/${name}` },
      ...spec,
    },
    status: { phase: 'Available', ...(extra.status ?? {}) },
  };
}

function sc(name: string, provisioner: string, mode = 'Immediate'): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name },
    provisioner,
    volumeBindingMode: mode,
  };
}

describe('PersistentVolumeController', () => {
  let stop: AbortController | undefined;
  afterEach(() => stop?.abort());

  async function setup(objects: Array<{ gvr: GroupVersionResource; object: KubeObject }>): Promise<{
    t: FakeControllerContext;
    c: PersistentVolumeController;
    rounds: (n?: number) => Promise<void>;
  }> {
    const t = newFakeControllerContext(undefined, new FakeClient(objects));
    const c = new PersistentVolumeController(t.ctx);
    stop = new AbortController();
    await t.start(stop.signal);
    // Each round syncs everything once from the cache, as the queues and resync would.
    const rounds = async (n = 3): Promise<void> => {
      for (let i = 0; i < n; i++) {
        for (const v of (await t.client.resource(PERSISTENTVOLUMES).list('')).items)
          await c.syncVolumeKey(v.metadata?.name ?? '');
        await t.settle();
        for (const p of (await t.client.resource(PERSISTENTVOLUMECLAIMS).list('')).items)
          await c.syncClaimKey(`default/${p.metadata?.name ?? ''}`);
        await t.settle();
      }
    };
    return { t, c, rounds };
  }
  const getPV = (t: FakeControllerContext, n: string) => t.client.resource(PERSISTENTVOLUMES).get('', n);
  const getPVC = (t: FakeControllerContext, n: string) =>
    t.client.resource(PERSISTENTVOLUMECLAIMS).get('default', n);

  it('binds a classless claim to the smallest matching static volume, both sides', async () => {
    const { t, rounds } = await setup([
      { gvr: PERSISTENTVOLUMES, object: volume('big', { capacity: { storage: '10Gi' } }) },
      { gvr: PERSISTENTVOLUMES, object: volume('fit') },
      { gvr: PERSISTENTVOLUMECLAIMS, object: claim('data', { storageClassName: '' }) },
    ]);
    await rounds();
    const pv = await getPV(t, 'fit');
    assert.deepEqual(
      { ...pv.spec?.claimRef, resourceVersion: undefined },
      {
        kind: 'PersistentVolumeClaim',
        namespace: 'default',
        name: 'data',
        uid: 'uid-data',
        apiVersion: 'v1',
        resourceVersion: undefined,
      },
    );
    assert.equal(pv.metadata?.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
    assert.equal(pv.status?.phase, 'Bound');
    const pvc = await getPVC(t, 'data');
    assert.equal(pvc.spec?.volumeName, 'fit');
    assert.equal(pvc.metadata?.annotations?.['pv.kubernetes.io/bind-completed'], 'yes');
    assert.equal(pvc.metadata?.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
    assert.deepEqual(pvc.status, {
      phase: 'Bound',
      accessModes: ['ReadWriteOnce'],
      capacity: { storage: '2Gi' },
    });
    assert.equal((await getPV(t, 'big')).status?.phase, 'Available');
  });

  it('binds a claim naming its volume without bound-by-controller on the claim', async () => {
    const { t, rounds } = await setup([
      { gvr: PERSISTENTVOLUMES, object: volume('pick') },
      { gvr: PERSISTENTVOLUMECLAIMS, object: claim('data', { storageClassName: '', volumeName: 'pick' }) },
    ]);
    await rounds();
    const pvc = await getPVC(t, 'data');
    assert.equal(pvc.status?.phase, 'Bound');
    assert.equal(pvc.metadata?.annotations?.['pv.kubernetes.io/bound-by-controller'], undefined);
    assert.equal(
      (await getPV(t, 'pick')).metadata?.annotations?.['pv.kubernetes.io/bound-by-controller'],
      'yes',
    );
  });

  it('reports why a claim waits, or hands it to an external provisioner', async () => {
    const { t, rounds } = await setup([
      { gvr: STORAGECLASSES, object: sc('wait', 'example.com/p', 'WaitForFirstConsumer') },
      { gvr: STORAGECLASSES, object: sc('now', 'example.com/p') },
      { gvr: STORAGECLASSES, object: sc('static', 'kubernetes.io/no-provisioner') },
      { gvr: PERSISTENTVOLUMECLAIMS, object: claim('none', { storageClassName: '' }) },
      { gvr: PERSISTENTVOLUMECLAIMS, object: claim('wffc', { storageClassName: 'wait' }) },
      { gvr: PERSISTENTVOLUMECLAIMS, object: claim('ext', { storageClassName: 'now' }) },
      { gvr: PERSISTENTVOLUMECLAIMS, object: claim('nosc', { storageClassName: 'missing' }) },
      { gvr: PERSISTENTVOLUMECLAIMS, object: claim('nop', { storageClassName: 'static' }) },
      {
        gvr: PERSISTENTVOLUMECLAIMS,
        object: claim('placed', { storageClassName: 'wait' }, { 'volume.kubernetes.io/selected-node': 'n1' }),
      },
    ]);
    await rounds(1);
    const byObject = new Map(t.events.map((e) => [e.object, `${e.reason}: ${e.message}`]));
    const ext =
      "ExternalProvisioning: Waiting for a volume to be created either by the external provisioner 'example.com/p' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.";
    assert.deepEqual(Object.fromEntries(byObject), {
      'default/none':
        'FailedBinding: no persistent volumes available for this claim and no storage class is set',
      'default/wffc': 'WaitForFirstConsumer: waiting for first consumer to be created before binding',
      'default/ext': ext,
      'default/nosc': 'ProvisioningFailed: storageclass.storage.k8s.io "missing" not found',
      'default/nop': 'ProvisioningFailed: no volume plugin matched name: kubernetes.io/no-provisioner',
      'default/placed': ext,
    });
    for (const name of ['ext', 'placed']) {
      const a = (await getPVC(t, name)).metadata?.annotations ?? {};
      assert.equal(a['volume.kubernetes.io/storage-provisioner'], 'example.com/p');
      assert.equal(a['volume.beta.kubernetes.io/storage-provisioner'], 'example.com/p');
    }
    assert.equal((await getPVC(t, 'wffc')).metadata?.annotations, undefined);
  });

  it('gives a claim without a class the default class once one exists', async () => {
    const def = sc('std', 'example.com/p');
    def.metadata = { name: 'std', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } };
    const c = claim('late');
    delete c.spec?.storageClassName;
    const { t, rounds } = await setup([
      { gvr: STORAGECLASSES, object: def },
      { gvr: PERSISTENTVOLUMECLAIMS, object: c },
    ]);
    await rounds(1);
    assert.equal((await getPVC(t, 'late')).spec?.storageClassName, 'std');
  });

  it('completes a provisioner pre-bound volume with the selected node', async () => {
    const { t, rounds } = await setup([
      {
        gvr: NODES,
        object: {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } },
        },
      },
      { gvr: STORAGECLASSES, object: sc('wait', 'example.com/p', 'WaitForFirstConsumer') },
      {
        gvr: PERSISTENTVOLUMECLAIMS,
        object: claim('data', { storageClassName: 'wait' }, { 'volume.kubernetes.io/selected-node': 'n1' }),
      },
      {
        gvr: PERSISTENTVOLUMES,
        object: volume(
          'pvc-uid-data',
          { storageClassName: 'wait', claimRef: { namespace: 'default', name: 'data', uid: 'uid-data' } },
          {
            metadata: {
              name: 'pvc-uid-data',
              annotations: { 'pv.kubernetes.io/provisioned-by': 'example.com/p' },
            },
            status: { phase: 'Pending' },
          },
        ),
      },
    ]);
    await rounds();
    assert.equal((await getPVC(t, 'data')).status?.phase, 'Bound');
    const pv = await getPV(t, 'pvc-uid-data');
    assert.equal(pv.status?.phase, 'Bound');
    // The provisioner made the link, not the controller.
    assert.equal(pv.metadata?.annotations?.['pv.kubernetes.io/bound-by-controller'], undefined);
  });

  it('releases volumes of deleted claims and runs their reclaim policy', async () => {
    const gone = { namespace: 'default', name: 'gone', uid: 'uid-gone' };
    const bound = { status: { phase: 'Bound' } };
    const { t, rounds } = await setup([
      { gvr: PERSISTENTVOLUMES, object: volume('keep', { claimRef: gone }, bound) },
      {
        gvr: PERSISTENTVOLUMES,
        object: volume('del', { claimRef: gone, persistentVolumeReclaimPolicy: 'Delete' }, bound),
      },
      {
        gvr: PERSISTENTVOLUMES,
        object: volume(
          'ext',
          { claimRef: gone, persistentVolumeReclaimPolicy: 'Delete' },
          {
            metadata: { name: 'ext', annotations: { 'pv.kubernetes.io/provisioned-by': 'example.com/p' } },
            ...bound,
          },
        ),
      },
    ]);
    await rounds(2);
    assert.equal((await getPV(t, 'keep')).status?.phase, 'Released');
    assert.equal((await getPV(t, 'ext')).status?.phase, 'Released');
    const del = await getPV(t, 'del');
    assert.equal(del.status?.phase, 'Failed');
    const msg = 'error getting deleter volume plugin for volume "del": no deletable volume plugin matched';
    assert.equal(del.status?.message, msg);
    assert.deepEqual(t.events, [
      { object: '/del', type: 'Warning', reason: 'VolumeFailedDelete', message: msg },
    ]);
  });

  it('marks a bound claim Lost when its volume disappears', async () => {
    const { t, rounds } = await setup([
      {
        gvr: PERSISTENTVOLUMECLAIMS,
        object: claim('data', { volumeName: 'vanished' }, { 'pv.kubernetes.io/bind-completed': 'yes' }),
      },
    ]);
    await rounds(1);
    assert.equal((await getPVC(t, 'data')).status?.phase, 'Lost');
    assert.deepEqual(
      t.events.map((e) => e.reason),
      ['ClaimLost'],
    );
  });
});
