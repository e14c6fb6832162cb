// The scheduling queue (upstream's PriorityQueue): three places a pending pod can be.
//   activeQ            pods to try now, ordered by the QueueSort plugin (priority, then age);
//   backoffQ           pods that failed and wait out a per-pod exponential backoff (1s → 10s);
//   unschedulablePods  pods no node could take; they leave only when a cluster event that one
//                      of their rejecting plugins registered for happens, or after 5 minutes.
// A pod popped for scheduling is "in flight" until done(); if a move request (an event)
// arrived during its cycle, a failure sends it to backoffQ instead of unschedulablePods, so
// an event that happened while it was being scheduled is not lost. PreEnqueue plugins (e.g.
// scheduling gates) keep pods out of activeQ entirely.

import type { Pod } from '../../api/generated/types/core-v1.js';
import type { Clock, TimerHandle } from '../clock.js';
import { type ClusterEvent, Events } from '../framework/events.js';
import type { QueuedPodInfo } from '../framework/interfaces.js';
import { PodInfo, podKey } from '../framework/pod-info.js';
import { isSuccess, type PluginStatus } from '../framework/status.js';
import { KeyedHeap } from './heap.js';
import type { Nominator } from './nominator.js';

/** Upstream's default initial backoff. */
export const DEFAULT_INITIAL_BACKOFF_MS = 1000;
/** Upstream's default maximum backoff. */
export const DEFAULT_MAX_BACKOFF_MS = 10_000;
/** Pods stuck in unschedulablePods longer than this are retried anyway. */
export const DEFAULT_MAX_IN_UNSCHEDULABLE_MS = 5 * 60 * 1000;

/** How the queue consults the profiles. */
export interface QueueOptions {
  clock: Clock;
  /** QueueSort: a comes before b. */
  less: (a: QueuedPodInfo, b: QueuedPodInfo) => boolean;
  /** PreEnqueue plugins of the pod's profile. */
  preEnqueue: (pod: Pod) => PluginStatus;
  /** Whether an event may help a pod rejected by the given plugins. */
  podMatchesEvent: (qpi: QueuedPodInfo, event: ClusterEvent) => boolean;
  nominator?: Nominator;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  maxInUnschedulableMs?: number;
}

/** Where a pod currently is (for tests and debugging). */
export type QueueLocation = 'active' | 'backoff' | 'unschedulable' | 'inFlight' | undefined;

/** The scheduler's pending-pod queue. */
export class SchedulingQueue {
  private readonly clock: Clock;
  private readonly activeQ: KeyedHeap<QueuedPodInfo>;
  private readonly backoffQ: KeyedHeap<QueuedPodInfo>;
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  private readonly inFlight = new Map<string, QueuedPodInfo>();
  private readonly opts: QueueOptions;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly maxInUnschedulable: number;
  private waiters: (() => void)[] = [];
  private closed = false;
  private cycle = 0;
  private moveRequestCycle = -1;
  private timers: TimerHandle[] = [];

  /** An empty queue. */
  constructor(opts: QueueOptions) {
    this.opts = opts;
    this.clock = opts.clock;
    this.initialBackoff = opts.initialBackoffMs ?? DEFAULT_INITIAL_BACKOFF_MS;
    this.maxBackoff = opts.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    this.maxInUnschedulable = opts.maxInUnschedulableMs ?? DEFAULT_MAX_IN_UNSCHEDULABLE_MS;
    this.activeQ = new KeyedHeap((q) => q.podInfo.key, opts.less);
    this.backoffQ = new KeyedHeap(
      (q) => q.podInfo.key,
      (a, b) => this.backoffExpiry(a) < this.backoffExpiry(b),
    );
  }

  /** The number of pods popped so far (upstream's SchedulingCycle). */
  get schedulingCycle(): number {
    return this.cycle;
  }

  /** A new pending pod. */
  add(pod: Pod): void {
    const now = this.clock.now();
    const qpi: QueuedPodInfo = {
      podInfo: new PodInfo(pod),
      timestamp: now,
      attempts: 0,
      initialAttemptTimestamp: undefined,
      unschedulablePlugins: new Set(),
      pendingPlugins: new Set(),
      gated: false,
      gatingPlugin: undefined,
    };
    this.moveToActiveOrGate(qpi);
  }

  /** A pending pod changed. */
  update(oldPod: Pod, newPod: Pod): void {
    const key = podKey(newPod);
    const inActive = this.activeQ.get(key);
    if (inActive !== undefined) {
      inActive.podInfo = new PodInfo(newPod);
      this.activeQ.addOrUpdate(inActive);
      this.opts.nominator?.updateNominatedPod(oldPod, inActive.podInfo);
      return;
    }
    const inBackoff = this.backoffQ.get(key);
    if (inBackoff !== undefined) {
      inBackoff.podInfo = new PodInfo(newPod);
      this.backoffQ.addOrUpdate(inBackoff);
      this.opts.nominator?.updateNominatedPod(oldPod, inBackoff.podInfo);
      return;
    }
    const unsched = this.unschedulable.get(key);
    if (unsched !== undefined) {
      unsched.podInfo = new PodInfo(newPod);
      this.opts.nominator?.updateNominatedPod(oldPod, unsched.podInfo);
      if (isPodUpdated(oldPod, newPod)) {
        this.unschedulable.delete(key);
        if (unsched.gated) {
          this.moveToActiveOrGate(unsched);
        } else if (this.isBackingOff(unsched)) {
          this.backoffQ.addOrUpdate(unsched);
        } else {
          this.pushActive(unsched);
        }
      }
      return;
    }
    const flying = this.inFlight.get(key);
    if (flying !== undefined) {
      // The cycle in progress keeps its copy; requeueing uses the newest object.
      flying.podInfo = new PodInfo(newPod);
      return;
    }
    this.add(newPod);
  }

  /** A pending pod was deleted (or bound by someone else). */
  delete(pod: Pod): void {
    const key = podKey(pod);
    this.activeQ.delete(key);
    this.backoffQ.delete(key);
    this.unschedulable.delete(key);
    this.opts.nominator?.deleteNominatedPodIfExists(pod);
  }

  /** Moves the pods to activeQ right away (upstream's Activate). */
  activate(pods: readonly Pod[]): void {
    for (const pod of pods) {
      const key = podKey(pod);
      const qpi = this.unschedulable.get(key) ?? this.backoffQ.get(key);
      if (qpi === undefined || qpi.gated) continue;
      this.unschedulable.delete(key);
      this.backoffQ.delete(key);
      this.pushActive(qpi);
    }
  }

  /** Waits for and removes the first pod of activeQ; undefined once closed or aborted. */
  async pop(signal?: AbortSignal): Promise<QueuedPodInfo | undefined> {
    for (;;) {
      if (this.closed || signal?.aborted) return undefined;
      const qpi = this.activeQ.pop();
      if (qpi !== undefined) {
        this.cycle++;
        qpi.attempts++;
        qpi.initialAttemptTimestamp ??= this.clock.now();
        this.inFlight.set(qpi.podInfo.key, qpi);
        return qpi;
      }
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }

  /** Removes and returns the first pod without waiting (tests, synchronous drivers). */
  tryPop(): QueuedPodInfo | undefined {
    const qpi = this.activeQ.pop();
    if (qpi === undefined) return undefined;
    this.cycle++;
    qpi.attempts++;
    qpi.initialAttemptTimestamp ??= this.clock.now();
    this.inFlight.set(qpi.podInfo.key, qpi);
    return qpi;
  }

  /** The scheduling attempt of the pod finished (bound, requeued or dropped). */
  done(key: string): void {
    this.inFlight.delete(key);
  }

  /**
   * Puts a pod that failed back: to backoffQ when its failure was an error, a plugin is
   * Pending, or an event arrived during its cycle; otherwise to unschedulablePods.
   */
  addUnschedulableIfNotPresent(qpi: QueuedPodInfo, podSchedulingCycle: number, error = false): void {
    const key = qpi.podInfo.key;
    const flying = this.inFlight.get(key);
    if (flying !== undefined && flying !== qpi) qpi.podInfo = flying.podInfo;
    this.inFlight.delete(key);
    if (this.activeQ.has(key) || this.backoffQ.has(key) || this.unschedulable.has(key)) return;
    qpi.timestamp = this.clock.now();
    if (error || this.moveRequestCycle >= podSchedulingCycle || qpi.pendingPlugins.size > 0) {
      this.backoffQ.addOrUpdate(qpi);
    } else {
      this.unschedulable.set(key, qpi);
    }
  }

  /** Moves every unschedulable pod the event may help (upstream's MoveAllToActiveOrBackoffQueue). */
  moveAllToActiveOrBackoffQueue(event: ClusterEvent, preCheck?: (pod: Pod) => boolean): void {
    const moving: QueuedPodInfo[] = [];
    for (const qpi of this.unschedulable.values()) {
      if (qpi.gated) continue;
      if (preCheck !== undefined && !preCheck(qpi.podInfo.pod)) continue;
      // Wildcard events (the 5-minute flush, forced activation) move every pod.
      if (event.resource !== '*' && !this.opts.podMatchesEvent(qpi, event)) continue;
      moving.push(qpi);
    }
    for (const qpi of moving) {
      this.unschedulable.delete(qpi.podInfo.key);
      if (this.isBackingOff(qpi)) this.backoffQ.addOrUpdate(qpi);
      else this.pushActive(qpi);
    }
    this.moveRequestCycle = this.cycle;
  }

  /** A pod was bound: pods waiting on pod affinity or spreading may now fit. */
  assignedPodAdded(_pod: Pod): void {
    if (this.unschedulable.size > 0) this.moveAllToActiveOrBackoffQueue(Events.AssignedPodAdd);
    else this.moveRequestCycle = this.cycle;
  }

  /** Moves pods whose backoff expired from backoffQ to activeQ. */
  flushBackoffQCompleted(): void {
    const now = this.clock.now();
    for (;;) {
      const top = this.backoffQ.peek();
      if (top === undefined || this.backoffExpiry(top) > now) break;
      this.backoffQ.pop();
      this.pushActive(top);
    }
  }

  /** Retries pods that sat in unschedulablePods for longer than the maximum. */
  flushUnschedulablePodsLeftover(): void {
    const now = this.clock.now();
    const old: Pod[] = [];
    for (const qpi of this.unschedulable.values()) {
      if (!qpi.gated && now - qpi.timestamp > this.maxInUnschedulable) old.push(qpi.podInfo.pod);
    }
    if (old.length === 0) return;
    const keys = new Set(old.map(podKey));
    this.moveAllToActiveOrBackoffQueue(Events.UnschedulableTimeout, (p) => keys.has(podKey(p)));
  }

  /** Starts the periodic flushes (1 s backoff, 30 s leftover) until signal aborts. */
  run(signal: AbortSignal): void {
    const every = (ms: number, fn: () => void): void => {
      const tick = (): void => {
        if (signal.aborted || this.closed) return;
        fn();
        this.timers.push(this.clock.setTimeout(tick, ms));
      };
      this.timers.push(this.clock.setTimeout(tick, ms));
    };
    every(1000, () => this.flushBackoffQCompleted());
    every(30_000, () => this.flushUnschedulablePodsLeftover());
    signal.addEventListener('abort', () => this.close(), { once: true });
  }

  /** Stops the queue: pending and future pops return undefined. */
  close(): void {
    this.closed = true;
    for (const t of this.timers) t.cancel();
    this.timers = [];
    this.wake(true);
  }

  /** Where a pod is. */
  location(pod: Pod): QueueLocation {
    const key = podKey(pod);
    if (this.activeQ.has(key)) return 'active';
    if (this.backoffQ.has(key)) return 'backoff';
    if (this.unschedulable.has(key)) return 'unschedulable';
    if (this.inFlight.has(key)) return 'inFlight';
    return undefined;
  }

  /** Pod counts per queue. */
  counts(): { active: number; backoff: number; unschedulable: number; inFlight: number } {
    return {
      active: this.activeQ.size,
      backoff: this.backoffQ.size,
      unschedulable: this.unschedulable.size,
      inFlight: this.inFlight.size,
    };
  }

  /** The backoff a pod gets after `attempts` failures: 1 s doubling to the 10 s cap. */
  backoffDuration(attempts: number): number {
    let d = this.initialBackoff;
    for (let i = 1; i < attempts; i++) {
      d *= 2;
      if (d >= this.maxBackoff) return this.maxBackoff;
    }
    return Math.min(d, this.maxBackoff);
  }

  private backoffExpiry(qpi: QueuedPodInfo): number {
    return qpi.timestamp + this.backoffDuration(qpi.attempts);
  }

  private isBackingOff(qpi: QueuedPodInfo): boolean {
    return qpi.attempts > 0 && this.backoffExpiry(qpi) > this.clock.now();
  }

  private moveToActiveOrGate(qpi: QueuedPodInfo): void {
    const s = this.opts.preEnqueue(qpi.podInfo.pod);
    if (!isSuccess(s)) {
      qpi.gated = true;
      qpi.gatingPlugin = s?.plugin;
      qpi.unschedulablePlugins = new Set(s?.plugin ? [s.plugin] : []);
      this.unschedulable.set(qpi.podInfo.key, qpi);
      return;
    }
    qpi.gated = false;
    qpi.gatingPlugin = undefined;
    this.pushActive(qpi);
  }

  private pushActive(qpi: QueuedPodInfo): void {
    this.activeQ.addOrUpdate(qpi);
    this.opts.nominator?.addNominatedPod(qpi.podInfo, '');
    this.wake(false);
  }

  private wake(all: boolean): void {
    if (this.waiters.length === 0) return;
    if (all) {
      const ws = this.waiters;
      this.waiters = [];
      for (const w of ws) w();
      return;
    }
    this.waiters.shift()?.();
  }
}

/** True when anything but status and bookkeeping metadata changed. */
export function isPodUpdated(oldPod: Pod, newPod: Pod): boolean {
  const strip = (p: Pod): string => {
    const { resourceVersion: _rv, generation: _g, managedFields: _mf, ...meta } = p.metadata ?? {};
    return JSON.stringify([meta, p.spec]);
  };
  return strip(oldPod) !== strip(newPod);
}
