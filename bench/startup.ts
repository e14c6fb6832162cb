// `npm run -s bench:startup`: how fast `kts server` brings up a usable cluster and how much
// memory it holds when idle. Launches the CLI with a fresh data dir on a free port and
// measures launch → API ready, → node Ready (from its progress lines), → a first pod
// Running (its image is built in), then the server's RSS after 60 s. The runtime is the
// server's default (cri when containerd and runc are installed); KTS_BENCH_RUNTIME overrides.
// Last line: {"apiReadySeconds","nodeReadySeconds","firstPodRunningSeconds","serverIdleRssMB","agentIdleRssMB"}.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { teardownPodNetwork } from '../src/network/teardown.js';
import { cleanupProxyRules } from '../src/proxy/run.js';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const IDLE_MS = 60_000;

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

function rssMB(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] !== undefined ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number): number => Math.round(ms) / 1000;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kts-bench-startup-'));
  const port = await freePort();
  const runtime = process.env.KTS_BENCH_RUNTIME;
  const args = [
    '--import',
    'tsx',
    'src/cli/main.ts',
    'server',
    '--data-dir',
    dir,
    '--https-port',
    String(port),
  ];
  args.push('--bind-address', '127.0.0.1', '--node-name', 'kts-bench');
  if (runtime !== undefined) args.push('--runtime', runtime);
  const t0 = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const seen = new Map<string, number>();
  let out = '';
  let errTail = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    const now = performance.now() - t0;
    if (!seen.has('api') && out.includes('API server ready')) seen.set('api', now);
    if (!seen.has('node') && /node \S+ Ready/.test(out)) seen.set('node', now);
    if (!seen.has('kubeconfig') && out.includes('export KUBECONFIG=')) seen.set('kubeconfig', now);
  });
  child.stderr?.on('data', (d: Buffer) => {
    errTail = (errTail + d.toString()).slice(-4000);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  const kubectl = (...a: string[]): string =>
    execFileSync('kubectl', a, {
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dir, KUBECACHEDIR: join(dir, '.kube-cache') },
    });
  const result = {
    apiReadySeconds: null as number | null,
    nodeReadySeconds: null as number | null,
    firstPodRunningSeconds: null as number | null,
    serverIdleRssMB: null as number | null,
    agentIdleRssMB: null as number | null,
  };
  try {
    while (!seen.has('kubeconfig')) {
      if (exited || performance.now() - t0 > 90_000)
        throw new Error(`kts server did not come up:\n${out}\n${errTail}`);
      await sleep(20);
    }
    process.stdout.write(out);
    result.apiReadySeconds = secs(seen.get('api') ?? Number.NaN);
    result.nodeReadySeconds = seen.has('node') ? secs(seen.get('node') ?? 0) : null;
    kubectl('run', 'first', '--image=kts.local/busybox:latest', '--restart=Never', '--', 'sleep', '3600');
    while (performance.now() - t0 < 120_000) {
      const phase = kubectl('get', 'pod', 'first', '-o', 'jsonpath={.status.phase}');
      if (phase === 'Running') {
        result.firstPodRunningSeconds = secs(performance.now() - t0);
        break;
      }
      await sleep(50);
    }
    process.stdout.write(`first pod Running at ${result.firstPodRunningSeconds ?? 'never'} s; idling…\n`);
    kubectl('delete', 'pod', 'first', '--grace-period=1', '--wait=true');
    const idleFor = IDLE_MS - (performance.now() - t0);
    if (idleFor > 0) await sleep(idleFor);
    result.serverIdleRssMB = child.pid !== undefined ? rssMB(child.pid) : null;
  } finally {
    if (!exited) {
      child.kill('SIGTERM');
      const deadline = performance.now() + 15_000;
      while (!exited && performance.now() < deadline) await sleep(50);
      if (!exited) child.kill('SIGKILL');
    }
    // Anything still naming the data dir (a private containerd, its shims) is ours.
    const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout;
    for (const line of ps.split('\n')) {
      if (!line.includes(dir)) continue;
      try {
        process.kill(Number(line.trim().split(/\s+/)[0]), 'SIGKILL');
      } catch {
        // gone already
      }
    }
    // The node network and kube-proxy's chains outlive the server by design (as k3s's); the
    // benchmark removes both (`kts proxy --cleanup` removes exactly the KTS- chains).
    await teardownPodNetwork({ dataDir: join(dir, 'agent', 'kubelet') });
    await cleanupProxyRules({});
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:startup failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
