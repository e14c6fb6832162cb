// SchedulingBasic at unit level (upstream scheduler_perf's shape): N synthetic nodes, M pods
// with small requests, the default profile, an in-memory client that feeds bindings back
// as informer events. Run with `node --import tsx src/scheduler/scheduler-perf.ts [nodes] [pods]`;
// prints one JSON line. The real end-to-end benchmark (bench/scheduler.ts) uses hollow nodes.

import { RecordingSchedulerClient } from './client.js';
import { Scheduler } from './scheduler.js';
import { makeNode, makePod } from './testing.js';

/** Result of one run. */
export interface PerfResult {
  nodes: number;
  pods: number;
  scheduled: number;
  seconds: number;
  podsPerSec: number;
}

/** Schedules `pods` pods on `nodes` nodes and measures throughput. */
export async function runSchedulingBasic(nodes: number, pods: number): Promise<PerfResult> {
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
  const list = Array.from({ length: pods }, (_, i) => makePod(`pod-${i}`, { cpu: '100m', memory: '500Mi' }));
  const ac = new AbortController();
  const start = process.hrtime.bigint();
  for (const p of list) sched.addPod(p);
  const running = sched.run(ac.signal);
  while (scheduled < pods) await new Promise<void>((r) => setImmediate(r));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  ac.abort();
  await running;
  return { nodes, pods, scheduled, seconds, podsPerSec: Math.round(pods / seconds) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const nodes = Number(process.argv[2] ?? 5000);
  const pods = Number(process.argv[3] ?? 10000);
  runSchedulingBasic(nodes, pods).then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
