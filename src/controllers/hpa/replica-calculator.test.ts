import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../api/generated/types/core-v1.js';
import {
  calculatePodRequests,
  groupPods,
  plainMetricReplicas,
  type PodMetricsInfo,
  type ReplicaCalculatorOptions,
  resourceReplicas,
} from './replica-calculator.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const OPTS: ReplicaCalculatorOptions = {
  tolerance: 0.1,
  cpuInitializationPeriodMs: 2 * 60_000,
  delayOfInitialReadinessStatusMs: 10_000,
};

interface PodSpec {
  ready?: boolean;
  phase?: string;
  /** Milli-CPU request ('' for none). */
  request?: number | '';
  /** Started this long before NOW (default: long ago, past the initialization period). */
  startedAgoMs?: number;
  deleting?: boolean;
}

function pods(specs: PodSpec[]): Pod[] {
  return specs.map((s, i) => {
    const started = NOW - (s.startedAgoMs ?? 10 * 60_000);
    const req = s.request ?? 1000;
    return {
      metadata: {
        name: `p${i}`,
        namespace: 'ns',
        ...(s.deleting ? { deletionTimestamp: '2024-05-01T11:59:00Z' } : {}),
      },
      spec: {
        containers: [{ name: 'c', resources: req === '' ? {} : { requests: { cpu: `${req}m` } } }],
      },
      status: {
        phase: s.phase ?? 'Running',
        startTime: new Date(started).toISOString(),
        conditions: [
          {
            type: 'Ready',
            status: s.ready === false ? 'False' : 'True',
            lastTransitionTime: new Date(started + 5_000).toISOString(),
          },
        ],
      },
    } as Pod;
  });
}

function metrics(values: (number | undefined)[]): PodMetricsInfo {
  const m: PodMetricsInfo = new Map();
  values.forEach((v, i) => {
    if (v !== undefined) m.set(`p${i}`, { timestampMs: NOW - 1000, windowMs: 30_000, value: v });
  });
  return m;
}

// Cases after upstream's replica_calculator_test.go (TestReplicaCalc*), recomputed by hand.
const UTILIZATION_CASES: {
  name: string;
  current: number;
  pods: PodSpec[];
  usage: (number | undefined)[];
  target: number;
  want: [replicas: number, utilization: number, raw: number];
}[] = [
  {
    name: 'scale up',
    current: 3,
    pods: [{}, {}, {}],
    usage: [300, 500, 700],
    target: 30,
    want: [5, 50, 500],
  },
  {
    name: 'scale up with an unready pod scales less (unready counts as 0)',
    current: 3,
    pods: [{ ready: false, startedAgoMs: 30_000 }, {}, {}],
    usage: [300, 500, 700],
    target: 30,
    want: [4, 60, 600],
  },
  {
    name: 'failed pods are ignored',
    current: 2,
    pods: [{}, {}, { phase: 'Failed' }, { phase: 'Failed' }],
    usage: [500, 700, 300, 600],
    target: 30,
    want: [4, 60, 600],
  },
  {
    name: 'deleted pods are ignored',
    current: 2,
    pods: [{}, {}, { deleting: true }],
    usage: [500, 700, 100],
    target: 30,
    want: [4, 60, 600],
  },
  {
    name: 'scale down',
    current: 5,
    pods: [{}, {}, {}, {}, {}],
    usage: [100, 300, 500, 250, 250],
    target: 50,
    want: [3, 28, 280],
  },
  {
    name: 'within tolerance nothing changes',
    current: 3,
    pods: [{}, {}, {}],
    usage: [1050, 1000, 950],
    target: 100,
    want: [3, 100, 1000],
  },
  {
    name: 'missing pods count as 0 on a scale up',
    current: 4,
    pods: [{}, {}, {}, {}],
    usage: [900, 1000, 1100, undefined],
    target: 50,
    want: [6, 100, 1000],
  },
  {
    name: 'missing pods count as their request on a scale down',
    current: 4,
    pods: [{}, {}, {}, {}],
    usage: [100, 100, 100, undefined],
    target: 50,
    want: [3, 10, 100],
  },
  {
    name: 'missing pods that would reverse the direction keep the count',
    current: 2,
    pods: [{}, {}],
    usage: [560, undefined],
    target: 50,
    want: [2, 56, 560],
  },
  {
    name: 'pending pods do not count on a scale down',
    current: 3,
    pods: [{}, {}, { phase: 'Pending' }],
    usage: [100, 100, undefined],
    target: 50,
    want: [1, 10, 100],
  },
];

describe('resourceReplicas', () => {
  for (const c of UTILIZATION_CASES) {
    it(c.name, () => {
      const r = resourceReplicas({
        currentReplicas: c.current,
        targetUtilization: c.target,
        resource: 'cpu',
        container: '',
        pods: pods(c.pods),
        metrics: metrics(c.usage),
        options: OPTS,
        nowMs: NOW,
      });
      assert.deepEqual([r.replicas, r.utilization, r.rawUtilization], c.want);
    });
  }

  it('fails without pods, without samples, and without requests (upstream messages)', () => {
    const base = {
      currentReplicas: 1,
      targetUtilization: 50,
      resource: 'cpu',
      container: '',
      options: OPTS,
      nowMs: NOW,
    };
    assert.throws(
      () => resourceReplicas({ ...base, pods: [], metrics: metrics([]) }),
      /no pods returned by selector while calculating replica count/,
    );
    assert.throws(
      () => resourceReplicas({ ...base, pods: pods([{ phase: 'Pending' }]), metrics: metrics([100]) }),
      /did not receive metrics for targeted pods \(pods might be unready\)/,
    );
    assert.throws(
      () => resourceReplicas({ ...base, pods: pods([{ request: '' }]), metrics: metrics([100]) }),
      /missing request for cpu in container c of Pod p0/,
    );
  });
});

describe('plainMetricReplicas (AverageValue)', () => {
  it('scales by the average against the target value', () => {
    const r = plainMetricReplicas({
      currentReplicas: 3,
      targetUsage: 250,
      resource: 'cpu',
      pods: pods([{}, {}, {}]),
      metrics: metrics([400, 500, 600]),
      options: OPTS,
      nowMs: NOW,
    });
    assert.deepEqual(r, [6, 500]);
  });

  it('counts missing pods at the target on a scale down', () => {
    // 3 samples averaging 100 against 500 → missing one counts 500: (300+500)/4 = 200 → ratio .4.
    const r = plainMetricReplicas({
      currentReplicas: 4,
      targetUsage: 500,
      resource: 'memory',
      pods: pods([{}, {}, {}, {}]),
      metrics: metrics([100, 100, 100, undefined]),
      options: OPTS,
      nowMs: NOW,
    });
    assert.deepEqual(r, [2, 100]);
  });
});

describe('groupPods', () => {
  it('treats a CPU sample taken before a window since readiness as unready', () => {
    const [p] = pods([{ startedAgoMs: 20_000 }]);
    // Ready 15 s ago, sample 1 s ago with a 30 s window: not a whole window since readiness.
    const g = groupPods([p as Pod], metrics([100]), 'cpu', OPTS, NOW);
    assert.deepEqual([...g.unreadyPods], ['p0']);
    const mem = groupPods([p as Pod], metrics([100]), 'memory', OPTS, NOW);
    assert.equal(mem.readyPodCount, 1);
  });

  it('counts a pod unready since start past the initialization period as unready', () => {
    const [p] = pods([{ ready: false }]);
    const g = groupPods([p as Pod], metrics([100]), 'cpu', OPTS, NOW);
    assert.deepEqual([...g.unreadyPods], ['p0']);
  });
});

describe('calculatePodRequests', () => {
  it('sums the named container or all, with restartable init containers', () => {
    const pod = {
      metadata: { name: 'p' },
      spec: {
        containers: [
          { name: 'a', resources: { requests: { cpu: '100m' } } },
          { name: 'b', resources: { requests: { cpu: '0.2' } } },
        ],
        initContainers: [
          { name: 'side', restartPolicy: 'Always', resources: { requests: { cpu: '50m' } } },
          { name: 'init', resources: {} },
        ],
      },
    } as Pod;
    assert.equal(calculatePodRequests([pod], '', 'cpu').get('p'), 350);
    assert.equal(calculatePodRequests([pod], 'b', 'cpu').get('p'), 200);
  });
});
