import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReplicaSet } from '../../api/generated/types/apps-v1.js';
import type { Pod } from '../../api/generated/types/core-v1.js';
import { resourceFor } from '../../api/registry.js';
import type { ResourceInfo } from '../../api/registry-types.js';
import { SharedInformerFactory } from '../../client/cache/informer-factory.js';
import type { KubeObject } from '../../client/interface.js';
import { noopLogger } from '../../client/log.js';
import { PODS, REPLICASETS } from '../../client/resources.js';
import { FakeClient } from '../../client/testing/fake-client.js';
import { FakeClock } from '../../client/testing/fake-clock.js';
import { DEFAULT_CONTROLLER_OPTIONS } from '../types.js';
import { collectableResources, GarbageCollector } from './controller.js';

const RESOURCES = [
  resourceFor('', 'v1', 'pods'),
  resourceFor('apps', 'v1', 'replicasets'),
  resourceFor('', 'v1', 'events'),
].filter((r): r is ResourceInfo => r !== undefined);

function setup(objects: Array<{ gvr: typeof PODS | typeof REPLICASETS; object: KubeObject }>) {
  const fake = new FakeClient(objects);
  const clock = new FakeClock();
  const gc = new GarbageCollector(
    {
      client: fake,
      informers: new SharedInformerFactory(fake, { clock }),
      recorder: () => ({ event: () => {}, annotatedEvent: () => {} }),
      clock,
      log: noopLogger,
      options: DEFAULT_CONTROLLER_OPTIONS,
    },
    RESOURCES,
  );
  // Feed the graph from the fake's current contents, as the informers would.
  const observeAll = (): void => {
    for (const p of fake.tracker.list<Pod>(PODS, '').items) gc.observe(p);
    for (const r of fake.tracker.list<ReplicaSet>(REPLICASETS, '').items) gc.observe(r);
  };
  // Processes every queued item until both queues are empty.
  const drain = async (): Promise<void> => {
    for (let i = 0; i < 50; i++) {
      if (gc.attemptToDelete.len() === 0 && gc.attemptToOrphan.len() === 0) return;
      for (const [q, fn] of [
        [gc.attemptToDelete, (u: string) => gc.processDelete(u)],
        [gc.attemptToOrphan, (u: string) => gc.processOrphan(u)],
      ] as const) {
        while (q.len() > 0) {
          const r = await q.get();
          if (r.shutdown) return;
          await fn(r.item);
          q.done(r.item);
        }
      }
      observeAll();
    }
  };
  return { fake, gc, observeAll, drain };
}

const owner: ReplicaSet = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name: 'rs', namespace: 'ns', uid: 'rs-uid' },
  spec: { selector: {} },
};

function dependent(name: string, ownerUID = 'rs-uid'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'ns',
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'rs',
          uid: ownerUID,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { containers: [] },
  };
}

describe('garbage collector', () => {
  it('ignores events and resources it cannot list, watch and delete', () => {
    assert.deepEqual(
      collectableResources(RESOURCES)
        .map((r) => r.plural)
        .sort(),
      ['pods', 'replicasets'],
    );
  });

  it('deletes a dependent whose owner is gone (verified by a live GET)', async () => {
    const t = setup([{ gvr: PODS, object: dependent('p1', 'gone-uid') }]);
    t.observeAll();
    assert.equal(t.gc.node('gone-uid')?.virtual, true);
    await t.drain();
    assert.equal(t.fake.tracker.list(PODS, 'ns').items.length, 0);
    assert.ok(
      t.fake
        .actions()
        .some((a) => a.verb === 'get' && a.resource.resource === 'replicasets' && a.name === 'rs'),
    );
  });

  it('keeps a dependent whose owner exists', async () => {
    const t = setup([
      { gvr: REPLICASETS, object: owner },
      { gvr: PODS, object: dependent('p1') },
    ]);
    t.observeAll();
    await t.drain();
    assert.equal(t.fake.tracker.list(PODS, 'ns').items.length, 1);
  });

  it('orphans dependents of an owner with the orphan finalizer, then removes the finalizer', async () => {
    const t = setup([
      { gvr: REPLICASETS, object: { ...owner, metadata: { ...owner.metadata, finalizers: ['orphan'] } } },
      { gvr: PODS, object: dependent('p1') },
    ]);
    await t.fake.resource(REPLICASETS).delete('ns', 'rs');
    t.observeAll();
    await t.drain();
    const pod = t.fake.tracker.get<Pod>(PODS, 'ns', 'p1');
    assert.deepEqual(pod.metadata?.ownerReferences ?? [], []);
    assert.equal(t.fake.tracker.list(REPLICASETS, 'ns').items.length, 0);
  });

  it('deletes blocking dependents first in foreground deletion, then releases the owner', async () => {
    const t = setup([
      {
        gvr: REPLICASETS,
        object: { ...owner, metadata: { ...owner.metadata, finalizers: ['foregroundDeletion'] } },
      },
      { gvr: PODS, object: dependent('p1') },
      { gvr: PODS, object: dependent('p2') },
    ]);
    await t.fake.resource(REPLICASETS).delete('ns', 'rs');
    t.observeAll();
    assert.equal(t.gc.node('rs-uid')?.deletingDependents, true);
    await t.drain();
    // The fake tracker does not send DELETED to the graph by itself: tell it what went.
    for (const uid of [...(t.gc.node('rs-uid')?.dependents ?? [])].map((d) => d.uid)) {
      if (t.fake.tracker.list<Pod>(PODS, 'ns').items.every((p) => p.metadata?.uid !== uid)) t.gc.forget(uid);
    }
    await t.drain();
    assert.equal(t.fake.tracker.list(PODS, 'ns').items.length, 0);
    assert.equal(t.fake.tracker.list(REPLICASETS, 'ns').items.length, 0);
  });

  it("takes an object's kind from its resource when it is PartialObjectMetadata", () => {
    const { gc } = setup([]);
    gc.observe(
      {
        apiVersion: 'meta.k8s.io/v1',
        kind: 'PartialObjectMetadata',
        metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
      },
      { apiVersion: 'v1', kind: 'Pod' },
    );
    const node = gc.node('u1');
    assert.deepEqual([node?.apiVersion, node?.kind, node?.name], ['v1', 'Pod', 'p']);
  });
});
