import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Container, Pod } from '../../../api/generated/types/core-v1.js';
import { computePodRequests } from '../../framework/resource.js';
import { makeNode, makePod, pluginFor, runFilter, runScore } from '../../testing.js';
import { newBalancedAllocation } from './balanced-allocation.js';
import { newNodeResourcesFit } from './fit.js';

const c = (name: string, cpu: string, memory: string, restartPolicy?: string): Container => ({
  name,
  resources: { requests: { cpu, memory } },
  restartPolicy,
});

describe('pod requests', () => {
  const cases: { name: string; spec: Partial<NonNullable<Pod['spec']>>; cpu: number; mem: number }[] = [
    {
      name: 'sum of containers',
      spec: { containers: [c('a', '1', '1Gi'), c('b', '500m', '1Gi')] },
      cpu: 1500,
      mem: 2 * 2 ** 30,
    },
    {
      name: 'max of init vs sum (upstream example)',
      spec: {
        initContainers: [c('i1', '2', '1G'), c('i2', '2', '3G')],
        containers: [c('a', '2', '1G'), c('b', '1', '1G')],
      },
      cpu: 3000,
      mem: 3e9,
    },
    {
      name: 'restartable sidecar runs beside later init containers and the app',
      spec: {
        initContainers: [c('side', '1', '1G', 'Always'), c('init', '2', '1G')],
        containers: [c('a', '1', '1G')],
      },
      cpu: 3000,
      mem: 2e9,
    },
    {
      name: 'overhead added',
      spec: { containers: [c('a', '1', '1G')], overhead: { cpu: '250m', memory: '120M' } },
      cpu: 1250,
      mem: 1.12e9,
    },
  ];
  for (const t of cases) {
    it(t.name, () => {
      const r = computePodRequests(makePod('p', { spec: t.spec })).requests;
      assert.equal(r.milliCPU, t.cpu);
      assert.equal(r.memory, t.mem);
    });
  }
});

describe('NodeResourcesFit filter', () => {
  const cases: { name: string; pod: Pod; want: string }[] = [
    { name: 'fits', pod: makePod('p', { cpu: '1', memory: '1Gi' }), want: '' },
    { name: 'insufficient cpu', pod: makePod('p', { cpu: '2' }), want: 'Unschedulable: Insufficient cpu' },
    {
      name: 'both',
      pod: makePod('p', { cpu: '2', memory: '4Gi' }),
      want: 'Unschedulable: Insufficient cpu, Insufficient memory',
    },
    {
      name: 'request above allocatable is unresolvable',
      pod: makePod('p', { cpu: '8' }),
      want: 'UnschedulableAndUnresolvable: Insufficient cpu',
    },
    {
      name: 'extended resource',
      pod: makePod('p', {
        spec: { containers: [{ name: 'c', resources: { requests: { 'example.com/gpu': '2' } } }] },
      }),
      want: 'Unschedulable: Insufficient example.com/gpu',
    },
  ];
  for (const t of cases) {
    it(t.name, () => {
      const node = makeNode('n1', { cpu: '3', memory: '4Gi', extra: { 'example.com/gpu': '2' } });
      const existing = makePod('e', {
        node: 'n1',
        cpu: '1500m',
        memory: '1Gi',
        spec: {
          containers: [
            { name: 'c', resources: { requests: { cpu: '1500m', memory: '1Gi', 'example.com/gpu': '1' } } },
          ],
        },
      });
      const { plugin, snapshot } = pluginFor(newNodeResourcesFit, [node], [existing]);
      assert.equal(runFilter(plugin, t.pod, snapshot).byNode.get('n1'), t.want);
    });
  }

  it('too many pods', () => {
    const { plugin, snapshot } = pluginFor(
      newNodeResourcesFit,
      [makeNode('n1', { pods: '1' })],
      [makePod('e', { node: 'n1' })],
    );
    assert.equal(runFilter(plugin, makePod('p'), snapshot).byNode.get('n1'), 'Unschedulable: Too many pods');
  });
});

describe('NodeResourcesFit and BalancedAllocation scores', () => {
  // Node a: 4 cpu / 8Gi with 1 cpu / 2Gi used; node b: empty.
  const nodes = [makeNode('a', { cpu: '4', memory: '8Gi' }), makeNode('b', { cpu: '4', memory: '8Gi' })];
  const used = [makePod('e', { node: 'a', cpu: '1', memory: '2Gi' })];
  const pod = makePod('p', { cpu: '1', memory: '2Gi' });
  const cases: { name: string; args?: unknown; want: Record<string, number> }[] = [
    { name: 'LeastAllocated (default)', want: { a: 50, b: 75 } },
    { name: 'MostAllocated', args: { scoringStrategy: { type: 'MostAllocated' } }, want: { a: 50, b: 25 } },
    {
      name: 'RequestedToCapacityRatio bin packing',
      args: {
        scoringStrategy: {
          type: 'RequestedToCapacityRatio',
          resources: [{ name: 'cpu', weight: 1 }],
          requestedToCapacityRatio: {
            shape: [
              { utilization: 0, score: 0 },
              { utilization: 100, score: 10 },
            ],
          },
        },
      },
      want: { a: 50, b: 25 },
    },
  ];
  for (const t of cases) {
    it(t.name, () => {
      const { plugin, snapshot } = pluginFor(newNodeResourcesFit, nodes, used, t.args);
      assert.deepEqual(Object.fromEntries(runScore(plugin, pod, snapshot.nodeInfoList)), t.want);
    });
  }

  it('BalancedAllocation prefers equal cpu and memory fractions', () => {
    const { plugin, snapshot } = pluginFor(
      newBalancedAllocation,
      [makeNode('x', { cpu: '4', memory: '4Gi' }), makeNode('y', { cpu: '4', memory: '4Gi' })],
      [makePod('e', { node: 'x', cpu: '2', memory: '0' })],
    );
    const scores = runScore(plugin, makePod('p', { cpu: '1', memory: '1Gi' }), snapshot.nodeInfoList);
    // x: cpu 3/4, mem 1/4 → std 0.25 → 75; y: 1/4 and 1/4 → 100.
    assert.deepEqual(Object.fromEntries(scores), { x: 75, y: 100 });
  });
});
