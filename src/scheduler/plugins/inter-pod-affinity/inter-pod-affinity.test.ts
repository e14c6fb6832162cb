import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Affinity, PodAffinityTerm } from '../../../api/generated/types/core-v1.js';
import { ClusterListers } from '../../framework/listers.js';
import { makeNode, makePod, pluginFor, runFilter, runScore } from '../../testing.js';
import { newInterPodAffinity } from './inter-pod-affinity.js';

const term = (
  app: string,
  topologyKey = 'kubernetes.io/hostname',
  extra: Partial<PodAffinityTerm> = {},
): PodAffinityTerm => ({
  labelSelector: { matchLabels: { app } },
  topologyKey,
  ...extra,
});
const nodes = [
  makeNode('n1', { labels: { zone: 'z1' } }),
  makeNode('n2', { labels: { zone: 'z1' } }),
  makeNode('n3', { labels: { zone: 'z2' } }),
];
const AFF = "UnschedulableAndUnresolvable: node(s) didn't match pod affinity rules";
const ANTI = "Unschedulable: node(s) didn't match pod anti-affinity rules";
const EXISTING = "Unschedulable: node(s) didn't satisfy existing pods anti-affinity rules";

describe('InterPodAffinity filter', () => {
  const cases: {
    name: string;
    affinity: Affinity;
    labels?: Record<string, string>;
    existing: { node: string; app: string; affinity?: Affinity; ns?: string }[];
    want: Record<string, string>;
  }[] = [
    {
      name: 'required affinity by zone',
      affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db', 'zone')] } },
      existing: [{ node: 'n2', app: 'db' }],
      want: { n1: '', n2: '', n3: AFF },
    },
    {
      name: 'required affinity, no match anywhere, pod matches itself: first of its group',
      affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web', 'zone')] } },
      labels: { app: 'web' },
      existing: [],
      want: { n1: '', n2: '', n3: '' },
    },
    {
      name: 'required affinity, no match anywhere, pod does not match itself',
      affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db', 'zone')] } },
      existing: [],
      want: { n1: AFF, n2: AFF, n3: AFF },
    },
    {
      name: 'anti-affinity on hostname',
      affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web')] } },
      existing: [{ node: 'n1', app: 'web' }],
      want: { n1: ANTI, n2: '', n3: '' },
    },
    {
      name: 'anti-affinity ignores other namespaces',
      affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web')] } },
      existing: [{ node: 'n1', app: 'web', ns: 'other' }],
      want: { n1: '', n2: '', n3: '' },
    },
    {
      name: 'namespaceSelector selects namespaces by label',
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            term('web', 'kubernetes.io/hostname', { namespaceSelector: { matchLabels: { team: 'x' } } }),
          ],
        },
      },
      existing: [{ node: 'n1', app: 'web', ns: 'other' }],
      want: { n1: ANTI, n2: '', n3: '' },
    },
    {
      name: "existing pod's anti-affinity is symmetric",
      affinity: {},
      labels: { app: 'web' },
      existing: [
        {
          node: 'n3',
          app: 'db',
          affinity: {
            podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web', 'zone')] },
          },
        },
      ],
      want: { n1: '', n2: '', n3: EXISTING },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const listers = new ClusterListers();
      listers.upsert('Namespace', { metadata: { name: 'other', labels: { team: 'x' } } });
      const existing = c.existing.map((e, i) =>
        makePod(`e${i}`, {
          node: e.node,
          namespace: e.ns,
          labels: { app: e.app },
          spec: { affinity: e.affinity },
        }),
      );
      const { plugin, snapshot } = pluginFor(newInterPodAffinity, nodes, existing, undefined, listers);
      const pod = makePod('p', { labels: c.labels, spec: { affinity: c.affinity } });
      assert.deepEqual(Object.fromEntries(runFilter(plugin, pod, snapshot).byNode), c.want);
    });
  }
});

describe('InterPodAffinity score', () => {
  it('preferred affinity and anti-affinity weights by topology', () => {
    const existing = [
      makePod('e1', { node: 'n1', labels: { app: 'cache' } }),
      makePod('e2', { node: 'n3', labels: { app: 'noisy' } }),
    ];
    const { plugin, snapshot } = pluginFor(newInterPodAffinity, nodes, existing);
    const pod = makePod('p', {
      spec: {
        affinity: {
          podAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 10, podAffinityTerm: term('cache', 'zone') },
            ],
          },
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 10, podAffinityTerm: term('noisy', 'zone') },
            ],
          },
        },
      },
    });
    assert.deepEqual(Object.fromEntries(runScore(plugin, pod, snapshot.nodeInfoList)), {
      n1: 100,
      n2: 100,
      n3: 0,
    });
  });
});
