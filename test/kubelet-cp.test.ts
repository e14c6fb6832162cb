// `kubectl cp` (tar through exec) with files and directory trees, over WebSocket and over
// plain SPDY (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false, which also covers exec's SPDY
// fallback). Both ways on the process runtime and on the cri runtime (a private
// containerd + runc with kts's busybox image), plus `kubectl port-forward` into a
// container through containerd's streaming server. Copying into a cri pod needs stdin's
// EOF to reach `tar`, which containerd 1.6's WebSocket exec (v4) cannot signal, so the
// kubelet execs over SPDY when stdin is attached. Pods use
// the host network, so no CNI is set up. Needs root and containerd, runc. Everything made
// here is removed: the pods and sandboxes, the containerd root (and its shims), the
// cgroups, the temp dirs; kubectl children are killed by pid.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '../src/api/generated/types/core-v1.js';
import { PODS } from '../src/client/resources.js';
import type { RestClient } from '../src/client/rest-client.js';
import { Kubelet } from '../src/kubelet/kubelet.js';
import { readMachineInfo } from '../src/kubelet/node-status.js';
import {
  type ContainerdDaemon,
  cleanupContainerdRoot,
  containerdMissing,
  startContainerd,
} from '../src/kubelet/runtime/containerd-daemon.js';
import { CriRuntime } from '../src/kubelet/runtime/cri/cri-runtime.js';
import { ProcessRuntime } from '../src/kubelet/runtime/process/process-runtime.js';
import { ensureBuiltinImages } from '../src/kubelet/runtime/images/import.js';
import type { TestApiServer } from './helpers/apiserver.js';
import type { Kubectl } from './helpers/kubectl.js';
import { removeTestCgroups, startTestCluster, type TestCluster } from './helpers/kubelet-node.js';
import { type KubectlChild, startKubectl } from './helpers/kubectl-child.js';
import { freePort, until } from './helpers/wait.js';

const CGROUP_ROOT = `/kts-kubelet-cp-${randomBytes(3).toString('hex')}`;
const SPDY = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' };
let api: TestApiServer;
let kubectl: Kubectl;
let client: RestClient;
let dir = '';
let cluster: TestCluster | undefined;
const children = new Set<ChildProcess>();

function pod(node: string, name: string, script: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      nodeName: node,
      hostNetwork: true,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: 'kts.local/busybox:latest', command: ['sh', '-c', script] }],
    },
  };
}

/** Runs kubectl and fails unless it exits 0 (cp's tar may warn on stderr). */
async function ok(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<string> {
  const r = await kubectl.run(args, { env, ...(stdin !== undefined ? { stdin } : {}) });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Every file under `root` (relative path → content). */
function tree(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(root, p), readFileSync(p));
    }
  };
  walk(root);
  return out;
}

/** kubectl with the kubeconfig of the test API server, as a child process. */
function spawnKubectl(args: string[]): KubectlChild {
  return startKubectl(kubectl, api.server.kubeconfigPath, args, children);
}

async function startApi(): Promise<void> {
  cluster = await startTestCluster('kubelet-cp', { rootCA: true });
  ({ api, kubectl, client, dir } = cluster);
}

async function stopApi(): Promise<void> {
  for (const c of children) if (c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
  await cluster?.stop();
  cluster = undefined;
  dir = '';
}

describe('kubectl cp on the process runtime', { timeout: 90_000 }, () => {
  const NODE = 'kubelet-cp-process';
  let runtime: ProcessRuntime | undefined;
  let kubelet: Kubelet | undefined;
  /** The pod's files live on the host: a directory of this test stands for its filesystem. */
  let root = '';

  before(async () => {
    await startApi();
    root = join(dir, 'podfs');
    mkdirSync(join(root, 'data', 'sub'), { recursive: true });
    writeFileSync(join(root, 'data', 'hello.txt'), 'hello\n');
    writeFileSync(join(root, 'data', 'sub', 'deep.txt'), 'deep\n');
    runtime = new ProcessRuntime({ rootDir: join(dir, 'process') });
    kubelet = new Kubelet({
      client,
      nodeName: NODE,
      runtime,
      dataDir: join(dir, 'kubelet'),
      machine: { ...readMachineInfo(join(dir, 'kubelet')), internalIP: '127.0.0.1' },
      relistMs: 200,
      statusUpdateMs: 1000,
      server: { port: 0, address: '127.0.0.1' },
    });
    await kubelet.start();
    await client.resource(PODS).create('default', pod(NODE, 'box', 'while true; do sleep 1; done'));
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/box', '--timeout=30s']);
  });

  after(async () => {
    await client
      ?.resource(PODS)
      .delete('default', 'box', { gracePeriodSeconds: 0 })
      .catch(() => {});
    await kubelet?.stop();
    await runtime?.close();
    await stopApi();
  });

  for (const [mode, env] of [
    ['WebSocket', {}],
    ['SPDY', SPDY],
  ] as const) {
    it(`copies a file into the pod and back out (${mode})`, async () => {
      const local = join(dir, `in-${mode}.bin`);
      const content = randomBytes(300 * 1024);
      writeFileSync(local, content);
      await ok(['cp', local, `default/box:${root}/in-${mode}.bin`], env);
      assert.deepEqual(readFileSync(join(root, `in-${mode}.bin`)), content);
      const back = join(dir, `back-${mode}.bin`);
      await ok(['cp', `box:${root}/in-${mode}.bin`, back], env);
      assert.deepEqual(readFileSync(back), content);
    });
  }

  it('copies a directory tree both ways', async () => {
    const src = join(dir, 'tree');
    mkdirSync(join(src, 'a', 'b'), { recursive: true });
    writeFileSync(join(src, 'top.txt'), 'top\n');
    writeFileSync(join(src, 'a', 'mid.txt'), 'mid\n');
    writeFileSync(join(src, 'a', 'b', 'blob.bin'), randomBytes(100 * 1024));
    await ok(['cp', src, `box:${root}/tree`]);
    assert.deepEqual(tree(join(root, 'tree')), tree(src));
    const back = join(dir, 'tree-back');
    await ok(['cp', `box:${root}/tree`, back], SPDY);
    assert.deepEqual(tree(back), tree(src));
  });

  it('kubectl exec over SPDY: output, stderr, stdin and exit codes', async () => {
    assert.equal(await ok(['exec', 'box', '--', 'echo', 'over spdy'], SPDY), 'over spdy\n');
    const r = await kubectl.run(['exec', 'box', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'], {
      env: SPDY,
    });
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'out\n');
    assert.match(r.stderr, /err\n/);
    assert.match(r.stderr, /command terminated with exit code 3/);
    assert.equal(await ok(['exec', '-i', 'box', '--', 'cat'], SPDY, 'one\ntwo\n'), 'one\ntwo\n');
  });
});

describe('kubectl cp and port-forward on the cri runtime', { timeout: 120_000 }, () => {
  const NODE = 'kubelet-cp-cri';
  let daemon: ContainerdDaemon | undefined;
  let runtime: CriRuntime | undefined;
  let kubelet: Kubelet | undefined;
  let httpPort = 0;

  before(async () => {
    if (process.getuid?.() !== 0) throw new Error('the cri tests need root (containerd)');
    const missing = containerdMissing();
    if (missing !== undefined) throw new Error(missing);
    await startApi();
    httpPort = await freePort();
    daemon = await startContainerd({ rootDir: join(dir, 'containerd') });
    await ensureBuiltinImages({ socket: daemon.socket });
    runtime = new CriRuntime({ endpoint: daemon.endpoint });
    kubelet = new Kubelet({
      client,
      nodeName: NODE,
      runtime,
      dataDir: join(dir, 'kubelet'),
      machine: { ...readMachineInfo(join(dir, 'kubelet')), internalIP: '127.0.0.1' },
      cgroupRoot: CGROUP_ROOT,
      relistMs: 300,
      statusUpdateMs: 500,
      server: { port: 0, address: '127.0.0.1' },
    });
    await kubelet.start();
    const box =
      'mkdir -p /data/sub && echo hello > /data/hello.txt && echo deep > /data/sub/deep.txt; ' +
      'trap "exit 0" TERM; while true; do sleep 1; done';
    const web =
      'mkdir -p /www && echo "<p>from containerd</p>" > /www/index.html && ' +
      `exec httpd -f -p 127.0.0.1:${httpPort} -h /www`;
    await client.resource(PODS).create('default', pod(NODE, 'box', box));
    await client.resource(PODS).create('default', pod(NODE, 'web', web));
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/box', 'pod/web', '--timeout=60s']);
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
      removeTestCgroups(CGROUP_ROOT);
      await stopApi();
    }
  });

  for (const [mode, env] of [
    ['WebSocket', {}],
    ['SPDY', SPDY],
  ] as const) {
    it(`copies a file and a directory out of the pod (${mode})`, async () => {
      await ok(['cp', 'box:/data/hello.txt', join(dir, `hello-${mode}.txt`)], env);
      assert.equal(readFileSync(join(dir, `hello-${mode}.txt`), 'utf8'), 'hello\n');
      const data = join(dir, `data-${mode}`);
      await ok(['cp', 'default/box:/data', data], env);
      assert.deepEqual([...tree(data).entries()].map(([k, v]) => [k, v.toString()]).sort(), [
        ['hello.txt', 'hello\n'],
        ['sub/deep.txt', 'deep\n'],
      ]);
    });
  }

  it('kubectl exec over SPDY into a container', async () => {
    assert.equal(await ok(['exec', 'box', '--', 'cat', '/data/sub/deep.txt'], SPDY), 'deep\n');
    const r = await kubectl.run(['exec', 'box', '--', 'sh', '-c', 'echo err >&2; exit 4'], { env: SPDY });
    assert.equal(r.code, 4);
    assert.match(r.stderr, /err\n/);
  });

  for (const [mode, env] of [
    ['WebSocket', {}],
    ['SPDY', SPDY],
  ] as const) {
    it(`copies a file and a directory into the pod (${mode})`, async () => {
      // The kubelet execs into containerd over SPDY when stdin is attached, so `tar -xf -`
      // sees stdin's EOF (containerd 1.6's WebSocket v4 cannot end it).
      const content = randomBytes(200 * 1024);
      const local = join(dir, `up-${mode}.bin`);
      writeFileSync(local, content);
      await ok(['cp', local, `box:/tmp/up-${mode}.bin`], env);
      assert.equal(
        await ok(['exec', 'box', '--', 'sh', '-c', `wc -c < /tmp/up-${mode}.bin`]),
        `${content.length}\n`,
      );
      const back = join(dir, `up-back-${mode}.bin`);
      await ok(['cp', `box:/tmp/up-${mode}.bin`, back], env);
      assert.deepEqual(readFileSync(back), content);
      const src = join(dir, `uptree-${mode}`);
      mkdirSync(join(src, 'x'), { recursive: true });
      writeFileSync(join(src, 'x', 'y.txt'), 'y\n');
      await ok(['cp', src, `box:/tmp/uptree-${mode}`], env);
      assert.equal(await ok(['exec', 'box', '--', 'cat', `/tmp/uptree-${mode}/x/y.txt`]), 'y\n');
    });
  }

  it('kubectl port-forward reaches a container through containerd', async () => {
    const f = spawnKubectl(['port-forward', 'pod/web', `:${httpPort}`]);
    try {
      const local = await until(
        'Forwarding from',
        async () => {
          if (f.child.exitCode !== null) throw new Error(f.err());
          return /Forwarding from 127\.0\.0\.1:(\d+)/.exec(f.out())?.[1];
        },
        15_000,
      );
      const body = await new Promise<string>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: Number(local), path: '/', agent: false }, (res) => {
            let b = '';
            res.on('data', (c: Buffer) => {
              b += c.toString();
            });
            res.once('end', () => resolve(b));
          })
          .once('error', reject);
      });
      assert.equal(body, '<p>from containerd</p>\n');
    } finally {
      if (f.child.pid !== undefined && f.child.exitCode === null) process.kill(f.child.pid, 'SIGKILL');
    }
  });
});
