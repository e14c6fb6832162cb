import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readLogs } from '../logs.js';
import type { ContainerConfig, ContainerStatus, PodSandboxConfig } from '../runtime.js';
import { isRuntimeNotFound } from '../runtime.js';
import { memoryCgroupVersion } from './cgroup.js';
import { ProcessRuntime } from './process-runtime.js';

let root = '';
let rt: ProcessRuntime;

function sandboxConfig(name: string): PodSandboxConfig {
  return {
    metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 0 },
    logDirectory: join(root, 'logs', `default_${name}_uid-${name}`),
    labels: { app: name },
  };
}

function container(name: string, command: string[], extra: Partial<ContainerConfig> = {}): ContainerConfig {
  return { metadata: { name, attempt: 0 }, image: 'busybox', command, logPath: `${name}/0.log`, ...extra };
}

async function run(name: string, command: string[], extra: Partial<ContainerConfig> = {}) {
  const config = sandboxConfig(name);
  const sandboxId = await rt.runPodSandbox(config);
  const containerId = await rt.createContainer(sandboxId, container(name, command, extra), config);
  await rt.startContainer(containerId);
  return { sandboxId, containerId, config };
}

async function waitExited(id: string): Promise<ContainerStatus> {
  for (let i = 0; i < 200; i++) {
    const s = await rt.containerStatus(id);
    if (s.state === 'CONTAINER_EXITED') return s;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`container ${id} did not exit`);
}

/** Waits until the container has logged `text` (so its signal traps are installed). */
async function waitForLog(id: string, text: string): Promise<void> {
  const { logPath } = await rt.containerStatus(id);
  for (let i = 0; i < 200; i++) {
    if (readLogs(logPath).toString().includes(text)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`container ${id} never logged ${text}`);
}

describe('process runtime', () => {
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'kts-process-'));
    rt = new ProcessRuntime({
      rootDir: join(root, 'runtime'),
      cgroupParent: `kts-process-test-${process.pid}`,
    });
  });
  after(async () => {
    for (const s of await rt.listPodSandbox()) await rt.removePodSandbox(s.id);
    await rt.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('runs a command in its own directory and env, logging in CRI format', async () => {
    const pod = await run(
      'echo',
      ['sh', '-c', 'echo "$GREETING from $(basename "$PWD")"; echo oops >&2; pwd > where'],
      {
        envs: [{ key: 'GREETING', value: 'hello' }],
      },
    );
    const s = await waitExited(pod.containerId);
    assert.deepEqual([s.exitCode, s.reason, s.imageRef], [0, 'Completed', 'process://busybox']);
    assert.equal(readLogs(s.logPath, { stream: 'stdout' }).toString(), `hello from ${pod.containerId}\n`);
    assert.equal(readLogs(s.logPath, { stream: 'stderr' }).toString(), 'oops\n');
    assert.match(readFileSync(s.logPath, 'utf8'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F hello/);
    await rt.removePodSandbox(pod.sandboxId);
    await assert.rejects(rt.containerStatus(pod.containerId), (e) => isRuntimeNotFound(e));
  });

  it('reports exit codes and reasons', async () => {
    const cases: [string[], number, string][] = [
      [['sh', '-c', 'exit 3'], 3, 'Error'],
      [['sh', '-c', 'kill -9 $$'], 137, 'Error'],
      [['true'], 0, 'Completed'],
    ];
    for (const [cmd, code, reason] of cases) {
      const pod = await run(`exit-${code}`, cmd);
      const s = await waitExited(pod.containerId);
      assert.deepEqual([s.exitCode, s.reason], [code, reason], cmd.join(' '));
      await rt.removePodSandbox(pod.sandboxId);
    }
    const pod = await run('missing', ['/nonexistent/binary']).catch((e: Error) => e);
    assert.ok(pod instanceof Error && /cannot start container missing/.test(pod.message));
  });

  it('stops with SIGTERM, then SIGKILL after the timeout', async () => {
    const polite = await run('polite', [
      'sh',
      '-c',
      'trap "exit 0" TERM; echo ready; while :; do sleep 0.1; done',
    ]);
    await waitForLog(polite.containerId, 'ready');
    await rt.stopContainer(polite.containerId, 5);
    assert.equal((await rt.containerStatus(polite.containerId)).exitCode, 0);
    const stubborn = await run('stubborn', [
      'sh',
      '-c',
      'trap "" TERM; echo ready; while :; do sleep 0.1; done',
    ]);
    await waitForLog(stubborn.containerId, 'ready');
    const t0 = Date.now();
    await rt.stopContainer(stubborn.containerId, 1);
    assert.ok(Date.now() - t0 >= 900);
    assert.equal((await rt.containerStatus(stubborn.containerId)).exitCode, 137);
    await rt.stopContainer(stubborn.containerId, 1); // idempotent
    await rt.removePodSandbox(polite.sandboxId);
    await rt.removePodSandbox(stubborn.sandboxId);
  });

  it('execs in the container directory, synchronously and streaming', async () => {
    const pod = await run('exec', ['sleep', '60'], { envs: [{ key: 'X', value: 'y' }] });
    const r = await rt.execSync(pod.containerId, ['sh', '-c', 'echo $X; basename "$PWD"; exit 3'], 5);
    assert.deepEqual([r.stdout.toString(), r.exitCode], [`y\n${pod.containerId}\n`, 3]);
    await assert.rejects(rt.execSync(pod.containerId, ['sleep', '5'], 1), /timed out/);
    const s = await rt.exec(pod.containerId, ['sh'], { stdin: true, stdout: true, stderr: true, tty: false });
    let out = '';
    s.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    s.stdin?.end('echo piped; exit 4\n');
    assert.equal(await s.exit, 4);
    assert.equal(out, 'piped\n');
    const tty = await rt.exec(pod.containerId, ['sh', '-c', 'stty size; exit 2'], {
      stdin: false,
      stdout: true,
      stderr: false,
      tty: true,
    });
    let ttyOut = '';
    tty.stdout?.on('data', (d: Buffer) => {
      ttyOut += d.toString();
    });
    assert.equal(await tty.exit, 2);
    assert.match(ttyOut, /^\d+ \d+/);
    await rt.removePodSandbox(pod.sandboxId);
  });

  it('attaches to output and forwards ports on the host network', async () => {
    const pod = await run('attach', ['sh', '-c', 'while :; do echo tick; sleep 0.1; done']);
    const a = await rt.attach(pod.containerId, { stdin: false, stdout: true, stderr: true, tty: false });
    const first = await new Promise<string>((resolve) =>
      a.stdout?.once('data', (d: Buffer) => resolve(d.toString())),
    );
    assert.equal(first, 'tick\n');
    a.close();
    assert.equal(await a.exit, 0);
    const server = createServer((s) => s.end('pong'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const addr = server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    const conn = await (await rt.portForward(pod.sandboxId)).connect(port);
    const reply = await new Promise<string>((resolve) => {
      let d = '';
      conn.on('data', (b: Buffer) => {
        d += b.toString();
      });
      conn.on('end', () => resolve(d));
    });
    assert.equal(reply, 'pong');
    server.close();
    const stats = await rt.containerStats(pod.containerId);
    assert.ok((stats.memoryRssBytes ?? 0n) > 0n);
    assert.deepEqual(
      (await rt.listContainers({ podSandboxId: pod.sandboxId, state: 'CONTAINER_RUNNING' })).map((c) => c.id),
      [pod.containerId],
    );
    assert.deepEqual((await rt.listPodSandbox({ labelSelector: { app: 'attach' } })).length, 1);
    await rt.removePodSandbox(pod.sandboxId);
  });

  it('reports OOMKilled under a memory cgroup limit (root, cgroup v1 or v2)', async () => {
    // Without root the runtime runs containers unlimited by design; this test needs the limit.
    assert.equal(process.getuid?.(), 0, 'this test needs root to create memory cgroups');
    assert.notEqual(memoryCgroupVersion(), undefined, 'no memory cgroup hierarchy under /sys/fs/cgroup');
    const pod = await run(
      'oom',
      ['sh', '-c', 'x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo survived'],
      {
        linux: { resources: { memoryLimitInBytes: 32 * 1024 * 1024 } },
      },
    );
    const s = await waitExited(pod.containerId);
    assert.equal(s.reason, 'OOMKilled');
    await rt.removePodSandbox(pod.sandboxId);
  });
});
