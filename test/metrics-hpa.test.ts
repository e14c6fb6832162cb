// Resource metrics and the HPA end to end: an API server serving metrics.k8s.io from a
// scraper of a real (process-runtime) kubelet, the scheduler, and the controller manager
// with the deployment, replicaset and HPA controllers under their own ServiceAccounts,
// driven by the real kubectl — `kubectl top`, `kubectl autoscale` (autoscaling/v1), a
// Deployment whose pod burns CPU scaling up, and back down once the burning stops, after the
// short scale-down stabilization window set in the HPA's behavior. Scrape and sync run every
// second here (options, not defaults) so the test stays short.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Deployment } from '../src/api/generated/types/apps-v1.js';
import type { HorizontalPodAutoscaler } from '../src/api/generated/types/autoscaling-v2.js';
import { ServiceAccountClientBuilder } from '../src/client/controller-client-builder.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { stderrLogger } from '../src/client/log.js';
import { DEPLOYMENTS, NODES } from '../src/client/resources.js';
import { HORIZONTALPODAUTOSCALERS } from '../src/controllers/hpa/index.js';
import { ControllerManager } from '../src/controllers/manager.js';
import { controllerRegistry } from '../src/controllers/registry.js';
import { type ResourceMetrics, startResourceMetrics } from '../src/metrics/index.js';
import { runScheduler } from '../src/scheduler/run.js';
import { type ProcessNode, startProcessNode } from './helpers/kubelet-node.js';

let node: ProcessNode;
let metrics: ResourceMetrics;
let builder: ServiceAccountClientBuilder;
let stopFile: string;
const ac = new AbortController();
const running: Promise<void>[] = [];
const debug = process.env.KTS_DEBUG ? { log: stderrLogger('kcm', true) } : {};

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  node = await startProcessNode('metrics-hpa', 'node1');
  const { client } = node;
  stopFile = join(node.dir, 'stop-burning');
  // Admission taints a new node not-ready until the node lifecycle controller (not run) clears it.
  await client.resource(NODES).patch('', 'node1', 'merge', { spec: { taints: null } });
  metrics = startResourceMetrics(node.api.server, { intervalMs: 1000, nodeCheckMs: 250 });
  builder = new ServiceAccountClientBuilder({
    client,
    config: loadKubeconfig(node.api.server.kubeconfigPath),
  });
  const manager = new ControllerManager({
    client,
    clientBuilder: builder,
    registry: controllerRegistry,
    controllers: ['deployment', 'replicaset', 'horizontalpodautoscaling'],
    options: { horizontalPodAutoscalerSyncPeriodMs: 1000 },
    ...debug,
  });
  running.push(manager.run(ac.signal));
  let ready!: () => void;
  const schedulerReady = new Promise<void>((r) => {
    ready = r;
  });
  running.push(runScheduler({ client, signal: ac.signal, onReady: () => ready() }));
  await schedulerReady;
});

after(async () => {
  writeFileSync(stopFile, '');
  ac.abort();
  await Promise.all(running);
  builder.close();
  await metrics.stop();
  await node.stop();
});

const BURN = `apiVersion: apps/v1
kind: Deployment
metadata: {name: burn}
spec:
  replicas: 1
  selector: {matchLabels: {app: burn}}
  template:
    metadata: {labels: {app: burn}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: burn
        image: busybox
        command: [sh, -c, 'while [ ! -e STOP ]; do :; done; exec sleep 3600']
        resources: {requests: {cpu: 20m}}
`;

function replicasOf(d: Deployment | undefined): number | undefined {
  return d?.spec?.replicas;
}

describe('metrics.k8s.io and the HPA', () => {
  it('serves discovery and kubectl top for nodes and pods', async () => {
    const { kubectl } = node;
    const groups = await kubectl.ok(['api-resources', '--api-group=metrics.k8s.io', '--no-headers']);
    assert.match(groups, /^nodes\s+metrics\.k8s\.io\/v1beta1\s+false\s+NodeMetrics$/m);
    assert.match(groups, /^pods\s+metrics\.k8s\.io\/v1beta1\s+true\s+PodMetrics$/m);
    await kubectl.ok(['apply', '-f', '-'], { stdin: BURN.replace('STOP', stopFile) });
    const top = await until('kubectl top nodes', async () => {
      const r = await kubectl.run(['top', 'nodes']);
      return r.code === 0 ? r.stdout : undefined;
    });
    assert.match(top, /^NAME\s+CPU\(cores\)\s+CPU\(%\)\s+MEMORY\(bytes\)\s+MEMORY\(%\)\s*$/m);
    assert.match(top, /^node1\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%\s*$/m);
    const pods = await until('kubectl top pods', async () => {
      const r = await kubectl.run(['top', 'pods', '-A', '--containers']);
      return r.code === 0 && /burn-/.test(r.stdout) ? r.stdout : undefined;
    });
    assert.match(pods, /^NAMESPACE\s+POD\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/m);
    assert.match(pods, /^default\s+burn-\S+\s+burn\s+\d+m\s+\d+Mi\s*$/m);
    const raw = JSON.parse(
      await kubectl.ok(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes/node1']),
    ) as {
      kind: string;
      window: string;
      usage: Record<string, string>;
    };
    assert.equal(raw.kind, 'NodeMetrics');
    assert.match(raw.window, /s$/);
    assert.deepEqual(Object.keys(raw.usage).sort(), ['cpu', 'memory']);
    const table = await kubectl.ok(['get', 'pods.metrics.k8s.io', '-l', 'app=burn']);
    assert.match(table, /^NAME\s+CPU\s+MEMORY\s+WINDOW\s*$/m);
  });

  it('scales a CPU-burning Deployment up, then down after the behavior window', async () => {
    const { kubectl, client } = node;
    await kubectl.ok(['autoscale', 'deployment', 'burn', '--cpu-percent=50', '--min=1', '--max=2']);
    await kubectl.ok([
      'patch',
      'hpa',
      'burn',
      '--type=merge',
      '-p',
      '{"spec":{"behavior":{"scaleDown":{"stabilizationWindowSeconds":3}}}}',
    ]);
    await until(
      'the HPA to scale up',
      async () => {
        const d = await client.resource(DEPLOYMENTS).get('default', 'burn');
        return replicasOf(d) === 2 ? true : undefined;
      },
      30_000,
    );
    const hpa = await client.resource(HORIZONTALPODAUTOSCALERS).get('default', 'burn');
    assert.equal(hpa.status?.desiredReplicas, 2);
    assert.ok(hpa.status?.lastScaleTime);
    const got = await kubectl.ok(['get', 'hpa', 'burn']);
    assert.match(got, /^burn\s+Deployment\/burn\s+cpu: \d+%\/50%\s+1\s+2\s+\d\s+/m);
    const described = await kubectl.ok(['describe', 'hpa', 'burn']);
    assert.match(
      described,
      /SuccessfulRescale\s+.*New size: 2; reason: cpu resource utilization \(percentage of request\) above target/,
    );
    assert.match(described, /ScalingActive\s+True\s+ValidMetricFound/);
    // Stop burning: usage falls to nothing and the HPA returns to minReplicas after 3 s.
    writeFileSync(stopFile, '');
    const down = await until(
      'the HPA to scale down',
      async () => {
        const h = await client.resource(HORIZONTALPODAUTOSCALERS).get('default', 'burn');
        const d = await client.resource(DEPLOYMENTS).get('default', 'burn');
        return replicasOf(d) === 1 ? (h as HorizontalPodAutoscaler) : undefined;
      },
      30_000,
    );
    assert.ok(down);
    const events = await kubectl.ok(['describe', 'hpa', 'burn']);
    assert.match(events, /New size: 1; reason: All metrics below target/);
  });
});
