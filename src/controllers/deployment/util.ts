// Pure helpers of the Deployment controller (upstream pkg/controller/deployment/util):
// the pod-template-hash, revision and replica annotations, maxSurge/maxUnavailable
// fenceposts, replica counting over ReplicaSets, conditions, and finding the new and old
// ReplicaSets of a Deployment.
import type {
  Deployment,
  DeploymentCondition,
  DeploymentStatus,
  ReplicaSet,
} from '../../api/generated/types/apps-v1.js';
import type { PodTemplateSpec } from '../../api/generated/types/core-v1.js';
import { getScaledValueFromIntOrPercent } from '../../machinery/intstr.js';
import { formatTimestamp, parseTimestamp, safeEncodeString } from '../../machinery/object-meta.js';

/** The label (and selector key) that ties a ReplicaSet and its pods to one template. */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
/** The revision of a Deployment / ReplicaSet. */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
/** Earlier revisions a ReplicaSet served (after a rollback to it). */
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
/** The Deployment's replicas when the ReplicaSet was last scaled. */
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
/** replicas + maxSurge when the ReplicaSet was last scaled. */
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
/** Legacy rollback request annotation (extensions/v1beta1). */
export const ROLLBACK_TO_ANNOTATION = 'deprecated.deployment.rollback.to';

/** Progressing reasons and Available reasons, as upstream. */
export const REASONS = {
  newReplicaSet: 'NewReplicaSetCreated',
  foundNewReplicaSet: 'FoundNewReplicaSet',
  replicaSetUpdated: 'ReplicaSetUpdated',
  newRSAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  failedRSCreate: 'ReplicaSetCreateError',
  minimumReplicasAvailable: 'MinimumReplicasAvailable',
  minimumReplicasUnavailable: 'MinimumReplicasUnavailable',
} as const;

// Deployment annotations never copied onto its ReplicaSets.
const ANNOTATIONS_TO_SKIP = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  ROLLBACK_TO_ANNOTATION,
]);

// JSON with sorted keys, so equal templates hash equally whatever their key order.
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
}

function fnv32a(bytes: Uint8Array, h = 0x811c9dc5): number {
  let hash = h;
  for (const b of bytes) {
    hash ^= b;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * The pod-template-hash (upstream ComputeHash): FNV-32a over the template — here its
 * canonical JSON, where upstream hashes Go's printed struct — then the collision count as
 * 8 little-endian bytes, rendered with SafeEncodeString.
 */
export function computeHash(template: PodTemplateSpec, collisionCount?: number): string {
  let h = fnv32a(new TextEncoder().encode(canonical(template)));
  if (collisionCount !== undefined) {
    const buf = new Uint8Array(8);
    new DataView(buf.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(buf, h);
  }
  return safeEncodeString(String(h));
}

function withoutHash(t: PodTemplateSpec | undefined): string {
  const c = structuredClone(t ?? {});
  const labels = c.metadata?.labels;
  if (labels !== undefined) {
    delete labels[POD_TEMPLATE_HASH_LABEL];
    if (Object.keys(labels).length === 0 && c.metadata !== undefined) delete c.metadata.labels;
  }
  if (c.metadata !== undefined && Object.keys(c.metadata).length === 0) delete c.metadata;
  return canonical(c);
}

/** Templates equal apart from the pod-template-hash label (upstream EqualIgnoreHash). */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return withoutHash(a) === withoutHash(b);
}

/** Oldest first; ties by name (upstream ReplicaSetsByCreationTimestamp). */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const ta = parseTimestamp(a.metadata?.creationTimestamp) ?? 0;
  const tb = parseTimestamp(b.metadata?.creationTimestamp) ?? 0;
  if (ta !== tb) return ta - tb;
  return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1;
}

/** The ReplicaSet whose template is the Deployment's (the oldest if several). */
export function findNewReplicaSet(d: Deployment, rsList: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...rsList].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** Every ReplicaSet but the new one. */
export function findOldReplicaSets(
  rsList: readonly ReplicaSet[],
  newRS: ReplicaSet | undefined,
): ReplicaSet[] {
  return rsList.filter((rs) => rs.metadata?.uid !== newRS?.metadata?.uid);
}

/** An object's revision annotation as a number (0 when absent or invalid). */
export function revisionOf(obj: { metadata?: { annotations?: Record<string, string> } }): number {
  const v = obj.metadata?.annotations?.[REVISION_ANNOTATION];
  if (v === undefined || !/^\d+$/.test(v)) return 0;
  return Number(v);
}

/** The highest revision among ReplicaSets. */
export function maxRevision(rsList: readonly ReplicaSet[]): number {
  return rsList.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

/** spec.replicas (defaulted to 1). */
export function replicasOf(o: { spec?: { replicas?: number } } | undefined): number {
  return o?.spec?.replicas ?? 1;
}

/** True for the RollingUpdate strategy (the default). */
export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

/** maxSurge and maxUnavailable resolved against `desired` (upstream ResolveFenceposts). */
export function resolveFenceposts(d: Deployment, desired: number): { surge: number; unavailable: number } {
  const ru = d.spec?.strategy?.rollingUpdate;
  const surge = getScaledValueFromIntOrPercent(ru?.maxSurge ?? '25%', desired, true);
  let unavailable = getScaledValueFromIntOrPercent(ru?.maxUnavailable ?? '25%', desired, false);
  // Both may round to zero; then one pod may be unavailable, as surge might be blocked by quota.
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

/** Pods a rollout may add above spec.replicas. */
export function maxSurge(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  return resolveFenceposts(d, replicasOf(d)).surge;
}

/** Pods a rollout may take below spec.replicas. */
export function maxUnavailable(d: Deployment): number {
  const want = replicasOf(d);
  if (!isRollingUpdate(d) || want === 0) return 0;
  return Math.min(resolveFenceposts(d, want).unavailable, want);
}

/** Sum of spec.replicas. */
export function replicaCount(rsList: ReadonlyArray<ReplicaSet | undefined>): number {
  return rsList.reduce((n, rs) => n + (rs === undefined ? 0 : replicasOf(rs)), 0);
}

/** Sum of status.replicas. */
export function actualReplicaCount(rsList: ReadonlyArray<ReplicaSet | undefined>): number {
  return rsList.reduce((n, rs) => n + (rs?.status?.replicas ?? 0), 0);
}

/** Sum of status.readyReplicas. */
export function readyReplicaCount(rsList: ReadonlyArray<ReplicaSet | undefined>): number {
  return rsList.reduce((n, rs) => n + (rs?.status?.readyReplicas ?? 0), 0);
}

/** Sum of status.availableReplicas. */
export function availableReplicaCount(rsList: ReadonlyArray<ReplicaSet | undefined>): number {
  return rsList.reduce((n, rs) => n + (rs?.status?.availableReplicas ?? 0), 0);
}

/** ReplicaSets with spec.replicas > 0. */
export function activeReplicaSets(rsList: ReadonlyArray<ReplicaSet | undefined>): ReplicaSet[] {
  return rsList.filter((rs): rs is ReplicaSet => rs !== undefined && replicasOf(rs) > 0);
}

/** An int annotation of a ReplicaSet, if present and valid. */
export function intAnnotation(rs: ReplicaSet, key: string): number | undefined {
  const v = rs.metadata?.annotations?.[key];
  if (v === undefined || !/^-?\d+$/.test(v)) return undefined;
  return Number(v);
}

/** True when the new ReplicaSet runs all of spec.replicas, available (upstream IsSaturated). */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (rs === undefined) return false;
  const want = replicasOf(d);
  return (
    intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION) === want &&
    replicasOf(rs) === want &&
    (rs.status?.availableReplicas ?? 0) === want
  );
}

/** The only active ReplicaSet, or the newest when none is active (upstream FindActiveOrLatest). */
export function findActiveOrLatest(
  newRS: ReplicaSet | undefined,
  oldRSs: ReplicaSet[],
): ReplicaSet | undefined {
  if (newRS === undefined && oldRSs.length === 0) return undefined;
  const sorted = [...oldRSs].sort((a, b) => -byCreation(a, b));
  const active = activeReplicaSets([...sorted, newRS]);
  if (active.length === 0) return newRS ?? sorted[0];
  if (active.length === 1) return active[0];
  return undefined;
}

/** Sets the desired/max replicas annotations; true when changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const meta = rs.metadata ?? {};
  rs.metadata = meta;
  const a = { ...(meta.annotations ?? {}) };
  const changed =
    a[DESIRED_REPLICAS_ANNOTATION] !== String(desired) || a[MAX_REPLICAS_ANNOTATION] !== String(max);
  a[DESIRED_REPLICAS_ANNOTATION] = String(desired);
  a[MAX_REPLICAS_ANNOTATION] = String(max);
  meta.annotations = a;
  return changed;
}

/** True when the replicas annotations differ from these values. */
export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = rs.metadata?.annotations ?? {};
  return a[DESIRED_REPLICAS_ANNOTATION] !== String(desired) || a[MAX_REPLICAS_ANNOTATION] !== String(max);
}

/**
 * Copies the Deployment's annotations and sets the revision (and revision history) on its
 * new ReplicaSet (upstream SetNewReplicaSetAnnotations); true when anything changed.
 */
export function setNewReplicaSetAnnotations(
  d: Deployment,
  rs: ReplicaSet,
  newRevision: string,
  exists: boolean,
  historyLimitChars = 2000,
): boolean {
  const meta = rs.metadata ?? {};
  rs.metadata = meta;
  const a = { ...(meta.annotations ?? {}) };
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (ANNOTATIONS_TO_SKIP.has(k) || a[k] === v) continue;
    a[k] = v;
    changed = true;
  }
  const oldRevision = a[REVISION_ANNOTATION] ?? '';
  const oldNum = oldRevision === '' ? 0 : Number(oldRevision);
  const newNum = Number(newRevision);
  if (!Number.isInteger(oldNum) || !Number.isInteger(newNum)) {
    meta.annotations = a;
    return changed;
  }
  if (oldNum < newNum) {
    a[REVISION_ANNOTATION] = newRevision;
    changed = true;
  }
  if (oldRevision !== '' && oldNum < newNum) {
    const history = a[REVISION_HISTORY_ANNOTATION] ?? '';
    let entries = history === '' ? [] : history.split(',');
    entries.push(oldRevision);
    // Keep the most recent entries within the limit.
    while (entries.join(',').length > historyLimitChars && entries.length > 1) entries = entries.slice(1);
    a[REVISION_HISTORY_ANNOTATION] = entries.join(',');
  }
  meta.annotations = a;
  if (!exists) {
    if (setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  }
  return changed;
}

/** Sets the Deployment's revision annotation; true when changed. */
export function setDeploymentRevision(d: Deployment, revision: string): boolean {
  const meta = d.metadata ?? {};
  d.metadata = meta;
  if (meta.annotations?.[REVISION_ANNOTATION] === revision) return false;
  meta.annotations = { ...(meta.annotations ?? {}), [REVISION_ANNOTATION]: revision };
  return true;
}

/** A condition stamped `now` (upstream NewDeploymentCondition). */
export function newCondition(
  type: string,
  status: string,
  reason: string,
  message: string,
  now: number,
): DeploymentCondition {
  const t = formatTimestamp(now);
  return { type, status, reason, message, lastUpdateTime: t, lastTransitionTime: t };
}

/** The condition of a type, if present. */
export function getCondition(
  status: DeploymentStatus | undefined,
  type: string,
): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** Sets a condition, keeping lastTransitionTime when the status did not change (upstream). */
export function setCondition(status: DeploymentStatus, c: DeploymentCondition): void {
  const cur = getCondition(status, c.type);
  if (cur !== undefined && cur.status === c.status && cur.reason === c.reason) return;
  const next = { ...c };
  if (cur !== undefined && cur.status === c.status && cur.lastTransitionTime !== undefined) {
    next.lastTransitionTime = cur.lastTransitionTime;
  }
  status.conditions = [...(status.conditions ?? []).filter((x) => x.type !== c.type), next];
}

/** Removes the condition of a type. */
export function removeCondition(status: DeploymentStatus, type: string): void {
  const rest = (status.conditions ?? []).filter((c) => c.type !== type);
  if (rest.length > 0) status.conditions = rest;
  else delete status.conditions;
}

/** True when progressDeadlineSeconds is set (and not the "no deadline" MaxInt32). */
export function hasProgressDeadline(d: Deployment): boolean {
  const p = d.spec?.progressDeadlineSeconds;
  return p !== undefined && p !== 2147483647;
}

/** All replicas updated and available, and the latest spec observed (upstream DeploymentComplete). */
export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const want = replicasOf(d);
  return (
    (s.updatedReplicas ?? 0) === want &&
    (s.replicas ?? 0) === want &&
    (s.availableReplicas ?? 0) === want &&
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0)
  );
}

/** True when the new status shows progress over the old one (upstream DeploymentProgressing). */
export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const o = d.status ?? {};
  const oldOld = (o.replicas ?? 0) - (o.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (o.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (o.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (o.availableReplicas ?? 0)
  );
}

/** True when the Progressing condition is older than the deadline (upstream DeploymentTimedOut). */
export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s, 'Progressing');
  if (c === undefined) return false;
  if (c.reason === REASONS.newRSAvailable) return false;
  if (c.reason === REASONS.timedOut) return true;
  const from = parseTimestamp(c.lastUpdateTime);
  if (from === undefined) return false;
  return from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 < now;
}

/** Replicas the new ReplicaSet may have now (upstream NewRSNewReplicas). */
export function newRSNewReplicas(
  d: Deployment,
  allRSs: ReadonlyArray<ReplicaSet | undefined>,
  newRS: ReplicaSet,
): number {
  const want = replicasOf(d);
  if (!isRollingUpdate(d)) return want;
  const surge = getScaledValueFromIntOrPercent(
    d.spec?.strategy?.rollingUpdate?.maxSurge ?? '25%',
    want,
    true,
  );
  const current = replicaCount(allRSs);
  const maxTotal = want + surge;
  if (current >= maxTotal) return replicasOf(newRS);
  const up = Math.min(maxTotal - current, want - replicasOf(newRS));
  return replicasOf(newRS) + up;
}

/** Go's math.Round for the proportional scaling estimate. */
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** How many replicas one ReplicaSet gets of a proportional scale (upstream GetReplicaSetProportion). */
export function replicaSetProportion(d: Deployment, rs: ReplicaSet, toAdd: number, added: number): number {
  if (replicasOf(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const allowed = toAdd - added;
  let fraction: number;
  if (replicasOf(d) === 0) fraction = -replicasOf(rs);
  else {
    const deploymentReplicas = replicasOf(d) + maxSurge(d);
    const annotated = intAnnotation(rs, MAX_REPLICAS_ANNOTATION) ?? d.status?.replicas ?? 0;
    fraction =
      annotated === 0 ? 0 : roundHalfAway((replicasOf(rs) * deploymentReplicas) / annotated) - replicasOf(rs);
  }
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/** The Deployment's status, created empty if absent (so conditions can be set on it). */
export function statusOf(d: Deployment): DeploymentStatus {
  if (d.status === undefined) d.status = {};
  return d.status;
}
