// The Deployment controller: rolls a Deployment's pod template out through ReplicaSets.
// Handlers only enqueue the Deployment's key (a ReplicaSet or pod event maps to its
// controlling Deployment, or, for orphans, to every Deployment whose selector matches).
// `sync(key)` is level-based: it claims ReplicaSets, then, in upstream's order, handles a
// Deployment being deleted (status only), pause conditions, paused/scaling-only syncs, and
// otherwise one step of the Recreate or RollingUpdate strategy (rollout.ts).
import type { Deployment, ReplicaSet } from '../../api/generated/types/apps-v1.js';
import type { Pod } from '../../api/generated/types/core-v1.js';
import { waitForCacheSync } from '../../client/cache/informer-factory.js';
import { NAMESPACE_INDEX } from '../../client/cache/indexer.js';
import type { Lister } from '../../client/cache/listers.js';
import type { SharedIndexInformer } from '../../client/cache/shared-informer.js';
import { type DeletedFinalStateUnknown, splitKey, unwrapTombstone } from '../../client/cache/store.js';
import type { Clock } from '../../client/clock.js';
import type { EventRecorder } from '../../client/events.js';
import type { KubeObject, ResourceClient } from '../../client/interface.js';
import type { Logger } from '../../client/log.js';
import { DEPLOYMENTS, PODS, REPLICASETS } from '../../client/resources.js';
import { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { labelSelectorAsSelector } from '../../machinery/labels/label-selector.js';
import { labelsEqual } from '../../machinery/labels/selector.js';
import { getControllerOfNoCopy, type OwnerReference } from '../../machinery/owner-references.js';
import { runWorkers } from '../manager.js';
import { claimObjects, recheckOwner } from '../replicaset/controller-ref-manager.js';
import type { Controller, ControllerContext } from '../types.js';
import { Rollout } from './rollout.js';
import { getCondition, newCondition, REASONS, setCondition, statusOf } from './util.js';

const DEPLOYMENT_GVK = { group: 'apps', version: 'v1', kind: 'Deployment' };

/** Rolls Deployments out through ReplicaSets. */
export class DeploymentController implements Controller {
  readonly name = 'deployment';
  /** Deployment keys to sync. */
  readonly queue: RateLimitingQueue<string>;
  /** The reconcile function (replaceable in tests). */
  syncHandler: (key: string) => Promise<void>;
  private readonly dInformer: SharedIndexInformer<Deployment>;
  private readonly dLister: Lister<Deployment>;
  private readonly rsInformer: SharedIndexInformer<ReplicaSet>;
  private readonly rsLister: Lister<ReplicaSet>;
  private readonly podInformer: SharedIndexInformer<Pod>;
  private readonly podLister: Lister<Pod>;
  private readonly dClient: ResourceClient<Deployment>;
  private readonly rsClient: ResourceClient<ReplicaSet>;
  private readonly recorder: EventRecorder;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly workers: number;

  /** A controller built from the manager's context. */
  constructor(ctx: ControllerContext) {
    this.clock = ctx.clock;
    this.log = ctx.log;
    this.workers = ctx.options.workers;
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock, name: 'deployment' });
    const d = ctx.informers.forResource(DEPLOYMENTS);
    this.dInformer = d.informer;
    this.dLister = d.lister;
    const rs = ctx.informers.forResource(REPLICASETS);
    this.rsInformer = rs.informer;
    this.rsLister = rs.lister;
    const pods = ctx.informers.forResource(PODS);
    this.podInformer = pods.informer;
    this.podLister = pods.lister;
    this.dClient = ctx.client.resource(DEPLOYMENTS);
    this.rsClient = ctx.client.resource(REPLICASETS);
    this.recorder = ctx.recorder('deployment-controller');
    this.syncHandler = (key) => this.sync(key);
  }

  run(signal: AbortSignal): Promise<void> {
    const regs = [
      this.dInformer.addEventHandler({
        onAdd: (o) => this.enqueue(o),
        onUpdate: (_o, c) => this.enqueue(c),
        onDelete: (o) => this.enqueue(unwrapTombstone(o)),
      }),
      this.rsInformer.addEventHandler({
        onAdd: (rs) => this.onRSAdd(rs),
        onUpdate: (o, c) => this.onRSUpdate(o, c),
        onDelete: (rs) => this.onRSDelete(rs),
      }),
      this.podInformer.addEventHandler({ onDelete: (p) => this.onPodDelete(p) }),
    ];
    return runWorkers({
      queue: this.queue,
      sync: (key) => this.syncHandler(key),
      workers: this.workers,
      signal,
      log: this.log,
      name: this.name,
      ready: () => waitForCacheSync(signal, this.dInformer, this.rsInformer, this.podInformer),
    }).finally(() => {
      for (const r of regs) r.remove();
    });
  }

  /** Queues a Deployment's key. */
  enqueue(d: KubeObject): void {
    this.queue.add(`${d.metadata?.namespace ?? ''}/${d.metadata?.name ?? ''}`);
  }

  private resolveRef(namespace: string, ref: OwnerReference): Deployment | undefined {
    if (ref.kind !== 'Deployment') return undefined;
    const d = this.dLister.namespace(namespace).tryGet(ref.name);
    return d?.metadata?.uid === ref.uid ? d : undefined;
  }

  private deploymentsFor(rs: ReplicaSet): Deployment[] {
    const labels = rs.metadata?.labels;
    return this.dLister.byIndex(NAMESPACE_INDEX, rs.metadata?.namespace ?? '').filter((d) => {
      const sel = labelSelectorAsSelector(d.spec?.selector);
      return !sel.empty() && sel.matches(labels);
    });
  }

  private onRSAdd(rs: ReplicaSet): void {
    if (rs.metadata?.deletionTimestamp !== undefined) {
      this.onRSDelete(rs);
      return;
    }
    const ref = getControllerOfNoCopy(rs);
    if (ref !== undefined) {
      const d = this.resolveRef(rs.metadata?.namespace ?? '', ref);
      if (d !== undefined) this.enqueue(d);
      return;
    }
    for (const d of this.deploymentsFor(rs)) this.enqueue(d);
  }

  private onRSUpdate(old: ReplicaSet, cur: ReplicaSet): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const ns = cur.metadata?.namespace ?? '';
    const curRef = getControllerOfNoCopy(cur);
    const oldRef = getControllerOfNoCopy(old);
    const refChanged = curRef?.uid !== oldRef?.uid;
    if (refChanged && oldRef !== undefined) {
      const d = this.resolveRef(ns, oldRef);
      if (d !== undefined) this.enqueue(d);
    }
    if (curRef !== undefined) {
      const d = this.resolveRef(ns, curRef);
      if (d !== undefined) this.enqueue(d);
      return;
    }
    const labelChanged = !labelsEqual(old.metadata?.labels, cur.metadata?.labels);
    if (labelChanged || refChanged) for (const d of this.deploymentsFor(cur)) this.enqueue(d);
  }

  private onRSDelete(o: ReplicaSet | DeletedFinalStateUnknown<ReplicaSet>): void {
    const rs = unwrapTombstone(o);
    const ref = getControllerOfNoCopy(rs);
    if (ref === undefined) return;
    const d = this.resolveRef(rs.metadata?.namespace ?? '', ref);
    if (d !== undefined) this.enqueue(d);
  }

  // Recreate waits for old pods to be gone: their deletions wake the Deployment.
  private onPodDelete(o: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = unwrapTombstone(o);
    const ref = getControllerOfNoCopy(pod);
    if (ref === undefined || ref.kind !== 'ReplicaSet') return;
    const ns = pod.metadata?.namespace ?? '';
    const rs = this.rsLister.namespace(ns).tryGet(ref.name);
    if (rs === undefined || rs.metadata?.uid !== ref.uid) return;
    const dRef = getControllerOfNoCopy(rs);
    if (dRef === undefined) return;
    const d = this.resolveRef(ns, dRef);
    if (d !== undefined && d.spec?.strategy?.type === 'Recreate') this.enqueue(d);
  }

  /** Reconciles one Deployment. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.dLister.namespace(namespace).tryGet(name);
    if (cached === undefined) return;
    const d = structuredClone(cached);
    const rollout = new Rollout({
      deployments: this.dClient,
      replicaSets: this.rsClient,
      recorder: this.recorder,
      clock: this.clock,
      requeueAfter: (dep, ms) => {
        if (ms <= 0) this.enqueue(dep);
        else this.queue.addAfter(key, ms);
      },
    });
    const selector = labelSelectorAsSelector(d.spec?.selector);
    if (selector.empty()) {
      this.recorder.event(
        d,
        'Warning',
        'SelectingAll',
        'This deployment is selecting all pods. A non-empty selector is required.',
      );
      if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
        d.status = { ...(d.status ?? {}), observedGeneration: d.metadata?.generation ?? 0 };
        await this.dClient.updateStatus(namespace, d);
      }
      return;
    }
    const rsList = await claimObjects(this.rsLister.namespace(namespace).list(), {
      owner: d,
      ownerGVK: DEPLOYMENT_GVK,
      selector,
      client: this.rsClient,
      canAdopt: recheckOwner(() => this.dClient.get(namespace, name), d.metadata?.uid ?? '', 'Deployment'),
    });
    // Work on copies: the rollout annotates and rescales them.
    const rsCopies = rsList.map((rs) => structuredClone(rs));
    if (d.metadata?.deletionTimestamp !== undefined) {
      const { newRS, oldRSs } = await rollout.getAllReplicaSetsAndSyncRevision(d, rsCopies, false);
      await rollout.syncDeploymentStatus([...oldRSs, newRS], newRS, d);
      return;
    }
    await this.checkPausedConditions(d);
    if (d.spec?.paused === true) {
      await rollout.sync(d, rsCopies);
      return;
    }
    if (await rollout.isScalingEvent(d, rsCopies)) {
      await rollout.sync(d, rsCopies);
      return;
    }
    if (d.spec?.strategy?.type === 'Recreate') {
      await rollout.rolloutRecreate(d, rsCopies, this.podsByReplicaSet(d, rsCopies));
      return;
    }
    await rollout.rolloutRolling(d, rsCopies);
  }

  // Pods of the Deployment grouped by the uid of the ReplicaSet that controls them.
  private podsByReplicaSet(d: Deployment, rsList: ReplicaSet[]): Map<string, Pod[]> {
    const out = new Map<string, Pod[]>();
    for (const rs of rsList) out.set(rs.metadata?.uid ?? '', []);
    const pods = this.podLister
      .namespace(d.metadata?.namespace ?? '')
      .list(labelSelectorAsSelector(d.spec?.selector));
    for (const p of pods) {
      const ref = getControllerOfNoCopy(p);
      if (ref === undefined) continue;
      out.get(ref.uid)?.push(p);
    }
    return out;
  }

  // The Progressing condition says when a Deployment was paused or resumed (upstream).
  private async checkPausedConditions(d: Deployment): Promise<void> {
    if (d.spec?.progressDeadlineSeconds === undefined || d.spec.progressDeadlineSeconds === 2147483647)
      return;
    const cond = getCondition(d.status, 'Progressing');
    if (cond?.reason === REASONS.timedOut) return;
    const paused = d.spec.paused === true;
    const pausedCond = cond?.reason === REASONS.paused;
    const status = statusOf(d);
    const now = this.clock.now();
    let changed = false;
    if (paused && !pausedCond) {
      setCondition(
        status,
        newCondition('Progressing', 'Unknown', REASONS.paused, 'Deployment is paused', now),
      );
      changed = true;
    } else if (!paused && pausedCond) {
      setCondition(
        status,
        newCondition('Progressing', 'Unknown', REASONS.resumed, 'Deployment is resumed', now),
      );
      changed = true;
    }
    if (!changed) return;
    const res = await this.dClient.updateStatus(d.metadata?.namespace ?? '', d);
    if (d.metadata !== undefined) d.metadata.resourceVersion = res.metadata?.resourceVersion;
  }
}
