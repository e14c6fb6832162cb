// Everything the scheduler knows about one node: the Node object, the pods on it (bound or
// assumed), the sum of their requests, the host ports they hold and the images present.
// Every mutation bumps `generation` so the cache can copy only changed nodes into the
// per-cycle snapshot.

import type { ContainerPort, Node, Pod, Taint } from '../../api/generated/types/core-v1.js';
import { PodInfo } from './pod-info.js';
import { Resource } from './resource.js';

let generationCounter = 0;
const NO_TAINTS: readonly Taint[] = [];

/** A new, globally increasing generation number. */
export function nextGeneration(): number {
  generationCounter += 1;
  return generationCounter;
}

const memoSlots = new Map<string, number>();
let memoSlotCounter = 0;

/**
 * The number naming a memo key (NodeInfo.memo): plugins build a key string once per cycle
 * and look it up on thousands of nodes, and a small-integer Map lookup costs far less than
 * hashing and comparing a long string each time. Numbers are never reused, so dropping the
 * table when it grows large only orphans memo entries (they die with the next generation).
 */
export function memoSlot(key: string): number {
  let n = memoSlots.get(key);
  if (n === undefined) {
    if (memoSlots.size >= 100_000) memoSlots.clear();
    n = ++memoSlotCounter;
    memoSlots.set(key, n);
  }
  return n;
}

// Slots of NodeInfo.hot: the numbers Filter and Score read for every node of every cycle,
// unboxed in one small typed array next to the NodeInfo instead of spread over three
// Resource objects and their boxed doubles. The rotating window of nodes a pod evaluates
// is mostly out of the CPU caches, so each object touched per node costs a cache miss.
/** NodeInfo.hot: allocatable milli-CPU. */
export const HOT_ALLOC_CPU = 0;
/** NodeInfo.hot: allocatable memory. */
export const HOT_ALLOC_MEMORY = 1;
/** NodeInfo.hot: allocatable ephemeral storage. */
export const HOT_ALLOC_EPHEMERAL = 2;
/** NodeInfo.hot: allowed pod count. */
export const HOT_ALLOWED_PODS = 3;
/** NodeInfo.hot: requested milli-CPU. */
export const HOT_REQ_CPU = 4;
/** NodeInfo.hot: requested memory. */
export const HOT_REQ_MEMORY = 5;
/** NodeInfo.hot: requested ephemeral storage. */
export const HOT_REQ_EPHEMERAL = 6;
/** NodeInfo.hot: non-zero requested milli-CPU (scoring defaults applied). */
export const HOT_NONZERO_CPU = 7;
/** NodeInfo.hot: non-zero requested memory. */
export const HOT_NONZERO_MEMORY = 8;
/** NodeInfo.hot: number of pods. */
export const HOT_PODS = 9;
const HOT_SIZE = 10;

/** An image on a node plus how many nodes have it (shared between NodeInfos). */
export interface ImageStateSummary {
  size: number;
  numNodes: number;
}

/** The IP that means "every address" for host ports. */
export const DEFAULT_BIND_ALL_HOST_IP = '0.0.0.0';

/** Host ports in use: ip → set of "protocol/port" (upstream's HostPortInfo). */
export class HostPortInfo {
  private readonly byIP = new Map<string, Set<string>>();

  /** Records a port; an empty ip means 0.0.0.0 and an empty protocol means TCP. */
  add(ip: string | undefined, protocol: string | undefined, port: number): void {
    if (port <= 0) return;
    const key = `${protocol || 'TCP'}/${port}`;
    const addr = ip || DEFAULT_BIND_ALL_HOST_IP;
    let s = this.byIP.get(addr);
    if (s === undefined) {
      s = new Set();
      this.byIP.set(addr, s);
    }
    s.add(key);
  }

  /** Forgets a port. */
  remove(ip: string | undefined, protocol: string | undefined, port: number): void {
    if (port <= 0) return;
    const addr = ip || DEFAULT_BIND_ALL_HOST_IP;
    const s = this.byIP.get(addr);
    if (s === undefined) return;
    s.delete(`${protocol || 'TCP'}/${port}`);
    if (s.size === 0) this.byIP.delete(addr);
  }

  /**
   * True when the port conflicts: 0.0.0.0 conflicts with the same protocol/port on any ip,
   * and a specific ip conflicts with itself and with 0.0.0.0.
   */
  checkConflict(ip: string | undefined, protocol: string | undefined, port: number): boolean {
    if (port <= 0) return false;
    const key = `${protocol || 'TCP'}/${port}`;
    const addr = ip || DEFAULT_BIND_ALL_HOST_IP;
    if (addr === DEFAULT_BIND_ALL_HOST_IP) {
      for (const s of this.byIP.values()) if (s.has(key)) return true;
      return false;
    }
    return (
      (this.byIP.get(addr)?.has(key) ?? false) || (this.byIP.get(DEFAULT_BIND_ALL_HOST_IP)?.has(key) ?? false)
    );
  }

  /** Number of ips with ports. */
  get size(): number {
    return this.byIP.size;
  }

  /** A deep copy. */
  clone(): HostPortInfo {
    const c = new HostPortInfo();
    for (const [ip, s] of this.byIP) c.byIP.set(ip, new Set(s));
    return c;
  }
}

/** The host ports a pod asks for (containers and init containers, hostPort > 0). */
export function podHostPorts(pod: Pod): ContainerPort[] {
  const out: ContainerPort[] = [];
  const spec = pod.spec;
  if (spec === undefined) return out;
  for (const c of spec.containers ?? [])
    for (const p of c.ports ?? []) if ((p.hostPort ?? 0) > 0) out.push(p);
  for (const c of spec.initContainers ?? [])
    for (const p of c.ports ?? []) if ((p.hostPort ?? 0) > 0) out.push(p);
  return out;
}

/** Per-node aggregate state (upstream's framework.NodeInfo). */
export class NodeInfo {
  /** The Node; undefined for a node deleted while pods still reference it. */
  node: Node | undefined = undefined;
  /**
   * Copies of allocatable, requested, nonZeroRequested (cpu, memory, ephemeral storage) and
   * the pod count, kept in step by every mutation below (HOT_* slots).
   */
  readonly hot: Float64Array = new Float64Array(HOT_SIZE);
  pods: PodInfo[] = [];
  podsWithAffinity: PodInfo[] = [];
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  usedPorts: HostPortInfo = new HostPortInfo();
  requested: Resource = new Resource();
  nonZeroRequested: Resource = new Resource();
  allocatable: Resource = new Resource();
  private images: Map<string, ImageStateSummary> = new Map();
  /** imageStates.size, read by ImageLocality for every scored node. */
  imageCount = 0;
  /** namespace/claim → number of pods using it. */
  pvcRefCounts: Map<string, number> = new Map();
  generation: number = nextGeneration();
  /** Per-plugin derived values, valid while `generation` equals memoGeneration. */
  private memoMap: Map<number, unknown> | undefined = undefined;
  private memoGeneration = -1;

  /**
   * The node's name ('' when unset): a field, not a getter through node.metadata, because
   * Filter and Score read it for every node of every cycle.
   */
  name = '';
  /** spec.taints (empty when none), for the same reason. */
  taints: readonly Taint[] = NO_TAINTS;
  /** spec.unschedulable. */
  unschedulable = false;

  /** Image name → state, for every name of every image on the node. */
  get imageStates(): Map<string, ImageStateSummary> {
    return this.images;
  }

  set imageStates(m: Map<string, ImageStateSummary>) {
    this.images = m;
    this.imageCount = m.size;
  }

  /** Sets the Node and recomputes allocatable. */
  setNode(node: Node): void {
    this.node = node;
    this.name = node.metadata?.name ?? '';
    this.taints = node.spec?.taints ?? NO_TAINTS;
    this.unschedulable = node.spec?.unschedulable === true;
    this.allocatable = Resource.fromList(node.status?.allocatable ?? node.status?.capacity);
    const h = this.hot;
    h[HOT_ALLOC_CPU] = this.allocatable.milliCPU;
    h[HOT_ALLOC_MEMORY] = this.allocatable.memory;
    h[HOT_ALLOC_EPHEMERAL] = this.allocatable.ephemeralStorage;
    h[HOT_ALLOWED_PODS] = this.allocatable.allowedPodNumber;
    this.generation = nextGeneration();
  }

  /** Forgets the Node object (pods stay until removed). */
  removeNode(): void {
    this.node = undefined;
    this.name = '';
    this.taints = NO_TAINTS;
    this.unschedulable = false;
    this.generation = nextGeneration();
  }

  /** Adds a pod and its requests, ports and claims. */
  addPod(pi: PodInfo): void {
    this.pods.push(pi);
    if (pi.hasAffinity()) this.podsWithAffinity.push(pi);
    if (pi.hasRequiredAntiAffinity()) this.podsWithRequiredAntiAffinity.push(pi);
    this.updateUsage(pi, 1);
    this.generation = nextGeneration();
  }

  /** Removes a pod by key; false when it was not here. */
  removePod(key: string): boolean {
    const i = this.pods.findIndex((p) => p.key === key);
    if (i < 0) return false;
    const pi = this.pods[i] as PodInfo;
    this.pods.splice(i, 1);
    removeByKey(this.podsWithAffinity, key);
    removeByKey(this.podsWithRequiredAntiAffinity, key);
    this.updateUsage(pi, -1);
    this.generation = nextGeneration();
    return true;
  }

  private updateUsage(pi: PodInfo, sign: 1 | -1): void {
    if (sign > 0) {
      this.requested.add(pi.requests);
      this.nonZeroRequested.add(pi.nonZeroRequests);
    } else {
      this.requested.sub(pi.requests);
      this.nonZeroRequested.sub(pi.nonZeroRequests);
    }
    const h = this.hot;
    h[HOT_REQ_CPU] = this.requested.milliCPU;
    h[HOT_REQ_MEMORY] = this.requested.memory;
    h[HOT_REQ_EPHEMERAL] = this.requested.ephemeralStorage;
    h[HOT_NONZERO_CPU] = this.nonZeroRequested.milliCPU;
    h[HOT_NONZERO_MEMORY] = this.nonZeroRequested.memory;
    h[HOT_PODS] = this.pods.length;
    for (const p of podHostPorts(pi.pod)) {
      if (sign > 0) this.usedPorts.add(p.hostIP, p.protocol, p.hostPort ?? 0);
      else this.usedPorts.remove(p.hostIP, p.protocol, p.hostPort ?? 0);
    }
    const ns = pi.pod.metadata?.namespace ?? '';
    for (const v of pi.pod.spec?.volumes ?? []) {
      const claim = v.persistentVolumeClaim?.claimName;
      if (claim === undefined) continue;
      const k = `${ns}/${claim}`;
      const n = (this.pvcRefCounts.get(k) ?? 0) + sign;
      if (n <= 0) this.pvcRefCounts.delete(k);
      else this.pvcRefCounts.set(k, n);
    }
  }

  /**
   * A value derived from this node's pods and labels, computed once per generation: PreFilter
   * and PreScore plugins walk every node each cycle, but only nodes that changed since the
   * last cycle need their pods walked again. `slot` (from memoSlot) must name everything
   * else the value depends on (selectors, namespace-label versions).
   */
  memo<T>(slot: number, compute: (ni: NodeInfo) => T): T {
    let m = this.memoMap;
    if (m === undefined || this.memoGeneration !== this.generation) {
      m = new Map();
      this.memoMap = m;
      this.memoGeneration = this.generation;
    } else {
      const v = m.get(slot);
      if (v !== undefined || m.has(slot)) return v as T;
    }
    const v = compute(this);
    // A node that never changes would otherwise keep one entry per key ever asked.
    if (m.size >= 64) m.clear();
    m.set(slot, v);
    return v;
  }

  /** A copy whose lists and sums can change independently (pods themselves are shared). */
  clone(): NodeInfo {
    const c = new NodeInfo();
    c.copyFrom(this);
    return c;
  }

  /** Makes this a copy of o, keeping this object's identity (snapshots hold references). */
  copyFrom(o: NodeInfo): void {
    this.node = o.node;
    this.name = o.name;
    this.taints = o.taints;
    this.unschedulable = o.unschedulable;
    this.pods = o.pods.slice();
    this.podsWithAffinity = o.podsWithAffinity.slice();
    this.podsWithRequiredAntiAffinity = o.podsWithRequiredAntiAffinity.slice();
    this.usedPorts = o.usedPorts.size === 0 ? new HostPortInfo() : o.usedPorts.clone();
    this.requested = o.requested.clone();
    this.nonZeroRequested = o.nonZeroRequested.clone();
    this.allocatable = o.allocatable;
    this.hot.set(o.hot);
    this.imageStates = o.imageStates;
    this.pvcRefCounts = o.pvcRefCounts.size === 0 ? new Map() : new Map(o.pvcRefCounts);
    this.generation = o.generation;
  }
}

function removeByKey(list: PodInfo[], key: string): void {
  const i = list.findIndex((p) => p.key === key);
  if (i >= 0) list.splice(i, 1);
}

/** A NodeInfo for a node and pods (tests and tools). */
export function newNodeInfo(node: Node | undefined, ...pods: Pod[]): NodeInfo {
  const ni = new NodeInfo();
  if (node !== undefined) ni.setNode(node);
  for (const p of pods) ni.addPod(new PodInfo(p));
  return ni;
}
