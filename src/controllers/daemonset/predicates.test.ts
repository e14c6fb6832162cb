import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DaemonSet } from '../../api/generated/types/apps-v1.js';
import type { Node, PodSpec } from '../../api/generated/types/core-v1.js';
import { computeTemplateHash, hashControllerRevision } from '../common/controller-history.js';
import { nodeShouldRunDaemonPod, pinToNode } from './predicates.js';

const ds = (spec: Partial<PodSpec>): DaemonSet => ({
  metadata: { name: 'd', namespace: 'ns' },
  spec: { selector: {}, template: { spec: { containers: [], ...spec } } },
});
const node = (labels: Record<string, string>, taints: NonNullable<Node['spec']>['taints'] = []): Node => ({
  metadata: { name: 'n1', labels },
  spec: { taints },
});

describe('nodeShouldRunDaemonPod', () => {
  const cases: Array<[string, DaemonSet, Node, boolean, boolean]> = [
    ['plain node', ds({}), node({}), true, true],
    ['nodeSelector mismatch', ds({ nodeSelector: { disk: 'ssd' } }), node({}), false, false],
    ['nodeSelector match', ds({ nodeSelector: { disk: 'ssd' } }), node({ disk: 'ssd' }), true, true],
    [
      'untolerated NoSchedule keeps running pods',
      ds({}),
      node({}, [{ key: 'k', effect: 'NoSchedule' }]),
      false,
      true,
    ],
    ['untolerated NoExecute evicts', ds({}), node({}, [{ key: 'k', effect: 'NoExecute' }]), false, false],
    [
      'tolerated taint',
      ds({ tolerations: [{ key: 'k', operator: 'Exists' }] }),
      node({}, [{ key: 'k', effect: 'NoSchedule' }]),
      true,
      true,
    ],
    [
      'default toleration: unschedulable',
      ds({}),
      node({}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]),
      true,
      true,
    ],
    [
      'default toleration: not-ready',
      ds({}),
      node({}, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }]),
      true,
      true,
    ],
    ['affinity pinned elsewhere', ds({ affinity: pinToNode(undefined, 'n2') }), node({}), false, false],
    ['affinity pinned here', ds({ affinity: pinToNode(undefined, 'n1') }), node({}), true, true],
  ];
  for (const [name, d, n, run, cont] of cases) {
    it(name, () =>
      assert.deepEqual(nodeShouldRunDaemonPod(n, d), { shouldRun: run, shouldContinueRunning: cont }),
    );
  }
});

describe('revision hashes', () => {
  it('are stable under key order and change with collisionCount', () => {
    assert.equal(hashControllerRevision({ a: 1, b: [1, 2] }), hashControllerRevision({ b: [1, 2], a: 1 }));
    assert.notEqual(computeTemplateHash({ a: 1 }, 0), computeTemplateHash({ a: 1 }, 1));
    assert.match(computeTemplateHash({ a: 1 }), /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  });
});
