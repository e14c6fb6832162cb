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

async function setup(d: Deployment) {
  const fake = new FakeClient([{ gvr: DEPLOYMENTS, object: d }]);
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
    assert.deepEqual(t.events, [`ScalingReplicaSet: Scaled up replica set web-${hash} to 3 from 0`]);
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
});
