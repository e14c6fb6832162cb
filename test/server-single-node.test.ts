// `kts server` end to end, as a user runs it: the built CLI as a child process with a temp
// data dir, a free port and (first) the process runtime. The real kubectl then sees the node
// Ready, rolls out a 2-replica Deployment (scheduler + controllers + kubelet together, each
// with its own identity), and deletes a namespace with its content; SIGTERM stops the
// server and leaves no process behind. The cri variant runs when containerd is installed.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { teardownPodNetwork } from '../src/network/teardown.js';
import { missingCriBinaries } from '../src/server/node-runtime.js';
import { Kubectl } from './helpers/kubectl.js';

const ROOT = join(import.meta.dirname, '..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A `kts server` child process and its output so far. */
class ServerProcess {
  stdout = '';
  stderr = '';
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'server', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (d: Buffer) => {
      this.stdout += d.toString();
    });
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Resolves once stdout contains `text`; rejects if the process exits or time runs out. */
  async waitFor(text: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => {
      exited = true;
    });
    while (!this.stdout.includes(text)) {
      if (exited || Date.now() > deadline)
        throw new Error(
          `no "${text}" from kts server\nstdout:\n${this.stdout}\nstderr:\n${this.stderr.slice(-3000)}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Pids of processes whose command line mentions `needle` (the data dir). */
function processesMentioning(needle: string): string[] {
  const r = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter((l) => l.includes(needle) && !l.includes('ps -eo'))
    .map((l) => l.trim().split(/\s+/)[0] ?? '');
}

/** Every descendant pid of `root`. */
function descendants(root: number): number[] {
  const r = spawnSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' });
  const children = new Map<number, number[]>();
  for (const line of r.stdout.split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (pid === undefined || ppid === undefined || Number.isNaN(pid)) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    for (const c of children.get(stack.pop() ?? -1) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

// Zombies (exited, waiting to be reaped by an init that may not reap) do not count.
function alive(pid: number): boolean {
  const r = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' });
  return r.status === 0 && !r.stdout.trim().startsWith('Z');
}

function deploymentYaml(name: string, namespace: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  replicas: 2
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: kts.local/busybox:latest, command: [sleep, '3600']}
`;
}

function suite(runtime: 'process' | 'cri', skip: string | false): void {
  describe(`kts server (--runtime ${runtime})`, { skip }, () => {
    let dir = '';
    let server: ServerProcess;
    let kubectl: Kubectl;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `kts-server-${runtime}-`));
      const port = await freePort();
      server = new ServerProcess([
        '--data-dir',
        dir,
        '--https-port',
        String(port),
        '--bind-address',
        '127.0.0.1',
        '--runtime',
        runtime,
        '--node-name',
        `kts-test-${runtime}`,
        '--node-label',
        'kts.test/role=single',
        // kube-proxy would write the host's iptables and DNS would listen on the machine's LAN
        // address; both have their own tests on loopback and in private network namespaces.
        '--disable',
        'proxy',
        '--disable',
        'dns',
        '--kubelet-port',
        '0',
      ]);
      await server.waitFor('export KUBECONFIG=', 60_000);
      kubectl = new Kubectl(join(dir, 'kubeconfig.yaml'));
    });

    after(async () => {
      if (server.child.exitCode === null) {
        server.child.kill('SIGKILL');
        await server.exited;
      }
      for (const pid of processesMentioning(dir)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      if (runtime === 'cri') {
        // The node network (bridge kts0, routes of the cluster and service CIDRs, KTSNET
        // chains) outlives the server by design, as k3s's does; the test removes what it made.
        const report = await teardownPodNetwork({ dataDir: join(dir, 'agent', 'kubelet') });
        assert.deepEqual(report.errors, []);
      }
      rmSync(dir, { recursive: true, force: true });
    });

    it('prints progress with timings and the kubeconfig line', () => {
      assert.match(
        server.stdout,
        /kts server: API server ready at https:\/\/127\.0\.0\.1:\d+ \(\d+(\.\d)? m?s\)/,
      );
      assert.match(server.stdout, new RegExp(`kts server: node kts-test-${runtime} Ready \\(`));
      assert.ok(server.stdout.includes(`export KUBECONFIG=${join(dir, 'kubeconfig.yaml')}`), server.stdout);
    });

    it('shows the node Ready with its labels', async () => {
      const out = await kubectl.ok(['get', 'nodes', '-L', 'kts.test/role']);
      assert.match(out, new RegExp(`kts-test-${runtime}\\s+Ready\\s.*single`));
    });

    it('rolls out a Deployment of 2 replicas', async () => {
      await kubectl.ok(['create', 'namespace', 'web']);
      await kubectl.ok(['apply', '-f', '-'], { stdin: deploymentYaml('sleeper', 'web') });
      await kubectl.ok(['-n', 'web', 'rollout', 'status', 'deployment/sleeper', '--timeout=60s']);
      const pods = await kubectl.ok(['-n', 'web', 'get', 'pods', '-o', 'jsonpath={.items[*].status.phase}']);
      assert.deepEqual(pods.trim().split(' '), ['Running', 'Running']);
    });

    it('deleting a namespace removes its content', async () => {
      await kubectl.ok(['delete', 'namespace', 'web', '--timeout=60s']);
      const r = await kubectl.run(['get', 'namespace', 'web']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /namespaces "web" not found/);
      // Pods of the namespace are gone too (allowing a moment for a terminating pod's
      // final removal, which a real kubelet confirms asynchronously).
      let left = '';
      for (let i = 0; i < 50; i++) {
        left = await kubectl.ok(['get', 'pods', '-A', '-o', 'jsonpath={.items[*].metadata.namespace}']);
        if (!left.split(' ').includes('web')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(!left.split(' ').includes('web'), left);
    });

    it('stops cleanly on SIGTERM and leaves no process behind', async () => {
      if (runtime === 'process') {
        // A running pod whose container is a child process of the server must end with it.
        await kubectl.ok(['apply', '-f', '-'], { stdin: deploymentYaml('keeper', 'default') });
        await kubectl.ok(['rollout', 'status', 'deployment/keeper', '--timeout=60s']);
      }
      const pid = server.child.pid ?? -1;
      const tree = descendants(pid);
      if (runtime === 'process')
        assert.ok(tree.length >= 2, `container processes of ${pid}: ${tree.join(',')}`);
      server.child.kill('SIGTERM');
      const code = await server.exited;
      assert.equal(code, 0, server.stderr.slice(-2000));
      assert.match(server.stdout, /kts server: shutting down\n[\s\S]*kts server: stopped/);
      if (runtime === 'process') {
        await new Promise((r) => setTimeout(r, 200));
        const survivors = tree.filter(alive);
        const ps = spawnSync('ps', ['-o', 'pid,ppid,stat,args', '-p', survivors.join(',') || '1'], {
          encoding: 'utf8',
        });
        assert.deepEqual(survivors, [], ps.stdout);
        assert.deepEqual(processesMentioning(dir), []);
      }
    });
  });
}

suite('process', false);
const missing = missingCriBinaries();
suite(
  'cri',
  missing.length > 0
    ? `containerd/runc not installed (${missing.join(', ')}): apt-get install containerd runc containernetworking-plugins`
    : process.getuid?.() !== 0
      ? 'the cri runtime needs root'
      : false,
);
