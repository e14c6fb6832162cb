// The kubelet on the cri runtime: a private containerd + runc with kts's busybox and pause
// images, CNI pod networking on a test bridge once the Node has a podCIDR, driven through
// an in-process API server and the real kubectl. Needs root and the Debian packages
// containerd, runc and containernetworking-plugins. Everything made here is removed by
// name: the pods and sandboxes, the containerd root (and its shims), the bridge (its routes
// go with it), the cgroups, the temp dirs.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '../src/api/generated/types/core-v1.js';
import { NODES, PODS } from '../src/client/resources.js';
import type { RestClient } from '../src/client/rest-client.js';
import { Kubelet, podLogRoot } from '../src/kubelet/kubelet.js';
import {
  type ContainerdDaemon,
  cleanupContainerdRoot,
  containerdMissing,
  startContainerd,
} from '../src/kubelet/runtime/containerd-daemon.js';
import { CriRuntime } from '../src/kubelet/runtime/cri/cri-runtime.js';
import { ensureBuiltinImages } from '../src/kubelet/runtime/images/import.js';
import { readLogs } from '../src/kubelet/runtime/logs.js';
import { podLogDirectory } from '../src/kubelet/runtime/runtime.js';
import type { Kubectl } from './helpers/kubectl.js';
import { removeTestCgroups, startTestCluster, type TestCluster } from './helpers/kubelet-node.js';
import { until } from './helpers/wait.js';

const NODE = 'kubelet-cri-node';
const suffix = randomBytes(3).toString('hex');
const BRIDGE = `ktst${suffix}`;
const CGROUP_ROOT = `/kts-kubelet-test-${suffix}`;
const CLUSTER_CIDR = '10.97.0.0/16';
const POD_CIDR = '10.97.3.0/24';
let kubectl: Kubectl;
let client: RestClient;
let daemon: ContainerdDaemon | undefined;
let runtime: CriRuntime | undefined;
let kubelet: Kubelet | undefined;
let dir = '';
let cluster: TestCluster | undefined;

function pod(name: string, spec: Partial<NonNullable<Pod['spec']>>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName: NODE, containers: [], terminationGracePeriodSeconds: 5, ...spec },
  };
}

describe('kubelet on the cri runtime (private containerd)', { timeout: 90_000 }, () => {
  before(async () => {
    if (process.getuid?.() !== 0) throw new Error('kubelet-cri tests need root (containerd, CNI)');
    const missing = containerdMissing();
    if (missing !== undefined) throw new Error(missing);
    cluster = await startTestCluster('kubelet-cri', { rootCA: true });
    ({ kubectl, client, dir } = cluster);
    daemon = await startContainerd({ rootDir: join(dir, 'containerd') });
    await ensureBuiltinImages({ socket: daemon.socket });
    runtime = new CriRuntime({ endpoint: daemon.endpoint });
    kubelet = new Kubelet({
      client,
      nodeName: NODE,
      runtime,
      dataDir: join(dir, 'kubelet'),
      cgroupRoot: CGROUP_ROOT,
      network: {
        cniConfDir: daemon.cniConfDir,
        clusterCIDR: CLUSTER_CIDR,
        serviceCIDR: '10.96.0.0/16',
        bridgeName: BRIDGE,
        masquerade: false,
      },
      relistMs: 300,
      statusUpdateMs: 500,
    });
    await kubelet.start();
  });

  after(async () => {
    try {
      await kubelet?.stop();
      if (runtime !== undefined) {
        for (const s of await runtime.listPodSandbox().catch(() => [])) {
          await runtime.stopPodSandbox(s.id).catch(() => {});
          await runtime.removePodSandbox(s.id).catch(() => {});
        }
        await runtime.close();
      }
      await daemon?.stop();
    } finally {
      if (dir !== '') cleanupContainerdRoot(join(dir, 'containerd'));
      spawnSync('ip', ['link', 'del', BRIDGE]);
      removeTestCgroups(CGROUP_ROOT);
      await cluster?.stop();
    }
  });

  it('registers the node; Ready once the pod network is configured from the podCIDR', async () => {
    const n = await client.resource(NODES).get('', NODE);
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.match(ready?.message ?? '', /^container runtime network not ready: NetworkReady=false/);
    assert.match(n.status?.nodeInfo?.containerRuntimeVersion ?? '', /^containerd:\/\/\d+\.\d+/);
    // What the node IPAM controller would do.
    await client
      .resource(NODES)
      .patch('', NODE, 'merge', { spec: { podCIDR: POD_CIDR, podCIDRs: [POD_CIDR] } });
    await until('node Ready', async () => {
      const o = await kubectl.ok(['get', 'nodes', '--no-headers']);
      return new RegExp(`^${NODE}\\s+Ready\\s`).test(o) ? o : undefined;
    });
  });

  it('runs a busybox pod on the pod network with env from a ConfigMap and a Secret', async () => {
    await kubectl.ok(['create', 'configmap', 'cfg', '--from-literal=color=green']);
    await kubectl.ok(['create', 'secret', 'generic', 'sec', '--from-literal=password=hunter2']);
    await client.resource(PODS).create(
      'default',
      pod('bb', {
        initContainers: [
          {
            name: 'init',
            image: 'kts.local/busybox:latest',
            command: ['sh', '-c', 'echo init > /work/marker'],
            volumeMounts: [{ name: 'w', mountPath: '/work' }],
          },
        ],
        volumes: [{ name: 'w', emptyDir: {} }],
        containers: [
          {
            name: 'main',
            image: 'kts.local/busybox:latest',
            command: [
              'sh',
              '-c',
              'echo "marker=$(cat /work/marker) color=$COLOR pw=$PW ip=$POD_IP"; trap "exit 0" TERM; while true; do sleep 1; done',
            ],
            env: [
              { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'color' } } },
              { name: 'PW', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            ],
            volumeMounts: [{ name: 'w', mountPath: '/work' }],
          },
        ],
      }),
    );
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/bb', '--timeout=40s']);
    const p = await client.resource(PODS).get('default', 'bb');
    const cs = p.status?.containerStatuses?.[0];
    assert.equal(cs?.image, 'kts.local/busybox:latest');
    assert.equal(cs?.restartCount, 0);
    assert.match(cs?.containerID ?? '', /^containerd:\/\/[0-9a-f]{64}$/);
    assert.match(cs?.imageID ?? '', /sha256:[0-9a-f]{64}/);
    assert.match(p.status?.podIP ?? '', /^10\.97\.3\.\d+$/);
    assert.equal(p.status?.initContainerStatuses?.[0]?.state?.terminated?.exitCode, 0);
    const m = p.metadata ?? {};
    const logFile = join(
      podLogDirectory(podLogRoot(join(dir, 'kubelet')), 'default', 'bb', m.uid ?? ''),
      'main',
      '0.log',
    );
    const log = await until('log line', async () => {
      const l = readLogs(logFile).toString();
      return l.includes('marker=') ? l : undefined;
    });
    assert.match(
      log,
      new RegExp(`marker=init color=green pw=hunter2 ip=${(p.status?.podIP ?? '').replace(/\./g, '\\.')}`),
    );
  });

  it('shows CrashLoopBackOff for a container that keeps failing', async () => {
    await client.resource(PODS).create(
      'default',
      pod('crash', {
        hostNetwork: true,
        containers: [{ name: 'c', image: 'kts.local/busybox:latest', command: ['sh', '-c', 'exit 2'] }],
      }),
    );
    const s = await until('CrashLoopBackOff', async () => {
      const p = await client.resource(PODS).get('default', 'crash');
      const c = p.status?.containerStatuses?.[0];
      return c?.state?.waiting?.reason === 'CrashLoopBackOff' ? c : undefined;
    });
    assert.equal(s.lastState?.terminated?.exitCode, 2);
    assert.match(
      s.state?.waiting?.message ?? '',
      /^back-off 10s restarting failed container=c pod=crash_default\(/,
    );
    await client.resource(PODS).delete('default', 'crash', { gracePeriodSeconds: 0 });
  });

  it('deletes a pod within its grace period and removes its sandbox', async () => {
    const p = await client.resource(PODS).get('default', 'bb');
    const t0 = Date.now();
    await kubectl.ok(['delete', 'pod', 'bb', '--wait=true', '--timeout=30s']);
    assert.ok(Date.now() - t0 < 10_000, `deletion took ${Date.now() - t0} ms`);
    await until('sandbox removed', async () => {
      const left = await runtime?.listPodSandbox({
        labelSelector: { 'io.kubernetes.pod.uid': p.metadata?.uid ?? '' },
      });
      return left?.length === 0 ? true : undefined;
    });
  });
});
