import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../api/generated/types/core-v1.js';
import { makeNode, makePod } from '../testing.js';
import { Cache } from './cache.js';
import { Snapshot } from './snapshot.js';

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
});
