import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../api/generated/types/core-v1.js';
import { slowStartBatch } from './controller-ref-manager.js';
import { deleteBefore, getPodsToDelete, isPodAvailable, podDeletionCost } from './pod-ranking.js';

const NOW = Date.UTC(2024, 0, 1, 12, 0, 0);
const iso = (msAgo: number): string => new Date(NOW - msAgo).toISOString().replace(/\.\d+Z$/, 'Z');

function pod(
  name: string,
  o: {
    node?: string;
    phase?: string;
    ready?: boolean;
    readyAgo?: number;
    cost?: string;
    restarts?: number;
    createdAgo?: number;
  } = {},
): Pod {
  return {
    metadata: {
      name,
      uid: name,
      creationTimestamp: iso(o.createdAgo ?? 3_600_000),
      ...(o.cost !== undefined
        ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': o.cost } }
        : {}),
    },
    spec: { containers: [{ name: 'c' }], ...(o.node !== undefined ? { nodeName: o.node } : {}) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [
        {
          type: 'Ready',
          status: o.ready === false ? 'False' : 'True',
          lastTransitionTime: iso(o.readyAgo ?? 3_600_000),
        },
      ],
      containerStatuses: [{ name: 'c', image: 'x', imageID: '', ready: true, restartCount: o.restarts ?? 0 }],
    },
  };
}

describe('ActivePodsWithRanks order', () => {
  const cases: Array<{ name: string; first: Pod; second: Pod; rank?: [number, number] }> = [
    { name: 'unassigned before assigned', first: pod('a'), second: pod('b', { node: 'n' }) },
    {
      name: 'pending before running',
      first: pod('a', { node: 'n', phase: 'Pending' }),
      second: pod('b', { node: 'n' }),
    },
    {
      name: 'unknown before running',
      first: pod('a', { node: 'n', phase: 'Unknown' }),
      second: pod('b', { node: 'n' }),
    },
    {
      name: 'not ready before ready',
      first: pod('a', { node: 'n', ready: false }),
      second: pod('b', { node: 'n' }),
    },
    {
      name: 'lower deletion cost first',
      first: pod('a', { node: 'n', cost: '-5' }),
      second: pod('b', { node: 'n', cost: '10' }),
    },
    {
      name: 'doubled up first',
      first: pod('a', { node: 'n' }),
      second: pod('b', { node: 'm' }),
      rank: [2, 1],
    },
    {
      name: 'recently ready first',
      first: pod('a', { node: 'n', readyAgo: 1000 }),
      second: pod('b', { node: 'n', readyAgo: 3_600_000 }),
    },
    {
      name: 'more restarts first',
      first: pod('a', { node: 'n', restarts: 3 }),
      second: pod('b', { node: 'n' }),
    },
    {
      name: 'newer first',
      first: pod('a', { node: 'n', createdAgo: 1000 }),
      second: pod('b', { node: 'n', createdAgo: 3_600_000 }),
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const [ri, rj] = c.rank ?? [0, 0];
      assert.equal(deleteBefore({ pod: c.first, rank: ri }, { pod: c.second, rank: rj }, NOW), true);
      assert.equal(deleteBefore({ pod: c.second, rank: rj }, { pod: c.first, rank: ri }, NOW), false);
    });
  }

  it('similar ages fall into one logarithmic bucket and tie-break on uid', () => {
    const a = pod('a', { node: 'n', createdAgo: 3_600_000 });
    const b = pod('b', { node: 'n', createdAgo: 3_600_001 });
    assert.equal(deleteBefore({ pod: a, rank: 0 }, { pod: b, rank: 0 }, NOW), true);
  });

  it('getPodsToDelete ranks by siblings on the same node', () => {
    const pods = [pod('a', { node: 'n1' }), pod('b', { node: 'n2' }), pod('c', { node: 'n2' })];
    const picked = getPodsToDelete(pods, pods, 1, NOW);
    assert.equal(picked[0]?.spec?.nodeName, 'n2');
  });
});

describe('pod helpers', () => {
  it('reads the deletion cost', () => {
    assert.equal(podDeletionCost(pod('a', { cost: '42' })), 42);
    assert.equal(podDeletionCost(pod('a', { cost: 'x' })), 0);
    assert.equal(podDeletionCost(pod('a')), 0);
  });
  it('availability honours minReadySeconds', () => {
    const p = pod('a', { readyAgo: 5000 });
    assert.equal(isPodAvailable(p, 0, NOW), true);
    assert.equal(isPodAvailable(p, 4, NOW), true);
    assert.equal(isPodAvailable(p, 10, NOW), false);
  });
});

describe('slowStartBatch', () => {
  it('grows batches 1, 2, 4, … and stops after a failing batch', async () => {
    let calls = 0;
    const all = await slowStartBatch(10, 1, async () => {
      calls++;
    });
    assert.deepEqual(all, { successes: 10 });
    calls = 0;
    const failing = await slowStartBatch(10, 1, async () => {
      calls++;
      if (calls > 3) throw new Error('quota');
    });
    // Batches 1 and 2 succeed; the batch of 4 fails entirely, and nothing more is tried.
    assert.equal(failing.successes, 3);
    assert.equal(calls, 7);
    assert.ok(failing.error instanceof Error);
  });
});
