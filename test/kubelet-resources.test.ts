// Kubelet resources against an in-process API server, driven with the real kubectl:
//   - on the cri runtime (private containerd + runc; root): pod and container cgroups with
//     the QoS layout and limits, and a container over its memory limit OOM-killed and shown
//     as OOMKilled with exit code 137;
//   - on the process runtime: the same cgroups for host processes, a memory-backed emptyDir
//     mounted as tmpfs and unmounted on deletion, and a pod whose emptyDir exceeds its
//     sizeLimit evicted (Failed, reason Evicted, upstream's message).
// Pods use the host network, so no CNI bridge is made. Everything created is removed by
// name: pods, sandboxes, the containerd root, the cgroup roots, mounts, temp dirs.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '../src/api/generated/types/core-v1.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { PODS } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { Kubelet } from '../src/kubelet/kubelet.js';
import { hostCgroups } from '../src/kubelet/runtime/cgroupfs.js';
import {
  type ContainerdDaemon,
  cleanupContainerdRoot,
  containerdMissing,
  startContainerd,
} from '../src/kubelet/runtime/containerd-daemon.js';
import { CriRuntime } from '../src/kubelet/runtime/cri/cri-runtime.js';
import { ensureBuiltinImages } from '../src/kubelet/runtime/images/import.js';
import { ProcessRuntime } from '../src/kubelet/runtime/process/process-runtime.js';
import type { ContainerRuntime } from '../src/kubelet/runtime/runtime.js';
import { mountsUnder, podDir } from '../src/kubelet/volumes.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { Kubectl } from './helpers/kubectl.js';

const suffix = randomBytes(3).toString('hex');

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

function pod(node: string, name: string, spec: Partial<NonNullable<Pod['spec']>>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName: node, hostNetwork: true, containers: [], terminationGracePeriodSeconds: 2, ...spec },
  };
}

const v1 = hostCgroups.version() === 1;
const cg = (controller: string, path: string, file: string): string =>
  readFileSync(
    v1 ? join('/sys/fs/cgroup', controller, path, file) : join('/sys/fs/cgroup', path, file),
    'utf8',
  ).trim();

/** Removes every cgroup under `root` in every hierarchy, deepest first (what runc left too). */
function removeCgroupTree(root: string): void {
  const walk = (dir: string): void => {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
    } catch {
      return;
    }
    for (const e of entries) walk(join(dir, e));
    try {
      rmdirSync(dir);
    } catch {
      // still has tasks: nothing of ours should
    }
  };
  const hierarchies = v1
    ? readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h))
    : ['/sys/fs/cgroup'];
  for (const h of hierarchies) walk(join(h, root.replace(/^\/+/, '')));
}

interface Env {
  api: TestApiServer;
  kubectl: Kubectl;
  client: RestClient;
  kubelet: Kubelet;
  runtime: ContainerRuntime;
  dir: string;
}

async function startEnv(
  node: string,
  cgroupRoot: string,
  runtime: (dir: string) => Promise<ContainerRuntime>,
): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), 'kts-kubelet-res-'));
  const api = await startTestApiServer();
  const kubectl = new Kubectl(api.server.kubeconfigPath);
  const client = new RestClient(loadKubeconfig(api.server.kubeconfigPath));
  await kubectl.ok(['create', 'configmap', 'kube-root-ca.crt', '--from-literal=ca.crt=test-ca']);
  const rt = await runtime(dir);
  const kubelet = new Kubelet({
    client,
    nodeName: node,
    runtime: rt,
    dataDir: join(dir, 'kubelet'),
    cgroupRoot,
    relistMs: 200,
    statusUpdateMs: 500,
    evictionIntervalMs: 500,
  });
  await kubelet.start();
  return { api, kubectl, client, kubelet, runtime: rt, dir };
}

describe('kubelet resources on the cri runtime', { timeout: 120_000 }, () => {
  const NODE = 'kubelet-res-cri';
  const ROOT = `/kts-res-cri-${suffix}`;
  let env: Env | undefined;
  let daemon: ContainerdDaemon | undefined;

  before(async () => {
    if (process.getuid?.() !== 0) throw new Error('these tests need root (containerd, cgroups)');
    const missing = containerdMissing();
    if (missing !== undefined) throw new Error(missing);
    env = await startEnv(NODE, ROOT, async (dir) => {
      daemon = await startContainerd({ rootDir: join(dir, 'containerd') });
      await ensureBuiltinImages({ socket: daemon.socket });
      return new CriRuntime({ endpoint: daemon.endpoint });
    });
  });

  after(async () => {
    try {
      await env?.kubelet.stop();
      if (env !== undefined) {
        for (const s of await env.runtime.listPodSandbox().catch(() => [])) {
          await env.runtime.stopPodSandbox(s.id).catch(() => {});
          await env.runtime.removePodSandbox(s.id).catch(() => {});
        }
        await env.runtime.close();
      }
      await daemon?.stop();
    } finally {
      if (env !== undefined) cleanupContainerdRoot(join(env.dir, 'containerd'));
      removeCgroupTree(ROOT);
      env?.kubectl.cleanup();
      await env?.api.stop();
      if (env !== undefined) rmSync(env.dir, { recursive: true, force: true });
    }
  });

  it('puts pods and containers in QoS cgroups with their limits', async () => {
    const e = env as Env;
    await e.client.resource(PODS).create(
      'default',
      pod(NODE, 'limited', {
        containers: [
          {
            name: 'c',
            image: 'kts.local/busybox:latest',
            command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'],
            resources: { requests: { cpu: '250m', memory: '32Mi' }, limits: { cpu: '500m', memory: '64Mi' } },
          },
        ],
      }),
    );
    await e.kubectl.ok(['wait', '--for=condition=Ready', 'pod/limited', '--timeout=60s']);
    const p = await e.client.resource(PODS).get('default', 'limited');
    assert.equal(p.status?.qosClass, 'Burstable');
    const podPath = `${ROOT}/burstable/pod${p.metadata?.uid}`;
    const id = (p.status?.containerStatuses?.[0]?.containerID ?? '').replace('containerd://', '');
    if (v1) {
      assert.equal(cg('cpu', podPath, 'cpu.shares'), '256');
      assert.equal(cg('cpu', podPath, 'cpu.cfs_quota_us'), '50000');
      assert.equal(cg('memory', podPath, 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
      // runc made the container's cgroup inside the pod's, with the container's resources.
      assert.equal(cg('cpu', `${podPath}/${id}`, 'cpu.shares'), '256');
      assert.equal(cg('cpu', `${podPath}/${id}`, 'cpu.cfs_quota_us'), '50000');
      assert.equal(cg('memory', `${podPath}/${id}`, 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
    } else {
      assert.equal(cg('', podPath, 'cpu.max'), '50000 100000');
      assert.equal(cg('', podPath, 'memory.max'), String(64 * 1024 * 1024));
    }
    await e.kubectl.ok(['delete', 'pod', 'limited', '--wait=true', '--timeout=30s']);
    await until('pod cgroup removed', async () =>
      existsSync(v1 ? join('/sys/fs/cgroup/memory', podPath) : join('/sys/fs/cgroup', podPath))
        ? undefined
        : true,
    );
  });

  it('reports OOMKilled (exit code 137) for a container over its memory limit', async () => {
    const e = env as Env;
    await e.client.resource(PODS).create(
      'default',
      pod(NODE, 'oom', {
        restartPolicy: 'Always',
        containers: [
          {
            name: 'hog',
            image: 'kts.local/busybox:latest',
            command: ['sh', '-c', 'x=$(head -c 67108864 /dev/zero | tr "\\0" a); sleep 1'],
            resources: { limits: { memory: '16Mi' } },
          },
        ],
      }),
    );
    const reason = await until(
      'OOMKilled in lastState',
      async () => {
        const out = await e.kubectl.ok([
          'get',
          'pod',
          'oom',
          '-o',
          'jsonpath={.status.containerStatuses[0].lastState.terminated.reason}/{.status.containerStatuses[0].lastState.terminated.exitCode}',
        ]);
        return out.startsWith('OOMKilled') ? out : undefined;
      },
      60_000,
    );
    assert.equal(reason, 'OOMKilled/137');
    await e.client.resource(PODS).delete('default', 'oom', { gracePeriodSeconds: 0 });
  });
});

describe('kubelet resources on the process runtime', { timeout: 90_000 }, () => {
  const NODE = 'kubelet-res-process';
  const ROOT = `/kts-res-proc-${suffix}`;
  let env: Env | undefined;

  before(async () => {
    env = await startEnv(NODE, ROOT, async (dir) => new ProcessRuntime({ rootDir: join(dir, 'process') }));
  });

  after(async () => {
    try {
      await env?.kubelet.stop();
      await env?.runtime.close();
    } finally {
      removeCgroupTree(ROOT);
      env?.kubectl.cleanup();
      await env?.api.stop();
      if (env !== undefined) rmSync(env.dir, { recursive: true, force: true });
    }
  });

  it('runs host processes in pod and container cgroups with their limits', async (t) => {
    if (process.getuid?.() !== 0 || hostCgroups.version() === undefined)
      return t.skip('needs root and cgroups');
    const e = env as Env;
    await e.client.resource(PODS).create(
      'default',
      pod(NODE, 'limited', {
        containers: [
          {
            name: 'c',
            image: 'busybox',
            command: ['sh', '-c', 'cat /proc/self/cgroup; exec sleep 3600'],
            resources: { requests: { cpu: '100m', memory: '16Mi' }, limits: { cpu: '200m', memory: '32Mi' } },
          },
        ],
      }),
    );
    await e.kubectl.ok(['wait', '--for=condition=Ready', 'pod/limited', '--timeout=30s']);
    const p = await e.client.resource(PODS).get('default', 'limited');
    const podPath = `${ROOT}/burstable/pod${p.metadata?.uid}`;
    const id = (p.status?.containerStatuses?.[0]?.containerID ?? '').replace('process://', '');
    if (v1) {
      assert.equal(cg('cpu', podPath, 'cpu.shares'), '102');
      assert.equal(cg('cpu', podPath, 'cpu.cfs_quota_us'), '20000');
      assert.equal(cg('cpu', `${podPath}/${id}`, 'cpu.cfs_quota_us'), '20000');
      assert.equal(cg('memory', `${podPath}/${id}`, 'memory.limit_in_bytes'), String(32 * 1024 * 1024));
      assert.notEqual(cg('cpu', `${podPath}/${id}`, 'cgroup.procs'), '');
    } else {
      assert.equal(cg('', `${podPath}/${id}`, 'cpu.max'), '20000 100000');
      assert.notEqual(cg('', `${podPath}/${id}`, 'cgroup.procs'), '');
    }
    await e.kubectl.ok(['delete', 'pod', 'limited', '--wait=true', '--timeout=30s']);
  });

  it('mounts a memory-backed emptyDir as tmpfs and unmounts it on deletion', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('mounting needs root');
    const e = env as Env;
    await e.client.resource(PODS).create(
      'default',
      pod(NODE, 'mem', {
        volumes: [{ name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } }],
        containers: [
          {
            name: 'c',
            image: 'busybox',
            command: ['sh', '-c', 'echo hi > "$KTS_VOLUME_CACHE/f"; exec sleep 3600'],
            volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
          },
        ],
      }),
    );
    await e.kubectl.ok(['wait', '--for=condition=Ready', 'pod/mem', '--timeout=30s']);
    const uid = (await e.client.resource(PODS).get('default', 'mem')).metadata?.uid ?? '';
    const dir = join(podDir(join(e.dir, 'kubelet'), uid), 'volumes', 'kubernetes.io~empty-dir', 'cache');
    assert.deepEqual(mountsUnder(dir), [dir]);
    const line = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[4] === dir);
    assert.match(line ?? '', / - tmpfs tmpfs rw.*size=8192k/);
    await e.kubectl.ok(['delete', 'pod', 'mem', '--wait=true', '--timeout=30s']);
    await until('tmpfs unmounted', async () => (mountsUnder(dir).length === 0 ? true : undefined));
  });

  it('evicts a pod whose emptyDir exceeds its sizeLimit', async () => {
    const e = env as Env;
    await e.client.resource(PODS).create(
      'default',
      pod(NODE, 'filler', {
        volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '1Mi' } }],
        containers: [
          {
            name: 'c',
            image: 'busybox',
            command: [
              'sh',
              '-c',
              'dd if=/dev/urandom of="$KTS_VOLUME_SCRATCH/blob" bs=1024 count=3072 2>/dev/null; exec sleep 3600',
            ],
            volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
          },
        ],
      }),
    );
    const out = await until('pod evicted', async () => {
      const o = await e.kubectl.ok([
        'get',
        'pod',
        'filler',
        '-o',
        'jsonpath={.status.phase}|{.status.reason}|{.status.message}',
      ]);
      return o.startsWith('Failed|') ? o : undefined;
    });
    assert.equal(out, 'Failed|Evicted|Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ');
    const p = await e.client.resource(PODS).get('default', 'filler');
    const dt = p.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
    assert.equal(dt?.status, 'True');
    assert.equal(dt?.reason, 'TerminationByKubelet');
    assert.ok(p.status?.containerStatuses?.[0]?.state?.terminated, 'the container was stopped');
    await e.client.resource(PODS).delete('default', 'filler', { gracePeriodSeconds: 0 });
  });
});
