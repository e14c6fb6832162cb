import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeSelectorRequirement, PodSpec } from '../../../api/generated/types/core-v1.js';
import { makeNode, makePod, pluginFor, runFilter, runScore } from '../../testing.js';
import { CycleState } from '../../framework/cycle-state.js';
import { Status } from '../../framework/status.js';
import { type NodeAffinity, newNodeAffinity } from './node-affinity.js';

const required = (...exprs: NodeSelectorRequirement[]): Partial<PodSpec> => ({
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: exprs }] },
    },
  },
});
const REJECT = "UnschedulableAndUnresolvable: node(s) didn't match Pod's node affinity/selector";

describe('NodeAffinity', () => {
  const node = makeNode('n1', { labels: { zone: 'a', gen: '5', ssd: 'true' } });
  const cases: { name: string; spec: Partial<PodSpec>; want: string }[] = [
    { name: 'no constraints', spec: {}, want: '' },
    { name: 'nodeSelector match', spec: { nodeSelector: { zone: 'a' } }, want: '' },
    { name: 'nodeSelector mismatch', spec: { nodeSelector: { zone: 'b' } }, want: REJECT },
    { name: 'In', spec: required({ key: 'zone', operator: 'In', values: ['a', 'b'] }), want: '' },
    { name: 'NotIn', spec: required({ key: 'zone', operator: 'NotIn', values: ['a'] }), want: REJECT },
    { name: 'Exists', spec: required({ key: 'ssd', operator: 'Exists' }), want: '' },
    { name: 'DoesNotExist', spec: required({ key: 'ssd', operator: 'DoesNotExist' }), want: REJECT },
    { name: 'Gt', spec: required({ key: 'gen', operator: 'Gt', values: ['4'] }), want: '' },
    { name: 'Lt', spec: required({ key: 'gen', operator: 'Lt', values: ['5'] }), want: REJECT },
    {
      name: 'Gt on non-integer',
      spec: required({ key: 'zone', operator: 'Gt', values: ['1'] }),
      want: REJECT,
    },
    {
      name: 'selector and affinity are ANDed',
      spec: { nodeSelector: { zone: 'a' }, ...required({ key: 'ssd', operator: 'DoesNotExist' }) },
      want: REJECT,
    },
    {
      name: 'terms are ORed',
      spec: {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'zone', operator: 'In', values: ['x'] }] },
                { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
              ],
            },
          },
        },
      },
      want: '',
    },
  ];
  for (const c of cases) {
    it(`filter: ${c.name}`, () => {
      const { plugin, snapshot } = pluginFor(newNodeAffinity, [node]);
      assert.equal(runFilter(plugin, makePod('p', { spec: c.spec }), snapshot).byNode.get('n1'), c.want);
    });
  }

  it('matchFields metadata.name narrows PreFilter to the named nodes', () => {
    const { plugin } = pluginFor(newNodeAffinity, [makeNode('n1'), makeNode('n2')]);
    const pod = makePod('p', {
      spec: {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] },
              ],
            },
          },
        },
      },
    });
    const r = (plugin as NodeAffinity).preFilter(new CycleState(), pod);
    assert.ok(r !== null && !(r instanceof Status));
    assert.deepEqual([...(r.result.nodeNames ?? [])], ['n2']);
  });

  it('addedAffinity is enforced with its own reason', () => {
    const args = {
      addedAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }],
        },
      },
    };
    const { plugin, snapshot } = pluginFor(newNodeAffinity, [node], [], args);
    assert.equal(
      runFilter(plugin, makePod('p'), snapshot).byNode.get('n1'),
      "UnschedulableAndUnresolvable: node(s) didn't match scheduler-enforced node affinity",
    );
  });

  it('score: preferred weights, normalized to 100', () => {
    const { plugin, snapshot } = pluginFor(newNodeAffinity, [
      makeNode('a', { labels: { zone: 'a', ssd: 'true' } }),
      makeNode('b', { labels: { zone: 'b', ssd: 'true' } }),
      makeNode('c', { labels: { zone: 'c' } }),
    ]);
    const pod = makePod('p', {
      spec: {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 30,
                preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
              },
              { weight: 10, preference: { matchExpressions: [{ key: 'ssd', operator: 'Exists' }] } },
            ],
          },
        },
      },
    });
    assert.deepEqual(Object.fromEntries(runScore(plugin, pod, snapshot.nodeInfoList)), {
      a: 100,
      b: 25,
      c: 0,
    });
  });
});
