import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QueuedPodInfo } from '../framework/interfaces.js';
import { PodInfo } from '../framework/pod-info.js';
import { makeNode, makePod, pluginFor, runFilter, runScore } from '../testing.js';
import { newImageLocality } from './image-locality/image-locality.js';
import { newNodeName } from './node-name/node-name.js';
import { newNodeUnschedulable } from './node-unschedulable/node-unschedulable.js';
import { PrioritySort } from './priority-sort/priority-sort.js';
import { SchedulingGates } from './scheduling-gates/scheduling-gates.js';

describe('NodeName', () => {
  it('fits only the named node', () => {
    const { plugin, snapshot } = pluginFor(newNodeName, [makeNode('a'), makeNode('b')]);
    const r = runFilter(plugin, makePod('p', { spec: { nodeName: 'b' } }), snapshot).byNode;
    assert.deepEqual(Object.fromEntries(r), {
      a: "UnschedulableAndUnresolvable: node(s) didn't match the requested node name",
      b: '',
    });
  });
});

describe('NodeUnschedulable', () => {
  const cases = [
    { name: 'schedulable node', unschedulable: false, tolerate: false, want: '' },
    {
      name: 'cordoned node',
      unschedulable: true,
      tolerate: false,
      want: 'UnschedulableAndUnresolvable: node(s) were unschedulable',
    },
    { name: 'cordoned but tolerated', unschedulable: true, tolerate: true, want: '' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { plugin, snapshot } = pluginFor(newNodeUnschedulable, [
        makeNode('n', { unschedulable: c.unschedulable }),
      ]);
      const tolerations = c.tolerate
        ? [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }]
        : undefined;
      assert.equal(runFilter(plugin, makePod('p', { tolerations }), snapshot).byNode.get('n'), c.want);
    });
  }
});

describe('SchedulingGates', () => {
  it('gates pods until their gates are gone', () => {
    const g = new SchedulingGates();
    assert.equal(g.preEnqueue(makePod('p')), null);
    const s = g.preEnqueue(makePod('p', { spec: { schedulingGates: [{ name: 'a' }, { name: 'b' }] } }));
    assert.equal(s?.message(), 'waiting for scheduling gates: [a b]');
  });
});

describe('PrioritySort', () => {
  const q = (priority: number, timestamp: number): QueuedPodInfo => ({
    podInfo: new PodInfo(makePod('p', { priority })),
    timestamp,
    attempts: 0,
    initialAttemptTimestamp: undefined,
    unschedulablePlugins: new Set(),
    pendingPlugins: new Set(),
    gated: false,
    gatingPlugin: undefined,
  });
  it('orders by priority, then by age', () => {
    const s = new PrioritySort();
    assert.equal(s.less(q(10, 5), q(1, 1)), true);
    assert.equal(s.less(q(1, 1), q(1, 2)), true);
    assert.equal(s.less(q(1, 2), q(1, 1)), false);
  });
});

describe('ImageLocality', () => {
  it('prefers nodes that have the image, by size and spread', () => {
    const big = { names: ['docker.io/library/app:1'], sizeBytes: 500 * 1024 * 1024 };
    const nodes = [makeNode('with', { images: [big] }), makeNode('without')];
    const { plugin, snapshot } = pluginFor(newImageLocality, nodes);
    for (const ni of snapshot.nodeInfoList) {
      // Snapshot.fromObjects does not compute image states; emulate the cache's summary.
      if (ni.name === 'with')
        ni.imageStates = new Map([['docker.io/library/app:1', { size: big.sizeBytes, numNodes: 1 }]]);
    }
    const pod = makePod('p', { spec: { containers: [{ name: 'c', image: 'docker.io/library/app:1' }] } });
    const s = runScore(plugin, pod, snapshot.nodeInfoList);
    assert.equal(s.get('without'), 0);
    assert.equal(s.get('with'), 23);
  });
});
