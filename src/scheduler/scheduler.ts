// The scheduler (upstream's pkg/scheduler Scheduler): one queue, one cache and one snapshot
// shared by every profile, a scheduling loop that handles one pod at a time synchronously up
// to "assumed on a node", and binding cycles that run asynchronously so the next pod's
// scheduling never waits for the API. The informer wiring calls the add/update/delete entry
// points; every write goes through the injected SchedulerClient.

import type { Node, Pod, PodCondition } from '../api/generated/types/core-v1.js';
import { labelsEqual } from '../machinery/labels/selector.js';
import { type Clock, realClock } from './clock.js';
import type { SchedulerClient } from './client.js';
import { defaultSchedulerConfig, type SchedulerConfig } from './config.js';
import { Cache } from './framework/cache.js';
import { CycleState } from './framework/cycle-state.js';
import { ActionType, type ClusterEvent, Events, nodeUpdateActions } from './framework/events.js';
import { FitError } from './framework/fit-error.js';
import { Framework } from './framework/framework.js';
import type { Handle, PluginFactory, QueuedPodInfo } from './framework/interfaces.js';
import { ClusterListers, type ListerKind, type MetaObject } from './framework/listers.js';
import { podKey, podName } from './framework/pod-info.js';
import { Snapshot } from './framework/snapshot.js';
import { Code, isSuccess, Status } from './framework/status.js';
import { IN_TREE_PLUGINS } from './plugins/registry.js';
import { Nominator } from './queue/nominator.js';
import { SchedulingQueue } from './queue/scheduling-queue.js';
import { type Algorithm, NoNodesAvailableError, schedulePod } from './schedule-one.js';

/** A structured log sink: level, message, key/value fields. */
export type SchedulerLogger = (
  level: 'info' | 'error',
  msg: string,
  fields?: Record<string, unknown>,
) => void;

/** What a Scheduler is built from. */
export interface SchedulerOptions {
  client: SchedulerClient;
  config?: SchedulerConfig;
  clock?: Clock;
  /** Uniform [0, 1) for tie-breaks (tests pass a deterministic one). */
  random?: () => number;
  /** Out-of-tree plugins by name (added to the in-tree registry). */
  plugins?: ReadonlyMap<string, PluginFactory>;
  logger?: SchedulerLogger;
}

const LISTER_EVENT: Partial<Record<ListerKind, ClusterEvent['resource']>> = {
  PersistentVolumeClaim: 'PersistentVolumeClaim',
  PersistentVolume: 'PersistentVolume',
  StorageClass: 'StorageClass',
  Namespace: 'Namespace',
  Service: 'Service',
  PodDisruptionBudget: 'PodDisruptionBudget',
};

/** The kube-scheduler. */
export class Scheduler {
  readonly cache: Cache;
  readonly queue: SchedulingQueue;
  readonly listers = new ClusterListers();
  readonly nominator = new Nominator();
  readonly snapshot = new Snapshot();
  readonly profiles = new Map<string, Framework>();
  private readonly client: SchedulerClient;
  private readonly clock: Clock;
  private readonly log: SchedulerLogger;
  private readonly alg: Algorithm;
  /** Unassigned pods this scheduler is responsible for, by key (detects deletion mid-cycle). */
  private readonly pending = new Set<string>();
  private readonly bindings = new Set<Promise<void>>();
  private sinceYield = 0;

  /** Builds the profiles' frameworks; throws on an invalid plugin set. */
  constructor(opts: SchedulerOptions) {
    this.client = opts.client;
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger ?? (() => {});
    const cfg = opts.config ?? defaultSchedulerConfig();
    this.cache = new Cache();
    const registry = new Map<string, PluginFactory>();
    for (const [name, reg] of IN_TREE_PLUGINS) registry.set(name, reg.factory);
    for (const [name, f] of opts.plugins ?? []) registry.set(name, f);
    const handle: Omit<Handle, 'framework'> = {
      snapshot: () => this.snapshot,
      listers: this.listers,
      client: this.client,
      nominator: this.nominator,
      now: () => this.clock.now(),
    };
    for (const spec of cfg.profiles)
      this.profiles.set(spec.schedulerName, new Framework(spec, registry, handle, this.clock));
    const first = this.profiles.values().next().value as Framework;
    this.alg = {
      nextStartNodeIndex: 0,
      percentageOfNodesToScore: cfg.percentageOfNodesToScore,
      nominator: this.nominator,
      random: opts.random ?? Math.random,
    };
    this.queue = new SchedulingQueue({
      clock: this.clock,
      less: (a, b) => first.less(a, b),
      preEnqueue: (pod) => this.frameworkFor(pod)?.runPreEnqueuePlugins(pod) ?? null,
      podMatchesEvent: (qpi, ev) =>
        this.frameworkFor(qpi.podInfo.pod)?.podMatchesEvent(qpi.unschedulablePlugins, ev) ?? false,
      nominator: this.nominator,
      initialBackoffMs: cfg.podInitialBackoffMs,
      maxBackoffMs: cfg.podMaxBackoffMs,
    });
  }

  /** The profile that handles the pod (by spec.schedulerName), if this scheduler does. */
  frameworkFor(pod: Pod): Framework | undefined {
    return this.profiles.get(pod.spec?.schedulerName || 'default-scheduler');
  }

  // ---- informer entry points ----

  /** A pod appeared. */
  addPod(pod: Pod): void {
    if (isAssigned(pod)) {
      this.cache.addPod(pod);
      this.queue.assignedPodAdded(pod);
      return;
    }
    if (this.frameworkFor(pod) === undefined || pod.metadata?.deletionTimestamp !== undefined) return;
    this.pending.add(podKey(pod));
    this.queue.add(pod);
  }

  /** A pod changed. */
  updatePod(oldPod: Pod, newPod: Pod): void {
    if (isAssigned(oldPod)) {
      this.cache.updatePod(oldPod, newPod);
      // Every bind confirmation arrives here: compare labels without serializing them.
      const labelsChanged = !labelsEqual(oldPod.metadata?.labels, newPod.metadata?.labels);
      if (labelsChanged)
        this.queue.moveAllToActiveOrBackoffQueue({
          ...Events.AssignedPodUpdate,
          actionType: ActionType.UpdatePodLabel,
        });
      return;
    }
    if (isAssigned(newPod)) {
      // Bound (by us or someone else): it leaves the queue and joins the cache.
      this.pending.delete(podKey(newPod));
      this.queue.delete(newPod);
      this.cache.addPod(newPod);
      this.queue.assignedPodAdded(newPod);
      return;
    }
    if (this.frameworkFor(newPod) === undefined) {
      this.pending.delete(podKey(newPod));
      this.queue.delete(newPod);
      return;
    }
    if (this.cache.isAssumedPod(newPod)) return;
    this.pending.add(podKey(newPod));
    this.queue.update(oldPod, newPod);
  }

  /** A pod was deleted. */
  deletePod(pod: Pod): void {
    if (isAssigned(pod) || this.cache.getPod(pod) !== undefined) {
      this.cache.removePod(pod);
      this.queue.moveAllToActiveOrBackoffQueue(Events.AssignedPodDelete);
    }
    this.pending.delete(podKey(pod));
    this.queue.delete(pod);
    this.frameworkFor(pod)?.getWaitingPod(podKey(pod))?.reject('', 'removed');
  }

  /** A node appeared. */
  addNode(node: Node): void {
    this.cache.addNode(node);
    this.queue.moveAllToActiveOrBackoffQueue(Events.NodeAdd);
  }

  /** A node changed. */
  updateNode(oldNode: Node, newNode: Node): void {
    this.cache.updateNode(oldNode, newNode);
    const actions = nodeUpdateActions(oldNode, newNode);
    if (actions !== 0)
      this.queue.moveAllToActiveOrBackoffQueue({
        resource: 'Node',
        actionType: actions,
        label: 'NodeUpdate',
      });
  }

  /** A node was deleted. */
  deleteNode(node: Node): void {
    this.cache.removeNode(node);
    this.queue.moveAllToActiveOrBackoffQueue({
      resource: 'Node',
      actionType: ActionType.Delete,
      label: 'NodeDelete',
    });
  }

  /** A secondary object (namespace, PVC, PV, StorageClass, PDB, Service, workload) appeared or changed. */
  upsertObject(kind: ListerKind, obj: MetaObject, isNew = false): void {
    this.listers.upsert(kind, obj);
    const resource = LISTER_EVENT[kind];
    if (resource !== undefined) {
      this.queue.moveAllToActiveOrBackoffQueue({
        resource,
        actionType: isNew ? ActionType.Add : ActionType.Update,
      });
    }
  }

  /** A secondary object was deleted. */
  deleteObject(kind: ListerKind, obj: MetaObject): void {
    this.listers.delete(kind, obj);
    const resource = LISTER_EVENT[kind];
    if (resource !== undefined)
      this.queue.moveAllToActiveOrBackoffQueue({ resource, actionType: ActionType.Delete });
  }

  // ---- the loop ----

  /** Schedules until the signal aborts; resolves after in-flight bindings settle. */
  async run(signal: AbortSignal): Promise<void> {
    this.queue.run(signal);
    const cleanup = (): void => {
      if (signal.aborted) return;
      this.cache.cleanupAssumedPods(this.clock.now());
      timer = this.clock.setTimeout(cleanup, 1000);
    };
    let timer = this.clock.setTimeout(cleanup, 1000);
    try {
      while (!signal.aborted) {
        if (!(await this.scheduleOne(signal))) break;
      }
    } finally {
      timer.cancel();
      this.queue.close();
      await this.waitForBindings();
    }
  }

  /** Resolves when every binding cycle started so far has finished. */
  async waitForBindings(): Promise<void> {
    while (this.bindings.size > 0) await Promise.allSettled([...this.bindings]);
  }

  /** One scheduling cycle; false when the queue is closed. */
  async scheduleOne(signal?: AbortSignal): Promise<boolean> {
    // The loop must not starve I/O: pop() resolves without a macrotask while pods are queued.
    if (++this.sinceYield >= 32) {
      this.sinceYield = 0;
      await new Promise<void>((r) => setImmediate(r));
    }
    const qpi = await this.queue.pop(signal);
    if (qpi === undefined) return false;
    await this.scheduleQueued(qpi);
    return true;
  }

  /** Runs the scheduling cycle for a popped pod (exposed for synchronous test drivers). */
  async scheduleQueued(qpi: QueuedPodInfo): Promise<void> {
    const pod = qpi.podInfo.pod;
    const key = qpi.podInfo.key;
    const fwk = this.frameworkFor(pod);
    if (fwk === undefined || pod.metadata?.deletionTimestamp !== undefined || this.cache.isAssumedPod(pod)) {
      this.queue.done(key);
      return;
    }
    const cycle = this.queue.schedulingCycle;
    const state = new CycleState();
    this.cache.updateSnapshot(this.snapshot);
    let host: string;
    try {
      host = schedulePod(this.alg, fwk, state, pod, this.snapshot).suggestedHost;
    } catch (err) {
      if (err instanceof FitError) {
        const pf = await fwk.runPostFilterPlugins(state, pod, err.diagnosis.nodeToStatus);
        err.diagnosis.postFilterMsg = pf.status?.message() ?? '';
        const nominated = pf.result?.nominatedNodeName;
        this.handleFailure(
          fwk,
          qpi,
          err,
          cycle,
          nominated,
          err.diagnosis.unschedulablePlugins,
          err.diagnosis.pendingPlugins,
        );
      } else {
        this.handleFailure(fwk, qpi, err, cycle, undefined, new Set(), new Set());
      }
      return;
    }
    const assumed: Pod = { ...pod, spec: { ...(pod.spec ?? { containers: [] }), nodeName: host } };
    this.cache.assumePod(assumed);
    const fail = (s: Status): void => {
      fwk.runReservePluginsUnreserve(state, assumed, host);
      this.cache.forgetPod(assumed);
      this.handleFailure(
        fwk,
        qpi,
        s,
        cycle,
        undefined,
        s.isRejected() ? new Set([s.plugin]) : new Set(),
        new Set(),
      );
    };
    const reserve = fwk.runReservePluginsReserve(state, assumed, host);
    if (!isSuccess(reserve)) {
      fail(reserve as Status);
      return;
    }
    const permit = fwk.runPermitPlugins(state, assumed, host);
    if (permit !== null && permit.code !== Code.Success && permit.code !== Code.Wait) {
      fail(permit);
      return;
    }
    this.nominator.deleteNominatedPodIfExists(pod);
    const p = this.bindingCycle(fwk, state, qpi, assumed, host, cycle);
    this.bindings.add(p);
    void p.finally(() => this.bindings.delete(p));
  }

  private async bindingCycle(
    fwk: Framework,
    state: CycleState,
    qpi: QueuedPodInfo,
    assumed: Pod,
    host: string,
    cycle: number,
  ): Promise<void> {
    const key = qpi.podInfo.key;
    const fail = (s: Status): void => {
      fwk.runReservePluginsUnreserve(state, assumed, host);
      this.cache.forgetPod(assumed);
      // The assumed pod's resources are free again: pods rejected for lack of them may fit.
      this.queue.moveAllToActiveOrBackoffQueue(Events.AssignedPodDelete);
      this.handleFailure(
        fwk,
        qpi,
        s,
        cycle,
        undefined,
        s.isRejected() ? new Set([s.plugin]) : new Set(),
        new Set(),
      );
    };
    try {
      const permit = await fwk.waitOnPermit(assumed);
      if (!isSuccess(permit)) return fail(permit as Status);
      const pre = await fwk.runPreBindPlugins(state, assumed, host);
      if (!isSuccess(pre)) return fail(pre as Status);
      const bound = await fwk.runBindPlugins(state, assumed, host);
      if (!isSuccess(bound)) return fail(bound as Status);
      this.cache.finishBinding(assumed, this.clock.now());
      this.pending.delete(key);
      this.client.recordEvent(
        assumed,
        'Normal',
        'Scheduled',
        `Successfully assigned ${podName(assumed)} to ${host}`,
      );
      fwk.runPostBindPlugins(state, assumed, host);
    } catch (e) {
      fail(e instanceof Status ? e : new Status(Code.Error, [e instanceof Error ? e.message : String(e)]));
    } finally {
      this.queue.done(key);
    }
  }

  /** Requeues the pod and reports why it failed (event, PodScheduled condition, nomination). */
  private handleFailure(
    fwk: Framework,
    qpi: QueuedPodInfo,
    err: unknown,
    cycle: number,
    nominatedNodeName: string | undefined,
    unschedulablePlugins: Set<string>,
    pendingPlugins: Set<string>,
  ): void {
    const pod = qpi.podInfo.pod;
    const unschedulable =
      err instanceof FitError ||
      err instanceof NoNodesAvailableError ||
      (err instanceof Status && err.isRejected());
    const reason = unschedulable ? 'Unschedulable' : 'SchedulerError';
    const message = err instanceof Status ? err.message() : err instanceof Error ? err.message : String(err);
    qpi.unschedulablePlugins = unschedulablePlugins;
    qpi.pendingPlugins = pendingPlugins;
    if (this.pending.has(qpi.podInfo.key)) {
      this.queue.addUnschedulableIfNotPresent(qpi, cycle, !unschedulable);
    } else {
      this.queue.done(qpi.podInfo.key);
    }
    if (nominatedNodeName !== undefined) {
      if (nominatedNodeName === '') this.nominator.deleteNominatedPodIfExists(pod);
      else this.nominator.addNominatedPod(qpi.podInfo, nominatedNodeName);
    }
    if (reason === 'SchedulerError')
      this.log('error', 'Error scheduling pod; retrying', { pod: podName(pod), err: message });
    this.client.recordEvent(pod, 'Warning', 'FailedScheduling', message);
    const cond: PodCondition = {
      type: 'PodScheduled',
      status: 'False',
      reason,
      message,
      lastProbeTime: undefined,
      lastTransitionTime: rfc3339(this.clock.now()),
    };
    delete cond.lastProbeTime;
    const writes: Promise<void>[] = [this.client.updatePodCondition(pod, cond)];
    const current = pod.status?.nominatedNodeName ?? '';
    if (nominatedNodeName !== undefined && nominatedNodeName !== current) {
      writes.push(this.client.setNominatedNodeName(pod, nominatedNodeName));
    }
    for (const w of writes) {
      w.catch((e: unknown) =>
        this.log('error', 'Error updating pod', {
          pod: podName(pod),
          err: String(e),
          profile: fwk.profileName,
        }),
      );
    }
  }
}

function isAssigned(pod: Pod): boolean {
  const n = pod.spec?.nodeName;
  return n !== undefined && n !== '';
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
