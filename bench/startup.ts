// `npm run -s bench:startup`: how fast `kts server` brings up a usable cluster and how much
// memory it holds when idle. Launches the CLI with a fresh data dir on a free port and
// measures launch → API ready, → node Ready (from its progress lines), → a first pod
// Running (created through the API as `kubectl run` would; its image is built in), then the server's RSS after 60 s. The runtime is the
// server's default (cri when containerd and runc are installed); KTS_BENCH_RUNTIME overrides.
// Then a real `kts agent` joins with the server's token — on this machine, in its own
// network namespace on a bench LAN bridge (as test/agent-join.test.ts runs it), with the
// process runtime and its kube-proxy — and its RSS is read once it has idled 60 s as well.
// Without root (no network namespaces) the agent is skipped and agentIdleRssMB is null.
// Both run as users run them: the `kts` bin and the bundle it runs, built here into a
// temporary directory first by `npm run build`'s script (~30 s, not timed). Under tsx every process would also
// hold the TypeScript loader, ~40 MB of RSS no installed kts has. KTS_BENCH_TSX=1 runs the
// sources through tsx instead.
// Set KTS_BENCH_RSS_DETAIL=1 to print both processes' heap / external / code breakdown
// (anonymous vs file-backed resident memory, from /proc/<pid>/status).
// Last line: {"apiReadySeconds","nodeReadySeconds","firstPodRunningSeconds","serverIdleRssMB","agentIdleRssMB"}.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import type { Pod } from '../src/api/generated/types/core-v1.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { PODS } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { teardownPodNetwork } from '../src/network/teardown.js';
import { cleanupProxyRules } from '../src/proxy/run.js';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestLan, type LanHost, type TestLan } from '../test/helpers/netns-lan.js';

const ROOT = join(import.meta.dirname, '..');
const IDLE_MS = 60_000;
/** The bench LAN (the server at .1, the agent's machine at .2); unused by the tests' LANs. */
const LAN_SUBNET = '192.168.246';

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
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

/** Where a process's memory goes (kB): anonymous (heaps), file-backed (code, mapped files). */
function rssDetail(pid: number): string {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (k: string): string => new RegExp(`${k}:\\s+(\\d+ kB)`).exec(status)?.[1] ?? '?';
    return `RssAnon ${field('RssAnon')}, RssFile ${field('RssFile')}, RssShmem ${field('RssShmem')}, VmData ${field('VmData')}`;
  } catch {
    return 'gone';
  }
}

/**
 * Builds kts into `out` exactly as `npm run build` builds dist/ (scripts/build.mjs: the
 * compiled modules, their assets and the esbuild bundle) and resolves to the node arguments
 * of the `kts` command there (bin/kts.js, which runs the bundle); undefined when nothing was
 * emitted. Type errors elsewhere in a working tree do not stop the build (tsc still emits).
 */
function buildCli(out: string): string[] | undefined {
  spawnSync(
    process.execPath,
    [join(ROOT, 'scripts', 'build.mjs'), '--outdir', join(out, 'dist'), '--allow-type-errors'],
    { cwd: ROOT, stdio: 'ignore' },
  );
  if (!existsSync(join(out, 'dist', 'bundle', 'main.js'))) return undefined;
  // bin/kts.js finds ../dist beside itself; packages resolve from the parents of dist/.
  mkdirSync(join(out, 'bin'));
  copyFileSync(join(ROOT, 'bin', 'kts.js'), join(out, 'bin', 'kts.js'));
  symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'));
  return [join(out, 'bin', 'kts.js')];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number): number => Math.round(ms) / 1000;

async function main(): Promise<void> {
  const buildDir = mkdtempSync(join(tmpdir(), 'kts-bench-build-'));
  let cli = process.env.KTS_BENCH_TSX === '1' ? undefined : buildCli(buildDir);
  if (cli === undefined) {
    if (process.env.KTS_BENCH_TSX !== '1')
      process.stdout.write('build failed: running the sources with tsx\n');
    cli = ['--import', 'tsx', 'src/cli/main.ts'];
  }
  const dir = mkdtempSync(join(tmpdir(), 'kts-bench-startup-'));
  const agentDir = mkdtempSync(join(tmpdir(), 'kts-bench-agent-'));
  // The agent needs a separate machine: a network namespace on a LAN bridge the server
  // listens on (root only). Without it the server listens on loopback and no agent runs.
  let lan: TestLan | undefined;
  let agentHost: LanHost | undefined;
  if (process.getuid?.() === 0) {
    lan = await createTestLan(LAN_SUBNET);
    agentHost = await lan.addHost('agent', 2);
  }
  const bindAddress = lan?.hostAddress ?? '127.0.0.1';
  const port = await freePort(bindAddress);
  const runtime = process.env.KTS_BENCH_RUNTIME;
  const args = [...cli, 'server', '--data-dir', dir, '--https-port', String(port)];
  args.push('--bind-address', bindAddress, '--node-name', 'kts-bench');
  if (lan !== undefined) args.push('--advertise-address', bindAddress);
  // Any free port for the kubelet's server: 10250 may be taken by another kts on this machine.
  args.push('--kubelet-port', '0');
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
  let agent: ChildProcess | undefined;
  let agentOut = '';
  let agentExited = false;
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
    // The pod goes in through the API, as `kubectl run` sends it, but without kubectl's own
    // start-up and discovery (a second or more of client CPU on a cold cache), which is not
    // the cluster's time. A refusal while the `default` ServiceAccount is not there yet is
    // retried: that wait is the cluster's.
    const api = new RestClient({ ...loadKubeconfig(kubeconfig), userAgent: 'bench' });
    const firstPod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'first', labels: { run: 'first' } },
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'first', image: 'kts.local/busybox:latest', args: ['sleep', '3600'] }],
      },
    };
    let createdAt = Number.NaN;
    const firstTryAt = performance.now() - t0;
    let refusals = 0;
    let lastRefusal = '';
    while (performance.now() - t0 < 120_000) {
      try {
        await api.resource(PODS).create('default', firstPod);
        createdAt = performance.now() - t0;
        break;
      } catch (e) {
        refusals++;
        lastRefusal = e instanceof Error ? e.message : String(e);
        await sleep(20);
      }
    }
    process.stdout.write(
      `first pod: kubeconfig line at ${secs(seen.get('kubeconfig') ?? Number.NaN)} s, first create sent at ` +
        `${secs(firstTryAt)} s${refusals > 0 ? `, ${refusals} refusal(s), the last: ${lastRefusal}` : ''}\n`,
    );
    let scheduledAt = Number.NaN;
    while (Number.isFinite(createdAt) && performance.now() - t0 < 120_000) {
      const p = await api.resource(PODS).get('default', 'first');
      if (Number.isNaN(scheduledAt) && p.spec?.nodeName) scheduledAt = performance.now() - t0;
      if (p.status?.phase === 'Running') {
        result.firstPodRunningSeconds = secs(performance.now() - t0);
        break;
      }
      await sleep(20);
    }
    api.close();
    process.stdout.write(
      `first pod created at ${secs(createdAt)} s, bound by ${secs(scheduledAt)} s, ` +
        `Running at ${result.firstPodRunningSeconds ?? 'never'} s; idling…\n`,
    );
    kubectl('delete', 'pod', 'first', '--grace-period=1', '--wait=true');
    let agentStartedAt = 0;
    if (agentHost !== undefined) {
      const token = readFileSync(join(dir, 'agent-token'), 'utf8').trim();
      agentStartedAt = performance.now();
      // `ip netns exec` execs node in place, so the child's pid is the agent's.
      agent = agentHost.spawn(
        [
          process.execPath,
          ...cli,
          'agent',
          '--server',
          `https://${bindAddress}:${port}`,
          '--token',
          token,
          '--runtime',
          'process',
          '--node-name',
          'kts-bench-agent',
          '--data-dir',
          agentDir,
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      agent.stdout?.on('data', (d: Buffer) => {
        agentOut += d.toString();
      });
      agent.stderr?.on('data', (d: Buffer) => {
        agentOut = (agentOut + d.toString()).slice(-8000);
      });
      agent.once('exit', () => {
        agentExited = true;
      });
      const deadline = performance.now() + 60_000;
      for (;;) {
        const ready = kubectl(
          'get',
          'nodes',
          '-o',
          'jsonpath={.items[?(@.metadata.name=="kts-bench-agent")].status.conditions[?(@.type=="Ready")].status}',
        );
        if (ready === 'True') break;
        if (agentExited || performance.now() > deadline)
          throw new Error(`kts agent did not join:\n${agentOut}`);
        await sleep(200);
      }
      process.stdout.write(
        `agent node Ready ${secs(performance.now() - agentStartedAt)} s after its launch; idling…\n`,
      );
    }
    const idleFor = IDLE_MS - (performance.now() - t0);
    if (idleFor > 0) await sleep(idleFor);
    result.serverIdleRssMB = child.pid !== undefined ? rssMB(child.pid) : null;
    const detail = process.env.KTS_BENCH_RSS_DETAIL === '1';
    if (detail && child.pid !== undefined) process.stdout.write(`server memory: ${rssDetail(child.pid)}\n`);
    if (agent?.pid !== undefined) {
      const agentIdle = IDLE_MS - (performance.now() - agentStartedAt);
      if (agentIdle > 0) await sleep(agentIdle);
      result.agentIdleRssMB = agentExited ? null : rssMB(agent.pid);
      if (detail) process.stdout.write(`agent memory: ${rssDetail(agent.pid)}\n`);
    }
  } finally {
    if (agent !== undefined && !agentExited) {
      agent.kill('SIGTERM');
      const deadline = performance.now() + 15_000;
      while (!agentExited && performance.now() < deadline) await sleep(50);
      if (!agentExited) agent.kill('SIGKILL');
    }
    if (!exited) {
      child.kill('SIGTERM');
      const deadline = performance.now() + 15_000;
      while (!exited && performance.now() < deadline) await sleep(50);
      if (!exited) child.kill('SIGKILL');
    }
    // Anything still naming the data dir (a private containerd, its shims) is ours.
    const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout;
    for (const line of ps.split('\n')) {
      if (!line.includes(dir) && !line.includes(agentDir)) continue;
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
    // The agent's machine goes with its namespace (its kube-proxy's rules were in there).
    await lan?.remove();
    rmSync(dir, { recursive: true, force: true });
    rmSync(agentDir, { recursive: true, force: true });
    rmSync(buildDir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:startup failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
