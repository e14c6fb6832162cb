import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeNode, makePod } from '../testing.js';
import { CycleState, type StateData, StateCache } from './cycle-state.js';
import {
  HOT_ALLOC_CPU,
  HOT_ALLOC_EPHEMERAL,
  HOT_ALLOC_MEMORY,
  HOT_ALLOWED_PODS,
  HOT_NONZERO_CPU,
  HOT_NONZERO_MEMORY,
  HOT_PODS,
  HOT_REQ_CPU,
  HOT_REQ_EPHEMERAL,
  HOT_REQ_MEMORY,
  NodeInfo,
} from './node-info.js';
import { PodInfo } from './pod-info.js';

// The hot copies must always equal what the Resource objects and lists say.
function assertHotInSync(ni: NodeInfo): void {
  assert.deepEqual(
    [...ni.hot],
    [
      ni.allocatable.milliCPU,
      ni.allocatable.memory,
      ni.allocatable.ephemeralStorage,
      ni.allocatable.allowedPodNumber,
      ni.requested.milliCPU,
      ni.requested.memory,
      ni.requested.ephemeralStorage,
      ni.nonZeroRequested.milliCPU,
      ni.nonZeroRequested.memory,
      ni.pods.length,
    ],
  );
}

describe('NodeInfo hot fields', () => {
  it('keeps name, taints, unschedulable and the hot vector in step with every mutation', () => {
    const ni = new NodeInfo();
    const node = makeNode('n1', {
      cpu: '4',
      memory: '16Gi',
      pods: '10',
      extra: { 'ephemeral-storage': '100Gi' },
      taints: [{ key: 'k', effect: 'NoSchedule' }],
      unschedulable: true,
    });
    ni.setNode(node);
    assert.equal(ni.name, 'n1');
    assert.equal(ni.taints.length, 1);
    assert.equal(ni.unschedulable, true);
    assert.equal(ni.hot[HOT_ALLOC_CPU], 4000);
    assert.equal(ni.hot[HOT_ALLOC_MEMORY], 16 * 1024 ** 3);
    assert.equal(ni.hot[HOT_ALLOC_EPHEMERAL], 100 * 1024 ** 3);
    assert.equal(ni.hot[HOT_ALLOWED_PODS], 10);
    assertHotInSync(ni);
    const a = new PodInfo(makePod('a', { cpu: '1', memory: '1Gi' }));
    const b = new PodInfo(makePod('b'));
    ni.addPod(a);
    ni.addPod(b);
    assert.equal(ni.hot[HOT_REQ_CPU], 1000);
    assert.equal(ni.hot[HOT_REQ_MEMORY], 1024 ** 3);
    assert.equal(ni.hot[HOT_REQ_EPHEMERAL], 0);
    // b requests nothing: scoring counts the upstream defaults (100m, 200Mi) for it.
    assert.equal(ni.hot[HOT_NONZERO_CPU], 1100);
    assert.equal(ni.hot[HOT_NONZERO_MEMORY], 1024 ** 3 + 200 * 1024 ** 2);
    assert.equal(ni.hot[HOT_PODS], 2);
    assertHotInSync(ni);
    const copy = ni.clone();
    ni.removePod(a.key);
    assertHotInSync(ni);
    assert.equal(ni.hot[HOT_PODS], 1);
    assertHotInSync(copy);
    assert.equal(copy.hot[HOT_PODS], 2);
    assert.equal(copy.name, 'n1');
    ni.removeNode();
    assert.equal(ni.name, '');
    assert.equal(ni.taints.length, 0);
    assert.equal(ni.unschedulable, false);
    ni.imageStates = new Map([['img:1', { size: 1, numNodes: 1 }]]);
    assert.equal(ni.imageCount, 1);
  });
});

class Value implements StateData {
  constructor(readonly n: number) {}
  clone(): StateData {
    return new Value(this.n);
  }
}

describe('StateCache', () => {
  it('reads the value once per state and again after a write or for another state', () => {
    const cache = new StateCache('k', Value);
    const s1 = new CycleState();
    assert.equal(cache.read(s1), undefined);
    s1.write('k', new Value(1));
    assert.equal(cache.read(s1)?.n, 1);
    s1.write('k', new Value(2));
    assert.equal(cache.read(s1)?.n, 2);
    const s2 = s1.clone();
    s2.write('k', new Value(3));
    assert.equal(cache.read(s2)?.n, 3);
    assert.equal(cache.read(s1)?.n, 2);
    s1.delete('k');
    assert.equal(cache.read(s1), undefined);
    s1.write('k', { clone: () => new Value(0) });
    assert.equal(cache.read(s1), undefined, 'a value of another class reads as absent');
  });
});
