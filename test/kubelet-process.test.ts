// The kubelet on the process runtime against an in-process API server, driven with the real
// kubectl: node registration and Ready, a pod running with the right status, init
// containers in order (sharing an emptyDir), env from a ConfigMap and a Secret reaching the
// container's CRI log, CrashLoopBackOff, graceful deletion, and re-adoption of running
// containers by a restarted kubelet.

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '../src/api/generated/types/core-v1.js';
import { NODES, PODS } from '../src/client/resources.js';
import type { RestClient } from '../src/client/rest-client.js';
import { Kubelet, podLogRoot } from '../src/kubelet/kubelet.js';
import { readLogs } from '../src/kubelet/runtime/logs.js';
import { ProcessRuntime } from '../src/kubelet/runtime/process/process-runtime.js';
import { podLogDirectory } from '../src/kubelet/runtime/runtime.js';
import type { Kubectl } from './helpers/kubectl.js';
import { startTestCluster, type TestCluster } from './helpers/kubelet-node.js';
import { untilWithin } from './helpers/wait.js';

const NODE = 'kubelet-process-node';
let kubectl: Kubectl;
let client: RestClient;
let runtime: ProcessRuntime;
let kubelet: Kubelet;
let dir = '';
let cluster: TestCluster | undefined;

function newKubelet(): Kubelet {
  return new Kubelet({
    client,
    nodeName: NODE,
    runtime,
    dataDir: join(dir, 'kubelet'),
    relistMs: 200,
    statusUpdateMs: 1000,
  });
}

const until = untilWithin(20_000);

function pod(name: string, spec: Partial<NonNullable<Pod['spec']>>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName: NODE, containers: [], terminationGracePeriodSeconds: 5, ...spec },
  };
}

function logOf(p: Pod, container: string, attempt = 0): string {
  const m = p.metadata ?? {};
  const d = podLogDirectory(podLogRoot(join(dir, 'kubelet')), m.namespace ?? '', m.name ?? '', m.uid ?? '');
  return readLogs(join(d, container, `${attempt}.log`)).toString();
}

describe('kubelet on the process runtime', { timeout: 90_000 }, () => {
  before(async () => {
    cluster = await startTestCluster('kubelet', { rootCA: true });
    ({ kubectl, client, dir } = cluster);
    runtime = new ProcessRuntime({ rootDir: join(dir, 'process') });
    kubelet = newKubelet();
    await kubelet.start();
  });

  after(async () => {
    await kubelet?.stop();
    await runtime?.close();
    await cluster?.stop();
  });

  it('registers the node Ready with machine facts and a lease', async () => {
    const out = await until('node Ready', async () => {
      const o = await kubectl.ok(['get', 'nodes', '--no-headers']);
      return /\bReady\b/.test(o) ? o : undefined;
    });
    assert.match(out, new RegExp(`^${NODE}\\s+Ready\\s+<none>\\s+\\S+\\s+v1\\.32\\.4-kts`));
    const n = await client.resource(NODES).get('', NODE);
    assert.equal(n.metadata?.labels?.['kubernetes.io/hostname'], NODE);
    assert.equal(n.metadata?.labels?.['kubernetes.io/os'], 'linux');
    assert.equal(n.status?.capacity?.pods, '110');
    assert.ok(Number(n.status?.capacity?.cpu) >= 1);
    assert.equal(n.status?.nodeInfo?.containerRuntimeVersion, 'process://kts');
    assert.equal(n.status?.daemonEndpoints?.kubeletEndpoint?.Port, 10250);
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.reason, 'KubeletReady');
    assert.equal(ready?.message, 'kubelet is posting ready status');
    assert.deepEqual(
      n.status?.conditions?.map((c) => c.type),
      ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'],
    );
    const lease = await kubectl.ok([
      'get',
      'lease',
      '-n',
      'kube-node-lease',
      NODE,
      '-o',
      'jsonpath={.spec.holderIdentity}',
    ]);
    assert.equal(lease, NODE);
  });

  it('runs a pod with init containers in order and env from a ConfigMap and a Secret', async () => {
    await kubectl.ok(['create', 'configmap', 'cfg', '--from-literal=color=blue']);
    await kubectl.ok(['create', 'secret', 'generic', 'sec', '--from-literal=password=s3cret']);
    await client.resource(PODS).create(
      'default',
      pod('web', {
        volumes: [{ name: 'work', emptyDir: {} }],
        initContainers: [
          {
            name: 'init',
            image: 'kts.local/busybox:latest',
            command: ['sh', '-c', 'echo from-init > work/marker'],
            volumeMounts: [{ name: 'work', mountPath: '/work' }],
          },
        ],
        containers: [
          {
            name: 'main',
            image: 'kts.local/busybox:latest',
            command: [
              'sh',
              '-c',
              'echo "marker=$(cat work/marker) color=$COLOR pw=$PW node=$NODE_NAME $(GREETING)"; exec sleep 3600',
            ],
            env: [
              { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'color' } } },
              { name: 'PW', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
              { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              { name: 'GREETING', value: 'hi-$(COLOR)' },
            ],
            volumeMounts: [{ name: 'work', mountPath: '/work' }],
          },
        ],
      }),
    );
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/web', '--timeout=30s']);
    const p = await client.resource(PODS).get('default', 'web');
    const cs = p.status?.containerStatuses?.[0];
    assert.equal(p.status?.phase, 'Running');
    assert.equal(cs?.image, 'kts.local/busybox:latest');
    assert.equal(cs?.restartCount, 0);
    assert.equal(cs?.ready, true);
    assert.ok(cs?.state?.running?.startedAt);
    assert.match(cs?.containerID ?? '', /^process:\/\/[0-9a-f]{64}$/);
    const init = p.status?.initContainerStatuses?.[0];
    assert.equal(init?.state?.terminated?.reason, 'Completed');
    assert.ok(p.status?.podIP && p.status.hostIP && p.status.startTime);
    assert.equal(p.status?.qosClass, 'BestEffort');
    const types = (p.status?.conditions ?? [])
      .filter((c) => c.status === 'True')
      .map((c) => c.type)
      .sort();
    assert.deepEqual(types, [
      'ContainersReady',
      'Initialized',
      'PodReadyToStartContainers',
      'PodScheduled',
      'Ready',
    ]);
    const log = await until('main log', async () => {
      const l = logOf(p, 'main');
      return l.includes('marker=') ? l : undefined;
    });
    assert.match(log, /marker=from-init color=blue pw=s3cret node=kubelet-process-node hi-blue/);
  });

  it('re-adopts running containers after a kubelet restart', async () => {
    const before = (await client.resource(PODS).get('default', 'web')).status?.containerStatuses?.[0]
      ?.containerID;
    await kubelet.stop();
    kubelet = newKubelet();
    await kubelet.start();
    await new Promise((r) => setTimeout(r, 800));
    const p = await client.resource(PODS).get('default', 'web');
    const cs = p.status?.containerStatuses?.[0];
    assert.equal(cs?.containerID, before);
    assert.equal(cs?.restartCount, 0);
    assert.ok(cs?.state?.running);
  });

  it('restarts a failing container and reports CrashLoopBackOff', async () => {
    await client.resource(PODS).create(
      'default',
      pod('crash', {
        containers: [
          { name: 'c', image: 'kts.local/busybox:latest', command: ['sh', '-c', 'echo dying; exit 3'] },
        ],
      }),
    );
    const cs = await until('CrashLoopBackOff', async () => {
      const p = await client.resource(PODS).get('default', 'crash');
      const s = p.status?.containerStatuses?.[0];
      return s?.state?.waiting?.reason === 'CrashLoopBackOff' ? { s, uid: p.metadata?.uid ?? '' } : undefined;
    });
    assert.equal(
      cs.s.state?.waiting?.message,
      `back-off 10s restarting failed container=c pod=crash_default(${cs.uid})`,
    );
    assert.equal(cs.s.lastState?.terminated?.exitCode, 3);
    assert.equal(cs.s.lastState?.terminated?.reason, 'Error');
    assert.ok((cs.s.restartCount ?? 0) >= 1);
    const p = await client.resource(PODS).get('default', 'crash');
    assert.equal(p.status?.phase, 'Running');
    const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'ContainersNotReady');
    assert.equal(ready?.message, 'containers with unready status: [c]');
    await kubectl.ok(['delete', 'pod', 'crash', '--wait=true', '--timeout=20s']);
  });

  it('gates Ready on the readiness probe and restarts on liveness failure', async () => {
    await client.resource(PODS).create(
      'default',
      pod('probed', {
        containers: [
          {
            name: 'c',
            image: 'kts.local/busybox:latest',
            // Ready after a second; alive only for the first 4 seconds of an attempt, so Ready
            // holds for about 3 s: long enough to be observed on a loaded machine.
            command: ['sh', '-c', 'touch alive; sleep 1; touch ready; sleep 3; rm -f alive; exec sleep 3600'],
            readinessProbe: { exec: { command: ['test', '-f', 'ready'] }, periodSeconds: 1 },
            // Probing from 1 s on: a first probe before the shell has touched `alive` would
            // otherwise restart the container before it ever became ready.
            livenessProbe: {
              exec: { command: ['test', '-f', 'alive'] },
              initialDelaySeconds: 1,
              periodSeconds: 1,
              failureThreshold: 1,
            },
          },
        ],
      }),
    );
    await until('not ready at first', async () => {
      const p = await client.resource(PODS).get('default', 'probed');
      const c = p.status?.containerStatuses?.[0];
      return c?.state?.running !== undefined && c.ready === false ? true : undefined;
    });
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/probed', '--timeout=20s']);
    const restarted = await until('liveness restart', async () => {
      const p = await client.resource(PODS).get('default', 'probed');
      const c = p.status?.containerStatuses?.[0];
      return (c?.restartCount ?? 0) >= 1 ? c : undefined;
    });
    // SIGTERM (143) ends sleep on the host; SIGKILL (137) if it had ignored it.
    assert.ok([137, 143].includes(restarted.lastState?.terminated?.exitCode ?? 0));
    await client.resource(PODS).delete('default', 'probed', { gracePeriodSeconds: 0 });
  });

  it('runs a restartPolicy Never pod to Succeeded', async () => {
    await client.resource(PODS).create(
      'default',
      pod('once', {
        restartPolicy: 'Never',
        containers: [{ name: 'c', image: 'kts.local/busybox:latest', command: ['true'] }],
      }),
    );
    await kubectl.ok(['wait', '--for=jsonpath={.status.phase}=Succeeded', 'pod/once', '--timeout=20s']);
    const p = await client.resource(PODS).get('default', 'once');
    assert.equal(p.status?.containerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
    assert.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'PodCompleted');
  });

  it('deletes a pod gracefully: SIGTERM, then the API object is removed', async () => {
    const p = await client.resource(PODS).get('default', 'web');
    const t0 = Date.now();
    await kubectl.ok(['delete', 'pod', 'web', '--wait=true', '--timeout=20s']);
    assert.ok(Date.now() - t0 < 8000, `deletion took ${Date.now() - t0} ms`);
    const uid = p.metadata?.uid ?? '';
    // The API object goes once the containers stopped; their removal follows right after.
    await until('the containers removed', async () =>
      (await runtime.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': uid } })).length === 0
        ? true
        : undefined,
    );
    assert.deepEqual(
      readdirSync(join(dir, 'kubelet', 'pods')).filter((d) => d === uid),
      [],
    );
  });
});
