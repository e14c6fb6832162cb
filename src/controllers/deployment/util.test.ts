import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Deployment, ReplicaSet } from '../../api/generated/types/apps-v1.js';
import {
  computeHash,
  equalIgnoreHash,
  maxSurge,
  maxUnavailable,
  newRSNewReplicas,
  replicaSetProportion,
  setNewReplicaSetAnnotations,
} from './util.js';

function dep(replicas: number, surge: number | string, unavailable: number | string): Deployment {
  return {
    metadata: {
      name: 'd',
      annotations: { team: 'a', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
    },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'd' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } },
      template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
    },
  };
}

function rs(replicas: number, annotations: Record<string, string> = {}): ReplicaSet {
  return { metadata: { name: 'r', annotations }, spec: { replicas, selector: {} } };
}

describe('deployment util', () => {
  it('computes a stable, key-order-independent pod-template-hash that changes with collisionCount', () => {
    const t1 = {
      metadata: { labels: { a: '1', b: '2' } },
      spec: { containers: [{ name: 'c', image: 'x' }] },
    };
    const t2 = {
      spec: { containers: [{ image: 'x', name: 'c' }] },
      metadata: { labels: { b: '2', a: '1' } },
    };
    const h = computeHash(t1);
    assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    assert.equal(computeHash(t2), h);
    assert.notEqual(computeHash(t1, 1), h);
    assert.notEqual(computeHash({ ...t1, spec: { containers: [{ name: 'c', image: 'y' }] } }), h);
  });

  it('compares templates ignoring the hash label', () => {
    const a = { metadata: { labels: { app: 'd', 'pod-template-hash': 'abc' } }, spec: { containers: [] } };
    const b = { metadata: { labels: { app: 'd' } }, spec: { containers: [] } };
    assert.equal(equalIgnoreHash(a, b), true);
    assert.equal(equalIgnoreHash(a, { ...b, spec: { containers: [{ name: 'x' }] } }), false);
  });

  const fenceposts: Array<[number, number | string, number | string, number, number]> = [
    [10, '25%', '25%', 3, 2],
    [3, '25%', '25%', 1, 0],
    [4, 1, 1, 1, 1],
    [1, 0, '10%', 0, 1],
    [0, '25%', '25%', 0, 0],
    [5, 2, 10, 2, 5],
  ];
  for (const [replicas, s, u, wantSurge, wantUnavailable] of fenceposts) {
    it(`rounds maxSurge up and maxUnavailable down: ${replicas} ${s}/${u}`, () => {
      const d = dep(replicas, s, u);
      assert.equal(maxSurge(d), wantSurge);
      assert.equal(maxUnavailable(d), wantUnavailable);
    });
  }

  it('limits the new ReplicaSet by maxSurge', () => {
    const d = dep(4, 1, 1);
    assert.equal(newRSNewReplicas(d, [rs(4), rs(0)], rs(0)), 1);
    assert.equal(newRSNewReplicas(d, [rs(3), rs(2)], rs(2)), 2);
    assert.equal(
      newRSNewReplicas(
        { ...d, spec: { ...(d.spec as NonNullable<Deployment['spec']>), strategy: { type: 'Recreate' } } },
        [rs(4)],
        rs(0),
      ),
      4,
    );
  });

  it('scales proportionally using the max-replicas annotation', () => {
    const d = dep(20, 0, 1);
    const old = rs(5, { 'deployment.kubernetes.io/max-replicas': '10' });
    assert.equal(replicaSetProportion(d, old, 10, 0), 5);
    assert.equal(replicaSetProportion(d, old, 3, 0), 3);
  });

  it('sets revision, history and replica annotations, copying the Deployment annotations', () => {
    const d = dep(3, 1, 0);
    const created = rs(0);
    assert.equal(setNewReplicaSetAnnotations(d, created, '1', false), true);
    assert.deepEqual(created.metadata?.annotations, {
      team: 'a',
      'deployment.kubernetes.io/revision': '1',
      'deployment.kubernetes.io/desired-replicas': '3',
      'deployment.kubernetes.io/max-replicas': '4',
    });
    const rolledBack = rs(0, { 'deployment.kubernetes.io/revision': '1', team: 'a' });
    assert.equal(setNewReplicaSetAnnotations(d, rolledBack, '3', true), true);
    assert.equal(rolledBack.metadata?.annotations?.['deployment.kubernetes.io/revision'], '3');
    assert.equal(rolledBack.metadata?.annotations?.['deployment.kubernetes.io/revision-history'], '1');
    assert.equal(setNewReplicaSetAnnotations(d, rolledBack, '3', true), false);
  });
});
