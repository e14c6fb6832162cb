import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { StatefulSet } from '../../api/generated/types/apps-v1.js';
import type { PersistentVolumeClaim, Pod } from '../../api/generated/types/core-v1.js';
import { PERSISTENTVOLUMECLAIMS, PODS, STATEFULSETS } from '../../client/resources.js';
import { CONTROLLER_REVISIONS } from '../common/controller-history.js';
import { type FakeControllerContext, newFakeControllerContext } from '../common/fake-context.js';
import { StatefulSetController } from './controller.js';

function sts(replicas: number, policy: 'OrderedReady' | 'Parallel' = 'OrderedReady'): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas,
      serviceName: 'nginx',
      podManagementPolicy: policy,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'c', image: 'nginx' }] },
      },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
      volumeClaimTemplates: [
        {
          metadata: { name: 'www' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      ],
    },
  };
}

describe('StatefulSetController', () => {
  let f: FakeControllerContext;
  let ctrl: StatefulSetController;
  let ac: AbortController;
  beforeEach(async () => {
    f = newFakeControllerContext();
    ctrl = new StatefulSetController(f.ctx);
    ac = new AbortController();
    await f.start(ac.signal);
  });
  afterEach(() => ac.abort());

  const pods = (): Pod[] => f.client.tracker.list<Pod>(PODS, 'default').items;
  const makeReady = (name: string): void => {
    const p = f.client.tracker.get<Pod>(PODS, 'default', name);
    p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
    f.client.tracker.update(PODS, 'default', p, true);
  };
  const sync = async (): Promise<void> => {
    await f.settle();
    await ctrl.sync('default/web');
    await f.settle();
  };

  it('creates pods in order, one at a time, with claims and identity', async () => {
    f.client.tracker.create(STATEFULSETS, 'default', sts(3));
    await sync();
    assert.deepEqual(
      pods().map((p) => p.metadata?.name),
      ['web-0'],
    );
    const p0 = pods()[0] as Pod;
    assert.equal(p0.spec?.hostname, 'web-0');
    assert.equal(p0.spec?.subdomain, 'nginx');
    assert.equal(p0.metadata?.labels?.['statefulset.kubernetes.io/pod-name'], 'web-0');
    assert.deepEqual(p0.spec?.volumes, [{ name: 'www', persistentVolumeClaim: { claimName: 'www-web-0' } }]);
    const claim = f.client.tracker.get<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, 'default', 'www-web-0');
    assert.equal(claim.metadata?.ownerReferences?.[0]?.kind, 'StatefulSet');
    await sync();
    assert.equal(pods().length, 1, 'waits for web-0 to be ready');
    f.client.tracker.update(PODS, 'default', { ...(pods()[0] as Pod), status: { phase: 'Pending' } }, true);
    makeReady('web-0');
    await sync();
    assert.deepEqual(
      pods()
        .map((p) => p.metadata?.name)
        .sort(),
      ['web-0', 'web-1'],
    );
    makeReady('web-1');
    await sync();
    makeReady('web-2');
    await sync();
    const set = f.client.tracker.get<StatefulSet>(STATEFULSETS, 'default', 'web');
    assert.equal(set.status?.replicas, 3);
    assert.equal(set.status?.readyReplicas, 3);
    assert.equal(set.status?.updatedReplicas, 3);
    assert.equal(set.status?.currentRevision, set.status?.updateRevision);
    const revs = f.client.tracker.list(CONTROLLER_REVISIONS, 'default').items;
    assert.equal(revs.length, 1);
    assert.equal(revs[0]?.metadata?.name, set.status?.updateRevision);
  });

  it('scales down from the highest ordinal', async () => {
    f.client.tracker.create(STATEFULSETS, 'default', sts(3, 'Parallel'));
    await sync();
    assert.equal(pods().length, 3);
    for (const n of ['web-0', 'web-1', 'web-2']) makeReady(n);
    const set = f.client.tracker.get<StatefulSet>(STATEFULSETS, 'default', 'web');
    f.client.tracker.update(STATEFULSETS, 'default', {
      ...set,
      spec: {
        ...(set.spec as NonNullable<StatefulSet['spec']>),
        replicas: 1,
        podManagementPolicy: 'OrderedReady',
      },
    });
    await sync();
    assert.deepEqual(
      pods()
        .map((p) => p.metadata?.name)
        .sort(),
      ['web-0', 'web-1'],
    );
    await sync();
    assert.deepEqual(
      pods().map((p) => p.metadata?.name),
      ['web-0'],
    );
  });

  it('rolls pods from the highest ordinal on a template change', async () => {
    f.client.tracker.create(STATEFULSETS, 'default', sts(2, 'Parallel'));
    await sync();
    for (const n of ['web-0', 'web-1']) makeReady(n);
    await sync();
    const set = f.client.tracker.get<StatefulSet>(STATEFULSETS, 'default', 'web');
    const spec = JSON.parse(JSON.stringify(set.spec)) as NonNullable<StatefulSet['spec']>;
    (spec.template.spec?.containers[0] as { image: string }).image = 'nginx:2';
    f.client.tracker.update(STATEFULSETS, 'default', { ...set, spec });
    await sync();
    assert.deepEqual(
      pods().map((p) => p.metadata?.name),
      ['web-0'],
      'web-1 deleted first',
    );
    const revs = f.client.tracker.list(CONTROLLER_REVISIONS, 'default').items;
    assert.equal(revs.length, 2);
    await sync();
    const web1 = pods().find((p) => p.metadata?.name === 'web-1');
    assert.equal(web1?.spec?.containers[0]?.image, 'nginx:2');
  });
});
