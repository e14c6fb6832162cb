// What the node and its pods use, measured on this machine (the part of cAdvisor and the
// kubelet's stats provider kts needs): node memory from /proc/meminfo, the node and image
// file systems from statfs, process ids from /proc, and per pod the containers' memory
// working set (from the runtime), their writable layers and logs, and each emptyDir
// volume's disk usage (a walk of its directory, as upstream's `du`-based volume metrics).
// The eviction manager decides on these numbers and `/stats/summary` (below) reports them;
// both take a `StatsProvider`, so tests hand them fakes.

import { type Dirent, readFileSync, statfsSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from '../api/generated/types/core-v1.js';
import { LABEL_CONTAINER_NAME, LABEL_POD_UID } from './pod-sync.js';
import type { ContainerRuntime } from './runtime/runtime.js';
import { podLogDirectory } from './runtime/runtime.js';
import { rfc3339 } from './node-status.js';
import { podDir } from './volumes.js';

/** A resource's capacity and what is left of it (bytes, or pids). */
export interface Observation {
  available: number;
  capacity: number;
}

/** The node's eviction signals (missing when unmeasurable). */
export interface NodeObservations {
  memory?: Observation;
  nodefs?: Observation;
  nodefsInodes?: Observation;
  imagefs?: Observation;
  pid?: Observation;
}

/** One container's usage. */
export interface ContainerUsage {
  name: string;
  memoryWorkingSetBytes?: number;
  cpuUsageCoreNanoSeconds?: number;
  /** Writable layer bytes (root file system). */
  rootfsBytes?: number;
  /** Bytes of its log files. */
  logsBytes?: number;
}

/** One pod's usage. */
export interface PodUsage {
  uid: string;
  containers: ContainerUsage[];
  /** Disk bytes of each emptyDir volume (memory-backed ones count as memory, not here). */
  volumes: Map<string, number>;
  /** Tasks in the pod (when known). */
  processes?: number;
}

/** The measurements the eviction manager and the summary API work from. */
export interface StatsProvider {
  node(): Promise<NodeObservations>;
  /** Usage of each pod by uid. */
  pods(pods: Pod[]): Promise<Map<string, PodUsage>>;
}

/** MemTotal and MemAvailable of /proc/meminfo in bytes. */
export function parseMeminfo(text: string): Observation | undefined {
  const get = (k: string): number | undefined => {
    const m = new RegExp(`^${k}:\\s+(\\d+) kB$`, 'm').exec(text);
    return m?.[1] !== undefined ? Number(m[1]) * 1024 : undefined;
  };
  const capacity = get('MemTotal');
  const available = get('MemAvailable');
  if (capacity === undefined || available === undefined) return undefined;
  return { available, capacity };
}

function fsObservation(path: string): { bytes: Observation; inodes: Observation } | undefined {
  try {
    const s = statfsSync(path);
    return {
      bytes: { available: s.bavail * s.bsize, capacity: s.blocks * s.bsize },
      inodes: { available: s.ffree, capacity: s.files },
    };
  } catch {
    return undefined;
  }
}

/** pid.available: pid_max (or threads-max if lower) less the tasks running now. */
function pidObservation(): Observation | undefined {
  try {
    const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim());
    let threadsMax = Number.POSITIVE_INFINITY;
    try {
      threadsMax = Number(readFileSync('/proc/sys/kernel/threads-max', 'utf8').trim());
    } catch {
      // not exposed here
    }
    const capacity = Math.min(pidMax, threadsMax);
    // The fourth field of loadavg is running/total scheduling entities.
    const total = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[3]?.split('/')[1] ?? '0');
    return { available: capacity - total, capacity };
  } catch {
    return undefined;
  }
}

/** Bytes used by the files under `dir` (allocated blocks, not apparent sizes), 0 if missing. */
export async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      try {
        const st = await lstat(p);
        total += st.blocks * 512;
        if (e.isDirectory()) await walk(p);
      } catch {
        // removed meanwhile
      }
    }
  };
  await walk(dir);
  return total;
}

function emptyDirPath(dataDir: string, uid: string, volume: string): string {
  return join(podDir(dataDir, uid), 'volumes', 'kubernetes.io~empty-dir', volume);
}

/** Options of the machine's stats provider. */
export interface MachineStatsOptions {
  runtime: ContainerRuntime;
  /** The kubelet's data dir: the node file system (nodefs). */
  dataDir: string;
  /** Where images live (imagefs); default the data dir. */
  imageFsPath?: string;
  /** Root of the pod log directories. */
  podLogRoot: string;
}

/** The StatsProvider of this machine. */
export class MachineStats implements StatsProvider {
  /** A provider reading this machine. */
  constructor(private readonly o: MachineStatsOptions) {}

  /** The node's signals now. */
  async node(): Promise<NodeObservations> {
    const out: NodeObservations = {};
    try {
      const mem = parseMeminfo(readFileSync('/proc/meminfo', 'utf8'));
      if (mem !== undefined) out.memory = mem;
    } catch {
      // no /proc
    }
    const nodefs = fsObservation(this.o.dataDir);
    if (nodefs !== undefined) {
      out.nodefs = nodefs.bytes;
      out.nodefsInodes = nodefs.inodes;
    }
    const imagefs = fsObservation(this.o.imageFsPath ?? this.o.dataDir);
    if (imagefs !== undefined) out.imagefs = imagefs.bytes;
    const pid = pidObservation();
    if (pid !== undefined) out.pid = pid;
    return out;
  }

  /** Usage of each pod from the runtime and the pods' directories. */
  async pods(pods: Pod[]): Promise<Map<string, PodUsage>> {
    const out = new Map<string, PodUsage>();
    const containers = await this.o.runtime.listContainers({ state: 'CONTAINER_RUNNING' }).catch(() => []);
    for (const pod of pods) {
      const m = pod.metadata ?? {};
      const uid = m.uid ?? '';
      const usage: PodUsage = { uid, containers: [], volumes: new Map() };
      for (const c of containers.filter((x) => x.labels[LABEL_POD_UID] === uid)) {
        const name = c.labels[LABEL_CONTAINER_NAME] ?? c.metadata.name;
        const cu: ContainerUsage = { name };
        try {
          const s = await this.o.runtime.containerStats(c.id);
          if (s.memoryWorkingSetBytes !== undefined)
            cu.memoryWorkingSetBytes = Number(s.memoryWorkingSetBytes);
          if (s.cpuUsageCoreNanoSeconds !== undefined)
            cu.cpuUsageCoreNanoSeconds = Number(s.cpuUsageCoreNanoSeconds);
          if (s.writableLayerUsedBytes !== undefined) cu.rootfsBytes = Number(s.writableLayerUsedBytes);
        } catch {
          // exited between list and stats
        }
        cu.logsBytes = await diskUsage(
          join(podLogDirectory(this.o.podLogRoot, m.namespace ?? '', m.name ?? '', uid), name),
        );
        usage.containers.push(cu);
      }
      for (const v of pod.spec?.volumes ?? []) {
        if (v.emptyDir === undefined || v.emptyDir.medium === 'Memory') continue;
        usage.volumes.set(v.name, await diskUsage(emptyDirPath(this.o.dataDir, uid, v.name)));
      }
      out.set(uid, usage);
    }
    return out;
  }
}

// The kubelet's `/stats/summary` (upstream stats/v1alpha1 Summary, what metrics-server and
// `kubectl get --raw /api/v1/nodes/<n>/proxy/stats/summary` read), reduced to what kts
// measures, built from the same StatsProvider the eviction manager acts on.

/** A file system's numbers in the summary. */
export interface FsStats {
  time: string;
  availableBytes?: number;
  capacityBytes?: number;
  usedBytes?: number;
  inodesFree?: number;
  inodes?: number;
  inodesUsed?: number;
}

/** Memory numbers in the summary. */
export interface MemoryStats {
  time: string;
  availableBytes?: number;
  usageBytes?: number;
  workingSetBytes?: number;
}

/** One container in the summary. */
export interface ContainerSummary {
  name: string;
  startTime?: string;
  cpu?: { time: string; usageCoreNanoSeconds?: number };
  memory?: MemoryStats;
  rootfs?: FsStats;
  logs?: FsStats;
}

/** One pod in the summary. */
export interface PodSummary {
  podRef: { name: string; namespace: string; uid: string };
  startTime?: string;
  containers: ContainerSummary[];
  memory?: MemoryStats;
  volume?: (FsStats & { name: string })[];
  'ephemeral-storage'?: FsStats;
}

/** The whole summary. */
export interface Summary {
  node: {
    nodeName: string;
    startTime?: string;
    cpu?: { time: string; usageCoreNanoSeconds?: number };
    memory?: MemoryStats;
    fs?: FsStats;
    runtime?: { imageFs?: FsStats };
    rlimit?: { time: string; maxpid?: number; curproc?: number };
  };
  pods: PodSummary[];
}

/** Busy cpu time of the whole machine from /proc/stat's `cpu` line, in nanoseconds. */
export function nodeCpuNanos(procStat: string): number | undefined {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy * 10_000_000; // USER_HZ is 100
}

function fsOf(
  time: string,
  o: { available: number; capacity: number } | undefined,
  inodes?: NodeObservations['nodefsInodes'],
): FsStats | undefined {
  if (o === undefined) return undefined;
  const out: FsStats = {
    time,
    availableBytes: o.available,
    capacityBytes: o.capacity,
    usedBytes: o.capacity - o.available,
  };
  if (inodes !== undefined) {
    out.inodesFree = inodes.available;
    out.inodes = inodes.capacity;
    out.inodesUsed = inodes.capacity - inodes.available;
  }
  return out;
}

function podSummary(
  pod: Pod,
  u: PodUsage | undefined,
  time: string,
  nodefs: FsStats | undefined,
): PodSummary {
  const m = pod.metadata ?? {};
  const out: PodSummary = {
    podRef: { name: m.name ?? '', namespace: m.namespace ?? '', uid: m.uid ?? '' },
    containers: [],
  };
  if (pod.status?.startTime !== undefined) out.startTime = pod.status.startTime;
  let memory = 0;
  let disk = 0;
  for (const c of u?.containers ?? []) {
    const cs: ContainerSummary = { name: c.name };
    const started = pod.status?.containerStatuses?.find((s) => s.name === c.name)?.state?.running?.startedAt;
    if (started !== undefined) cs.startTime = started;
    if (c.cpuUsageCoreNanoSeconds !== undefined)
      cs.cpu = { time, usageCoreNanoSeconds: c.cpuUsageCoreNanoSeconds };
    if (c.memoryWorkingSetBytes !== undefined) {
      cs.memory = { time, usageBytes: c.memoryWorkingSetBytes, workingSetBytes: c.memoryWorkingSetBytes };
      memory += c.memoryWorkingSetBytes;
    }
    const shared = { availableBytes: nodefs?.availableBytes, capacityBytes: nodefs?.capacityBytes };
    cs.rootfs = { time, ...shared, usedBytes: c.rootfsBytes ?? 0 };
    cs.logs = { time, ...shared, usedBytes: c.logsBytes ?? 0 };
    disk += (c.rootfsBytes ?? 0) + (c.logsBytes ?? 0);
    out.containers.push(cs);
  }
  out.memory = { time, usageBytes: memory, workingSetBytes: memory };
  const volumes = [...(u?.volumes ?? new Map<string, number>())];
  if (volumes.length > 0) {
    out.volume = volumes.map(([name, used]) => ({
      time,
      name,
      usedBytes: used,
      ...(nodefs?.availableBytes !== undefined ? { availableBytes: nodefs.availableBytes } : {}),
      ...(nodefs?.capacityBytes !== undefined ? { capacityBytes: nodefs.capacityBytes } : {}),
    }));
    for (const [, used] of volumes) disk += used;
  }
  out['ephemeral-storage'] = {
    time,
    usedBytes: disk,
    ...(nodefs?.availableBytes !== undefined ? { availableBytes: nodefs.availableBytes } : {}),
    ...(nodefs?.capacityBytes !== undefined ? { capacityBytes: nodefs.capacityBytes } : {}),
  };
  return out;
}

/** Builds the summary of the node and `pods` at `now` (ms). */
export async function buildSummary(
  nodeName: string,
  stats: StatsProvider,
  pods: Pod[],
  now: number,
  bootTimeMs?: number,
): Promise<Summary> {
  const time = rfc3339(now);
  const obs = await stats.node();
  const usage = await stats.pods(pods);
  const nodefs = fsOf(time, obs.nodefs, obs.nodefsInodes);
  const node: Summary['node'] = { nodeName };
  if (bootTimeMs !== undefined) node.startTime = rfc3339(bootTimeMs);
  try {
    const cpu = nodeCpuNanos(readFileSync('/proc/stat', 'utf8'));
    if (cpu !== undefined) node.cpu = { time, usageCoreNanoSeconds: cpu };
  } catch {
    // no /proc
  }
  if (obs.memory !== undefined) {
    const used = obs.memory.capacity - obs.memory.available;
    node.memory = { time, availableBytes: obs.memory.available, usageBytes: used, workingSetBytes: used };
  }
  if (nodefs !== undefined) node.fs = nodefs;
  const imageFs = fsOf(time, obs.imagefs);
  if (imageFs !== undefined) node.runtime = { imageFs };
  if (obs.pid !== undefined)
    node.rlimit = { time, maxpid: obs.pid.capacity, curproc: obs.pid.capacity - obs.pid.available };
  return { node, pods: pods.map((p) => podSummary(p, usage.get(p.metadata?.uid ?? ''), time, nodefs)) };
}
