// Upstream scheduler_perf's shapes at unit level: N synthetic nodes in 3 zones, the default
// profile, an in-memory client that feeds bindings back as informer events, and the
// workloads SchedulingBasic (small requests), SchedulingPodAntiAffinity (required
// anti-affinity on hostname, 10 self-anti-affine groups) and TopologySpreading (maxSkew 1
// over zones, DoNotSchedule), run one after another in the same cluster as bench/scheduler.ts
// runs them, so later workloads see the pods of earlier ones. Measures the scheduler core
// alone (no API server): pods/s from queueing the workload's pods to the last bind.
// Run with `node --import tsx src/scheduler/scheduler-perf.ts [nodes] [pods] [workload...]`;
// prints one JSON line per workload.

import type { Pod } from '../api/generated/types/core-v1.js';
import { RecordingSchedulerClient } from './client.js';
import { Scheduler } from './scheduler.js';
import { makeNode, makePod } from './testing.js';

/** Result of one run. */
export interface PerfResult {
  workload: PerfWorkload;
  nodes: number;
  pods: number;
  scheduled: number;
  seconds: number;
  podsPerSec: number;
}

/** The scheduler_perf workloads this harness knows. */
export type PerfWorkload = 'basic' | 'antiAffinity' | 'topologySpread';

/** Every workload, in the order bench/scheduler.ts runs them. */
export const PERF_WORKLOADS: readonly PerfWorkload[] = ['basic', 'antiAffinity', 'topologySpread'];

/** Workload w's i-th pod (same shape as bench/scheduler.ts's). */
export function perfPod(w: PerfWorkload, i: number): Pod {
  const group = `g${i % 10}`;
  const p = makePod(`${w}-${i}`, {
    namespace: `perf-${w.toLowerCase()}`,
    cpu: '100m',
    memory: '500Mi',
    labels: w === 'antiAffinity' ? { app: w, group } : { app: w },
  });
  const spec = p.spec as NonNullable<Pod['spec']>;
  if (w === 'antiAffinity') {
    spec.affinity = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: { group } }, topologyKey: 'kubernetes.io/hostname' },
        ],
      },
    };
  } else if (w === 'topologySpread') {
    spec.topologySpreadConstraints = [
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector: { matchLabels: { app: w } },
      },
    ];
  }
  return p;
}

/**
 * Schedules `pods` pods of each workload on `nodes` nodes, one workload after another in
 * one cluster; a workload not done after `timeoutMs` reports what was bound by then.
 */
export async function runSchedulingWorkloads(
  nodes: number,
  pods: number,
  workloads: readonly PerfWorkload[] = PERF_WORKLOADS,
  timeoutMs = 120_000,
): Promise<PerfResult[]> {
  const client = new RecordingSchedulerClient();
  client.record = false;
  const sched = new Scheduler({ client, random: () => 0.5 });
  let scheduled = 0;
  client.onBind = (pod, nodeName) => {
    scheduled++;
    const bound = { ...pod, spec: { ...(pod.spec ?? { containers: [] }), nodeName } };
    sched.updatePod(pod, bound);
  };
  for (let i = 0; i < nodes; i++) {
    sched.addNode(
      makeNode(`node-${i}`, {
        cpu: '4',
        memory: '32Gi',
        pods: '110',
        labels: { 'topology.kubernetes.io/zone': `zone-${i % 3}` },
      }),
    );
  }
  const ac = new AbortController();
  const running = sched.run(ac.signal);
  const out: PerfResult[] = [];
  try {
    for (const w of workloads) {
      const list = Array.from({ length: pods }, (_, i) => perfPod(w, i));
      scheduled = 0;
      const start = performance.now();
      for (const p of list) sched.addPod(p);
      while (scheduled < pods && performance.now() - start < timeoutMs)
        await new Promise<void>((r) => setImmediate(r));
      const seconds = (performance.now() - start) / 1000;
      out.push({ workload: w, nodes, pods, scheduled, seconds, podsPerSec: Math.round(scheduled / seconds) });
    }
  } finally {
    ac.abort();
    await running;
  }
  return out;
}

/** SchedulingBasic alone: schedules `pods` pods on `nodes` nodes and measures throughput. */
export async function runSchedulingBasic(nodes: number, pods: number): Promise<PerfResult> {
  const [r] = await runSchedulingWorkloads(nodes, pods, ['basic']);
  return r as PerfResult;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const nodes = Number(process.argv[2] ?? 5000);
  const pods = Number(process.argv[3] ?? 10000);
  const asked = process.argv
    .slice(4)
    .filter((w): w is PerfWorkload => PERF_WORKLOADS.includes(w as PerfWorkload));
  for (const r of await runSchedulingWorkloads(nodes, pods, asked.length > 0 ? asked : PERF_WORKLOADS))
    process.stdout.write(`${JSON.stringify(r)}\n`);
}
