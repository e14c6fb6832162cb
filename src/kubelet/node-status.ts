// The kubelet's Node: registration and status (upstream kubelet_node_status.go). The Node is
// created with labels, addresses, capacity and nodeInfo read from this machine; afterwards
// its status is recomputed every tick and written through the `status` subresource when it
// changed, and at least once per `statusReportMs` (the heartbeat other components read
// through lastHeartbeatTime). Conditions keep their lastTransitionTime while unchanged.
// Only this kubelet writes this Node's status; the spec (podCIDR, taints) is the
// controllers' and is only read back.

import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { arch, cpus, hostname, networkInterfaces, release, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { Node, NodeCondition, NodeStatus } from '../api/generated/types/core-v1.js';
import type { Clock } from '../client/clock.js';
import type { Client } from '../client/interface.js';
import { errorText, type Logger } from '../client/log.js';
import { NODES } from '../client/resources.js';
import { isAlreadyExists, isNotFound } from '../machinery/status-error.js';
import { type KubeletEvents, nodeConditionEvent, nodeStatusMessage } from './kubelet-events.js';

/** The kubelet version kts reports (the upstream release it implements, tagged kts). */
export const KUBELET_VERSION = 'v1.32.4-kts';

/** The kubelet's port as advertised in `status.daemonEndpoints`. */
export const KUBELET_PORT = 10250;

/** Upstream's default `--max-pods`. */
export const MAX_PODS = 110;

/** Upstream's default hard eviction threshold of memory.available, reserved from allocatable. */
const EVICTION_MEMORY_BYTES = 100 * 1024 * 1024;

/** What the machine is, read once at start. */
export interface MachineInfo {
  cpus: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
  internalIP: string;
  hostname: string;
  machineID: string;
  systemUUID: string;
  bootID: string;
  kernelVersion: string;
  osImage: string;
  architecture: string;
}

function readTrimmed(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** The interface of the IPv4 default route (from /proc/net/route), if any. */
export function defaultRouteInterface(routeTable = readTrimmed('/proc/net/route')): string | undefined {
  for (const line of routeTable.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === '00000000' && f[7] === '00000000') return f[0];
  }
  return undefined;
}

/** The node's InternalIP: the default-route interface's IPv4 address, else any non-loopback one. */
export function detectInternalIP(): string {
  const ifaces = networkInterfaces();
  const dev = defaultRouteInterface();
  const v4 = (name: string): string | undefined =>
    ifaces[name]?.find((a) => a.family === 'IPv4' && !a.internal)?.address;
  const fromDefault = dev !== undefined ? v4(dev) : undefined;
  if (fromDefault !== undefined) return fromDefault;
  for (const name of Object.keys(ifaces)) {
    if (name.startsWith('kts') || name.startsWith('veth') || name.startsWith('cni')) continue;
    const a = v4(name);
    if (a !== undefined) return a;
  }
  return '127.0.0.1';
}

/** PRETTY_NAME of /etc/os-release. */
export function osImage(osRelease = readTrimmed('/etc/os-release')): string {
  const m = /^PRETTY_NAME=(.*)$/m.exec(osRelease);
  return m?.[1] !== undefined ? m[1].replace(/^"(.*)"$/, '$1') : 'Linux';
}

/** Go's GOARCH for Node's `process.arch`. */
export function goArch(nodeArch = arch()): string {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm' };
  return map[nodeArch] ?? nodeArch;
}

/**
 * The nearest existing directory at or above `dir`: the data dir is created only once the
 * kubelet runs, after its machine facts are read, and it lives on its parent's filesystem.
 */
export function existingAncestor(dir: string): string {
  let d = resolve(dir);
  while (!existsSync(d)) {
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return d;
}

/** Reads the machine's facts (dataDir's filesystem is the node's ephemeral storage). */
export function readMachineInfo(dataDir: string): MachineInfo {
  let storage = 0;
  try {
    const s = statfsSync(existingAncestor(dataDir));
    storage = s.blocks * s.bsize;
  } catch {
    // an unreadable filesystem reports no ephemeral storage
  }
  const machineID = readTrimmed('/etc/machine-id');
  return {
    cpus: cpus().length,
    memoryBytes: totalmem(),
    ephemeralStorageBytes: storage,
    internalIP: detectInternalIP(),
    hostname: hostname().toLowerCase(),
    machineID,
    systemUUID: readTrimmed('/sys/class/dmi/id/product_uuid') || machineID,
    bootID: readTrimmed('/proc/sys/kernel/random/boot_id'),
    kernelVersion: release(),
    osImage: osImage(),
    architecture: goArch(),
  };
}

/** RFC 3339 at second precision, as metav1.Time serialises. */
export function rfc3339(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

function kibibytes(bytes: number): string {
  return `${Math.floor(bytes / 1024)}Ki`;
}

/** Capacity and allocatable (allocatable keeps upstream's default eviction reserves back). */
export function nodeResources(m: MachineInfo): Pick<NodeStatus, 'capacity' | 'allocatable'> {
  const common = { cpu: String(m.cpus), 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', pods: String(MAX_PODS) };
  return {
    capacity: {
      ...common,
      memory: kibibytes(m.memoryBytes),
      'ephemeral-storage': kibibytes(m.ephemeralStorageBytes),
    },
    allocatable: {
      ...common,
      memory: kibibytes(Math.max(0, m.memoryBytes - EVICTION_MEMORY_BYTES)),
      // nodefs.available<10%: allocatable is 90% of the filesystem, in bytes as upstream prints it.
      'ephemeral-storage': String(Math.floor(m.ephemeralStorageBytes * 0.9)),
    },
  };
}

/** Why the node is or is not Ready, as the runtime and network report it. */
export interface Readiness {
  ready: boolean;
  /** Upstream's message when not ready (`container runtime network not ready: …`). */
  message?: string;
}

/** Resource pressure the eviction manager observed (all false without one). */
export interface Pressure {
  memory: boolean;
  disk: boolean;
  pid: boolean;
}

/** The four node conditions, carrying transition times over from `previous`. */
export function nodeConditions(
  now: number,
  readiness: Readiness,
  previous: NodeCondition[] = [],
  pressure: Pressure = { memory: false, disk: false, pid: false },
): NodeCondition[] {
  const hb = rfc3339(now);
  const c = (type: string, status: string, reason: string, message: string): NodeCondition => {
    const old = previous.find((p) => p.type === type);
    const since = old !== undefined && old.status === status ? (old.lastTransitionTime ?? hb) : hb;
    return { type, status, reason, message, lastHeartbeatTime: hb, lastTransitionTime: since };
  };
  return [
    pressure.memory
      ? c(
          'MemoryPressure',
          'True',
          'KubeletHasInsufficientMemory',
          'kubelet has insufficient memory available',
        )
      : c('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    pressure.disk
      ? c('DiskPressure', 'True', 'KubeletHasDiskPressure', 'kubelet has disk pressure')
      : c('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    pressure.pid
      ? c('PIDPressure', 'True', 'KubeletHasInsufficientPID', 'kubelet has insufficient PID available')
      : c('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    readiness.ready
      ? c('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status')
      : c('Ready', 'False', 'KubeletNotReady', readiness.message ?? 'kubelet is not ready'),
  ];
}

/** What the node status depends on besides the machine. */
export interface NodeStatusInputs {
  nodeName: string;
  machine: MachineInfo;
  /** `containerd://1.6.20` or `process://kts`. */
  containerRuntimeVersion: string;
  /** Images present on the node (status.images), newest first. */
  images?: { names: string[]; sizeBytes: number }[];
  /** The port the kubelet's server listens on (default 10250). */
  kubeletPort?: number;
}

/** The labels a kubelet puts on its Node. */
export function nodeLabels(nodeName: string, m: MachineInfo): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': m.architecture,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': m.architecture,
    'kubernetes.io/hostname': nodeName,
    'kubernetes.io/os': 'linux',
  };
}

/** The node status (without conditions' history) for the inputs. */
export function nodeStatus(inputs: NodeStatusInputs, conditions: NodeCondition[]): NodeStatus {
  const m = inputs.machine;
  const status: NodeStatus = {
    ...nodeResources(m),
    conditions,
    addresses: [
      { type: 'InternalIP', address: m.internalIP },
      { type: 'Hostname', address: inputs.nodeName },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: inputs.kubeletPort ?? KUBELET_PORT } },
    nodeInfo: {
      machineID: m.machineID,
      systemUUID: m.systemUUID,
      bootID: m.bootID,
      kernelVersion: m.kernelVersion,
      osImage: m.osImage,
      containerRuntimeVersion: inputs.containerRuntimeVersion,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: KUBELET_VERSION,
      operatingSystem: 'linux',
      architecture: m.architecture,
    },
  };
  if (inputs.images !== undefined && inputs.images.length > 0) status.images = inputs.images;
  return status;
}

/** Options of the node status manager. */
export interface NodeStatusManagerOptions extends NodeStatusInputs {
  client: Client;
  clock: Clock;
  logger: Logger;
  /** Current readiness (runtime up, network configured). */
  readiness: () => Readiness;
  /** Current resource pressure (the eviction manager's); none when omitted. */
  pressure?: () => Pressure;
  /** Longest interval between status writes (upstream nodeStatusReportFrequency: 1 min). */
  statusReportMs?: number;
  /** How often the status is recomputed (upstream nodeStatusUpdateFrequency: 10 s). */
  statusUpdateMs?: number;
  /** Where condition changes are recorded (NodeReady, NodeHasSufficientMemory, …). */
  events?: KubeletEvents;
}

/**
 * The node events of condition changes from `prev` to `next`. A condition appearing
 * counts as a change, as upstream's setters record a new pressure condition; Ready is
 * recorded when it first appears True too, which is when a real kubelet (starting NotReady
 * until its runtime and network report in) records NodeReady.
 */
export function conditionEvents(prev: NodeCondition[], next: NodeCondition[]): string[] {
  const out: string[] = [];
  for (const c of next) {
    const before = prev.find((p) => p.type === c.type);
    if (before !== undefined && before.status === c.status) continue;
    if (before === undefined && c.type === 'Ready' && c.status !== 'True') continue;
    const ev = nodeConditionEvent(c.type, c.status);
    if (ev !== undefined) out.push(ev);
  }
  return out;
}

function comparable(s: NodeStatus | undefined): string {
  // Heartbeat times change every tick; only a real change forces an early write.
  const conditions = (s?.conditions ?? []).map((c) => ({ ...c, lastHeartbeatTime: '' }));
  return JSON.stringify({ ...s, conditions });
}

/** Registers the Node and keeps its status current. */
export class NodeStatusManager {
  private lastWrite = 0;
  private lastSent = '';
  private node: Node | undefined;

  /** A manager for one node. */
  constructor(private readonly opts: NodeStatusManagerOptions) {}

  /** The Node as last read or written. */
  get current(): Node | undefined {
    return this.node;
  }

  /** Creates the Node, or adopts an existing one of the same name (a kubelet restart). */
  async register(signal?: AbortSignal): Promise<Node> {
    const o = this.opts;
    const now = o.clock.now();
    const body: Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: o.nodeName,
        labels: nodeLabels(o.nodeName, o.machine),
        annotations: {
          'node.alpha.kubernetes.io/ttl': '0',
          'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        },
      },
      spec: {},
      status: nodeStatus(o, nodeConditions(now, o.readiness(), [], o.pressure?.())),
    };
    try {
      this.node = await o.client.resource(NODES).create('', body, { signal });
      this.recordConditions([], body.status?.conditions ?? []);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const existing = await o.client.resource(NODES).get('', o.nodeName, { signal });
      // Labels the kubelet owns are refreshed; everything else (taints, podCIDR) is kept.
      const labels = { ...(existing.metadata?.labels ?? {}), ...nodeLabels(o.nodeName, o.machine) };
      this.node = await o.client
        .resource(NODES)
        .patch('', o.nodeName, 'merge', { metadata: { labels } }, { signal });
    }
    await this.sync(true, signal);
    return this.node as Node;
  }

  /** Recomputes the status and writes it when it changed or the report interval passed. */
  async sync(force = false, signal?: AbortSignal): Promise<void> {
    const o = this.opts;
    const now = o.clock.now();
    const prev = this.node?.status?.conditions ?? [];
    const status = nodeStatus(o, nodeConditions(now, o.readiness(), prev, o.pressure?.()));
    const key = comparable(status);
    const due = now - this.lastWrite >= (o.statusReportMs ?? 60_000);
    if (!force && !due && key === this.lastSent) return;
    try {
      this.node = await o.client
        .resource(NODES)
        .patch('', o.nodeName, 'merge', { status }, { subresource: 'status', signal });
      this.lastWrite = now;
      this.lastSent = key;
      this.recordConditions(prev, status.conditions ?? []);
    } catch (e) {
      if (isNotFound(e)) {
        // Someone deleted the Node: register again, as upstream's kubelet does on restart.
        o.logger.info('node deleted; registering again', { node: o.nodeName });
        this.node = undefined;
        await this.register(signal);
        return;
      }
      throw e;
    }
  }

  private recordConditions(prev: NodeCondition[], next: NodeCondition[]): void {
    const name = this.opts.nodeName;
    for (const ev of conditionEvents(prev, next))
      this.opts.events?.node(name, 'Normal', ev, nodeStatusMessage(name, ev));
  }

  /** Re-reads the Node (spec.podCIDR appears once the IPAM controller assigned it). */
  async refresh(signal?: AbortSignal): Promise<Node> {
    this.node = await this.opts.client.resource(NODES).get('', this.opts.nodeName, { signal });
    return this.node;
  }

  /** Updates statuses every `statusUpdateMs` until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const o = this.opts;
    while (!signal.aborted) {
      try {
        await o.clock.sleep(o.statusUpdateMs ?? 10_000, signal);
      } catch {
        return;
      }
      try {
        await this.sync(false, signal);
      } catch (e) {
        if (!signal.aborted)
          o.logger.error('updating node status failed', { node: o.nodeName, err: errorText(e) });
      }
    }
  }
}
