// The scraped points and the usage computed from them (metrics-server's storage). Every scrape
// of a node's kubelet gives one cumulative point per node and per container: CPU time used so
// far and the memory working set now. Usage needs two points: CPU is the rate between the
// previous point and the latest one (core-nanoseconds used over the time between them, so
// nanocores), memory is the latest working set; `timestamp` is the latest point's time and
// `window` the time between the two. A node or pod seen for the first time has no usage until
// the next scrape, and a point that went backwards (a restarted container) yields none.

import { formatDuration } from '../machinery/duration.js';
import { Quantity } from '../machinery/quantity.js';

/** One cumulative measurement. */
export interface MetricsPoint {
  /** When it was measured (epoch ms). */
  timestampMs: number;
  /** CPU time used since start, in core-nanoseconds. */
  cumulativeCpuNs: number;
  /** Memory working set in bytes. */
  memoryBytes: number;
  /** When the measured thing started (epoch ms); a later start than the previous point's means a restart. */
  startTimeMs?: number;
}

/** What one scrape of one node's kubelet found. */
export interface NodeBatch {
  node?: MetricsPoint;
  /** Pods by `namespace/name`, each with its containers' points by container name. */
  pods: Map<string, Map<string, MetricsPoint>>;
}

/** CPU and memory usage over one window. */
export interface Usage {
  /** Nanocores. */
  cpuNanoCores: number;
  memoryBytes: number;
  timestampMs: number;
  windowMs: number;
}

/** One container's usage in a pod's metrics. */
export interface ContainerUsage {
  name: string;
  usage: Usage;
}

/** The usage between two points of one thing, or undefined when they cannot give one. */
export function usageBetween(last: MetricsPoint, prev: MetricsPoint): Usage | undefined {
  const windowMs = last.timestampMs - prev.timestampMs;
  if (windowMs <= 0) return undefined;
  if (last.cumulativeCpuNs < prev.cumulativeCpuNs) return undefined;
  if (last.startTimeMs !== undefined && prev.startTimeMs !== undefined && last.startTimeMs > prev.startTimeMs)
    return undefined;
  const cpuNanoCores = Math.floor(((last.cumulativeCpuNs - prev.cumulativeCpuNs) * 1000) / windowMs);
  return { cpuNanoCores, memoryBytes: last.memoryBytes, timestampMs: last.timestampMs, windowMs };
}

/** The `usage` map of the API: cpu in nanocores (DecimalSI), memory in bytes (BinarySI). */
export function usageList(u: { cpuNanoCores: number; memoryBytes: number }): Record<string, string> {
  return {
    cpu: Quantity.scaled(BigInt(Math.max(0, Math.floor(u.cpuNanoCores))), -9).toString(),
    memory: Quantity.of(BigInt(Math.max(0, Math.floor(u.memoryBytes))), 'BinarySI').toString(),
  };
}

/** The `window` of the API (a Go duration string such as `15.012s`). */
export function windowString(windowMs: number): string {
  return formatDuration(windowMs);
}

interface PointPair<P> {
  last: P;
  prev?: P;
}

// Keeps the latest point and, when the new one is newer, the one before it (metrics-server's
// rule: a repeated point keeps the pair; an older one drops the previous).
function advance(old: PointPair<MetricsPoint> | undefined, next: MetricsPoint): PointPair<MetricsPoint> {
  if (old === undefined) return { last: next };
  if (next.timestampMs > old.last.timestampMs) return { last: next, prev: old.last };
  if (old.prev !== undefined && old.prev.timestampMs < next.timestampMs)
    return { last: next, prev: old.prev };
  return { last: next };
}

/** The points of the last two scrapes of every node and pod, and the usage they give. */
export class MetricsStorage {
  private nodes = new Map<string, PointPair<MetricsPoint>>();
  private pods = new Map<string, Map<string, PointPair<MetricsPoint>>>();

  /**
   * Replaces the stored points with one scrape round's (nodes by name). Nodes and pods absent
   * from the round lose their points, as metrics-server forgets what it did not scrape.
   */
  store(batches: ReadonlyMap<string, NodeBatch>): void {
    const nodes = new Map<string, PointPair<MetricsPoint>>();
    const pods = new Map<string, Map<string, PointPair<MetricsPoint>>>();
    for (const [name, b] of batches) {
      if (b.node !== undefined) nodes.set(name, advance(this.nodes.get(name), b.node));
      for (const [key, containers] of b.pods) {
        if (pods.has(key)) continue;
        const before = this.pods.get(key);
        const next = new Map<string, PointPair<MetricsPoint>>();
        for (const [c, p] of containers) next.set(c, advance(before?.get(c), p));
        pods.set(key, next);
      }
    }
    this.nodes = nodes;
    this.pods = pods;
  }

  /** A node's usage, when two points of it are known. */
  nodeUsage(name: string): Usage | undefined {
    const pair = this.nodes.get(name);
    if (pair?.prev === undefined) return undefined;
    return usageBetween(pair.last, pair.prev);
  }

  /**
   * A pod's containers' usage and the pod's timestamp and window (its earliest container's),
   * when every container has two points; containers whose points give no usage are left out.
   */
  podUsage(
    namespace: string,
    name: string,
  ): { containers: ContainerUsage[]; timestampMs: number; windowMs: number } | undefined {
    const containers = this.pods.get(`${namespace}/${name}`);
    if (containers === undefined || containers.size === 0) return undefined;
    const out: ContainerUsage[] = [];
    let earliest: Usage | undefined;
    for (const [c, pair] of containers) {
      if (pair.prev === undefined) return undefined;
      const u = usageBetween(pair.last, pair.prev);
      if (u === undefined) continue;
      out.push({ name: c, usage: u });
      if (earliest === undefined || u.timestampMs < earliest.timestampMs) earliest = u;
    }
    if (earliest === undefined) return undefined;
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { containers: out, timestampMs: earliest.timestampMs, windowMs: earliest.windowMs };
  }
}
