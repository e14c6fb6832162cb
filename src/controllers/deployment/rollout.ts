// The rollout steps of the Deployment controller (upstream sync.go, rolling.go,
// recreate.go, progress.go): finding or creating the new ReplicaSet, proportional scaling,
// RollingUpdate within maxSurge/maxUnavailable, Recreate, status with the Progressing and
// Available conditions, and revision-history cleanup. `d` is the sync's private copy of
// the Deployment; status writes refresh its resourceVersion so later writes of the same
// sync do not conflict with our own.
import type { Deployment, DeploymentStatus, ReplicaSet } from '../../api/generated/types/apps-v1.js';
import type { Pod } from '../../api/generated/types/core-v1.js';
import { omitZero } from '../../api/omit-empty.js';
import type { Clock } from '../../client/clock.js';
import type { EventRecorder } from '../../client/events.js';
import type { ResourceClient } from '../../client/interface.js';
import { isAlreadyExists } from '../../machinery/status-error.js';
import { controllerRef } from '../replicaset/controller-ref-manager.js';
import {
  activeReplicaSets,
  actualReplicaCount,
  availableReplicaCount,
  byCreation,
  computeHash,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  equalIgnoreHash,
  findActiveOrLatest,
  findNewReplicaSet,
  findOldReplicaSets,
  getCondition,
  hasProgressDeadline,
  intAnnotation,
  isRollingUpdate,
  isSaturated,
  maxRevision,
  maxSurge,
  maxUnavailable,
  newCondition,
  newRSNewReplicas,
  POD_TEMPLATE_HASH_LABEL,
  REASONS,
  readyReplicaCount,
  removeCondition,
  replicaCount,
  replicaSetProportion,
  replicasAnnotationsNeedUpdate,
  replicasOf,
  revisionOf,
  setCondition,
  setDeploymentRevision,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  statusOf,
  DESIRED_REPLICAS_ANNOTATION,
} from './util.js';

const DEPLOYMENT_GVK = { group: 'apps', version: 'v1', kind: 'Deployment' };

/** What the rollout steps write through. */
export interface RolloutDeps {
  deployments: ResourceClient<Deployment>;
  replicaSets: ResourceClient<ReplicaSet>;
  recorder: EventRecorder;
  clock: Clock;
  /** Asks for another sync of the Deployment after `ms`. */
  requeueAfter(d: Deployment, ms: number): void;
}

/** The new and old ReplicaSets of a Deployment. */
export interface ReplicaSetsOf {
  newRS: ReplicaSet | undefined;
  oldRSs: ReplicaSet[];
}

/** The rollout steps of one sync. */
export class Rollout {
  /** Steps writing through deps. */
  constructor(private readonly deps: RolloutDeps) {}

  private now(): number {
    return this.deps.clock.now();
  }

  private async updateStatus(d: Deployment): Promise<void> {
    const res = await this.deps.deployments.updateStatus(d.metadata?.namespace ?? '', d);
    if (d.metadata !== undefined) d.metadata.resourceVersion = res.metadata?.resourceVersion;
  }

  /** Finds (and optionally creates) the new ReplicaSet and syncs the revision annotations. */
  async getAllReplicaSetsAndSyncRevision(
    d: Deployment,
    rsList: ReplicaSet[],
    create: boolean,
  ): Promise<ReplicaSetsOf> {
    const newCandidate = findNewReplicaSet(d, rsList);
    const oldRSs = findOldReplicaSets(rsList, newCandidate);
    const newRS = await this.getNewReplicaSet(d, rsList, oldRSs, create);
    return { newRS, oldRSs };
  }

  private async getNewReplicaSet(
    d: Deployment,
    rsList: ReplicaSet[],
    oldRSs: ReplicaSet[],
    create: boolean,
  ): Promise<ReplicaSet | undefined> {
    const existing = findNewReplicaSet(d, rsList);
    const newRevision = String(maxRevision(oldRSs) + 1);
    const ns = d.metadata?.namespace ?? '';
    if (existing !== undefined) {
      let rs: ReplicaSet = structuredClone(existing);
      const annotationsUpdated = setNewReplicaSetAnnotations(d, rs, newRevision, true);
      const minReadyUpdate = (rs.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
      if (annotationsUpdated || minReadyUpdate) {
        if (rs.spec !== undefined) rs.spec.minReadySeconds = d.spec?.minReadySeconds ?? 0;
        rs = await this.deps.replicaSets.update(ns, rs);
      }
      let needsUpdate = setDeploymentRevision(
        d,
        rs.metadata?.annotations?.[REVISION_ANNOTATION_KEY] ?? newRevision,
      );
      const status = statusOf(d);
      if (getCondition(status, 'Progressing') === undefined && hasProgressDeadline(d)) {
        setCondition(
          status,
          newCondition(
            'Progressing',
            'True',
            REASONS.foundNewReplicaSet,
            `Found new replica set "${rs.metadata?.name ?? ''}"`,
            this.now(),
          ),
        );
        needsUpdate = true;
      }
      if (needsUpdate) await this.updateStatus(d);
      return rs;
    }
    if (!create) return undefined;
    const template = structuredClone(d.spec?.template ?? {});
    const hash = computeHash(d.spec?.template ?? {}, d.status?.collisionCount);
    template.metadata = { ...(template.metadata ?? {}) };
    template.metadata.labels = { ...(template.metadata.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const selector = structuredClone(d.spec?.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata?.name ?? ''}-${hash}`,
        namespace: ns,
        ownerReferences: [controllerRef(d, DEPLOYMENT_GVK)],
        labels: { ...template.metadata.labels },
      },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    const count = newRSNewReplicas(d, [...oldRSs, rs], rs);
    (rs.spec as NonNullable<ReplicaSet['spec']>).replicas = count;
    setNewReplicaSetAnnotations(d, rs, newRevision, false);
    let created: ReplicaSet;
    let alreadyExisted = false;
    try {
      created = await this.deps.replicaSets.create(ns, rs);
    } catch (err) {
      if (!isAlreadyExists(err)) {
        const msg = `Failed to create new replica set "${rs.metadata?.name ?? ''}": ${errText(err)}`;
        if (hasProgressDeadline(d)) {
          const status = statusOf(d);
          setCondition(status, newCondition('Progressing', 'False', REASONS.failedRSCreate, msg, this.now()));
          await this.updateStatus(d).catch(() => {});
        }
        this.deps.recorder.event(d, 'Warning', REASONS.failedRSCreate, msg);
        throw err;
      }
      // A ReplicaSet of that name exists: ours with an equal template (a stale cache), or a
      // hash collision, which bumps collisionCount so the next hash differs.
      const other = await this.deps.replicaSets.get(ns, rs.metadata?.name ?? '');
      const ours = other.metadata?.ownerReferences?.some(
        (r) => r.controller === true && r.uid === d.metadata?.uid,
      );
      if (ours === true && equalIgnoreHash(other.spec?.template, d.spec?.template)) {
        created = other;
        alreadyExisted = true;
      } else {
        const status = statusOf(d);
        status.collisionCount = (status.collisionCount ?? 0) + 1;
        await this.updateStatus(d);
        throw err;
      }
    }
    if (!alreadyExisted && count > 0) {
      this.deps.recorder.event(
        d,
        'Normal',
        'ScalingReplicaSet',
        `Scaled up replica set ${created.metadata?.name ?? ''} from 0 to ${count}`,
      );
    }
    let needsUpdate = setDeploymentRevision(d, newRevision);
    if (!alreadyExisted && hasProgressDeadline(d)) {
      const status = statusOf(d);
      setCondition(
        status,
        newCondition(
          'Progressing',
          'True',
          REASONS.newReplicaSet,
          `Created new replica set "${created.metadata?.name ?? ''}"`,
          this.now(),
        ),
      );
      needsUpdate = true;
    }
    if (needsUpdate) await this.updateStatus(d);
    return created;
  }

  /** Scales one ReplicaSet and records the event; returns the (possibly updated) set. */
  async scaleReplicaSetAndRecordEvent(
    rs: ReplicaSet,
    newScale: number,
    d: Deployment,
  ): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    if (replicasOf(rs) === newScale) return { scaled: false, rs };
    return this.scaleReplicaSet(rs, newScale, d, newScale > replicasOf(rs) ? 'up' : 'down');
  }

  private async scaleReplicaSet(
    rs: ReplicaSet,
    newScale: number,
    d: Deployment,
    op: string,
  ): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    const sizeNeedsUpdate = replicasOf(rs) !== newScale;
    const desired = replicasOf(d);
    const max = desired + maxSurge(d);
    if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, desired, max)) return { scaled: false, rs };
    const oldScale = replicasOf(rs);
    const copy = structuredClone(rs);
    copy.spec = { ...(copy.spec ?? { selector: {} }), replicas: newScale };
    setReplicasAnnotations(copy, desired, max);
    const updated = await this.deps.replicaSets.update(copy.metadata?.namespace ?? '', copy);
    if (sizeNeedsUpdate) {
      this.deps.recorder.event(
        d,
        'Normal',
        'ScalingReplicaSet',
        `Scaled ${op} replica set ${updated.metadata?.name ?? ''} from ${oldScale} to ${newScale}`,
      );
    }
    return { scaled: sizeNeedsUpdate, rs: updated };
  }

  /** Proportional scaling when spec.replicas changed mid-rollout or while paused (upstream scale). */
  async scale(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<void> {
    const want = replicasOf(d);
    const single = findActiveOrLatest(newRS, oldRSs);
    if (single !== undefined) {
      if (replicasOf(single) !== want) await this.scaleReplicaSetAndRecordEvent(single, want, d);
      return;
    }
    if (isSaturated(d, newRS)) {
      for (const old of activeReplicaSets(oldRSs)) await this.scaleReplicaSetAndRecordEvent(old, 0, d);
      return;
    }
    if (!isRollingUpdate(d)) return;
    const all = activeReplicaSets([...oldRSs, newRS]);
    const allowed = want > 0 ? want + maxSurge(d) : 0;
    const toAdd = allowed - replicaCount(all);
    let op = '';
    if (toAdd > 0) {
      // Larger first; newer first among equals.
      all.sort((a, b) => replicasOf(b) - replicasOf(a) || -byCreation(a, b));
      op = 'up';
    } else if (toAdd < 0) {
      // Larger first; older first among equals.
      all.sort((a, b) => replicasOf(b) - replicasOf(a) || byCreation(a, b));
      op = 'down';
    }
    let added = 0;
    const sizes = new Map<string, number>();
    for (const rs of all) {
      const name = rs.metadata?.name ?? '';
      if (toAdd !== 0) {
        const p = replicaSetProportion(d, rs, toAdd, added);
        sizes.set(name, replicasOf(rs) + p);
        added += p;
      } else sizes.set(name, replicasOf(rs));
    }
    for (let i = 0; i < all.length; i++) {
      const rs = all[i] as ReplicaSet;
      const name = rs.metadata?.name ?? '';
      if (i === 0 && toAdd !== 0) sizes.set(name, Math.max(0, (sizes.get(name) ?? 0) + toAdd - added));
      await this.scaleReplicaSet(rs, sizes.get(name) ?? 0, d, op);
    }
  }

  /** True when some active ReplicaSet was scaled for another spec.replicas (upstream isScalingEvent). */
  async isScalingEvent(d: Deployment, rsList: ReplicaSet[]): Promise<boolean> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    for (const rs of activeReplicaSets([...oldRSs, newRS])) {
      const desired = intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION);
      if (desired !== undefined && desired !== replicasOf(d)) return true;
    }
    return false;
  }

  /** Scaling only (paused deployments and scaling events), plus status. */
  async sync(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    await this.scale(d, newRS, oldRSs);
    if (d.spec?.paused === true) await this.cleanupDeployment(oldRSs, d);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS, d);
  }

  /** One step of a RollingUpdate. */
  async rolloutRolling(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const got = await this.getAllReplicaSetsAndSyncRevision(d, rsList, true);
    const newRS = got.newRS as ReplicaSet;
    let oldRSs = got.oldRSs;
    const all = (): ReplicaSet[] => [...oldRSs, newRS];
    if (await this.reconcileNewReplicaSet(all(), newRS, d)) {
      await this.syncRolloutStatus(all(), newRS, d);
      return;
    }
    const scaledDown = await this.reconcileOldReplicaSets(all(), activeReplicaSets(oldRSs), newRS, d);
    if (scaledDown.scaled) {
      oldRSs = oldRSs.map((o) => scaledDown.updated.get(o.metadata?.uid ?? '') ?? o);
      await this.syncRolloutStatus(all(), newRS, d);
      return;
    }
    if (deploymentComplete(d, d.status ?? {})) await this.cleanupDeployment(oldRSs, d);
    await this.syncRolloutStatus(all(), newRS, d);
  }

  private async reconcileNewReplicaSet(
    all: ReplicaSet[],
    newRS: ReplicaSet,
    d: Deployment,
  ): Promise<boolean> {
    const want = replicasOf(d);
    if (replicasOf(newRS) === want) return false;
    if (replicasOf(newRS) > want) return (await this.scaleReplicaSetAndRecordEvent(newRS, want, d)).scaled;
    const count = newRSNewReplicas(d, all, newRS);
    return (await this.scaleReplicaSetAndRecordEvent(newRS, count, d)).scaled;
  }

  private async reconcileOldReplicaSets(
    all: ReplicaSet[],
    oldRSs: ReplicaSet[],
    newRS: ReplicaSet,
    d: Deployment,
  ): Promise<{ scaled: boolean; updated: Map<string, ReplicaSet> }> {
    const updated = new Map<string, ReplicaSet>();
    if (replicaCount(oldRSs) === 0) return { scaled: false, updated };
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const newUnavailable = replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = replicaCount(all) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return { scaled: false, updated };
    // Unhealthy old replicas first: they would otherwise block the rollout.
    const olds = [...oldRSs].sort(byCreation);
    let cleaned = 0;
    for (let i = 0; i < olds.length && cleaned < maxScaledDown; i++) {
      const rs = olds[i] as ReplicaSet;
      const unhealthy = replicasOf(rs) - (rs.status?.availableReplicas ?? 0);
      if (replicasOf(rs) === 0 || unhealthy === 0) continue;
      // More available than wanted: a scale-down the ReplicaSet controller has not carried
      // out yet. Its status still counts pods about to go, so any further scale-down now
      // would be computed from availability that is already gone; as upstream (which
      // fails this step), wait for the status to catch up.
      if (unhealthy < 0) return { scaled: false, updated };
      const n = Math.min(maxScaledDown - cleaned, unhealthy);
      const r = await this.scaleReplicaSetAndRecordEvent(rs, replicasOf(rs) - n, d);
      olds[i] = r.rs;
      updated.set(r.rs.metadata?.uid ?? '', r.rs);
      cleaned += n;
    }
    // Then healthy ones, as far as availability allows.
    const allNow = [...olds, newRS];
    const available = availableReplicaCount(allNow);
    let scaledDown = 0;
    if (available > minAvailable) {
      const total = available - minAvailable;
      for (const rs of olds) {
        if (scaledDown >= total) break;
        if (replicasOf(rs) === 0) continue;
        const n = Math.min(replicasOf(rs), total - scaledDown);
        const r = await this.scaleReplicaSetAndRecordEvent(rs, replicasOf(rs) - n, d);
        updated.set(r.rs.metadata?.uid ?? '', r.rs);
        scaledDown += n;
      }
    }
    return { scaled: cleaned + scaledDown > 0, updated };
  }

  /** One step of a Recreate rollout: all old pods gone before the new ReplicaSet scales up. */
  async rolloutRecreate(d: Deployment, rsList: ReplicaSet[], podsByRS: Map<string, Pod[]>): Promise<void> {
    let { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    let scaledDown = false;
    for (const rs of activeReplicaSets(oldRSs)) {
      const r = await this.scaleReplicaSetAndRecordEvent(rs, 0, d);
      if (r.scaled) scaledDown = true;
    }
    if (scaledDown) {
      await this.syncRolloutStatus([...oldRSs, newRS], newRS, d);
      return;
    }
    if (oldPodsRunning(newRS, oldRSs, podsByRS)) {
      await this.syncRolloutStatus([...oldRSs, newRS], newRS, d);
      return;
    }
    if (newRS === undefined)
      ({ newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, true));
    if (newRS !== undefined) {
      const r = await this.scaleReplicaSetAndRecordEvent(newRS, replicasOf(d), d);
      newRS = r.rs;
    }
    if (deploymentComplete(d, d.status ?? {})) await this.cleanupDeployment(oldRSs, d);
    await this.syncRolloutStatus([...oldRSs, newRS], newRS, d);
  }

  /** Deletes the oldest ReplicaSets beyond revisionHistoryLimit (upstream cleanupDeployment). */
  async cleanupDeployment(oldRSs: ReplicaSet[], d: Deployment): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit;
    if (limit === undefined) return;
    const cleanable = oldRSs.filter((rs) => rs.metadata?.deletionTimestamp === undefined);
    const diff = cleanable.length - limit;
    if (diff <= 0) return;
    cleanable.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of cleanable.slice(0, diff)) {
      if (
        (rs.status?.replicas ?? 0) !== 0 ||
        replicasOf(rs) !== 0 ||
        (rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0)
      ) {
        continue;
      }
      await this.deps.replicaSets.delete(rs.metadata?.namespace ?? '', rs.metadata?.name ?? '');
    }
  }

  /** Writes the computed status when it changed (upstream syncDeploymentStatus). */
  async syncDeploymentStatus(
    all: Array<ReplicaSet | undefined>,
    newRS: ReplicaSet | undefined,
    d: Deployment,
  ): Promise<void> {
    const status = this.calculateStatus(all, newRS, d);
    if (statusEqual(d.status, status)) return;
    d.status = status;
    await this.updateStatus(d);
  }

  /** Status plus the Progressing condition of a rollout (upstream syncRolloutStatus). */
  async syncRolloutStatus(
    all: Array<ReplicaSet | undefined>,
    newRS: ReplicaSet | undefined,
    d: Deployment,
  ): Promise<void> {
    const status = this.calculateStatus(all, newRS, d);
    const now = this.now();
    if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
    const cur = getCondition(d.status, 'Progressing');
    const complete =
      (status.replicas ?? 0) === (status.updatedReplicas ?? 0) && cur?.reason === REASONS.newRSAvailable;
    if (hasProgressDeadline(d) && !complete) {
      const rsName = newRS?.metadata?.name;
      if (deploymentComplete(d, status)) {
        const msg =
          rsName !== undefined
            ? `ReplicaSet "${rsName}" has successfully progressed.`
            : `Deployment "${d.metadata?.name ?? ''}" has successfully progressed.`;
        setCondition(status, newCondition('Progressing', 'True', REASONS.newRSAvailable, msg, now));
      } else if (deploymentProgressing(d, status)) {
        const msg =
          rsName !== undefined
            ? `ReplicaSet "${rsName}" is progressing.`
            : `Deployment "${d.metadata?.name ?? ''}" is progressing.`;
        const c = newCondition('Progressing', 'True', REASONS.replicaSetUpdated, msg, now);
        // Progress refreshes lastUpdateTime even when the reason stays the same.
        if (cur !== undefined) {
          if (cur.status === 'True' && cur.lastTransitionTime !== undefined)
            c.lastTransitionTime = cur.lastTransitionTime;
          removeCondition(status, 'Progressing');
        }
        setCondition(status, c);
      } else if (deploymentTimedOut(d, status, now)) {
        const msg =
          rsName !== undefined
            ? `ReplicaSet "${rsName}" has timed out progressing.`
            : `Deployment "${d.metadata?.name ?? ''}" has timed out progressing.`;
        setCondition(status, newCondition('Progressing', 'False', REASONS.timedOut, msg, now));
      }
    }
    const failure = all
      .filter((rs): rs is ReplicaSet => rs !== undefined)
      .flatMap((rs) => rs.status?.conditions ?? [])
      .find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
    if (failure !== undefined) {
      setCondition(
        status,
        newCondition('ReplicaFailure', failure.status, failure.reason ?? '', failure.message ?? '', now),
      );
    } else removeCondition(status, 'ReplicaFailure');
    if (statusEqual(d.status, status)) {
      this.requeueStuck(d, status);
      return;
    }
    d.status = status;
    await this.updateStatus(d);
  }

  // A rollout still within its deadline is looked at again when the deadline passes.
  private requeueStuck(d: Deployment, status: DeploymentStatus): void {
    const cur = getCondition(d.status, 'Progressing');
    if (!hasProgressDeadline(d) || cur === undefined) return;
    if (deploymentComplete(d, status) || cur.reason === REASONS.timedOut) return;
    const last = Date.parse(cur.lastUpdateTime ?? '');
    if (Number.isNaN(last)) return;
    const after = last + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 - this.now();
    this.deps.requeueAfter(d, after < 1000 ? 0 : after + 1000);
  }

  /** The status fields from the ReplicaSets (upstream calculateStatus). */
  calculateStatus(
    all: Array<ReplicaSet | undefined>,
    newRS: ReplicaSet | undefined,
    d: Deployment,
  ): DeploymentStatus {
    const available = availableReplicaCount(all);
    const total = replicaCount(all);
    const status: DeploymentStatus = {
      observedGeneration: d.metadata?.generation ?? 0,
      replicas: actualReplicaCount(all),
      updatedReplicas: actualReplicaCount([newRS]),
      readyReplicas: readyReplicaCount(all),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
    };
    omitZero(status, DEPLOYMENT_STATUS_OMIT_ZERO);
    if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
    if (d.status?.conditions !== undefined) status.conditions = d.status.conditions.map((c) => ({ ...c }));
    const now = this.now();
    if (available >= replicasOf(d) - maxUnavailable(d)) {
      setCondition(
        status,
        newCondition(
          'Available',
          'True',
          REASONS.minimumReplicasAvailable,
          'Deployment has minimum availability.',
          now,
        ),
      );
    } else {
      setCondition(
        status,
        newCondition(
          'Available',
          'False',
          REASONS.minimumReplicasUnavailable,
          'Deployment does not have minimum availability.',
          now,
        ),
      );
    }
    return status;
  }
}

const REVISION_ANNOTATION_KEY = 'deployment.kubernetes.io/revision';

function oldPodsRunning(
  newRS: ReplicaSet | undefined,
  oldRSs: ReplicaSet[],
  podsByRS: Map<string, Pod[]>,
): boolean {
  if (actualReplicaCount(oldRSs) > 0) return true;
  for (const [uid, pods] of podsByRS) {
    if (newRS !== undefined && newRS.metadata?.uid === uid) continue;
    for (const p of pods) {
      const phase = p.status?.phase;
      if (phase === 'Failed' || phase === 'Succeeded') continue;
      return true;
    }
  }
  return false;
}

// Every count of a DeploymentStatus is an omitempty int32 upstream (collisionCount is a pointer).
const DEPLOYMENT_STATUS_OMIT_ZERO: ReadonlyArray<keyof DeploymentStatus> = [
  'observedGeneration',
  'replicas',
  'updatedReplicas',
  'readyReplicas',
  'availableReplicas',
  'unavailableReplicas',
];

function statusEqual(a: DeploymentStatus | undefined, b: DeploymentStatus): boolean {
  return canonicalStatus(a ?? {}) === canonicalStatus(b);
}

function canonicalStatus(s: DeploymentStatus): string {
  const norm = {
    observedGeneration: s.observedGeneration ?? 0,
    replicas: s.replicas ?? 0,
    updatedReplicas: s.updatedReplicas ?? 0,
    readyReplicas: s.readyReplicas ?? 0,
    availableReplicas: s.availableReplicas ?? 0,
    unavailableReplicas: s.unavailableReplicas ?? 0,
    collisionCount: s.collisionCount ?? null,
    conditions: (s.conditions ?? []).map((c) => [
      c.type,
      c.status,
      c.reason ?? '',
      c.message ?? '',
      c.lastUpdateTime ?? '',
      c.lastTransitionTime ?? '',
    ]),
  };
  return JSON.stringify(norm);
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
