// Scheduler benchmark (upstream scheduler_perf's SchedulingBasic, SchedulingPodAntiAffinity
// and TopologySpreading shapes, end to end): an API server (sqlite, temp data dir) in one
// child process, the scheduler (`runScheduler`, as `kts scheduler` runs it) in another, and
// in this process 5,000 hollow nodes plus the driver that creates pods (64 requests in
// flight, no client-side rate limit) and watches them get bound. Each workload has 10,000
// pods in its own namespace; pods of earlier workloads stay bound, as in scheduler_perf.
//
// What is timed (--mode):
//   precreate (default)  the scheduler is not running while the workload's pods are
//                        created; then a fresh scheduler process starts, lists the cluster
//                        (5,000 nodes, every pod) and reports ready with all the workload's
//                        pods queued. podsPerSec = pods bound / (last bind observed through a
//                        watch − the scheduler's ready time). Every pod is still scheduled
//                        and bound through the API (pods/binding plus a Scheduled event), so
//                        this is the scheduler's own throughput, not the API server's pod
//                        create rate, which otherwise caps the number (upstream's
//                        scheduler_perf creates pods far faster than it schedules them).
//   concurrent           one scheduler runs throughout and pods are created while it
//                        schedules; podsPerSec = pods bound / (last bound − first create),
//                        bounded by the create rate, reported beside it as create/s.
//
// Workloads:
//   basic           pods requesting 100m CPU / 500Mi (scheduler_perf's pod-default)
//   antiAffinity    required pod anti-affinity on kubernetes.io/hostname; 5,000 nodes hold
//                   at most 5,000 such pods per group, so the 10,000 pods form 10 groups of
//                   1,000 (each group anti-affine to itself, as the upstream template)
//   topologySpread  maxSkew 1 over topology.kubernetes.io/zone (3 zones), DoNotSchedule
// Each workload's line on stderr also gives the CPU each process spent per bound pod during
// the timed window (from /proc; the machine's 2 cores are shared, so throughput follows the
// load average, printed beside it, while CPU per pod barely does).
// Prints a table, then as the last line:
//   {"basic":{"podsPerSec":N},"antiAffinity":{"podsPerSec":N},"topologySpread":{"podsPerSec":N}}
// Hollow nodes register, heartbeat and hold the bound pods; by default they do not play the
// kubelet for them (no Running status writes), as scheduler_perf has no kubelets: those
// writes would measure the API server, not the scheduler. `--run-pods` turns them on.
// A workload that has not finished after --timeout-s (default 60) of timed scheduling
// reports the pods bound so far over the time taken (marked "timeout" in the table).
// Usage: node --import tsx bench/scheduler.ts [--nodes 5000] [--pods 10000] [--timeout-s 60]
//        [--mode precreate|concurrent] [--only basic,antiAffinity,topologySpread] [--run-pods]
//        [--cpu-prof-dir DIR]
// --cpu-prof-dir writes V8 CPU profiles of the API server and scheduler processes to DIR.

import { type ChildProcess, spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../src/api/generated/types/core-v1.js';
import { SharedIndexInformer } from '../src/client/cache/shared-informer.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { NAMESPACES, NODES, PODS, SERVICEACCOUNTS } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { startHollowNodes } from '../src/hollow/hollow-nodes.js';

const SELF = new URL(import.meta.url).pathname;

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) ? v : dflt;
}

// ---- child roles ----------------------------------------------------------------------

async function serveApi(dataDir: string): Promise<void> {
  const { startApiServer } = await import('../src/apiserver/server.js');
  const server = await startApiServer({ dataDir, httpsPort: 0, bindAddress: '127.0.0.1' });
  process.stdout.write(`${JSON.stringify({ kubeconfig: server.kubeconfigPath })}\n`);
  await untilStdinEnds();
  await server.close();
}

async function serveScheduler(kubeconfig: string): Promise<void> {
  const { runScheduler } = await import('../src/scheduler/run.js');
  const ac = new AbortController();
  const running = runScheduler({
    kubeconfig,
    signal: ac.signal,
    // Wall-clock ms, comparable with the driver's Date.now() on the same machine.
    onReady: () => process.stdout.write(`${JSON.stringify({ ready: true, at: Date.now() })}\n`),
  });
  await untilStdinEnds();
  ac.abort();
  await running;
}

function untilStdinEnds(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.on('data', () => {});
    process.stdin.on('end', resolve);
    process.stdin.on('close', resolve);
  });
}

/** Spawns this file in a child role and resolves with its first stdout JSON line. */
function child(role: string, arg: string): Promise<{ proc: ChildProcess; first: Record<string, unknown> }> {
  const prof = process.argv.indexOf('--cpu-prof-dir');
  const profile = prof > 0 ? ['--cpu-prof', `--cpu-prof-dir=${process.argv[prof + 1] ?? '.'}`] : [];
  const proc = spawn(process.execPath, [...profile, '--import', 'tsx', SELF, `--${role}`, arg], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    let done = false;
    proc.stdout?.on('data', (b: Buffer) => {
      if (done) return;
      buf += b.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      done = true;
      resolve({ proc, first: JSON.parse(buf.slice(0, nl)) as Record<string, unknown> });
    });
    proc.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

async function stopChild(proc: ChildProcess | undefined): Promise<void> {
  if (proc === undefined || proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.stdin?.end();
  const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

/** CPU seconds (user + system) a process has used so far, from /proc (0 where unavailable). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    // Fields after the parenthesised command: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

// ---- workloads ------------------------------------------------------------------------

type Workload = 'basic' | 'antiAffinity' | 'topologySpread';

function makePod(w: Workload, i: number): Pod {
  const base: Pod = {
    metadata: { name: `p-${i}`, labels: { app: w } },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'registry.k8s.io/pause:3.10',
          resources: { requests: { cpu: '100m', memory: '500Mi' } },
        },
      ],
      terminationGracePeriodSeconds: 0,
    },
  };
  const spec = base.spec as NonNullable<Pod['spec']>;
  if (w === 'antiAffinity') {
    const group = `g${i % 10}`;
    (base.metadata as { labels: Record<string, string> }).labels.group = group;
    spec.affinity = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: { group } }, topologyKey: 'kubernetes.io/hostname' },
        ],
      },
    };
  } else if (w === 'topologySpread') {
    spec.topologySpreadConstraints = [
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector: { matchLabels: { app: w } },
      },
    ];
  }
  return base;
}

type Mode = 'precreate' | 'concurrent';

interface Result {
  workload: Workload;
  pods: number;
  bound: number;
  createPerSec: number;
  seconds: number;
  podsPerSec: number;
  timedOut: boolean;
  /** CPU seconds each process used during the timed window (where it shares 2 cores). */
  cpu: { scheduler: number; api: number; driver: number };
}

/** Starts a scheduler process; resolves once it reports ready (its wall-clock ms). */
type StartScheduler = () => Promise<{ proc: ChildProcess; readyAt: number }>;

async function runWorkload(
  client: RestClient,
  w: Workload,
  count: number,
  timeoutMs: number,
  mode: Mode,
  startScheduler: StartScheduler,
  apiPid: number | undefined,
  runningScheduler: ChildProcess | undefined,
): Promise<Result> {
  const ns = `bench-${w.toLowerCase()}`;
  await client.resource(NAMESPACES).create('', { metadata: { name: ns } });
  // The ServiceAccount admission wants the namespace's default account, which the
  // serviceaccount controller would create; there is no controller-manager here.
  await client.resource(SERVICEACCOUNTS).create(ns, { metadata: { name: 'default' } });
  const ac = new AbortController();
  setMaxListeners(256, ac.signal);
  // A pod entering the `spec.nodeName!=` selection is one bind, observed as the scheduler's
  // clients would see it (through a watch).
  const bound = new SharedIndexInformer<Pod>(client.resource(PODS), {
    namespace: ns,
    fieldSelector: 'spec.nodeName!=',
    transform: (p) => ({ metadata: { name: p.metadata?.name ?? '', namespace: ns } }),
  });
  let n = 0;
  let lastBound = 0;
  let allBound!: () => void;
  const done = new Promise<void>((r) => {
    allBound = r;
  });
  bound.addEventHandler({
    onAdd: () => {
      n++;
      lastBound = Date.now();
      if (n === count) allBound();
    },
  });
  const watching = bound.run(ac.signal);
  await bound.waitForSync(ac.signal);
  const pods = client.resource(PODS);
  let next = 0;
  const createStart = Date.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      for (let i = next++; i < count; i = next++) await pods.create(ns, makePod(w, i));
    }),
  );
  const created = Date.now();
  let sched: ChildProcess | undefined;
  let start = createStart;
  if (mode === 'precreate') {
    const s = await startScheduler();
    sched = s.proc;
    start = s.readyAt;
  }
  const schedPid = (sched ?? runningScheduler)?.pid;
  const cpu0 = { scheduler: cpuSeconds(schedPid), api: cpuSeconds(apiPid), driver: process.cpuUsage() };
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    done,
    new Promise<void>((r) => interrupted.signal.addEventListener('abort', () => r(), { once: true })),
    new Promise<void>((r) => {
      timer = setTimeout(
        () => {
          timedOut = n < count;
          r();
        },
        Math.max(1, timeoutMs - (Date.now() - start)),
      );
    }),
  ]);
  clearTimeout(timer);
  const end = timedOut ? Date.now() : lastBound;
  const driverCpu = process.cpuUsage(cpu0.driver);
  const cpu = {
    scheduler: cpuSeconds(schedPid) - cpu0.scheduler,
    api: cpuSeconds(apiPid) - cpu0.api,
    driver: (driverCpu.user + driverCpu.system) / 1e6,
  };
  await stopChild(sched);
  ac.abort();
  await watching;
  // A workload cut short leaves pending pods that would be scheduled during (and be counted
  // against) the next one: delete them so every workload starts with an empty queue.
  if (timedOut) await pods.deleteCollection(ns, { fieldSelector: 'spec.nodeName=', gracePeriodSeconds: 0 });
  const seconds = (end - start) / 1000;
  return {
    workload: w,
    pods: count,
    bound: n,
    createPerSec: Math.round(count / ((created - createStart) / 1000)),
    seconds: Math.round(seconds * 100) / 100,
    podsPerSec: Math.round(n / seconds),
    timedOut,
    cpu,
  };
}

// ---- driver ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const nodeCount = flag('nodes', 5000);
  const podCount = flag('pods', 10_000);
  const timeoutMs = flag('timeout-s', 60) * 1000;
  const runPods = process.argv.includes('--run-pods');
  const modeArg = process.argv[process.argv.indexOf('--mode') + 1];
  const mode: Mode = process.argv.includes('--mode') && modeArg === 'concurrent' ? 'concurrent' : 'precreate';
  const dataDir = mkdtempSync(join(tmpdir(), 'kts-bench-sched-'));
  let api: ChildProcess | undefined;
  let sched: ChildProcess | undefined;
  let hollow: Awaited<ReturnType<typeof startHollowNodes>> | undefined;
  let client: RestClient | undefined;
  const log = (s: string): void => {
    process.stderr.write(`${s}\n`);
  };
  try {
    const a = await child('serve-api', join(dataDir, 'server'));
    api = a.proc;
    const kubeconfig = String(a.first.kubeconfig);
    client = new RestClient({
      ...loadKubeconfig(kubeconfig),
      qps: Number.POSITIVE_INFINITY,
      userAgent: 'bench',
    });
    const t0 = performance.now();
    // Lease renewals every 10 s from 5,000 nodes would be a steady 500 writes/s against the
    // server under test; hollow nodes renew every 60 s here (status every 5 min) instead.
    hollow = await startHollowNodes({
      client,
      count: nodeCount,
      zones: 3,
      leaseRenewIntervalMs: 60_000,
      leaseDurationSeconds: 240,
      nodeStatusIntervalMs: 300_000,
      ...(runPods ? {} : { stages: [] }),
    });
    log(`registered ${nodeCount} hollow nodes in ${Math.round(performance.now() - t0)} ms`);
    // TaintNodesByCondition admission taints new nodes not-ready and no node lifecycle
    // controller runs here to lift it once they report Ready: lift it as that controller would.
    let ni = 0;
    const names = hollow.nodes;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        for (let i = ni++; i < names.length; i = ni++)
          await client?.resource(NODES).patch('', names[i] ?? '', 'merge', { spec: { taints: null } });
      }),
    );
    const startScheduler: StartScheduler = async () => {
      const s = await child('serve-scheduler', kubeconfig);
      return { proc: s.proc, readyAt: Number(s.first.at) };
    };
    if (mode === 'concurrent') {
      sched = (await startScheduler()).proc;
      log('scheduler ready');
    }
    log(`mode ${mode}`);
    const results: Result[] = [];
    const all: readonly Workload[] = ['basic', 'antiAffinity', 'topologySpread'];
    const only = process.argv.indexOf('--only');
    const chosen = only > 0 ? all.filter((w) => (process.argv[only + 1] ?? '').split(',').includes(w)) : all;
    for (const w of chosen) {
      if (interrupted.signal.aborted) throw new Error('interrupted');
      const r = await runWorkload(client, w, podCount, timeoutMs, mode, startScheduler, api.pid, sched);
      results.push(r);
      const perPod = (s: number): string => (r.bound > 0 ? ((s * 1000) / r.bound).toFixed(2) : '-');
      log(
        `${w}: ${r.bound}/${r.pods} bound in ${r.seconds} s (${r.podsPerSec} pods/s, create ${r.createPerSec}/s); ` +
          `CPU ms/pod: scheduler ${perPod(r.cpu.scheduler)}, apiserver ${perPod(r.cpu.api)}, ` +
          `driver+hollow ${perPod(r.cpu.driver)}; load ${loadavg()[0]?.toFixed(1)}`,
      );
    }
    const rows = [
      ['workload', 'mode', 'nodes', 'pods', 'bound', 'create/s', 'seconds', 'pods/s'],
      ...results.map((r) => [
        r.workload + (r.timedOut ? ' (timeout)' : ''),
        mode,
        String(nodeCount),
        String(r.pods),
        String(r.bound),
        String(r.createPerSec),
        String(r.seconds),
        String(r.podsPerSec),
      ]),
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
    for (const row of rows) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`);
    const out: Record<string, { podsPerSec: number }> = {};
    for (const r of results) out[r.workload] = { podsPerSec: r.podsPerSec };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await stopChild(sched);
    await hollow?.close({ deleteNodes: false }).catch(() => {});
    client?.close();
    await stopChild(api);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// Ctrl-C still runs main's cleanup (children stopped, temp dir removed).
const interrupted = new AbortController();
process.once('SIGINT', () => interrupted.abort());
process.once('SIGTERM', () => interrupted.abort());

const apiArg = process.argv.indexOf('--serve-api');
const schedArg = process.argv.indexOf('--serve-scheduler');
if (apiArg > 0) await serveApi(process.argv[apiArg + 1] ?? '');
else if (schedArg > 0) await serveScheduler(process.argv[schedArg + 1] ?? '');
else await main();
