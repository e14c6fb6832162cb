import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReplicaSet } from '../../api/generated/types/apps-v1.js';
import type { Pod } from '../../api/generated/types/core-v1.js';
import { SharedInformerFactory } from '../../client/cache/informer-factory.js';
import { noopLogger } from '../../client/log.js';
import { PODS, REPLICASETS } from '../../client/resources.js';
import { FakeClient } from '../../client/testing/fake-client.js';
import { FakeClock } from '../../client/testing/fake-clock.js';
import { conflict } from '../../machinery/status-error.js';
import { DEFAULT_CONTROLLER_OPTIONS } from '../types.js';
import { ReplicaSetController } from './controller.js';
import { REPLICASET_KIND } from './index.js';

function rs(replicas: number): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web', namespace: 'ns', generation: 1 },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'c', image: 'nginx' }] },
      },
    },
  };
}

function orphan(name: string, labels: Record<string, string>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ns', labels },
    spec: { containers: [{ name: 'c' }] },
  };
}

async function setup(objects: Array<{ gvr: typeof PODS | typeof REPLICASETS; object: Pod | ReplicaSet }>) {
  const fake = new FakeClient(objects);
  const clock = new FakeClock();
  const informers = new SharedInformerFactory(fake, { clock });
  const events: string[] = [];
  const ctrl = new ReplicaSetController(
    {
      client: fake,
      informers,
      recorder: () => ({
        event: (_o, _t, reason, msg) => events.push(`${reason}: ${msg}`),
        annotatedEvent: () => {},
      }),
      clock,
      log: noopLogger,
      options: DEFAULT_CONTROLLER_OPTIONS,
    },
    REPLICASET_KIND,
  );
  const ac = new AbortController();
  // Registering handlers happens synchronously in run; the test drives sync itself.
  ctrl.syncHandler = async () => {};
  const run = ctrl.run(ac.signal);
  informers.start(ac.signal);
  await informers.waitForCacheSync();
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  const stop = async (): Promise<void> => {
    ac.abort();
    await run;
    await informers.shutdown();
  };
  return { fake, ctrl, events, settle, stop };
}

describe('ReplicaSet controller sync', () => {
  it('creates the missing pods from the template with a controller reference', async () => {
    const t = await setup([{ gvr: REPLICASETS, object: rs(3) }]);
    await t.ctrl.sync('ns/web');
    const pods = t.fake.tracker.list<Pod>(PODS, 'ns').items;
    assert.equal(pods.length, 3);
    for (const p of pods) {
      assert.match(p.metadata?.name ?? '', /^web-[a-z0-9]{5}$/);
      assert.deepEqual(p.metadata?.labels, { app: 'web' });
      const ref = p.metadata?.ownerReferences?.[0];
      assert.equal(ref?.kind, 'ReplicaSet');
      assert.equal(ref?.controller, true);
      assert.equal(ref?.blockOwnerDeletion, true);
    }
    assert.equal(t.events.filter((e) => e.startsWith('SuccessfulCreate: Created pod: web-')).length, 3);
    // Expectations are met once the informer has seen the pods.
    await t.settle();
    assert.equal(t.ctrl.expectations.satisfiedExpectations('ns/web'), true);
    await t.ctrl.sync('ns/web');
    const status = t.fake.tracker.get<ReplicaSet>(REPLICASETS, 'ns', 'web').status;
    assert.equal(status?.replicas, 3);
    assert.equal(status?.fullyLabeledReplicas, 3);
    // Zero counts are left out, as Go's omitempty does upstream.
    assert.equal(status?.readyReplicas, undefined);
    assert.equal(status?.observedGeneration, 1);
    await t.stop();
  });

  it('adopts matching orphans and releases nothing else', async () => {
    const t = await setup([
      { gvr: REPLICASETS, object: rs(2) },
      { gvr: PODS, object: orphan('o1', { app: 'web' }) },
      { gvr: PODS, object: orphan('o2', { app: 'other' }) },
    ]);
    await t.ctrl.sync('ns/web');
    const o1 = t.fake.tracker.get<Pod>(PODS, 'ns', 'o1');
    const o2 = t.fake.tracker.get<Pod>(PODS, 'ns', 'o2');
    assert.equal(o1.metadata?.ownerReferences?.[0]?.name, 'web');
    assert.equal(o2.metadata?.ownerReferences, undefined);
    // One adopted + one created.
    assert.equal(t.fake.tracker.list<Pod>(PODS, 'ns', { labelSelector: 'app=web' }).items.length, 2);
    await t.stop();
  });

  it('deletes surplus pods, unscheduled ones first', async () => {
    const t = await setup([{ gvr: REPLICASETS, object: rs(3) }]);
    await t.ctrl.sync('ns/web');
    await t.settle();
    const pods = t.fake.tracker.list<Pod>(PODS, 'ns').items;
    // Two pods are scheduled and running; one stays unscheduled.
    for (const p of pods.slice(0, 2)) {
      t.fake.tracker.update(PODS, 'ns', {
        ...p,
        spec: { ...p.spec, containers: p.spec?.containers ?? [], nodeName: 'n1' },
        status: { phase: 'Running' },
      });
    }
    const current = t.fake.tracker.get<ReplicaSet>(REPLICASETS, 'ns', 'web');
    t.fake.tracker.update(REPLICASETS, 'ns', {
      ...current,
      spec: { ...(current.spec ?? rs(1).spec), replicas: 2 } as ReplicaSet['spec'],
    });
    await t.settle();
    await t.ctrl.sync('ns/web');
    const left = t.fake.tracker.list<Pod>(PODS, 'ns').items;
    assert.equal(left.length, 2);
    assert.ok(left.every((p) => p.spec?.nodeName === 'n1'));
    assert.equal(t.events.filter((e) => e.startsWith('SuccessfulDelete')).length, 1);
    await t.stop();
  });

  it('creates at most burstReplicas pods per sync', async () => {
    const t = await setup([{ gvr: REPLICASETS, object: rs(10) }]);
    t.ctrl.burstReplicas = 4;
    await t.ctrl.sync('ns/web');
    assert.equal(t.fake.tracker.list<Pod>(PODS, 'ns').items.length, 4);
    await t.stop();
  });

  it('reports a ReplicaFailure condition when creation fails', async () => {
    const t = await setup([{ gvr: REPLICASETS, object: rs(2) }]);
    t.fake.prependReactor('create', 'pods', () => {
      throw new Error('pods "x" is forbidden: exceeded quota');
    });
    await assert.rejects(t.ctrl.sync('ns/web'), /exceeded quota/);
    const cond = t.fake.tracker.get<ReplicaSet>(REPLICASETS, 'ns', 'web').status?.conditions?.[0];
    assert.equal(cond?.type, 'ReplicaFailure');
    assert.equal(cond?.reason, 'FailedCreate');
    // Slow start: the first batch of one failed, so only one creation was attempted.
    assert.equal(
      t.fake.actions().filter((a) => a.verb === 'create' && a.resource.resource === 'pods').length,
      1,
    );
    await t.stop();
  });

  it('keeps the acted-on generation as observedGeneration when a status write is retried', async () => {
    const t = await setup([{ gvr: REPLICASETS, object: rs(2) }]);
    await t.ctrl.sync('ns/web');
    await t.settle();
    // The status write conflicts with a scale-down to 1 (generation 2) this sync never saw.
    let conflicted = false;
    t.fake.prependReactor('update', 'replicasets', (a) => {
      if (a.subresource !== 'status' || conflicted) return undefined;
      conflicted = true;
      const cur = t.fake.tracker.get<ReplicaSet>(REPLICASETS, 'ns', 'web');
      t.fake.tracker.update(REPLICASETS, 'ns', {
        ...cur,
        metadata: { ...cur.metadata, generation: 2 },
        spec: { ...(cur.spec ?? rs(1).spec), replicas: 1 } as ReplicaSet['spec'],
      });
      throw conflict({ group: 'apps', resource: 'replicasets' }, 'web', 'the object has been modified');
    });
    await t.ctrl.sync('ns/web');
    assert.equal(conflicted, true);
    const got = t.fake.tracker.get<ReplicaSet>(REPLICASETS, 'ns', 'web');
    assert.equal(got.spec?.replicas, 1);
    // Two pods counted for generation 1: claiming generation 2 would say the scale-down is done.
    assert.equal(got.status?.replicas, 2);
    assert.equal(got.status?.observedGeneration, 1);
    await t.stop();
  });
});
