// The ReplicaSet controller, parameterised (as upstream) to also run ReplicationControllers:
// it keeps `spec.replicas` active pods for each ReplicaSet. Handlers only compute keys
// and enqueue; `sync(key)` is level-based: it claims pods (adopting matching orphans,
// releasing strays), creates or deletes the difference — creations in slow-start batches
// of at most burstReplicas, deletions in the ActivePodsWithRanks order — and writes status.
// Expectations keep a sync from acting twice on writes the informer has not shown yet.
import { omitZero } from '../../api/omit-empty.js';
import type { Pod, PodTemplateSpec } from '../../api/generated/types/core-v1.js';
import { NAMESPACE_INDEX } from '../../client/cache/indexer.js';
import type { Lister } from '../../client/cache/listers.js';
import { waitForCacheSync } from '../../client/cache/informer-factory.js';
import type { SharedIndexInformer } from '../../client/cache/shared-informer.js';
import { type DeletedFinalStateUnknown, splitKey, unwrapTombstone } from '../../client/cache/store.js';
import type { Clock } from '../../client/clock.js';
import type { EventRecorder } from '../../client/events.js';
import { UIDTrackingExpectations } from '../../client/expectations.js';
import type { KubeObject, ResourceClient, TypedGVR } from '../../client/interface.js';
import type { Logger } from '../../client/log.js';
import { PODS } from '../../client/resources.js';
import { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { labelsEqual, type Selector, selectorFromSet } from '../../machinery/labels/selector.js';
import { formatTimestamp } from '../../machinery/object-meta.js';
import {
  type GroupVersionKind,
  getControllerOfNoCopy,
  type OwnerReference,
} from '../../machinery/owner-references.js';
import { isNotFound, StatusError } from '../../machinery/status-error.js';
import { runWorkers } from '../manager.js';
import type { Controller, ControllerContext } from '../types.js';
import {
  claimObjects,
  controllerRef,
  PodControl,
  recheckOwner,
  SLOW_START_INITIAL_BATCH_SIZE,
  slowStartBatch,
} from './controller-ref-manager.js';
import { filterActivePods, getPodsToDelete, isPodAvailable, isPodReady } from './pod-ranking.js';

/** upstream BurstReplicas: most pods created or deleted by one sync. */
export const BURST_REPLICAS = 500;

/** A condition of a ReplicaSet or ReplicationController. */
export interface ReplicaSetConditionLike {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** The status fields shared by ReplicaSet and ReplicationController. */
export interface ReplicaSetStatusLike {
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: ReplicaSetConditionLike[];
}

/** The shape shared by ReplicaSet and ReplicationController. */
export interface ReplicaSetLike extends KubeObject {
  spec?: { replicas?: number; minReadySeconds?: number; template?: PodTemplateSpec };
  status?: ReplicaSetStatusLike;
}

/** What differs between the ReplicaSet and the ReplicationController flavours. */
export interface ReplicaSetKind<T extends ReplicaSetLike> {
  /** The controller's name (`replicaset`, `replicationcontroller`). */
  name: string;
  /** The event source component (`replicaset-controller`, `replication-controller`). */
  component: string;
  gvr: TypedGVR<T>;
  gvk: GroupVersionKind;
  /** The object's pod selector. */
  selectorOf(obj: T): Selector;
}

const CONTROLLER_UID_INDEX = 'controllerUID';

/** Keeps the replica count of ReplicaSets (or ReplicationControllers). */
export class ReplicaSetController<T extends ReplicaSetLike> implements Controller {
  readonly name: string;
  /** Keys of objects to sync. */
  readonly queue: RateLimitingQueue<string>;
  /** Pending creations/deletions per key. */
  readonly expectations: UIDTrackingExpectations;
  /** The reconcile function (replaceable in tests). */
  syncHandler: (key: string) => Promise<void>;
  /** Most pods created or deleted by one sync. */
  burstReplicas = BURST_REPLICAS;
  private readonly rsInformer: SharedIndexInformer<T>;
  private readonly rsLister: Lister<T>;
  private readonly podInformer: SharedIndexInformer<Pod>;
  private readonly podLister: Lister<Pod>;
  private readonly rsClient: ResourceClient<T>;
  private readonly podClient: ResourceClient<Pod>;
  private readonly podControl: PodControl;
  private readonly recorder: EventRecorder;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly workers: number;

  /** A controller for `kind` built from the manager's context. */
  constructor(
    ctx: ControllerContext,
    private readonly kind: ReplicaSetKind<T>,
  ) {
    this.name = kind.name;
    this.clock = ctx.clock;
    this.log = ctx.log;
    this.workers = ctx.options.workers;
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock, name: kind.name });
    this.expectations = new UIDTrackingExpectations(ctx.clock);
    const rs = ctx.informers.forResource<T>(kind.gvr, {
      [CONTROLLER_UID_INDEX]: (o: T) => {
        const ref = getControllerOfNoCopy(o);
        return ref === undefined ? [] : [ref.uid];
      },
    });
    this.rsInformer = rs.informer;
    this.rsLister = rs.lister;
    const pods = ctx.informers.forResource(PODS);
    this.podInformer = pods.informer;
    this.podLister = pods.lister;
    this.rsClient = ctx.client.resource(kind.gvr);
    this.podClient = ctx.client.resource(PODS);
    this.recorder = ctx.recorder(kind.component);
    this.podControl = new PodControl(this.podClient, this.recorder);
    this.syncHandler = (key) => this.sync(key);
  }

  run(signal: AbortSignal): Promise<void> {
    const regs = [
      this.rsInformer.addEventHandler({
        onAdd: (o) => this.enqueue(o),
        // Always enqueue, even for a resync or an unchanged spec: status may need a rewrite
        // (the pods changed while we were not looking), and the sync is idempotent.
        onUpdate: (_old, cur) => this.enqueue(cur),
        onDelete: (o) => this.onRSDelete(o),
      }),
      this.podInformer.addEventHandler({
        onAdd: (p) => this.onPodAdd(p),
        onUpdate: (o, c) => this.onPodUpdate(o, c),
        onDelete: (p) => this.onPodDelete(p),
      }),
    ];
    return runWorkers({
      queue: this.queue,
      sync: (key) => this.syncHandler(key),
      workers: this.workers,
      signal,
      log: this.log,
      name: this.name,
      ready: () => waitForCacheSync(signal, this.rsInformer, this.podInformer),
    }).finally(() => {
      for (const r of regs) r.remove();
    });
  }

  /** Queues an object's key. */
  enqueue(obj: KubeObject): void {
    this.queue.add(objKey(obj));
  }

  private onRSDelete(o: T | DeletedFinalStateUnknown<T>): void {
    const rs = unwrapTombstone(o);
    const key = objKey(rs);
    this.expectations.deleteExpectations(key);
    this.queue.add(key);
  }

  // Resolves a controllerRef to one of our objects in the cache (kind and uid must match).
  private resolveRef(namespace: string, ref: OwnerReference): T | undefined {
    if (ref.kind !== this.kind.gvk.kind) return undefined;
    const rs = this.rsLister.namespace(namespace).tryGet(ref.name);
    return rs?.metadata?.uid === ref.uid ? rs : undefined;
  }

  private matchingOwners(pod: Pod): T[] {
    const ns = pod.metadata?.namespace ?? '';
    return this.rsLister
      .byIndex(NAMESPACE_INDEX, ns)
      .filter(
        (rs) => this.kind.selectorOf(rs).matches(pod.metadata?.labels) && !this.kind.selectorOf(rs).empty(),
      );
  }

  private onPodAdd(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp !== undefined) {
      // A restarted controller may see a pod already being deleted: count it as deleted.
      this.onPodDelete(pod);
      return;
    }
    const ref = getControllerOfNoCopy(pod);
    if (ref !== undefined) {
      const rs = this.resolveRef(pod.metadata?.namespace ?? '', ref);
      if (rs === undefined) return;
      const key = objKey(rs);
      this.expectations.creationObserved(key);
      this.queue.add(key);
      return;
    }
    for (const rs of this.matchingOwners(pod)) this.enqueue(rs);
  }

  private onPodUpdate(old: Pod, cur: Pod): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const labelChanged = !labelsEqual(old.metadata?.labels, cur.metadata?.labels);
    if (cur.metadata?.deletionTimestamp !== undefined) {
      // Graceful deletion: the pod stops counting now, not when it is finally removed.
      this.onPodDelete(cur);
      if (labelChanged) this.onPodDelete(old);
      return;
    }
    const ns = cur.metadata?.namespace ?? '';
    const curRef = getControllerOfNoCopy(cur);
    const oldRef = getControllerOfNoCopy(old);
    const refChanged = curRef?.uid !== oldRef?.uid;
    if (refChanged && oldRef !== undefined) {
      const rs = this.resolveRef(ns, oldRef);
      if (rs !== undefined) this.enqueue(rs);
    }
    if (curRef !== undefined) {
      const rs = this.resolveRef(ns, curRef);
      if (rs === undefined) return;
      this.enqueue(rs);
      const minReady = rs.spec?.minReadySeconds ?? 0;
      // A pod that just became ready turns available minReadySeconds later: look again then.
      if (!isPodReady(old) && isPodReady(cur) && minReady > 0) {
        this.queue.addAfter(objKey(rs), (minReady + 1) * 1000);
      }
      return;
    }
    if (labelChanged || refChanged) for (const rs of this.matchingOwners(cur)) this.enqueue(rs);
  }

  private onPodDelete(o: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = unwrapTombstone(o);
    const ref = getControllerOfNoCopy(pod);
    if (ref === undefined) return;
    const rs = this.resolveRef(pod.metadata?.namespace ?? '', ref);
    if (rs === undefined) return;
    const key = objKey(rs);
    this.expectations.deletionObservedOf(key, objKey(pod));
    this.queue.add(key);
  }

  /** Reconciles one object: claim pods, create/delete the difference, write status. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const rs = this.rsLister.namespace(namespace).tryGet(name);
    if (rs === undefined) {
      this.expectations.deleteExpectations(key);
      return;
    }
    const needsSync = this.expectations.satisfiedExpectations(key);
    const selector = this.kind.selectorOf(rs);
    // Every pod of the namespace, so pods that stopped matching but still name us are released.
    const all = this.podLister.namespace(namespace).list();
    const active = filterActivePods(all);
    const pods = await claimObjects(active, {
      owner: rs,
      ownerGVK: this.kind.gvk,
      selector,
      client: this.podClient,
      canAdopt: recheckOwner(
        () => this.rsClient.get(namespace, name),
        rs.metadata?.uid ?? '',
        this.kind.gvk.kind,
      ),
    });
    let manageErr: unknown;
    if (needsSync && rs.metadata?.deletionTimestamp === undefined) {
      try {
        await this.manageReplicas(pods, rs, key);
      } catch (err) {
        manageErr = err;
      }
    }
    const status = calculateStatus(rs, pods, manageErr, this.clock.now());
    const updated = await this.updateStatus(rs, status);
    const minReady = updated.spec?.minReadySeconds ?? 0;
    const want = updated.spec?.replicas ?? 1;
    if (
      manageErr === undefined &&
      minReady > 0 &&
      updated.status?.readyReplicas === want &&
      updated.status?.availableReplicas !== want
    ) {
      this.queue.addAfter(key, minReady * 1000);
    }
    if (manageErr !== undefined) throw manageErr;
  }

  private async manageReplicas(pods: Pod[], rs: T, key: string): Promise<void> {
    const want = rs.spec?.replicas ?? 1;
    let diff = pods.length - want;
    const namespace = rs.metadata?.namespace ?? '';
    if (diff < 0) {
      diff = Math.min(-diff, this.burstReplicas);
      this.expectations.expectCreations(key, diff);
      const ref = controllerRef(rs, this.kind.gvk);
      const template = rs.spec?.template ?? {};
      const { successes, error } = await slowStartBatch(diff, SLOW_START_INITIAL_BATCH_SIZE, async () => {
        try {
          await this.podControl.createPod(namespace, template, rs, ref);
        } catch (err) {
          // Every later creation in a namespace being torn down fails too: stop quietly.
          if (isNamespaceTerminating(err)) return;
          throw err;
        }
      });
      // Pods never attempted will never be observed.
      for (let i = successes; i < diff; i++) this.expectations.creationObserved(key);
      if (error !== undefined) throw error;
      return;
    }
    if (diff > 0) {
      diff = Math.min(diff, this.burstReplicas);
      const related = this.indirectlyRelatedPods(rs);
      const victims = getPodsToDelete(pods, related, diff, this.clock.now());
      this.expectations.expectDeletionsOf(key, victims.map(objKey));
      const results = await Promise.allSettled(
        victims.map(async (p) => {
          try {
            await this.podControl.deletePod(namespace, p.metadata?.name ?? '', rs);
          } catch (err) {
            this.expectations.deletionObservedOf(key, objKey(p));
            if (!isNotFound(err)) throw err;
          }
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    }
  }

  // Pods of every object controlled by the same owner as rs (siblings of a Deployment).
  private indirectlyRelatedPods(rs: T): Pod[] {
    const ref = getControllerOfNoCopy(rs);
    const siblings =
      ref === undefined
        ? [rs]
        : this.rsLister
            .byIndex(CONTROLLER_UID_INDEX, ref.uid)
            .filter((o) => o.metadata?.namespace === rs.metadata?.namespace);
    const seen = new Set<string>();
    const out: Pod[] = [];
    for (const s of siblings) {
      for (const p of this.podLister.namespace(s.metadata?.namespace ?? '').list(this.kind.selectorOf(s))) {
        const uid = p.metadata?.uid ?? '';
        if (seen.has(uid)) continue;
        seen.add(uid);
        out.push(p);
      }
    }
    return out;
  }

  private async updateStatus(rs: T, status: ReplicaSetStatusLike): Promise<T> {
    const gen = rs.metadata?.generation ?? 0;
    const cur = rs.status;
    if (
      cur !== undefined &&
      (cur.replicas ?? 0) === status.replicas &&
      (cur.fullyLabeledReplicas ?? 0) === (status.fullyLabeledReplicas ?? 0) &&
      (cur.readyReplicas ?? 0) === (status.readyReplicas ?? 0) &&
      (cur.availableReplicas ?? 0) === (status.availableReplicas ?? 0) &&
      (cur.observedGeneration ?? 0) >= gen &&
      JSON.stringify(cur.conditions ?? []) === JSON.stringify(status.conditions ?? [])
    ) {
      return rs;
    }
    // observedGeneration is the generation this sync acted on, also when the retry below
    // writes onto a newer object: claiming the newer generation would tell the Deployment
    // controller a spec change (a scale-down) is reflected in counts that predate it.
    const newStatus = omitZero<ReplicaSetStatusLike>({ ...status, observedGeneration: gen }, [
      'fullyLabeledReplicas',
      'readyReplicas',
      'availableReplicas',
      'observedGeneration',
    ]);
    let target: T = { ...rs, status: newStatus };
    // upstream statusUpdateRetries = 1: one re-read after a conflict.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.rsClient.updateStatus(rs.metadata?.namespace ?? '', target);
      } catch (err) {
        if (attempt >= 1 || isNotFound(err)) throw err;
        const fresh = await this.rsClient.get(rs.metadata?.namespace ?? '', rs.metadata?.name ?? '');
        target = { ...fresh, status: newStatus };
      }
    }
  }
}

function objKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace ?? '';
  const name = obj.metadata?.name ?? '';
  return ns === '' ? name : `${ns}/${name}`;
}

function isNamespaceTerminating(err: unknown): boolean {
  return (
    err instanceof StatusError &&
    (err.status.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating')
  );
}

/** The status a sync writes (upstream calculateStatus). */
export function calculateStatus(
  rs: ReplicaSetLike,
  pods: readonly Pod[],
  manageErr: unknown,
  now: number,
): ReplicaSetStatusLike {
  const templateLabels = selectorFromSet(rs.spec?.template?.metadata?.labels);
  const minReady = rs.spec?.minReadySeconds ?? 0;
  let fully = 0;
  let ready = 0;
  let available = 0;
  for (const p of pods) {
    if (templateLabels.matches(p.metadata?.labels)) fully++;
    if (isPodReady(p)) {
      ready++;
      if (isPodAvailable(p, minReady, now)) available++;
    }
  }
  let conditions = [...(rs.status?.conditions ?? [])];
  const failure = conditions.find((c) => c.type === 'ReplicaFailure');
  if (manageErr !== undefined && failure === undefined) {
    const diff = pods.length - (rs.spec?.replicas ?? 1);
    const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
    conditions.push({
      type: 'ReplicaFailure',
      status: 'True',
      lastTransitionTime: formatTimestamp(now),
      reason,
      message: manageErr instanceof Error ? manageErr.message : String(manageErr),
    });
  } else if (manageErr === undefined && failure !== undefined) {
    conditions = conditions.filter((c) => c.type !== 'ReplicaFailure');
  }
  const status: ReplicaSetStatusLike = {
    replicas: pods.length,
    fullyLabeledReplicas: fully,
    readyReplicas: ready,
    availableReplicas: available,
  };
  if (rs.status?.observedGeneration !== undefined) status.observedGeneration = rs.status.observedGeneration;
  if (conditions.length > 0) status.conditions = conditions;
  return status;
}
