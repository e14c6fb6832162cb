// The CRI runtime against a real containerd + runc: kts starts a private containerd in a
// temporary root, imports the busybox and pause images it builds itself, and drives pods
// through CriRuntime. Needs root and the Debian packages containerd, runc and
// busybox-static; without them the tests fail and say what to install.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type ContainerdDaemon,
  cleanupContainerdRoot,
  containerdMissing,
  freeLoopbackPort,
  nodeImagesDir,
  startContainerd,
} from '../src/kubelet/runtime/containerd-daemon.js';
import { CriRuntime } from '../src/kubelet/runtime/cri/cri-runtime.js';
import { image } from '../src/cli/image.js';
import {
  BUSYBOX_IMAGE,
  buildImage,
  busyboxLayer,
  PAUSE_IMAGE,
  writeImage,
} from '../src/kubelet/runtime/images/build-image.js';
import { ensureBuiltinImages } from '../src/kubelet/runtime/images/import.js';
import { readLogs } from '../src/kubelet/runtime/logs.js';
import type { ContainerConfig, ContainerStatus, PodSandboxConfig } from '../src/kubelet/runtime/runtime.js';
import { isRuntimeNotFound } from '../src/kubelet/runtime/runtime.js';

const cgroupParent = `/kts-test-${randomBytes(4).toString('hex')}`;
let root = '';
let daemon: ContainerdDaemon | undefined;
let rt: CriRuntime;
let pods = 0;

function requireEnvironment(): void {
  if (process.getuid?.() !== 0)
    throw new Error('runtime-cri tests need root (containerd manages mounts and cgroups)');
  const missing = containerdMissing();
  if (missing !== undefined) throw new Error(missing);
}

function sandboxConfig(name: string): PodSandboxConfig {
  const uid = `uid-${name}-${++pods}`;
  return {
    metadata: { name, uid, namespace: 'default', attempt: 0 },
    logDirectory: join(root, 'pods', `default_${name}_${uid}`),
    labels: { 'io.kubernetes.pod.name': name },
    // Host network: CNI is the network layer's business, not this one's.
    linux: { cgroupParent, namespaceOptions: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } },
  };
}

function containerConfig(
  name: string,
  command: string[],
  extra: Partial<ContainerConfig> = {},
): ContainerConfig {
  return {
    metadata: { name, attempt: 0 },
    image: BUSYBOX_IMAGE,
    command,
    logPath: `${name}/0.log`,
    ...extra,
  };
}

async function runPod(
  name: string,
  command: string[],
  extra: Partial<ContainerConfig> = {},
): Promise<{ sandboxId: string; containerId: string; config: PodSandboxConfig; ms: number }> {
  const config = sandboxConfig(name);
  const t0 = performance.now();
  const sandboxId = await rt.runPodSandbox(config);
  const containerId = await rt.createContainer(sandboxId, containerConfig(name, command, extra), config);
  await rt.startContainer(containerId);
  return { sandboxId, containerId, config, ms: performance.now() - t0 };
}

async function waitExited(id: string, timeoutMs = 15_000): Promise<ContainerStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await rt.containerStatus(id);
    if (s.state === 'CONTAINER_EXITED') return s;
    if (Date.now() > deadline) throw new Error(`container ${id} still ${s.state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the container has logged `text` (so its signal traps are installed). */
async function waitForLog(id: string, text: string): Promise<void> {
  const { logPath } = await rt.containerStatus(id);
  for (let i = 0; i < 500; i++) {
    if (readLogs(logPath).toString().includes(text)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`container ${id} never logged ${text}`);
}

async function removePod(sandboxId: string): Promise<void> {
  await rt.stopPodSandbox(sandboxId);
  await rt.removePodSandbox(sandboxId);
}

describe('cri runtime on a private containerd', { timeout: 60_000 }, () => {
  before(async () => {
    requireEnvironment();
    root = mkdtempSync(join(tmpdir(), 'kts-cri-'));
    daemon = await startContainerd({ rootDir: join(root, 'containerd') });
    await ensureBuiltinImages({ socket: daemon.socket });
    rt = new CriRuntime({ endpoint: daemon.endpoint });
  });

  after(async () => {
    if (daemon !== undefined) {
      try {
        for (const s of await rt.listPodSandbox()) await removePod(s.id);
      } finally {
        await rt.close();
        await daemon.stop();
      }
    }
    if (root !== '') cleanupContainerdRoot(root);
    for (const controller of readdirSync('/sys/fs/cgroup')) {
      try {
        rmdirSync(join('/sys/fs/cgroup', controller, cgroupParent));
      } catch {
        // not created in this hierarchy
      }
    }
  });

  it('reports containerd, runtime.v1 and the imported images', async () => {
    const v = await rt.version();
    assert.equal(v.runtimeName, 'containerd');
    assert.equal(v.runtimeApiVersion, 'v1');
    const tags = (await rt.listImages()).flatMap((i) => i.repoTags);
    assert.ok(tags.includes(BUSYBOX_IMAGE) && tags.includes(PAUSE_IMAGE), tags.join(','));
    const bb = await rt.imageStatus(BUSYBOX_IMAGE);
    assert.match(bb?.id ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(await rt.imageStatus('kts.local/absent:1'), null);
  });

  it('imports image tarballs with `kts image import`, or queues them when containerd is down', async () => {
    const file = join(root, 'custom.tar');
    writeImage(
      buildImage({
        name: 'kts.local/custom:v1',
        layers: [busyboxLayer()],
        config: { cmd: ['echo', 'custom'] },
      }),
      file,
    );
    assert.equal(await image(['import', '--container-runtime-endpoint', daemon?.endpoint ?? '', file]), 0);
    assert.ok((await rt.imageStatus('kts.local/custom:v1')) !== null);
    await rt.removeImage('kts.local/custom:v1');
    await rt.removeImage('kts.local/custom:v1'); // idempotent
    assert.equal(await rt.imageStatus('kts.local/custom:v1'), null);
    const dataDir = join(root, 'data');
    assert.equal(await image(['import', '--data-dir', dataDir, file]), 0);
    assert.ok(existsSync(join(nodeImagesDir(dataDir), 'custom.tar')));
    assert.equal(await image(['import', join(root, 'absent.tar')]), 1);
  });

  it('runs a container that echoes, with its output in the CRI log', async (t) => {
    const pod = await runPod('echo', ['sh', '-c', 'echo hello; echo oops >&2']);
    t.diagnostic(`sandbox + container start: ${pod.ms.toFixed(0)} ms`);
    const s = await waitExited(pod.containerId);
    assert.equal(s.exitCode, 0);
    assert.equal(s.reason, 'Completed');
    assert.ok(s.startedAt > 0n && s.finishedAt > 0n);
    assert.equal(s.logPath, join(pod.config.logDirectory, 'echo/0.log'));
    assert.match(s.imageRef, /^sha256:/);
    assert.equal(readLogs(s.logPath, { stream: 'stdout' }).toString(), 'hello\n');
    assert.equal(readLogs(s.logPath, { stream: 'stderr' }).toString(), 'oops\n');
    assert.match(
      readLogs(s.logPath, { timestamps: true, stream: 'stdout' }).toString(),
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z hello\n/,
    );
    const listed = await rt.listContainers({ podSandboxId: pod.sandboxId });
    assert.deepEqual(
      listed.map((c) => [c.id, c.state]),
      [[pod.containerId, 'CONTAINER_EXITED']],
    );
    await removePod(pod.sandboxId);
    assert.deepEqual(await rt.listPodSandbox({ id: pod.sandboxId }), []);
    await assert.rejects(rt.containerStatus(pod.containerId), (e) => isRuntimeNotFound(e));
  });

  it('execs synchronously and streams, with exit codes', async () => {
    const pod = await runPod('exec', ['sleep', '3600']);
    const r = await rt.execSync(pod.containerId, ['sh', '-c', 'echo out; echo err >&2; exit 3'], 10);
    assert.deepEqual([r.stdout.toString(), r.stderr.toString(), r.exitCode], ['out\n', 'err\n', 3]);
    const session = await rt.exec(pod.containerId, ['sh'], {
      stdin: true,
      stdout: true,
      stderr: true,
      tty: false,
    });
    let out = '';
    session.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    session.stdin?.write('echo from-stdin; exit 5\n');
    assert.equal(await session.exit, 5);
    assert.equal(out, 'from-stdin\n');
    const stats = await rt.containerStats(pod.containerId);
    assert.equal(stats.id, pod.containerId);
    await removePod(pod.sandboxId);
  });

  it('reports exit codes, and stops a running container with SIGTERM', async () => {
    const failing = await runPod('fail', ['sh', '-c', 'exit 7']);
    const f = await waitExited(failing.containerId);
    assert.deepEqual([f.exitCode, f.reason], [7, 'Error']);
    const sleeper = await runPod('sleeper', [
      'sh',
      '-c',
      'trap "exit 0" TERM; echo ready; while :; do sleep 1; done',
    ]);
    await waitForLog(sleeper.containerId, 'ready');
    await rt.stopContainer(sleeper.containerId, 5);
    const s = await rt.containerStatus(sleeper.containerId);
    assert.equal(s.state, 'CONTAINER_EXITED');
    assert.equal(s.exitCode, 0);
    await rt.stopContainer(sleeper.containerId, 5); // idempotent
    await removePod(failing.sandboxId);
    await removePod(sleeper.sandboxId);
  });

  it('reports OOMKilled when a container exceeds its memory limit', async () => {
    const pod = await runPod('oom', ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=128M', 'count=1'], {
      linux: { resources: { memoryLimitInBytes: 32 * 1024 * 1024 } },
    });
    const s = await waitExited(pod.containerId);
    assert.equal(s.reason, 'OOMKilled');
    assert.equal(s.exitCode, 137);
    await removePod(pod.sandboxId);
  });

  it('forwards a port of a pod', async () => {
    const port = await freeLoopbackPort();
    const pod = await runPod('web', [
      'sh',
      '-c',
      `mkdir -p /www && echo pong > /www/index.html && exec httpd -f -p 127.0.0.1:${port} -h /www`,
    ]);
    const forwarder = await rt.portForward(pod.sandboxId);
    let reply = '';
    for (let i = 0; i < 50 && !reply.includes('pong'); i++) {
      try {
        const conn = await forwarder.connect(port);
        reply = await new Promise<string>((resolve, reject) => {
          let data = '';
          conn.on('data', (d: Buffer) => {
            data += d.toString();
          });
          conn.on('end', () => resolve(data));
          // A connection refused inside the pod (httpd not listening yet) may just close.
          conn.on('close', () => resolve(data));
          conn.on('error', reject);
          setTimeout(() => {
            conn.destroy();
            resolve(data);
          }, 3000).unref();
          conn.write('GET / HTTP/1.0\r\n\r\n');
        });
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.match(reply, /^HTTP\/1\.[01] 200 OK\r\n[\s\S]*\r\n\r\npong\n$/);
    forwarder.close();
    await removePod(pod.sandboxId);
  });
});
