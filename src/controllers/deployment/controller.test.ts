import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Deployment, ReplicaSet } from '../../api/generated/types/apps-v1.js';
import { SharedInformerFactory } from '../../client/cache/informer-factory.js';
import { noopLogger } from '../../client/log.js';
import { DEPLOYMENTS, REPLICASETS } from '../../client/resources.js';
import { FakeClient } from '../../client/testing/fake-client.js';
import { FakeClock } from '../../client/testing/fake-clock.js';
import { DEFAULT_CONTROLLER_OPTIONS } from '../types.js';
import { DeploymentController } from './controller.js';
import { computeHash } from './util.js';

function dep(paused = false): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'ns', uid: 'd-uid', generation: 1 },
    spec: {
      replicas: 3,
      paused,
      progressDeadlineSeconds: 600,
      revisionHistoryLimit: 10,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'c', image: 'nginx' }] },
      },
    },
  };
}

async function setup(d: Deployment, replicaSets: ReplicaSet[] = []) {
  const fake = new FakeClient([
    { gvr: DEPLOYMENTS, object: d },
    ...replicaSets.map((object) => ({ gvr: REPLICASETS, object })),
  ]);
  const clock = new FakeClock();
  const informers = new SharedInformerFactory(fake, { clock });
  const events: string[] = [];
  const ctrl = new DeploymentController({
    client: fake,
    informers,
    recorder: () => ({
      event: (_o, _t, reason, msg) => events.push(`${reason}: ${msg}`),
      annotatedEvent: () => {},
    }),
    clock,
    log: noopLogger,
    options: DEFAULT_CONTROLLER_OPTIONS,
  });
  ctrl.syncHandler = async () => {};
  const ac = new AbortController();
  const run = ctrl.run(ac.signal);
  informers.start(ac.signal);
  await informers.waitForCacheSync();
  const stop = async (): Promise<void> => {
    ac.abort();
    await run;
    await informers.shutdown();
  };
  return { fake, ctrl, events, stop };
}

describe('Deployment controller sync', () => {
  it('creates the new ReplicaSet with hash, revision and replica annotations', async () => {
    const t = await setup(dep());
    await t.ctrl.sync('ns/web');
    const rss = t.fake.tracker.list<ReplicaSet>(REPLICASETS, 'ns').items;
    assert.equal(rss.length, 1);
    const rs = rss[0] as ReplicaSet;
    const hash = rs.metadata?.labels?.['pod-template-hash'] ?? '';
    assert.equal(rs.metadata?.name, `web-${hash}`);
    assert.equal(rs.spec?.replicas, 3);
    assert.equal(rs.spec?.selector.matchLabels?.['pod-template-hash'], hash);
    assert.equal(rs.spec?.template?.metadata?.labels?.['pod-template-hash'], hash);
    assert.deepEqual(rs.metadata?.annotations, {
      'deployment.kubernetes.io/revision': '1',
      'deployment.kubernetes.io/desired-replicas': '3',
      'deployment.kubernetes.io/max-replicas': '4',
    });
    assert.equal(rs.metadata?.ownerReferences?.[0]?.uid, 'd-uid');
    assert.deepEqual(t.events, [`ScalingReplicaSet: Scaled up replica set web-${hash} from 0 to 3`]);
    const d = t.fake.tracker.get<Deployment>(DEPLOYMENTS, 'ns', 'web');
    // The revision annotation travels with the status write (the status subresource keeps
    // annotations upstream; the fake's status update does not, so read the request).
    const write = t.fake.actions().find((a) => a.verb === 'update' && a.subresource === 'status');
    assert.equal(
      (write?.object as Deployment | undefined)?.metadata?.annotations?.['deployment.kubernetes.io/revision'],
      '1',
    );
    const progressing = d.status?.conditions?.find((c) => c.type === 'Progressing');
    assert.equal(progressing?.reason, 'NewReplicaSetCreated');
    assert.equal(progressing?.message, `Created new replica set "web-${hash}"`);
    await t.stop();
  });

  it('does not roll out while paused and records the paused condition', async () => {
    const t = await setup(dep(true));
    await t.ctrl.sync('ns/web');
    assert.equal(t.fake.tracker.list(REPLICASETS, 'ns').items.length, 0);
    const d = t.fake.tracker.get<Deployment>(DEPLOYMENTS, 'ns', 'web');
    const c = d.status?.conditions?.find((x) => x.type === 'Progressing');
    assert.deepEqual(
      [c?.status, c?.reason, c?.message],
      ['Unknown', 'DeploymentPaused', 'Deployment is paused'],
    );
    assert.equal(d.status?.observedGeneration, 1);
    await t.stop();
  });

  // Mid-rollout of a 4-replica Deployment (maxSurge 1, maxUnavailable 1: at least 3
  // available). The old ReplicaSet was just scaled 3 -> 2; `oldAvailable` is what its
  // status says. While it still counts the pod being removed (3), scaling it down further
  // would take availability to 2; once the status caught up (2), one more may go.
  for (const { oldAvailable, wantOld } of [
    { oldAvailable: 3, wantOld: 2 },
    { oldAvailable: 2, wantOld: 1 },
  ]) {
    it(`scales old replicas down from what is available (old status ${oldAvailable} of 2)`, async () => {
      const d = dep();
      d.spec = {
        ...(d.spec as NonNullable<Deployment['spec']>),
        replicas: 4,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
      };
      d.metadata = { ...d.metadata, annotations: { 'deployment.kubernetes.io/revision': '2' } };
      const oldTemplate = structuredClone(d.spec.template);
      (oldTemplate.spec as NonNullable<typeof oldTemplate.spec>).containers = [{ name: 'c', image: 'old' }];
      const owned = (
        name: string,
        template: typeof oldTemplate,
        revision: string,
        replicas: number,
        available: number,
        created: string,
      ): ReplicaSet => {
        const hash = computeHash(template);
        const labels = { app: 'web', 'pod-template-hash': hash };
        return {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: {
            name: `${name}-${hash}`,
            namespace: 'ns',
            uid: `${name}-uid`,
            generation: 3,
            creationTimestamp: created,
            labels,
            annotations: {
              'deployment.kubernetes.io/revision': revision,
              'deployment.kubernetes.io/desired-replicas': '4',
              'deployment.kubernetes.io/max-replicas': '5',
            },
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true },
            ],
          },
          spec: {
            replicas,
            selector: { matchLabels: labels },
            template: { ...template, metadata: { labels } },
          },
          status: {
            replicas: Math.max(replicas, available),
            readyReplicas: available,
            availableReplicas: available,
            observedGeneration: 3,
          },
        };
      };
      const oldRS = owned('old', oldTemplate, '1', 2, oldAvailable, '2024-01-01T00:00:00Z');
      const newRS = owned('new', d.spec.template, '2', 3, 2, '2024-01-01T00:01:00Z');
      const t = await setup(d, [oldRS, newRS]);
      await t.ctrl.sync('ns/web');
      const got = t.fake.tracker.get<ReplicaSet>(REPLICASETS, 'ns', oldRS.metadata?.name ?? '');
      assert.equal(got.spec?.replicas, wantOld);
      assert.equal(
        t.fake.tracker.get<ReplicaSet>(REPLICASETS, 'ns', newRS.metadata?.name ?? '').spec?.replicas,
        3,
      );
      await t.stop();
    });
  }
});
