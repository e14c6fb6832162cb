// The eviction manager (upstream pkg/kubelet/eviction): every interval it observes the
// node's signals — memory.available, nodefs.available, nodefs.inodesFree,
// imagefs.available, pid.available — against the hard thresholds (`--eviction-hard`,
// upstream's defaults `memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,
// imagefs.available<15%`), reports the node conditions they imply (MemoryPressure,
// DiskPressure, PIDPressure, held for the pressure transition period after the last time a
// threshold was met), and when one is met evicts one pod, ranked as upstream ranks them:
// pods using more than they requested first, then lower priority, then larger usage.
// Soft thresholds (`--eviction-soft`) report pressure at once but evict only once they have
// stayed met for their grace period (`--eviction-soft-grace-period`), giving the pod its own
// grace capped at `--eviction-max-pod-grace-period`; a threshold that evicted holds until
// `--eviction-minimum-reclaim` more than it is available.
// Independently, pods exceeding their local-storage limits — an emptyDir's sizeLimit, a
// container's ephemeral-storage limit, the pod's total — are evicted whatever the node's
// state. Critical pods (static pods, system priorities) are never evicted. Messages are
// upstream's, so `kubectl describe` reads the same.

import type { Container, Pod } from '../api/generated/types/core-v1.js';
import type { Clock } from '../client/clock.js';
import { errorText, type Logger } from '../client/log.js';
import { parseDuration } from '../machinery/duration.js';
import { Quantity, quantityFromJSON } from '../machinery/quantity.js';
import type { NodeObservations, Observation, PodUsage, StatsProvider } from './node-stats.js';
import { isStaticPod } from './static-pods.js';

/** An eviction signal kts observes. */
export type Signal =
  | 'memory.available'
  | 'nodefs.available'
  | 'nodefs.inodesFree'
  | 'imagefs.available'
  | 'pid.available';

/** An amount of a signal: an absolute quantity, or a fraction of capacity. */
export interface ThresholdValue {
  /** Absolute quantity (bytes or count)… */
  quantity?: Quantity;
  /** …or a fraction of capacity in (0, 1]. */
  percentage?: number;
}

/** A threshold: the signal below a quantity, or below a fraction of capacity. */
export interface Threshold extends ThresholdValue {
  signal: Signal;
  /**
   * How long the threshold must stay met before pods are evicted for it: a soft threshold
   * (`--eviction-soft-grace-period`). Zero or absent: a hard threshold.
   */
  gracePeriodMs?: number;
  /** Once it caused evictions, the threshold holds until this much more is available. */
  minReclaim?: ThresholdValue;
}

/** The eviction flags of the kubelet, as given on the command line. */
export interface EvictionFlags {
  /** `--eviction-hard` (default upstream's; '' for none). */
  hard?: string;
  /** `--eviction-soft`, e.g. `memory.available<1Gi`. */
  soft?: string;
  /** `--eviction-soft-grace-period`, e.g. `memory.available=1m30s`. */
  softGracePeriod?: string;
  /** `--eviction-minimum-reclaim`, e.g. `memory.available=0Mi,nodefs.available=500Mi`. */
  minimumReclaim?: string;
}

/** Upstream's default `--eviction-hard` on Linux. */
export const DEFAULT_EVICTION_HARD =
  'memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%';

const SIGNALS: readonly Signal[] = [
  'memory.available',
  'nodefs.available',
  'nodefs.inodesFree',
  'imagefs.available',
  'pid.available',
];

/** Upstream's floor on priorities that make a pod critical (system-cluster-critical and up). */
const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

/** Parses `--eviction-hard` (`signal<quantity|percent%`, comma separated; '' for none). */
export function parseThresholds(spec: string): Threshold[] {
  const out: Threshold[] = [];
  for (const part of spec.split(',').map((s) => s.trim())) {
    if (part === '') continue;
    const i = part.indexOf('<');
    if (i < 0)
      throw new Error(`invalid eviction threshold syntax ${part}, expected <signal><operator><value>`);
    const signal = part.slice(0, i);
    const value = part.slice(i + 1);
    parseSignal(signal);
    if (out.some((t) => t.signal === signal))
      throw new Error(`found duplicate eviction threshold for signal ${signal}`);
    if (value.endsWith('%')) {
      const pct = Number(value.slice(0, -1));
      if (!Number.isFinite(pct) || pct < 0 || pct > 100) throw new Error(`invalid percentage: ${value}`);
      if (pct > 0) out.push({ signal: signal as Signal, percentage: pct / 100 });
      continue;
    }
    const q = quantityFromJSON(value);
    if (q === undefined) throw new Error(`invalid eviction threshold quantity ${value}`);
    if (q.sign() < 0) throw new Error(`eviction threshold ${signal} must be positive: ${value}`);
    out.push({ signal: signal as Signal, quantity: q });
  }
  return out;
}

function parseSignal(signal: string): Signal {
  if (!(SIGNALS as readonly string[]).includes(signal))
    throw new Error(`unsupported eviction signal ${signal}`);
  return signal as Signal;
}

/** Splits `signal=value,…` (the grace period and minimum reclaim flags). */
function parsePairs(spec: string, what: string, expected: string): Map<Signal, string> {
  const out = new Map<Signal, string>();
  for (const part of spec.split(',').map((s) => s.trim())) {
    if (part === '') continue;
    const i = part.indexOf('=');
    if (i < 0)
      throw new Error(
        `invalid eviction ${what} syntax${what === 'minimum reclaim' ? ':' : ''} ${part}, expected ${expected}`,
      );
    const signal = parseSignal(part.slice(0, i).trim());
    if (out.has(signal)) throw new Error(`duplicate eviction ${what} specified for ${signal}`);
    out.set(signal, part.slice(i + 1).trim());
  }
  return out;
}

/** Parses `--eviction-soft-grace-period` (`signal=duration`, comma separated). */
export function parseGracePeriods(spec: string): Map<Signal, number> {
  const out = new Map<Signal, number>();
  for (const [signal, value] of parsePairs(spec, 'grace period', '<signal>=<duration>')) {
    const ms = parseDuration(value);
    if (ms < 0)
      throw new Error(`invalid eviction grace period specified: ${value}, must be a positive value`);
    out.set(signal, ms);
  }
  return out;
}

/** Parses `--eviction-minimum-reclaim` (`signal=quantity|percent%`, comma separated). */
export function parseMinimumReclaims(spec: string): Map<Signal, ThresholdValue> {
  const out = new Map<Signal, ThresholdValue>();
  for (const [signal, value] of parsePairs(spec, 'minimum reclaim', '<signal>=<value>')) {
    if (value.endsWith('%')) {
      const pct = Number(value.slice(0, -1));
      if (!Number.isFinite(pct) || pct < 0 || pct > 100) throw new Error(`invalid percentage: ${value}`);
      out.set(signal, { percentage: pct / 100 });
      continue;
    }
    const q = quantityFromJSON(value);
    if (q === undefined) throw new Error(`invalid eviction minimum reclaim quantity ${value}`);
    if (q.sign() < 0) throw new Error(`negative reclaim defined for signal ${signal}: ${value}`);
    out.set(signal, { quantity: q });
  }
  return out;
}

/**
 * Every threshold the eviction flags define (upstream ParseThresholdConfig): the hard ones,
 * then the soft ones, each soft threshold with its grace period (which it must have), and
 * the minimum reclaim of its signal on either kind.
 */
export function parseEvictionFlags(f: EvictionFlags): Threshold[] {
  const hard = parseThresholds(f.hard ?? DEFAULT_EVICTION_HARD);
  const soft = parseThresholds(f.soft ?? '');
  const periods = parseGracePeriods(f.softGracePeriod ?? '');
  const reclaims = parseMinimumReclaims(f.minimumReclaim ?? '');
  for (const t of soft) {
    const period = periods.get(t.signal);
    if (period === undefined)
      throw new Error(`grace period must be specified for the soft eviction threshold ${t.signal}`);
    t.gracePeriodMs = period;
  }
  for (const t of [...hard, ...soft]) {
    const r = reclaims.get(t.signal);
    if (r !== undefined) t.minReclaim = r;
  }
  return [...hard, ...soft];
}

/** Whether a threshold evicts at once (no grace period). */
export function isHardThreshold(t: Threshold): boolean {
  return (t.gracePeriodMs ?? 0) <= 0;
}

/** The resource a signal starves (how eviction messages name it). */
export function signalResource(signal: Signal): string {
  if (signal === 'memory.available') return 'memory';
  if (signal === 'pid.available') return 'pids';
  return 'ephemeral-storage';
}

function observationOf(obs: NodeObservations, signal: Signal): Observation | undefined {
  switch (signal) {
    case 'memory.available':
      return obs.memory;
    case 'nodefs.available':
      return obs.nodefs;
    case 'nodefs.inodesFree':
      return obs.nodefsInodes;
    case 'imagefs.available':
      return obs.imagefs;
    case 'pid.available':
      return obs.pid;
  }
}

/** The threshold's (or minimum reclaim's) quantity against the observed capacity. */
export function thresholdQuantity(t: ThresholdValue, capacity: number): Quantity {
  if (t.quantity !== undefined) return t.quantity;
  return Quantity.of(Math.floor(capacity * (t.percentage ?? 0)), 'BinarySI');
}

/** A threshold that is met, with what was observed. */
export interface MetThreshold {
  threshold: Threshold;
  observed: Observation;
}

/**
 * The thresholds met by the observations (available strictly below the threshold); with
 * `enforceMinReclaim`, below the threshold plus its minimum reclaim (upstream thresholdsMet).
 */
export function thresholdsMet(
  thresholds: Threshold[],
  obs: NodeObservations,
  enforceMinReclaim = false,
): MetThreshold[] {
  const out: MetThreshold[] = [];
  for (const t of thresholds) {
    const o = observationOf(obs, t.signal);
    if (o === undefined) continue;
    let q = thresholdQuantity(t, o.capacity);
    if (enforceMinReclaim && t.minReclaim !== undefined)
      q = q.add(thresholdQuantity(t.minReclaim, o.capacity));
    if (q.cmpInt(Math.floor(o.available)) > 0) out.push({ threshold: t, observed: o });
  }
  return out;
}

/** Node pressure as the node conditions report it. */
export interface NodePressure {
  memory: boolean;
  disk: boolean;
  pid: boolean;
}

/** True for pods the kubelet never evicts (upstream IsCriticalPod). */
export function isCriticalPod(pod: Pod): boolean {
  return isStaticPod(pod) || (pod.spec?.priority ?? 0) >= SYSTEM_CRITICAL_PRIORITY;
}

function bytesOf(v: unknown): number | undefined {
  return quantityFromJSON(v)?.value();
}

function binary(n: number): string {
  return Quantity.of(Math.max(0, Math.floor(n)), 'BinarySI').toString();
}

function sumRequests(pod: Pod, resource: string): number {
  let total = 0;
  for (const c of pod.spec?.containers ?? []) total += bytesOf(c.resources?.requests?.[resource]) ?? 0;
  return total;
}

function containerDisk(u: PodUsage['containers'][number]): number {
  return (u.rootfsBytes ?? 0) + (u.logsBytes ?? 0);
}

/** A pod's usage of what a signal measures. */
function podUsage(signal: Signal, u: PodUsage | undefined): number {
  if (u === undefined) return 0;
  if (signal === 'memory.available')
    return u.containers.reduce((s, c) => s + (c.memoryWorkingSetBytes ?? 0), 0);
  if (signal === 'pid.available') return u.processes ?? 0;
  let disk = u.containers.reduce((s, c) => s + containerDisk(c), 0);
  for (const v of u.volumes.values()) disk += v;
  return disk;
}

/**
 * Pods in eviction order for a signal (upstream rankMemoryPressure / rankDiskPressureFunc /
 * rankPIDPressure): usage above requests first, then lower priority, then more usage above
 * requests (for pids: priority, then more processes).
 */
export function rankForEviction(signal: Signal, pods: Pod[], usage: Map<string, PodUsage>): Pod[] {
  const resource = signalResource(signal);
  const info = pods.map((pod) => {
    const used = podUsage(signal, usage.get(pod.metadata?.uid ?? ''));
    const requested = signal === 'pid.available' ? 0 : sumRequests(pod, resource);
    return { pod, used, requested, exceeds: signal !== 'pid.available' && used > requested };
  });
  info.sort((a, b) => {
    if (a.exceeds !== b.exceeds) return a.exceeds ? -1 : 1;
    const pa = a.pod.spec?.priority ?? 0;
    const pb = b.pod.spec?.priority ?? 0;
    if (pa !== pb) return pa - pb;
    return b.used - b.requested - (a.used - a.requested);
  });
  return info.map((i) => i.pod);
}

/** Upstream evictionMessage: the starved resource, the threshold, and the offending containers. */
export function evictionMessage(met: MetThreshold, pod: Pod, usage: PodUsage | undefined): string {
  const resource = signalResource(met.threshold.signal);
  let message = `The node was low on resource: ${resource}. `;
  const q = thresholdQuantity(met.threshold, met.observed.capacity);
  const available =
    met.threshold.signal === 'memory.available' || resource === 'ephemeral-storage'
      ? binary(met.observed.available)
      : String(Math.floor(met.observed.available));
  message += `Threshold quantity: ${q.toString()}, available: ${available}. `;
  if (resource === 'pids') return message;
  for (const cu of usage?.containers ?? []) {
    const spec = pod.spec?.containers.find((c: Container) => c.name === cu.name);
    if (spec === undefined) continue;
    const request = bytesOf(spec.resources?.requests?.[resource]) ?? 0;
    const used = resource === 'memory' ? cu.memoryWorkingSetBytes : containerDisk(cu);
    if (used === undefined || used <= request) continue;
    const reqText = quantityFromJSON(spec.resources?.requests?.[resource])?.toString() ?? '0';
    message += `Container ${cu.name} was using ${binary(used)}, request is ${reqText}, has larger consumption of ${resource}. `;
  }
  return message;
}

/**
 * Upstream localStorageEviction for one pod: the message of the first local-storage limit
 * it exceeds (emptyDir sizeLimit, pod total, container limit), or undefined.
 */
export function localStorageViolation(pod: Pod, usage: PodUsage | undefined): string | undefined {
  if (usage === undefined) return undefined;
  for (const v of pod.spec?.volumes ?? []) {
    const limit = v.emptyDir?.sizeLimit;
    if (limit === undefined || v.emptyDir?.medium === 'Memory') continue;
    const size = quantityFromJSON(limit);
    const used = usage.volumes.get(v.name);
    if (size === undefined || size.sign() <= 0 || used === undefined) continue;
    if (size.cmpInt(used) < 0)
      return `Usage of EmptyDir volume "${v.name}" exceeds the limit "${size.toString()}". `;
  }
  const containers = pod.spec?.containers ?? [];
  const limits = containers.map((c) => quantityFromJSON(c.resources?.limits?.['ephemeral-storage']));
  if (limits.length > 0 && limits.every((l) => l !== undefined)) {
    const total = limits.reduce((s, l) => s + (l?.value() ?? 0), 0);
    if (total > 0 && podUsage('nodefs.available', usage) > total) {
      const sum = limits.reduce<Quantity | undefined>(
        (s, l) => (s === undefined ? l : l === undefined ? s : s.add(l)),
        undefined,
      );
      return `Pod ephemeral local storage usage exceeds the total limit of containers ${sum?.toString() ?? String(total)}. `;
    }
  }
  for (const cu of usage.containers) {
    const spec = containers.find((c) => c.name === cu.name);
    const limit = quantityFromJSON(spec?.resources?.limits?.['ephemeral-storage']);
    if (limit === undefined || limit.sign() <= 0) continue;
    if (limit.cmpInt(containerDisk(cu)) < 0)
      return `Container ${cu.name} exceeded its local ephemeral storage limit "${limit.toString()}". `;
  }
  return undefined;
}

/** What the kubelet does to evict a pod (kill it, mark it Failed/Evicted with the message). */
export type EvictFn = (pod: Pod, message: string, gracePeriodSeconds: number) => Promise<void>;

/** Options of the eviction manager. */
export interface EvictionManagerOptions {
  thresholds: Threshold[];
  stats: StatsProvider;
  /** The pods the node runs now. */
  pods: () => Pod[];
  evict: EvictFn;
  clock: Clock;
  logger: Logger;
  /** How long a pressure condition stays after the threshold was last met (upstream 5 min). */
  pressureTransitionMs?: number;
  /** Called when the node's pressure changed (to update the node status early). */
  onPressureChange?: () => void;
  /**
   * `--eviction-max-pod-grace-period`: the longest grace a pod evicted for a soft threshold
   * gets (it gets its own terminationGracePeriodSeconds when shorter). Default 0.
   */
  maxPodGracePeriodSeconds?: number;
}

/** Observes the node, reports pressure and evicts pods. */
export class EvictionManager {
  private readonly lastMet = new Map<'memory' | 'disk' | 'pid', number>();
  private current: NodePressure = { memory: false, disk: false, pid: false };
  /** When each threshold met now was first seen met (its grace period counts from there). */
  private readonly firstObserved = new Map<Threshold, number>();
  /** The thresholds that last caused evictions: they hold until their minimum reclaim. */
  private evicting: Threshold[] = [];

  /** A manager with its collaborators (call `synchronize` or `run`). */
  constructor(private readonly o: EvictionManagerOptions) {}

  /** The node's pressure as of the last synchronize. */
  pressure(): NodePressure {
    return { ...this.current };
  }

  private updatePressure(met: MetThreshold[]): void {
    const now = this.o.clock.now();
    for (const m of met) {
      const s = m.threshold.signal;
      this.lastMet.set(s === 'memory.available' ? 'memory' : s === 'pid.available' ? 'pid' : 'disk', now);
    }
    const period = this.o.pressureTransitionMs ?? 300_000;
    const held = (k: 'memory' | 'disk' | 'pid'): boolean => {
      const t = this.lastMet.get(k);
      return t !== undefined && now - t < period;
    };
    const next = { memory: held('memory'), disk: held('disk'), pid: held('pid') };
    const changed = JSON.stringify(next) !== JSON.stringify(this.current);
    this.current = next;
    if (changed) this.o.onPressureChange?.();
  }

  /** One pass (upstream synchronize); resolves to the pods it evicted. */
  async synchronize(): Promise<Pod[]> {
    const active = this.o.pods().filter((p) => {
      const phase = p.status?.phase;
      return phase !== 'Succeeded' && phase !== 'Failed' && p.metadata?.deletionTimestamp == null;
    });
    const obs = await this.o.stats.node();
    const usage = await this.o.stats.pods(active);
    const now = this.o.clock.now();
    const met = thresholdsMet(this.o.thresholds, obs);
    // A threshold that caused evictions holds until its minimum reclaim is available too.
    for (const m of thresholdsMet(this.evicting, obs, true))
      if (!met.some((x) => x.threshold === m.threshold)) met.push(m);
    for (const t of [...this.firstObserved.keys()])
      if (!met.some((m) => m.threshold === t)) this.firstObserved.delete(t);
    for (const m of met) if (!this.firstObserved.has(m.threshold)) this.firstObserved.set(m.threshold, now);
    // Pressure shows as soon as any threshold is met, soft ones inside their grace period too.
    this.updatePressure(met);
    const due = met.filter(
      (m) => now - (this.firstObserved.get(m.threshold) ?? now) >= (m.threshold.gracePeriodMs ?? 0),
    );
    this.evicting = due.map((m) => m.threshold);

    // Local storage limits first: those pods are evicted whatever the node's state.
    const evicted: Pod[] = [];
    for (const pod of active) {
      if (isCriticalPod(pod)) continue;
      const message = localStorageViolation(pod, usage.get(pod.metadata?.uid ?? ''));
      if (message === undefined) continue;
      if (await this.evict(pod, message, 0)) evicted.push(pod);
    }
    if (evicted.length > 0 || due.length === 0) return evicted;

    // One pod per pass, for memory first, else the first threshold due, as upstream (its
    // byEvictionPriority): the next pass observes again.
    const first = due.find((m) => m.threshold.signal === 'memory.available') ?? (due[0] as MetThreshold);
    const candidates = active.filter((p) => !isCriticalPod(p));
    for (const pod of rankForEviction(first.threshold.signal, candidates, usage)) {
      const message = evictionMessage(first, pod, usage.get(pod.metadata?.uid ?? ''));
      if (await this.evict(pod, message, this.evictionGrace(first.threshold, pod))) return [pod];
    }
    return [];
  }

  /**
   * The grace period of a pod evicted for `t`: hard thresholds give upstream's immediate
   * eviction grace (1 s); soft ones the pod's own, capped at the max pod grace period.
   */
  private evictionGrace(t: Threshold, pod: Pod): number {
    if (isHardThreshold(t)) return 1;
    const max = this.o.maxPodGracePeriodSeconds ?? 0;
    const own = pod.spec?.terminationGracePeriodSeconds;
    return own === undefined ? max : Math.min(max, own);
  }

  private async evict(pod: Pod, message: string, grace: number): Promise<boolean> {
    const m = pod.metadata ?? {};
    this.o.logger.info('eviction manager: evicting pod', { pod: `${m.namespace}/${m.name}`, message });
    try {
      await this.o.evict(pod, message, grace);
      return true;
    } catch (e) {
      this.o.logger.error('eviction manager: evicting pod failed', {
        pod: `${m.namespace}/${m.name}`,
        err: errorText(e),
      });
      return false;
    }
  }

  /** Synchronizes every `intervalMs` (upstream 10 s) until the signal aborts. */
  async run(signal: AbortSignal, intervalMs = 10_000): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.synchronize();
      } catch (e) {
        if (!signal.aborted)
          this.o.logger.error('eviction manager: synchronize failed', { err: errorText(e) });
      }
      try {
        await this.o.clock.sleep(intervalMs, signal);
      } catch {
        return;
      }
    }
  }
}
