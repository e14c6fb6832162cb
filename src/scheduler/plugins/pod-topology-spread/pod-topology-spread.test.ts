import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TopologySpreadConstraint } from '../../../api/generated/types/core-v1.js';
import { ClusterListers } from '../../framework/listers.js';
import { makeNode, makePod, pluginFor, runFilter, runScore } from '../../testing.js';
import { newPodTopologySpread } from './pod-topology-spread.js';

const zoneNodes = [
  makeNode('a1', { labels: { zone: 'a' } }),
  makeNode('a2', { labels: { zone: 'a' } }),
  makeNode('b1', { labels: { zone: 'b' } }),
  makeNode('c1', { labels: { zone: 'c' } }),
  makeNode('nozone'),
];
const spread = (o: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint => ({
  maxSkew: 1,
  topologyKey: 'zone',
  whenUnsatisfiable: 'DoNotSchedule',
  labelSelector: { matchLabels: { app: 'web' } },
  ...o,
});
const SKEW = "Unschedulable: node(s) didn't match pod topology spread constraints";
const LABEL =
  "UnschedulableAndUnresolvable: node(s) didn't match pod topology spread constraints (missing required label)";
const web = (name: string, node: string) => makePod(name, { node, labels: { app: 'web' } });

describe('PodTopologySpread filter over zones', () => {
  const cases: {
    name: string;
    c: TopologySpreadConstraint;
    existing: string[];
    want: Record<string, string>;
  }[] = [
    {
      name: 'a has 2, b 1, c 0: only c keeps skew ≤ 1',
      c: spread(),
      existing: ['a1', 'a2', 'b1'],
      want: { a1: SKEW, a2: SKEW, b1: SKEW, c1: '', nozone: LABEL },
    },
    {
      name: 'maxSkew 2 admits b as well',
      c: spread({ maxSkew: 2 }),
      existing: ['a1', 'a2', 'b1'],
      want: { a1: SKEW, a2: SKEW, b1: '', c1: '', nozone: LABEL },
    },
    {
      name: 'minDomains above the domain count makes the global minimum 0',
      c: spread({ maxSkew: 1, minDomains: 4 }),
      existing: ['b1', 'c1', 'a1'],
      want: { a1: SKEW, a2: SKEW, b1: SKEW, c1: SKEW, nozone: LABEL },
    },
    {
      name: 'an empty domain is the global minimum',
      c: spread(),
      existing: ['a1', 'b1'],
      want: { a1: SKEW, a2: SKEW, b1: SKEW, c1: '', nozone: LABEL },
    },
  ];
  for (const t of cases) {
    it(t.name, () => {
      const existing = t.existing.map((n, i) => web(`e${i}`, n));
      const { plugin, snapshot } = pluginFor(newPodTopologySpread, zoneNodes, existing);
      const pod = makePod('p', { labels: { app: 'web' }, spec: { topologySpreadConstraints: [t.c] } });
      assert.deepEqual(Object.fromEntries(runFilter(plugin, pod, snapshot).byNode), t.want);
    });
  }

  it('honors the pod node selector when counting domains', () => {
    const { plugin, snapshot } = pluginFor(newPodTopologySpread, zoneNodes, [web('e0', 'a1')]);
    const pod = makePod('p', {
      labels: { app: 'web' },
      spec: { topologySpreadConstraints: [spread()], nodeSelector: { zone: 'a' } },
    });
    // Only zone a is a domain, so its own count is the minimum: skew 1 + 1 - 1 = 1.
    assert.equal(runFilter(plugin, pod, snapshot).byNode.get('a2'), '');
  });

  it('matchLabelKeys adds the pod label value to the selector', () => {
    const existing = [
      makePod('e0', { node: 'a1', labels: { app: 'web', rev: 'old' } }),
      makePod('e1', { node: 'a2', labels: { app: 'web', rev: 'old' } }),
    ];
    const { plugin, snapshot } = pluginFor(newPodTopologySpread, zoneNodes, existing);
    const pod = makePod('p', {
      labels: { app: 'web', rev: 'new' },
      spec: { topologySpreadConstraints: [spread({ matchLabelKeys: ['rev'] })] },
    });
    assert.equal(runFilter(plugin, pod, snapshot).byNode.get('a1'), '');
  });
});

describe('PodTopologySpread score', () => {
  it('ScheduleAnyway prefers emptier zones', () => {
    const nodes = zoneNodes.slice(0, 4);
    const { plugin, snapshot } = pluginFor(newPodTopologySpread, nodes, [
      web('e0', 'a1'),
      web('e1', 'a2'),
      web('e2', 'b1'),
    ]);
    const pod = makePod('p', {
      labels: { app: 'web' },
      spec: { topologySpreadConstraints: [spread({ whenUnsatisfiable: 'ScheduleAnyway' })] },
    });
    const s = runScore(plugin, pod, snapshot.nodeInfoList);
    assert.ok((s.get('c1') ?? 0) > (s.get('b1') ?? 0));
    assert.ok((s.get('b1') ?? 0) > (s.get('a1') ?? 0));
  });

  it('system default constraints apply to pods selected by a service', () => {
    const listers = new ClusterListers();
    listers.upsert('Service', {
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' } },
    });
    const nodes = [
      makeNode('h1', { labels: { 'topology.kubernetes.io/zone': 'a' } }),
      makeNode('h2', { labels: { 'topology.kubernetes.io/zone': 'b' } }),
    ];
    const existing = [web('e0', 'h1'), web('e1', 'h1'), web('e2', 'h1')];
    const { plugin, snapshot } = pluginFor(newPodTopologySpread, nodes, existing, undefined, listers);
    const s = runScore(plugin, makePod('p', { labels: { app: 'web' } }), snapshot.nodeInfoList);
    assert.ok((s.get('h2') ?? 0) > (s.get('h1') ?? 0));
    // Without a service the pod has no default constraints at all.
    const bare = pluginFor(newPodTopologySpread, nodes, existing);
    assert.deepEqual(
      Object.fromEntries(
        runScore(bare.plugin, makePod('q', { labels: { app: 'web' } }), bare.snapshot.nodeInfoList),
      ),
      { h1: 0, h2: 0 },
    );
  });
});
