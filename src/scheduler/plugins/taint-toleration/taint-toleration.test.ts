import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Taint, Toleration } from '../../../api/generated/types/core-v1.js';
import { makeNode, makePod, pluginFor, runFilter, runScore } from '../../testing.js';
import { newTaintToleration } from './taint-toleration.js';

const cp: Taint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

describe('TaintToleration', () => {
  const cases: { name: string; taints: Taint[]; tols?: Toleration[]; want: string }[] = [
    { name: 'no taints', taints: [], want: '' },
    {
      name: 'untolerated NoSchedule',
      taints: [cp],
      want: 'UnschedulableAndUnresolvable: node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }',
    },
    {
      name: 'tolerated by Exists',
      taints: [cp],
      tols: [{ key: cp.key, operator: 'Exists', effect: 'NoSchedule' }],
      want: '',
    },
    {
      name: 'value mismatch',
      taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }],
      tols: [{ key: 'dedicated', operator: 'Equal', value: 'db' }],
      want: 'UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}',
    },
    { name: 'empty key Exists tolerates all', taints: [cp], tols: [{ operator: 'Exists' }], want: '' },
    {
      name: 'PreferNoSchedule does not filter',
      taints: [{ key: 'a', effect: 'PreferNoSchedule' }],
      want: '',
    },
    {
      name: 'effect mismatch',
      taints: [cp],
      tols: [{ key: cp.key, operator: 'Exists', effect: 'NoExecute' }],
      want: 'UnschedulableAndUnresolvable: node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }',
    },
  ];
  for (const c of cases) {
    it(`filter: ${c.name}`, () => {
      const { plugin, snapshot } = pluginFor(newTaintToleration, [makeNode('n1', { taints: c.taints })]);
      assert.equal(
        runFilter(plugin, makePod('p', { tolerations: c.tols }), snapshot).byNode.get('n1'),
        c.want,
      );
    });
  }

  it('score: fewer intolerable PreferNoSchedule taints score higher (reversed normalization)', () => {
    const soft = (k: string): Taint => ({ key: k, effect: 'PreferNoSchedule' });
    const { plugin, snapshot } = pluginFor(newTaintToleration, [
      makeNode('none'),
      makeNode('one', { taints: [soft('a')] }),
      makeNode('two', { taints: [soft('a'), soft('b')] }),
      makeNode('tolerated', { taints: [soft('c')] }),
    ]);
    const pod = makePod('p', { tolerations: [{ key: 'c', operator: 'Exists' }] });
    assert.deepEqual(Object.fromEntries(runScore(plugin, pod, snapshot.nodeInfoList)), {
      none: 100,
      one: 50,
      two: 0,
      tolerated: 100,
    });
  });
});
