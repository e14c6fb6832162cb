// The StatefulSet controller (upstream pkg/controller/statefulset). One sync per set:
// resolve the update revision (a ControllerRevision snapshot of the template) and the
// current one, then walk ordinals: create missing PVCs and pods, replace failed pods, and
// with OrderedReady wait for each pod to be Running and Ready before the next; delete pods
// beyond the wanted range from the highest ordinal; roll pods at or above the partition
// onto the update revision from the highest ordinal down; record status. Writes use
// deterministic names and uid preconditions, so a stale cache leads to AlreadyExists or a
// failed precondition rather than a duplicate or a wrongly deleted pod.
import { omitZero } from '../../api/omit-empty.js';
import type {
  ControllerRevision,
  StatefulSet,
  StatefulSetStatus,
} from '../../api/generated/types/apps-v1.js';
import type { PersistentVolumeClaim, Pod, PodTemplateSpec } from '../../api/generated/types/core-v1.js';
import type { Lister } from '../../client/cache/listers.js';
import { type DeletedFinalStateUnknown, splitKey, unwrapTombstone } from '../../client/cache/store.js';
import type { Clock } from '../../client/clock.js';
import type { EventRecorder } from '../../client/events.js';
import type { Client } from '../../client/interface.js';
import { PERSISTENTVOLUMECLAIMS, PODS, STATEFULSETS } from '../../client/resources.js';
import { labelSelectorAsSelector } from '../../machinery/labels/label-selector.js';
import { getControllerOfNoCopy } from '../../machinery/owner-references.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../machinery/status-error.js';
import {
  CONTROLLER_REVISIONS,
  ControllerHistory,
  findEqualRevisions,
  nextRevision,
  sortControllerRevisions,
  templateFromRevision,
  templatePatch,
} from '../common/controller-history.js';
import { isPodAvailable, isPodTerminal, isRunningAndReady } from '../common/pod-state.js';
import { SyncLoop } from '../common/sync-loop.js';
import type { Controller, ControllerContext } from '../types.js';
import {
  claimOwnerRefs,
  claimsFor,
  endOrdinal,
  getOrdinal,
  identityMatches,
  newStatefulSetPod,
  podRevision,
  STATEFULSET_GVK,
  sameOwnerRefs,
  setIdentity,
  startOrdinal,
} from './identity.js';

const DEFAULT_REVISION_HISTORY_LIMIT = 10;

function isCreated(pod: Pod): boolean {
  return (pod.status?.phase ?? '') !== '';
}

function isTerminating(pod: { metadata?: { deletionTimestamp?: string } }): boolean {
  return (pod.metadata?.deletionTimestamp ?? '') !== '';
}

function isHealthy(pod: Pod): boolean {
  return isRunningAndReady(pod) && !isTerminating(pod);
}

/** The StatefulSet controller. */
export class StatefulSetController implements Controller {
  readonly name = 'statefulset';
  private readonly loop: SyncLoop;
  private readonly client: Client;
  private readonly clock: Clock;
  private readonly recorder: EventRecorder;
  private readonly sets;
  private readonly pods;
  private readonly revisions;
  private readonly claims;
  private readonly history: ControllerHistory;
  private readonly workers: number;

  /** A controller over ctx's informers. */
  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.recorder = ctx.recorder('statefulset-controller');
    this.loop = new SyncLoop('statefulset', ctx.log, ctx.clock);
    this.sets = ctx.informers.forResource(STATEFULSETS);
    this.pods = ctx.informers.forResource(PODS);
    this.revisions = ctx.informers.forResource(CONTROLLER_REVISIONS);
    this.claims = ctx.informers.forResource(PERSISTENTVOLUMECLAIMS);
    this.history = new ControllerHistory(ctx.client, this.revisions.lister);
    this.workers = ctx.options.workers;
  }

  /** The set lister (for tests). */
  get setLister(): Lister<StatefulSet> {
    return this.sets.lister;
  }

  run(signal: AbortSignal): Promise<void> {
    this.sets.informer.addEventHandler({
      onAdd: (s) => this.loop.enqueue(s),
      onUpdate: (_o, s) => this.loop.enqueue(s),
      onDelete: (s) => this.loop.enqueue(s),
    });
    const onPod = (p: Pod | DeletedFinalStateUnknown<Pod>): void => {
      const pod = unwrapTombstone(p);
      const ref = getControllerOfNoCopy(pod);
      if (ref?.kind !== 'StatefulSet') return;
      this.loop.queue.add(`${pod.metadata?.namespace ?? ''}/${ref.name}`);
    };
    this.pods.informer.addEventHandler({ onAdd: onPod, onUpdate: (_o, p) => onPod(p), onDelete: onPod });
    return this.loop.run(signal, this.workers, (k) => this.sync(k), [
      this.sets.informer,
      this.pods.informer,
      this.revisions.informer,
      this.claims.informer,
    ]);
  }

  /** Reconciles one set by `namespace/name` key. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const set = this.sets.lister.namespace(namespace).tryGet(name);
    if (set === undefined || isTerminating(set)) return;
    const selector = labelSelectorAsSelector(set.spec?.selector);
    if (selector.empty()) return;
    const pods = this.pods.lister
      .namespace(namespace)
      .list(selector)
      .filter((p) => getControllerOfNoCopy(p)?.uid === set.metadata?.uid);
    const revisions = sortControllerRevisions(this.history.list(set, selector));
    const { current, update, collisionCount } = await this.resolveRevisions(set, revisions);
    const status = await this.updatePods(set, pods, current, update);
    status.collisionCount = collisionCount;
    status.observedGeneration = set.metadata?.generation ?? 0;
    await this.updateStatus(set, status);
    await this.truncateHistory(set, pods, revisions, current, update);
  }

  // The update revision snapshots the current template; the current one is what
  // status.currentRevision names (or the update revision when there is none yet).
  private async resolveRevisions(
    set: StatefulSet,
    revisions: ControllerRevision[],
  ): Promise<{ current: ControllerRevision; update: ControllerRevision; collisionCount: number }> {
    let collisionCount = set.status?.collisionCount ?? 0;
    const data = templatePatch(set.spec?.template);
    const next = nextRevision(revisions);
    const probe: ControllerRevision = { revision: next, data: data as ControllerRevision['data'] };
    const equal = findEqualRevisions(revisions, probe);
    let update: ControllerRevision;
    const lastEqual = equal[equal.length - 1];
    if (lastEqual !== undefined && lastEqual === revisions[revisions.length - 1]) {
      update = lastEqual;
    } else if (lastEqual !== undefined) {
      // Rolled back to an older template: that revision becomes the newest.
      update = await this.history.updateRevision(lastEqual, next);
    } else {
      const created = await this.history.create(
        set,
        STATEFULSET_GVK,
        set.spec?.template?.metadata?.labels,
        data,
        next,
        collisionCount,
      );
      update = created.revision;
      collisionCount = created.collisionCount;
    }
    const currentName = set.status?.currentRevision ?? '';
    const current = revisions.find((r) => r.metadata?.name === currentName) ?? update;
    return { current, update, collisionCount };
  }

  private async updatePods(
    set: StatefulSet,
    pods: Pod[],
    current: ControllerRevision,
    update: ControllerRevision,
  ): Promise<StatefulSetStatus> {
    const now = this.clock.now();
    const minReady = set.spec?.minReadySeconds ?? 0;
    const currentName = current.metadata?.name ?? '';
    const updateName = update.metadata?.name ?? '';
    const status: StatefulSetStatus = {
      replicas: 0,
      readyReplicas: 0,
      availableReplicas: 0,
      currentReplicas: 0,
      updatedReplicas: 0,
      currentRevision: currentName,
      updateRevision: updateName,
    };
    const count = (pod: Pod): void => {
      if (isCreated(pod)) status.replicas++;
      if (isRunningAndReady(pod)) {
        status.readyReplicas = (status.readyReplicas ?? 0) + 1;
        if (isPodAvailable(pod, minReady, now))
          status.availableReplicas = (status.availableReplicas ?? 0) + 1;
      }
      if (isCreated(pod) && !isTerminating(pod)) {
        const rev = podRevision(pod);
        if (rev === currentName) status.currentReplicas = (status.currentReplicas ?? 0) + 1;
        if (rev === updateName) status.updatedReplicas = (status.updatedReplicas ?? 0) + 1;
      }
    };
    for (const p of pods) count(p);

    const setName = set.metadata?.name ?? '';
    const start = startOrdinal(set);
    const end = endOrdinal(set);
    const replicas: Array<Pod | undefined> = new Array(end - start).fill(undefined);
    const condemned: Pod[] = [];
    for (const p of pods) {
      const ord = getOrdinal(setName, p.metadata?.name ?? '');
      if (ord >= start && ord < end) replicas[ord - start] = p;
      else condemned.push(p);
    }
    condemned.sort(
      (a, b) => getOrdinal(setName, a.metadata?.name ?? '') - getOrdinal(setName, b.metadata?.name ?? ''),
    );
    const monotonic = (set.spec?.podManagementPolicy ?? 'OrderedReady') !== 'Parallel';
    const currentTemplate = templateFromRevision<PodTemplateSpec>(current) ?? set.spec?.template ?? {};
    const updateTemplate = set.spec?.template ?? {};
    const strategy = set.spec?.updateStrategy;
    const rolling = (strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    const partition = strategy?.rollingUpdate?.partition ?? 0;

    const finish = (): StatefulSetStatus => {
      if (rolling && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
        status.currentReplicas = status.updatedReplicas;
        status.currentRevision = status.updateRevision;
      }
      return status;
    };

    // Replicas in ordinal order.
    let firstUnhealthy: Pod | undefined;
    for (let i = 0; i < replicas.length; i++) {
      const ord = start + i;
      let pod = replicas[i];
      if (pod !== undefined && isPodTerminal(pod) && !isTerminating(pod)) {
        // Failed or completed pods are replaced: delete now, recreate on a later sync.
        await this.deletePod(set, pod);
        if (monotonic) return finish();
        continue;
      }
      if (pod === undefined) {
        // Pods below the partition keep the current revision (newVersionedStatefulSetPod).
        const useCurrent = rolling && ord - start < partition;
        pod = newStatefulSetPod(
          set,
          useCurrent ? currentTemplate : updateTemplate,
          ord,
          useCurrent ? currentName : updateName,
        );
        await this.createClaims(set, pod, ord);
        await this.createPod(set, pod);
        status.replicas++;
        if (useCurrent) status.currentReplicas = (status.currentReplicas ?? 0) + 1;
        if (!useCurrent || currentName === updateName)
          status.updatedReplicas = (status.updatedReplicas ?? 0) + 1;
        if (monotonic) return finish();
        continue;
      }
      if (!isCreated(pod) && monotonic) return finish();
      if (isTerminating(pod)) {
        if (monotonic) return finish();
        continue;
      }
      if (!isRunningAndReady(pod)) {
        firstUnhealthy ??= pod;
        if (monotonic) return finish();
      }
      await this.ensureIdentityAndClaims(set, pod, ord);
    }

    // Scale down from the highest ordinal.
    for (let t = condemned.length - 1; t >= 0; t--) {
      const pod = condemned[t] as Pod;
      if (isTerminating(pod)) {
        if (monotonic) return finish();
        continue;
      }
      if (monotonic && !isRunningAndReady(pod) && firstUnhealthy !== undefined && pod !== firstUnhealthy) {
        return finish();
      }
      await this.retainOrReleaseClaims(set, pod, getOrdinal(setName, pod.metadata?.name ?? ''));
      await this.deletePod(set, pod);
      if (monotonic) return finish();
    }

    if (!rolling) return finish();
    // Rolling update from the highest ordinal down to the partition.
    const maxUnavailable = rollingMaxUnavailable(set, replicas.length);
    let unavailable = replicas.filter((p) => p === undefined || !isHealthy(p)).length;
    for (let i = replicas.length - 1; i >= Math.max(0, partition); i--) {
      const pod = replicas[i];
      if (pod === undefined) continue;
      if (podRevision(pod) !== updateName && !isTerminating(pod)) {
        if (unavailable >= maxUnavailable && isHealthy(pod)) return finish();
        await this.deletePod(set, pod);
        status.currentReplicas = Math.max(0, (status.currentReplicas ?? 0) - 1);
        if (isHealthy(pod)) unavailable++;
        if (unavailable >= maxUnavailable) return finish();
        continue;
      }
      if (!isHealthy(pod) && unavailable >= maxUnavailable) return finish();
    }
    return finish();
  }

  private async createPod(set: StatefulSet, pod: Pod): Promise<void> {
    const ns = set.metadata?.namespace ?? '';
    try {
      await this.client.resource(PODS).create(ns, pod);
      this.recorder.event(
        set,
        'Normal',
        'SuccessfulCreate',
        `create Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} successful`,
      );
    } catch (err) {
      if (isAlreadyExists(err)) return;
      this.recorder.event(
        set,
        'Warning',
        'FailedCreate',
        `create Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} failed error: ${String((err as Error).message)}`,
      );
      throw err;
    }
  }

  private async deletePod(set: StatefulSet, pod: Pod): Promise<void> {
    const ns = pod.metadata?.namespace ?? '';
    const uid = pod.metadata?.uid;
    try {
      await this.client
        .resource(PODS)
        .delete(ns, pod.metadata?.name ?? '', uid !== undefined ? { preconditions: { uid } } : {});
      this.recorder.event(
        set,
        'Normal',
        'SuccessfulDelete',
        `delete Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} successful`,
      );
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }

  // PVCs come before the pod so the pod never starts without its storage.
  private async createClaims(set: StatefulSet, pod: Pod, ord: number): Promise<void> {
    const ns = set.metadata?.namespace ?? '';
    for (const claim of claimsFor(set, ord)) {
      const cn = claim.metadata?.name ?? '';
      if (this.claims.lister.namespace(ns).tryGet(cn) !== undefined) continue;
      const refs = claimOwnerRefs(set, claim, undefined, ord);
      if (refs.length > 0 && claim.metadata !== undefined) claim.metadata.ownerReferences = refs;
      try {
        await this.client.resource(PERSISTENTVOLUMECLAIMS).create(ns, claim);
        this.recorder.event(
          set,
          'Normal',
          'SuccessfulCreate',
          `create Claim ${cn} Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} success`,
        );
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    }
  }

  private async ensureIdentityAndClaims(set: StatefulSet, pod: Pod, ord: number): Promise<void> {
    await this.createClaims(set, pod, ord);
    await this.retainOrReleaseClaims(set, pod, ord);
    if (identityMatches(set, pod, ord)) return;
    const copy = JSON.parse(JSON.stringify(pod)) as Pod;
    setIdentity(set, copy, ord);
    try {
      await this.client.resource(PODS).update(pod.metadata?.namespace ?? '', copy);
    } catch (err) {
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
  }

  // Keeps each claim's owner references in line with the retention policy.
  private async retainOrReleaseClaims(set: StatefulSet, pod: Pod, ord: number): Promise<void> {
    const ns = set.metadata?.namespace ?? '';
    for (const tpl of claimsFor(set, ord)) {
      const claim: PersistentVolumeClaim | undefined = this.claims.lister
        .namespace(ns)
        .tryGet(tpl.metadata?.name ?? '');
      if (claim === undefined) continue;
      const refs = claimOwnerRefs(set, claim, pod, ord);
      if (sameOwnerRefs(refs, claim.metadata?.ownerReferences as never)) continue;
      try {
        await this.client.resource(PERSISTENTVOLUMECLAIMS).patch(ns, claim.metadata?.name ?? '', 'merge', {
          metadata: {
            ownerReferences: refs.length > 0 ? refs : null,
            resourceVersion: claim.metadata?.resourceVersion,
          },
        });
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err;
      }
    }
  }

  private async updateStatus(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    const old = set.status ?? { replicas: 0 };
    // replicas and availableReplicas are not omitempty upstream; the other counts are.
    const merged = omitZero<StatefulSetStatus>({ ...old, ...status }, [
      'readyReplicas',
      'currentReplicas',
      'updatedReplicas',
      'observedGeneration',
    ]);
    if (JSON.stringify(normalise(merged)) === JSON.stringify(normalise(old))) return;
    const copy: StatefulSet = { ...set, status: merged };
    try {
      await this.client.resource(STATEFULSETS).updateStatus(set.metadata?.namespace ?? '', copy);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    // Available replicas depend on time passing: look again once the next pod may qualify.
    const minReady = set.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && (status.availableReplicas ?? 0) < (status.readyReplicas ?? 0)) {
      this.loop.queue.addAfter(
        `${set.metadata?.namespace ?? ''}/${set.metadata?.name ?? ''}`,
        minReady * 1000,
      );
    }
  }

  // Deletes the oldest revisions no live pod uses, beyond revisionHistoryLimit.
  private async truncateHistory(
    set: StatefulSet,
    pods: Pod[],
    revisions: ControllerRevision[],
    current: ControllerRevision,
    update: ControllerRevision,
  ): Promise<void> {
    const live = new Set<string>([current.metadata?.name ?? '', update.metadata?.name ?? '']);
    for (const p of pods) live.add(podRevision(p));
    const history = revisions.filter((r) => !live.has(r.metadata?.name ?? ''));
    const limit = set.spec?.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT;
    const excess = history.length - limit;
    for (let i = 0; i < excess; i++) {
      try {
        await this.history.delete(history[i] as ControllerRevision);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
}

// Upstream honours maxUnavailable only behind a feature gate; with it absent this is 1.
function rollingMaxUnavailable(set: StatefulSet, replicas: number): number {
  const mu = set.spec?.updateStrategy?.rollingUpdate?.maxUnavailable;
  if (mu === undefined) return 1;
  if (typeof mu === 'number') return Math.max(1, mu);
  const pct = Number.parseInt(mu, 10);
  return Number.isNaN(pct) ? 1 : Math.max(1, Math.floor((pct * replicas) / 100));
}

function normalise(s: StatefulSetStatus): StatefulSetStatus {
  const out: StatefulSetStatus = { replicas: s.replicas };
  for (const k of Object.keys(s).sort() as Array<keyof StatefulSetStatus>) {
    const v = s[k];
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}
