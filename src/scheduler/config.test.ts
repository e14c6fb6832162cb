import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSchedulerConfig, loadSchedulerConfig, SchedulerConfigError } from './config.js';

describe('KubeSchedulerConfiguration', () => {
  it('defaults to one default-scheduler profile with upstream v1 plugins and weights', () => {
    const cfg = defaultSchedulerConfig();
    assert.equal(cfg.profiles.length, 1);
    const p = cfg.profiles[0];
    assert.equal(p?.schedulerName, 'default-scheduler');
    assert.deepEqual(
      p?.plugins.filter.map((e) => e.name),
      [
        'NodeUnschedulable',
        'NodeName',
        'TaintToleration',
        'NodeAffinity',
        'NodePorts',
        'NodeResourcesFit',
        'VolumeBinding',
        'PodTopologySpread',
        'InterPodAffinity',
      ],
    );
    assert.deepEqual(Object.fromEntries((p?.plugins.score ?? []).map((e) => [e.name, e.weight])), {
      TaintToleration: 3,
      NodeAffinity: 2,
      NodeResourcesFit: 1,
      PodTopologySpread: 2,
      InterPodAffinity: 2,
      NodeResourcesBalancedAllocation: 1,
      ImageLocality: 1,
    });
    assert.deepEqual(
      p?.plugins.postFilter.map((e) => e.name),
      ['DefaultPreemption'],
    );
    assert.equal(cfg.podInitialBackoffMs, 1000);
    assert.equal(cfg.podMaxBackoffMs, 10000);
  });

  it('parses a second profile with disabled plugins, weights and args', () => {
    const cfg = loadSchedulerConfig(`
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 30
profiles:
  - schedulerName: default-scheduler
  - schedulerName: bin-packer
    plugins:
      score:
        disabled:
          - name: '*'
        enabled:
          - name: NodeResourcesFit
            weight: 5
      filter:
        disabled:
          - name: TaintToleration
    pluginConfig:
      - name: NodeResourcesFit
        args:
          apiVersion: kubescheduler.config.k8s.io/v1
          kind: NodeResourcesFitArgs
          scoringStrategy:
            type: MostAllocated
            resources:
              - name: cpu
                weight: 1
      - name: InterPodAffinity
        args:
          hardPodAffinityWeight: 5
`);
    assert.equal(cfg.percentageOfNodesToScore, 30);
    assert.deepEqual(
      cfg.profiles.map((p) => p.schedulerName),
      ['default-scheduler', 'bin-packer'],
    );
    const bp = cfg.profiles[1];
    assert.deepEqual(bp?.plugins.score, [{ name: 'NodeResourcesFit', weight: 5 }]);
    assert.ok(!bp?.plugins.filter.some((e) => e.name === 'TaintToleration'));
    assert.deepEqual(bp?.pluginArgs.get('NodeResourcesFit'), {
      scoringStrategy: { type: 'MostAllocated', resources: [{ name: 'cpu', weight: 1 }] },
    });
    assert.deepEqual(bp?.pluginArgs.get('InterPodAffinity'), { hardPodAffinityWeight: 5 });
  });

  const invalid: { name: string; yaml: string; error: string }[] = [
    {
      name: 'duplicate scheduler name',
      yaml: 'profiles: [{schedulerName: a}, {schedulerName: a}]',
      error: 'profiles[1].schedulerName: Duplicate value: "a"',
    },
    {
      name: 'percentage out of range',
      yaml: 'percentageOfNodesToScore: 101',
      error: 'percentageOfNodesToScore: Invalid value: 101: not in valid range [0-100]',
    },
    {
      name: 'unknown plugin',
      yaml: 'profiles: [{plugins: {filter: {enabled: [{name: Nope}]}}}]',
      error: 'profiles[0].plugins.filter.enabled: Invalid value: "Nope": plugin does not exist',
    },
    {
      name: 'bad scoring strategy',
      yaml: 'profiles: [{pluginConfig: [{name: NodeResourcesFit, args: {scoringStrategy: {type: Weird}}}]}]',
      error:
        'profiles[0].pluginConfig[0].args.scoringStrategy.type: Unsupported value: "Weird": supported values: "LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"',
    },
    {
      name: 'System defaulting with constraints',
      yaml: 'profiles: [{pluginConfig: [{name: PodTopologySpread, args: {defaultingType: System, defaultConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]}}]}]',
      error: 'when .defaultingType is "System", .defaultConstraints must be empty',
    },
  ];
  for (const c of invalid) {
    it(`rejects ${c.name}`, () => {
      const text = `apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n${c.yaml}\n`;
      assert.throws(
        () => loadSchedulerConfig(text),
        (e: unknown) => e instanceof SchedulerConfigError && e.errors.some((m) => m.includes(c.error)),
      );
    });
  }

  it('rejects another apiVersion', () => {
    assert.throws(
      () => loadSchedulerConfig('apiVersion: v1\nkind: KubeSchedulerConfiguration\n'),
      /no kind "KubeSchedulerConfiguration" is registered for version "v1"/,
    );
  });
});
