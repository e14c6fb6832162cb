import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from '../../api/generated/types/core-v1.js';
import type { GroupVersionResource, KubeObject } from '../../client/interface.js';
import { NODES, PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, PODS } from '../../client/resources.js';
import { FakeClient } from '../../client/testing/fake-client.js';
import { type FakeControllerContext, newFakeControllerContext } from '../common/fake-context.js';
import { STORAGECLASSES } from '../persistentvolume/binder.js';
import {
  deleteHelperPod,
  LocalPathProvisioner,
  localPathStorageClass,
  provisionedVolume,
  volumeNode,
} from './provisioner.js';

const BASE = '/var/lib/kts/storage';

function claim(annotations: Record<string, string>): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: 'apps', uid: 'u1', annotations },
    spec: {
      storageClassName: 'local-path',
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '2Gi' } },
    },
  };
}

const asked = { 'volume.kubernetes.io/storage-provisioner': 'rancher.io/local-path' };
const placed = { ...asked, 'volume.kubernetes.io/selected-node': 'n1' };
const n1 = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'host-1' } },
};

describe('local-path objects', () => {
  it('builds the class and a volume as k3s does', () => {
    assert.deepEqual(localPathStorageClass(), {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: {
        name: 'local-path',
        annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
      },
      provisioner: 'rancher.io/local-path',
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
    });
    const pv = provisionedVolume(claim(placed), localPathStorageClass(), n1, BASE);
    assert.deepEqual(pv, {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name: 'pvc-u1',
        annotations: { 'pv.kubernetes.io/provisioned-by': 'rancher.io/local-path' },
      },
      spec: {
        persistentVolumeReclaimPolicy: 'Delete',
        storageClassName: 'local-path',
        accessModes: ['ReadWriteOnce'],
        volumeMode: 'Filesystem',
        capacity: { storage: '2Gi' },
        hostPath: { path: `${BASE}/pvc-u1_apps_data`, type: 'DirectoryOrCreate' },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['host-1'] }] },
            ],
          },
        },
        claimRef: {
          kind: 'PersistentVolumeClaim',
          apiVersion: 'v1',
          namespace: 'apps',
          name: 'data',
          uid: 'u1',
        },
      },
    });
    assert.equal(volumeNode(pv), 'host-1');
    const helper = deleteHelperPod(pv, 'n1', `${BASE}/pvc-u1_apps_data`);
    assert.equal(helper.metadata?.name, 'helper-pod-delete-pvc-u1');
    assert.equal(helper.spec?.nodeName, 'n1');
    assert.deepEqual(helper.spec?.volumes, [
      { name: 'data', hostPath: { path: BASE, type: 'DirectoryOrCreate' } },
    ]);
    assert.deepEqual(helper.spec?.containers[0]?.volumeMounts, [{ name: 'data', mountPath: BASE }]);
  });
});

describe('LocalPathProvisioner', () => {
  let stop: AbortController | undefined;
  afterEach(() => stop?.abort());

  async function setup(
    objects: Array<{ gvr: GroupVersionResource; object: KubeObject }>,
  ): Promise<{ t: FakeControllerContext; p: LocalPathProvisioner }> {
    const t = newFakeControllerContext(undefined, new FakeClient(objects));
    const p = new LocalPathProvisioner(t.ctx, { baseDir: BASE });
    stop = new AbortController();
    await t.start(stop.signal);
    return { t, p };
  }

  it('creates the class only when absent', async () => {
    const mine = { ...localPathStorageClass(), reclaimPolicy: 'Retain', metadata: { name: 'local-path' } };
    const { t, p } = await setup([{ gvr: STORAGECLASSES, object: mine }]);
    await p.ensureStorageClass();
    assert.deepEqual((await t.client.resource(STORAGECLASSES).get('', 'local-path')).reclaimPolicy, 'Retain');
    await t.client.resource(STORAGECLASSES).delete('', 'local-path');
    await p.ensureStorageClass();
    const sc = await t.client.resource(STORAGECLASSES).get('', 'local-path');
    assert.equal(sc.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'], 'true');
  });

  it('provisions a claim once the scheduler chose its node', async () => {
    const { t, p } = await setup([
      { gvr: NODES, object: n1 },
      { gvr: STORAGECLASSES, object: localPathStorageClass() },
      { gvr: PERSISTENTVOLUMECLAIMS, object: claim(asked) },
    ]);
    await p.syncClaim('apps/data');
    assert.equal((await t.client.resource(PERSISTENTVOLUMES).list('')).items.length, 0);
    await t.client.resource(PERSISTENTVOLUMECLAIMS).update('apps', claim(placed));
    await t.settle();
    await p.syncClaim('apps/data');
    const pv = await t.client.resource(PERSISTENTVOLUMES).get('', 'pvc-u1');
    assert.equal(pv.spec?.hostPath?.path, `${BASE}/pvc-u1_apps_data`);
    assert.deepEqual(
      t.events.map((e) => `${e.reason}: ${e.message}`),
      [
        'Provisioning: External provisioner is provisioning volume for claim "apps/data"',
        'ProvisioningSucceeded: Successfully provisioned volume pvc-u1',
      ],
    );
  });

  it('removes a released volume through a helper pod on its node, then the volume', async () => {
    const pv: PersistentVolume = {
      ...provisionedVolume(claim(placed), localPathStorageClass(), n1, BASE),
      status: { phase: 'Released' },
    };
    const { t, p } = await setup([
      { gvr: NODES, object: n1 },
      { gvr: PERSISTENTVOLUMES, object: pv },
    ]);
    await p.syncVolume('pvc-u1');
    const pods = t.client.resource(PODS);
    const helper = await pods.get('kube-system', 'helper-pod-delete-pvc-u1');
    // Pinned to the node by name, found from the hostname label of the volume's affinity.
    assert.equal(helper.spec?.nodeName, 'n1');
    assert.deepEqual(helper.spec?.containers[0]?.env?.[0], {
      name: 'VOL_DIR',
      value: `${BASE}/pvc-u1_apps_data`,
    });

    // A failed helper is reported and replaced on a later sync.
    await pods.updateStatus('kube-system', { ...helper, status: { phase: 'Failed' } } as Pod);
    await t.settle();
    await assert.rejects(p.syncVolume('pvc-u1'), /helper pod kube-system\/helper-pod-delete-pvc-u1 failed/);
    assert.equal(t.events.at(-1)?.reason, 'VolumeFailedDelete');
    await t.settle();
    await p.syncVolume('pvc-u1');
    const again = await pods.get('kube-system', 'helper-pod-delete-pvc-u1');
    await pods.updateStatus('kube-system', { ...again, status: { phase: 'Succeeded' } } as Pod);
    await t.settle();
    await p.syncVolume('pvc-u1');
    assert.equal((await pods.list('kube-system')).items.length, 0);
    assert.equal((await t.client.resource(PERSISTENTVOLUMES).list('')).items.length, 0);
  });

  it('never runs a helper on a directory outside its base', async () => {
    const pv = provisionedVolume(claim(placed), localPathStorageClass(), n1, BASE);
    pv.spec = { ...pv.spec, hostPath: { path: '/etc' } };
    pv.status = { phase: 'Released' };
    const { t, p } = await setup([{ gvr: PERSISTENTVOLUMES, object: pv }]);
    await p.syncVolume('pvc-u1');
    assert.equal((await t.client.resource(PODS).list('kube-system')).items.length, 0);
    assert.equal((await t.client.resource(PERSISTENTVOLUMES).list('')).items.length, 0);
  });
});
