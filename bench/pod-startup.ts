// Pod startup latency benchmark (issue 7): 100 pods on one node, each measured from the
// moment its create request is sent to the moment a watch shows it Running with Ready=True
// (the pod startup SLI, with a client-side start time because creationTimestamp has 1 s
// resolution). The API server (sqlite, temp data dir) runs in a child process; the kubelet
// under test and the driver run in this one. Pods carry `spec.nodeName` (no scheduler) and
// are created 10 in flight; each runs busybox's `sleep`, with the ServiceAccount token and
// `kube-root-ca.crt` projected as admission adds them to every pod.
//
// Two runs, one node each:
//   process  the process runtime (host processes)
//   cri      a private containerd + runc (image `kts.local/busybox` imported before timing)
//            with CNI networking on a bench bridge; needs root and containerd/runc/CNI
//            plugins, otherwise skipped with a message and null values.
// Prints a table, then as the last line:
//   {"process":{"p50Ms":N,"p99Ms":N},"cri":{"p50Ms":N,"p99Ms":N}}
// Cleanup by name/id: pods deleted through the API and waited for, leftover sandboxes
// stopped and removed, containerd stopped and its root (shims, mounts, pod network
// namespaces) removed, the bridge and the cgroup tree deleted, temp dirs removed. Each run
// records what it made (`bench-run.json` in its temp dir); a run killed outright (SIGKILL)
// is cleaned up the same way by the next run, once its process is gone.
// Usage: node --import tsx bench/pod-startup.ts [--pods 100] [--in-flight 10]
//        [--timeout-s 120] [--only process|cri] [--kubelet-qps N (0: unthrottled)]
//        [--trace-runtime (time every runtime call; a table per run)]
//        [--timeline (median per-pod time to each step: sandbox, container start, first
//         status seen, Ready seen; a table per run)]
//        [--cpu (CPU time per pod of each process from the first create until all pods
//         were Ready: this process (kubelet + driver), the API server, containerd and what
//         it ran (CNI plugins, shim launches), the shims and what they ran (runc); a table)]
import { type ChildProcess, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../src/api/generated/types/core-v1.js';
import { SharedIndexInformer } from '../src/client/cache/shared-informer.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { CONFIGMAPS, NODES, PODS } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import {
  KUBELET_CLIENT_LIMITS,
  KUBELET_EVENT_CLIENT_LIMITS,
  Kubelet,
  type KubeletNetworkOptions,
} from '../src/kubelet/kubelet.js';
import {
  type ContainerdDaemon,
  cleanupContainerdRoot,
  containerdMissing,
  pidsMentioning,
  startContainerd,
} from '../src/kubelet/runtime/containerd-daemon.js';
import { hostCgroups } from '../src/kubelet/runtime/cgroupfs.js';
import { CriRuntime } from '../src/kubelet/runtime/cri/cri-runtime.js';
import { ensureBuiltinImages } from '../src/kubelet/runtime/images/import.js';
import { ProcessRuntime } from '../src/kubelet/runtime/process/process-runtime.js';
import { HelperSpawner } from '../src/kubelet/runtime/process/spawner.js';
import type { ContainerRuntime } from '../src/kubelet/runtime/runtime.js';
import {
  createNamespace,
  interruptSignal,
  numberFlag,
  percentile,
  printTable,
  roleArg,
  round,
  serveApi,
  spawnRole,
  stopChild,
} from './lib/harness.js';

const SELF = new URL(import.meta.url).pathname;
const IMAGE = 'kts.local/busybox:latest';
type RuntimeKind = 'process' | 'cri';

interface RunResult {
  runtime: RuntimeKind;
  /** Why the run was skipped, if it was. */
  skipped?: string;
  latencies: number[];
  pods: number;
  createSeconds: number;
  timedOut: boolean;
}

function log(s: string): void {
  process.stderr.write(`${s}\n`);
}

function isReady(p: Pod): boolean {
  return (
    p.status?.phase === 'Running' &&
    (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

async function until(what: string, fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The runtime-specific parts of one run: the runtime, kubelet extras and their teardown. */
interface RuntimeSetup {
  runtime: ContainerRuntime;
  network?: KubeletNetworkOptions;
  cgroupRoot?: string;
  /** Makes the node able to run pods once the kubelet registered it. */
  afterStart?: () => Promise<void>;
  /** Runtime processes whose CPU `--cpu` reports (name → pids), looked up when asked. */
  cpuProcesses?: () => Map<string, number[]>;
  teardown: () => Promise<void>;
}

async function processSetup(dir: string): Promise<RuntimeSetup> {
  const spawner = new HelperSpawner();
  const runtime = new ProcessRuntime({ rootDir: join(dir, 'process'), spawner });
  return {
    runtime,
    // The helper forks every container: its CPU is the kubelet's, done on the other core.
    cpuProcesses: () => new Map([['process spawner', spawner.pid !== undefined ? [spawner.pid] : []]]),
    teardown: () => runtime.close(),
  };
}

/** What a run leaves on the machine, recorded so a later run cleans up if it is killed outright. */
interface RunRecord {
  pid: number;
  /** The owner's start time (/proc/<pid>/stat field 22): a reused pid is not the owner. */
  started: string;
  containerdRoot?: string;
  bridge?: string;
  cgroupRoot?: string;
}

const RUN_RECORD = 'bench-run.json';
const DIR_PREFIX = 'kts-bench-podstart-';

/** The fields of /proc/<pid>/stat after the command name, from field 3 (state) on. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function startTime(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

/** Records that this process owns `dir` and what it put on the machine. */
function writeRunRecord(dir: string, extra: Omit<RunRecord, 'pid' | 'started'> = {}): void {
  const rec: RunRecord = { pid: process.pid, started: startTime(process.pid) ?? '', ...extra };
  writeFileSync(join(dir, RUN_RECORD), JSON.stringify(rec));
}

/** Kills every process in the cgroup `path` and beneath, then removes the cgroups, deepest first. */
function removeCgroupTree(path: string): void {
  for (const child of hostCgroups.children(path)) removeCgroupTree(`${path}/${child}`);
  const dir = hostCgroups.dirs(path)[0];
  let procs = '';
  try {
    procs = dir === undefined ? '' : readFileSync(join(dir, 'cgroup.procs'), 'utf8');
  } catch {
    // not there (any more)
  }
  for (const pid of procs.split('\n').filter((l) => l !== '')) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  hostCgroups.remove(path, { retryMs: 2000 });
}

/**
 * Cleans up after earlier runs that were killed outright (SIGKILL skips every cleanup):
 * their containerd, shims and containers, mounts and network namespaces, bridge, cgroups
 * and directories. Runs whose owner still lives are left alone.
 */
function sweepKilledRuns(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir()).filter((n) => n.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join(tmpdir(), name);
    let rec: RunRecord;
    try {
      rec = JSON.parse(readFileSync(join(dir, RUN_RECORD), 'utf8')) as RunRecord;
    } catch {
      continue;
    }
    if (startTime(rec.pid) === rec.started) continue;
    log(`cleaning up after a killed run (pid ${rec.pid}): ${dir}`);
    if (rec.containerdRoot !== undefined) cleanupContainerdRoot(rec.containerdRoot);
    if (rec.cgroupRoot !== undefined) removeCgroupTree(rec.cgroupRoot);
    if (rec.bridge !== undefined) spawnSync('ip', ['link', 'del', rec.bridge]);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function criSetup(
  dir: string,
  client: RestClient,
  node: string,
): Promise<RuntimeSetup | { skipped: string }> {
  if (process.getuid?.() !== 0) return { skipped: 'needs root (containerd, CNI, cgroups)' };
  const missing = containerdMissing();
  if (missing !== undefined) return { skipped: missing };
  const suffix = randomBytes(3).toString('hex');
  const bridge = `ktsb${suffix}`;
  const cgroupRoot = `/kts-bench-${suffix}`;
  const root = join(dir, 'containerd');
  let daemon: ContainerdDaemon | undefined;
  let runtime: CriRuntime | undefined;
  const teardown = async (): Promise<void> => {
    try {
      if (runtime !== undefined) {
        for (const s of await runtime.listPodSandbox().catch(() => [])) {
          await runtime.stopPodSandbox(s.id).catch(() => {});
          await runtime.removePodSandbox(s.id).catch(() => {});
        }
        await runtime.close();
      }
      await daemon?.stop();
    } finally {
      cleanupContainerdRoot(root);
      spawnSync('ip', ['link', 'del', bridge]);
      removeCgroupTree(cgroupRoot);
    }
  };
  writeRunRecord(dir, { containerdRoot: root, bridge, cgroupRoot });
  try {
    daemon = await startContainerd({ rootDir: root });
    await ensureBuiltinImages({ socket: daemon.socket, snapshotter: daemon.snapshotter });
    runtime = new CriRuntime({ endpoint: daemon.endpoint });
  } catch (err) {
    await teardown();
    throw err;
  }
  const podCIDR = '10.98.7.0/24';
  return {
    runtime,
    cgroupRoot,
    network: {
      cniConfDir: daemon.cniConfDir,
      clusterCIDR: '10.98.0.0/16',
      serviceCIDR: '10.96.0.0/16',
      bridgeName: bridge,
      masquerade: false,
    },
    cpuProcesses: () => {
      const m = new Map<string, number[]>();
      if (daemon === undefined) return m;
      m.set('containerd', [daemon.pid]);
      // Shims re-parent away from containerd; they are found by the socket they serve.
      m.set(
        'containerd-shim-runc-v2',
        pidsMentioning(daemon.socket).filter((p) => p !== daemon?.pid),
      );
      return m;
    },
    // What the node IPAM controller would do; the node turns Ready once the network is up.
    afterStart: async () => {
      await client.resource(NODES).patch('', node, 'merge', { spec: { podCIDR, podCIDRs: [podCIDR] } });
      await until(
        'cri node Ready',
        async () => {
          const n = await client.resource(NODES).get('', node);
          return (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
        },
        30_000,
      );
    },
    teardown,
  };
}

/** Per-method call counts and latencies of a runtime (`--trace-runtime`), and per-pod marks. */
class RuntimeTrace {
  private readonly calls = new Map<string, number[]>();
  /** Pod name → step → time (performance.now()) it was first reached (`--timeline`). */
  readonly marks = new Map<string, Map<string, number>>();
  private readonly podOfContainer = new Map<string, string>();

  /** Records the first time `pod` reached `step`. */
  mark(pod: string, step: string): void {
    let m = this.marks.get(pod);
    if (m === undefined) {
      m = new Map();
      this.marks.set(pod, m);
    }
    if (!m.has(step)) m.set(step, performance.now());
  }

  private markCall(prop: string, args: unknown[], phase: 'call' | 'done', out: unknown): void {
    const podOf = (cfg: unknown): string =>
      String((cfg as { metadata?: { name?: unknown } } | undefined)?.metadata?.name ?? '');
    if (prop === 'runPodSandbox') this.mark(podOf(args[0]), `sandbox ${phase}`);
    else if (prop === 'createContainer') {
      const pod = podOf(args[2]);
      this.mark(pod, `createContainer ${phase}`);
      if (phase === 'done' && typeof out === 'string') this.podOfContainer.set(out, pod);
    } else if (prop === 'startContainer') {
      const pod = this.podOfContainer.get(String(args[0]));
      if (pod !== undefined) this.mark(pod, `startContainer ${phase}`);
    }
  }

  /** The runtime with every method call timed. */
  wrap(rt: ContainerRuntime): ContainerRuntime {
    return new Proxy(rt, {
      get: (target, prop, receiver) => {
        const v: unknown = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function' || typeof prop !== 'string') return v;
        return (...args: unknown[]): unknown => {
          const t = performance.now();
          this.markCall(prop, args, 'call', undefined);
          const out: unknown = v.apply(target, args);
          const record = (value: unknown): void => {
            const l = this.calls.get(prop) ?? [];
            l.push(performance.now() - t);
            this.calls.set(prop, l);
            this.markCall(prop, args, 'done', value);
          };
          if (out instanceof Promise)
            return out.then((value: unknown) => {
              record(value);
              return value;
            });
          record(out);
          return out;
        };
      },
    });
  }

  /** The kubelet's client with its TokenRequests and status patches marked per pod. */
  wrapClient(client: RestClient): RestClient {
    return new Proxy(client, {
      get: (target, prop, receiver) => {
        const v: unknown = Reflect.get(target, prop, receiver);
        if (prop !== 'resource' || typeof v !== 'function') return v;
        return (...rargs: unknown[]): unknown => {
          const rc: object = v.apply(target, rargs);
          return new Proxy(rc, {
            get: (t2, p2, r2) => {
              const f: unknown = Reflect.get(t2, p2, r2);
              if ((p2 !== 'create' && p2 !== 'patch') || typeof f !== 'function') return f;
              return async (...args: unknown[]): Promise<unknown> => {
                const sub = (args.at(-1) as { subresource?: string } | undefined)?.subresource;
                const body = args[1] as { spec?: { boundObjectRef?: { name?: string } } } | undefined;
                const pod = p2 === 'patch' ? String(args[1]) : String(body?.spec?.boundObjectRef?.name ?? '');
                const step = sub === 'token' ? 'token request' : sub === 'status' ? 'status patch' : '';
                if (step === '') return f.apply(t2, args);
                this.mark(pod, `${step} call`);
                const out: unknown = await f.apply(t2, args);
                this.mark(pod, `${step} done`);
                return out;
              };
            },
          });
        };
      },
    });
  }

  /** Forgets the calls so far. */
  reset(): void {
    this.calls.clear();
    this.marks.clear();
  }

  /** Table rows: each step's median and p99 time after the pod's create was sent (ms). */
  timelineRows(): string[][] {
    const steps = new Map<string, number[]>();
    for (const m of this.marks.values()) {
      const sent = m.get('create sent');
      if (sent === undefined) continue;
      for (const [step, t] of m) {
        const l = steps.get(step) ?? [];
        l.push(t - sent);
        steps.set(step, l);
      }
    }
    const rows = [['step', 'pods', 'p50 ms', 'p99 ms']];
    const ordered = [...steps].sort((a, b) => percentile(a[1], 0.5) - percentile(b[1], 0.5));
    for (const [step, l] of ordered)
      rows.push([
        step,
        String(l.length),
        String(Math.round(percentile(l, 0.5))),
        String(Math.round(percentile(l, 0.99))),
      ]);
    return rows;
  }

  /** Table rows: method, calls, total, mean, p99 (ms). */
  rows(): string[][] {
    const rows = [['runtime call', 'calls', 'total ms', 'mean ms', 'p99 ms']];
    const sorted = [...this.calls].sort((a, b) => sum(b[1]) - sum(a[1]));
    for (const [m, l] of sorted)
      rows.push([
        m,
        String(l.length),
        String(Math.round(sum(l))),
        String(Math.round(sum(l) / l.length)),
        String(Math.round(percentile(l, 0.99))),
      ]);
    return rows;
  }
}

/** CPU milliseconds a process spent itself and in the children it reaped. */
interface ProcCpu {
  self: number;
  children: number;
}

/** A process's CPU from /proc/<pid>/stat (undefined once it is gone). */
function procCpu(pid: number): ProcCpu | undefined {
  const f = procStat(pid);
  if (f === undefined) return undefined;
  const tick = 10; // USER_HZ is 100 on Linux
  return {
    self: (Number(f[11]) + Number(f[12])) * tick,
    children: (Number(f[13]) + Number(f[14])) * tick,
  };
}

/** Each named group's summed CPU (processes missing now count 0). */
function cpuSnapshot(groups: Map<string, number[]>): Map<string, ProcCpu> {
  const out = new Map<string, ProcCpu>();
  for (const [name, pids] of groups) {
    const total = { self: 0, children: 0 };
    for (const pid of pids) {
      const c = procCpu(pid);
      total.self += c?.self ?? 0;
      total.children += c?.children ?? 0;
    }
    out.set(name, total);
  }
  return out;
}

/** The processes `--cpu` watches: this one, the API server, the runtime's. */
function cpuGroups(apiPid: number | undefined, setup: RuntimeSetup): Map<string, number[]> {
  const m = new Map<string, number[]>([['kubelet + driver (this process)', [process.pid]]]);
  if (apiPid !== undefined) m.set('apiserver', [apiPid]);
  for (const [k, v] of setup.cpuProcesses?.() ?? []) m.set(k, v);
  return m;
}

/** Table rows: CPU per pod of each group between two snapshots. */
function cpuRows(before: Map<string, ProcCpu>, after: Map<string, ProcCpu>, pods: number): string[][] {
  const rows = [['process', 'self ms/pod', 'reaped children ms/pod', 'total ms/pod']];
  let all = 0;
  for (const [name, a] of after) {
    const b = before.get(name) ?? { self: 0, children: 0 };
    const self = a.self - b.self;
    const children = a.children - b.children;
    all += self + children;
    rows.push([
      name,
      String(round(self / pods, 1)),
      String(round(children / pods, 1)),
      String(round((self + children) / pods, 1)),
    ]);
  }
  rows.push(['all', '', '', String(round(all / pods, 1))]);
  return rows;
}

function sum(l: readonly number[]): number {
  return l.reduce((a, b) => a + b, 0);
}

async function runOne(
  kind: RuntimeKind,
  client: RestClient,
  kubeletClient: RestClient,
  kubeletEventClient: RestClient,
  count: number,
  inFlight: number,
  timeoutMs: number,
  interrupted: AbortSignal,
  apiPid: number | undefined,
): Promise<RunResult> {
  const node = `bench-${kind}-node`;
  const ns = `bench-startup-${kind}`;
  const dir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${kind}-`));
  writeRunRecord(dir);
  const result: RunResult = { runtime: kind, latencies: [], pods: count, createSeconds: 0, timedOut: false };
  let setup: RuntimeSetup | undefined;
  let kubelet: Kubelet | undefined;
  const stop = new AbortController();
  setMaxListeners(64, stop.signal);
  let watching: Promise<void> | undefined;
  try {
    const s = kind === 'process' ? await processSetup(dir) : await criSetup(dir, client, node);
    if ('skipped' in s) {
      result.skipped = s.skipped;
      return result;
    }
    setup = s;
    await createNamespace(client, ns);
    // What the root-CA publisher controller would create (projected into every pod).
    await client.resource(CONFIGMAPS).create(ns, {
      metadata: { name: 'kube-root-ca.crt' },
      data: { 'ca.crt': 'bench-ca' },
    });
    const timeline = process.argv.includes('--timeline');
    const trace = process.argv.includes('--trace-runtime') || timeline ? new RuntimeTrace() : undefined;
    kubelet = new Kubelet({
      client: timeline && trace !== undefined ? trace.wrapClient(kubeletClient) : kubeletClient,
      eventClient: kubeletEventClient,
      nodeName: node,
      runtime: trace?.wrap(setup.runtime) ?? setup.runtime,
      dataDir: join(dir, 'kubelet'),
      ...(setup.network !== undefined ? { network: setup.network } : {}),
      ...(setup.cgroupRoot !== undefined ? { cgroupRoot: setup.cgroupRoot } : {}),
    });
    await kubelet.start();
    await setup.afterStart?.();

    const sentAt = new Map<string, number>();
    const readyAt = new Map<string, number>();
    let allReady!: () => void;
    const done = new Promise<void>((r) => {
      allReady = r;
    });
    const informer = new SharedIndexInformer<Pod>(client.resource(PODS), { namespace: ns });
    const seen = (p: Pod): void => {
      const name = p.metadata?.name ?? '';
      if (trace !== undefined) {
        if (p.status?.containerStatuses !== undefined) trace.mark(name, 'first status seen');
        if (p.status?.phase === 'Running') trace.mark(name, 'Running seen');
      }
      if (readyAt.has(name) || !isReady(p)) return;
      trace?.mark(name, 'Ready seen');
      readyAt.set(name, performance.now());
      if (readyAt.size === count) allReady();
    };
    informer.addEventHandler({ onAdd: seen, onUpdate: (_o, p) => seen(p) });
    watching = informer.run(stop.signal);
    await informer.waitForSync(stop.signal);

    trace?.reset();
    const cpu = process.argv.includes('--cpu');
    const cpuBefore = cpu ? cpuSnapshot(cpuGroups(apiPid, setup)) : undefined;
    const t0 = performance.now();
    const mono0 = process.hrtime.bigint();
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        for (let i = next++; i < count; i = next++) {
          const name = `p-${i}`;
          sentAt.set(name, performance.now());
          trace?.mark(name, 'create sent');
          await client.resource(PODS).create(ns, {
            metadata: { name },
            spec: {
              nodeName: node,
              // IfNotPresent: `:latest` would default to Always, a pull per pod; the goal
              // is startup with the image present.
              containers: [
                { name: 'c', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] },
              ],
              terminationGracePeriodSeconds: 1,
            },
          });
          trace?.mark(name, 'created');
        }
      }),
    );
    result.createSeconds = round((performance.now() - t0) / 1000);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      done,
      new Promise<void>((r) => {
        timer = setTimeout(() => {
          result.timedOut = true;
          r();
        }, timeoutMs);
        interrupted.addEventListener('abort', () => r(), { once: true });
      }),
    ]);
    clearTimeout(timer);
    if (cpuBefore !== undefined) {
      // CLOCK_MONOTONIC bounds, to line the window up with `perf record -k CLOCK_MONOTONIC`.
      const mono = (ns: bigint): string => (Number(ns / 1000n) / 1e6).toFixed(3);
      log(
        `${kind}: CPU from the first create until all pods were Ready (${round((performance.now() - t0) / 1000)} s wall, monotonic ${mono(mono0)}..${mono(process.hrtime.bigint())}):`,
      );
      printTable(cpuRows(cpuBefore, cpuSnapshot(cpuGroups(apiPid, setup)), count));
    }
    for (const [name, t] of readyAt) result.latencies.push(t - (sentAt.get(name) ?? t));
    if (trace !== undefined && process.argv.includes('--trace-runtime')) {
      log(`${kind}: runtime calls from the first create until all pods were Ready:`);
      printTable(trace.rows());
    }
    if (trace !== undefined && timeline) {
      log(`${kind}: per-pod time from the create request to each step:`);
      printTable(trace.timelineRows());
    }
    return result;
  } finally {
    stop.abort();
    await watching?.catch(() => {});
    if (kubelet !== undefined) {
      // Let the kubelet stop the pods it runs (bounded), then take down whatever is left.
      await client
        .resource(PODS)
        .deleteCollection(ns, { gracePeriodSeconds: 0 })
        .catch(() => {});
      await until(
        `pods of ${kind} gone`,
        async () => (await client.resource(PODS).list(ns)).items.length === 0,
        30_000,
      ).catch((e: unknown) => log(String(e)));
      await kubelet.stop();
    }
    await setup?.teardown().catch((e: unknown) => log(`teardown ${kind}: ${String(e)}`));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const count = numberFlag('pods', 100);
  const inFlight = numberFlag('in-flight', 10);
  const timeoutMs = numberFlag('timeout-s', 120) * 1000;
  const onlyArg = roleArg('only');
  const kinds: RuntimeKind[] = onlyArg === 'process' || onlyArg === 'cri' ? [onlyArg] : ['process', 'cri'];
  const interrupted = interruptSignal();
  sweepKilledRuns();
  const dataDir = mkdtempSync(join(tmpdir(), DIR_PREFIX));
  writeRunRecord(dataDir);
  let api: ChildProcess | undefined;
  let client: RestClient | undefined;
  let kubeletClient: RestClient | undefined;
  let kubeletEventClient: RestClient | undefined;
  const results: RunResult[] = [];
  try {
    const a = await spawnRole(SELF, 'serve-api', join(dataDir, 'server'));
    api = a.proc;
    const config = loadKubeconfig(String(a.first.kubeconfig));
    // The driver's own requests must not spend the kubelet's rate-limit budget.
    client = new RestClient({ ...config, qps: Number.POSITIVE_INFINITY, userAgent: 'bench' });
    // The kubelet's client as `kts kubelet` makes it (KUBELET_CLIENT_LIMITS), unless
    // --kubelet-qps says otherwise (0: unthrottled; for finding where the time goes).
    const kubeletQps = numberFlag('kubelet-qps', -1);
    kubeletClient = new RestClient({
      ...config,
      ...KUBELET_CLIENT_LIMITS,
      ...(kubeletQps === 0 ? { qps: Number.POSITIVE_INFINITY } : {}),
      ...(kubeletQps > 0 ? { qps: kubeletQps, burst: kubeletQps * 2 } : {}),
      userAgent: 'kubelet/v1.32.4 (linux) kts bench',
    });
    kubeletEventClient = new RestClient({
      ...config,
      ...KUBELET_EVENT_CLIENT_LIMITS,
      userAgent: 'kubelet/v1.32.4 (linux) kts bench',
    });
    for (const kind of kinds) {
      if (interrupted.aborted) break;
      const r = await runOne(
        kind,
        client,
        kubeletClient,
        kubeletEventClient,
        count,
        inFlight,
        timeoutMs,
        interrupted,
        api.pid,
      );
      if (r.skipped !== undefined) log(`${kind}: skipped: ${r.skipped}`);
      else
        log(
          `${kind}: ${r.latencies.length}/${r.pods} ready (created in ${r.createSeconds} s)` +
            (r.timedOut ? ' (timeout)' : ''),
        );
      results.push(r);
    }
  } finally {
    client?.close();
    kubeletClient?.close();
    kubeletEventClient?.close();
    await stopChild(api);
    rmSync(dataDir, { recursive: true, force: true });
  }
  const stat = (r: RunResult | undefined): { p50Ms: number | null; p99Ms: number | null } => {
    // A pod that never became Ready counts as slower than every pod that did.
    if (r === undefined || r.skipped !== undefined || r.latencies.length === 0)
      return { p50Ms: null, p99Ms: null };
    const l = [...r.latencies, ...Array<number>(r.pods - r.latencies.length).fill(Number.POSITIVE_INFINITY)];
    const fix = (v: number): number | null => (Number.isFinite(v) ? Math.round(v) : null);
    return { p50Ms: fix(percentile(l, 0.5)), p99Ms: fix(percentile(l, 0.99)) };
  };
  const rows = [
    ['runtime', 'pods', 'ready', 'create s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'goal p99 ms'],
  ];
  for (const kind of ['process', 'cri'] as const) {
    const r = results.find((x) => x.runtime === kind);
    const goal = kind === 'process' ? '1000' : '2000';
    if (r === undefined || r.skipped !== undefined) {
      rows.push([
        kind,
        '-',
        '-',
        '-',
        '-',
        '-',
        '-',
        '-',
        `${goal} (skipped${r?.skipped ? `: ${r.skipped}` : ''})`,
      ]);
      continue;
    }
    const ms = (q: number): string => String(Math.round(percentile(r.latencies, q)));
    rows.push([
      kind + (r.timedOut ? ' (timeout)' : ''),
      String(r.pods),
      String(r.latencies.length),
      String(r.createSeconds),
      ms(0.5),
      ms(0.9),
      ms(0.99),
      ms(1),
      goal,
    ]);
  }
  printTable(rows);
  const out = {
    process: stat(results.find((x) => x.runtime === 'process')),
    cri: stat(results.find((x) => x.runtime === 'cri')),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

const apiDir = roleArg('serve-api');
if (apiDir !== undefined) await serveApi(apiDir);
else await main();
