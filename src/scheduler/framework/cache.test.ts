import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../api/generated/types/core-v1.js';
import { makeNode, makePod } from '../testing.js';
import { Cache } from './cache.js';
import type { NodeInfo } from './node-info.js';
import { memoSlot } from './node-info.js';
import { type Contribution, NO_CONTRIBUTION, Snapshot } from './snapshot.js';

const on = (p: Pod, node: string): Pod => ({
  ...p,
  spec: { ...(p.spec ?? { containers: [] }), nodeName: node },
});

describe('Cache and Snapshot', () => {
  it('assumed pods count immediately, are confirmed by the informer, and forgotten on failure', () => {
    const cache = new Cache();
    cache.addNode(makeNode('n1'));
    const snap = new Snapshot();
    const p = on(makePod('p', { cpu: '1' }), 'n1');
    cache.assumePod(p);
    cache.updateSnapshot(snap);
    assert.equal(snap.get('n1')?.requested.milliCPU, 1000);
    assert.equal(cache.isAssumedPod(p), true);
    cache.addPod(p);
    assert.equal(cache.isAssumedPod(p), false);
    const q = on(makePod('q', { cpu: '500m' }), 'n1');
    cache.assumePod(q);
    cache.forgetPod(q);
    cache.updateSnapshot(snap);
    assert.equal(snap.get('n1')?.requested.milliCPU, 1000);
  });

  it('expires assumed pods whose binding finished when a TTL is set', () => {
    const cache = new Cache({ assumedPodTTLMs: 1000 });
    cache.addNode(makeNode('n1'));
    const p = on(makePod('p'), 'n1');
    cache.assumePod(p);
    cache.finishBinding(p, 0);
    assert.deepEqual(cache.cleanupAssumedPods(999), []);
    assert.equal(cache.cleanupAssumedPods(1000).length, 1);
    assert.equal(cache.podCount(), 0);
  });

  it('updates the snapshot incrementally and keeps NodeInfo identity', () => {
    const cache = new Cache();
    for (let i = 0; i < 50; i++)
      cache.addNode(makeNode(`n${i}`, { labels: { 'topology.kubernetes.io/zone': `z${i % 2}` } }));
    const snap = new Snapshot();
    cache.updateSnapshot(snap);
    assert.equal(snap.numNodes, 50);
    // Zone-interleaved order: z0, z1, z0, ...
    assert.deepEqual(
      snap.nodeInfoList.slice(0, 3).map((n) => n.name),
      ['n0', 'n1', 'n2'],
    );
    const n7 = snap.get('n7');
    const before = snap.get('n3');
    cache.addPod(on(makePod('p', { cpu: '2' }), 'n7'));
    cache.updateSnapshot(snap);
    assert.equal(snap.get('n7'), n7);
    assert.equal(n7?.requested.milliCPU, 2000);
    assert.equal(snap.get('n3'), before);
    cache.removeNode(makeNode('n3'));
    cache.updateSnapshot(snap);
    assert.equal(snap.numNodes, 49);
    assert.equal(snap.get('n3'), undefined);
  });

  it('tracks pods with affinity for the derived lists', () => {
    const cache = new Cache();
    cache.addNode(makeNode('n1'));
    cache.addNode(makeNode('n2'));
    const snap = new Snapshot();
    cache.updateSnapshot(snap);
    assert.equal(snap.havePodsWithRequiredAntiAffinityList.length, 0);
    const anti = on(
      makePod('a', {
        spec: {
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { x: 'y' } } },
              ],
            },
          },
        },
      }),
      'n2',
    );
    cache.addPod(anti);
    cache.updateSnapshot(snap);
    assert.deepEqual(
      snap.havePodsWithRequiredAntiAffinityList.map((n) => n.name),
      ['n2'],
    );
  });

  it('snapshot aggregates follow pod, label and node-set changes incrementally', () => {
    const zone = (z: string) => ({ labels: { 'topology.kubernetes.io/zone': z } });
    const cache = new Cache();
    cache.addNode(makeNode('n1', zone('a')));
    cache.addNode(makeNode('n2', zone('b')));
    const snap = new Snapshot();
    let calls = 0;
    // Pods per zone, counting how many nodes had to be walked.
    const perZone = (ni: NodeInfo): Contribution => {
      calls++;
      const z = ni.node?.metadata?.labels?.['topology.kubernetes.io/zone'];
      return z === undefined || ni.pods.length === 0 ? NO_CONTRIBUTION : new Map([[z, ni.pods.length]]);
    };
    const slot = memoSlot('test-pods-per-zone');
    const p1 = on(makePod('p1'), 'n1');
    const read = () => Object.fromEntries([...snap.totals(slot, perZone)].sort());
    const steps: { name: string; act: () => void; want: Record<string, number>; walked: number }[] = [
      { name: 'first read walks every node', act: () => {}, want: {}, walked: 2 },
      {
        name: 'a bound pod re-walks its node only',
        act: () => cache.addPod(p1),
        want: { a: 1 },
        walked: 1,
      },
      { name: 'nothing changed', act: () => {}, want: { a: 1 }, walked: 0 },
      {
        name: 'a relabeled node moves its pods',
        act: () => cache.updateNode(undefined, makeNode('n1', zone('b'))),
        want: { b: 1 },
        walked: 1,
      },
      {
        name: 'a deleted pod leaves the totals',
        act: () => cache.removePod(p1),
        want: {},
        walked: 1,
      },
      {
        name: 'a new node rebuilds from scratch',
        act: () => {
          cache.addPod(on(makePod('p2'), 'n2'));
          cache.addNode(makeNode('n3', zone('c')));
        },
        want: { b: 1 },
        walked: 3,
      },
    ];
    for (const st of steps) {
      st.act();
      cache.updateSnapshot(snap);
      calls = 0;
      assert.deepEqual(read(), st.want, st.name);
      assert.equal(calls, st.walked, `${st.name}: nodes walked`);
    }
  });
});
