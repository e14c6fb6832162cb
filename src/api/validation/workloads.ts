// Validation of the apps/v1 workloads — Deployment, ReplicaSet, StatefulSet, DaemonSet —
// and core/v1 ReplicationController (upstream pkg/apis/apps/validation and the strategies'
// apps/v1 selector immutability): selectors required, non-empty and matching the template
// labels, pod templates valid with restartPolicy Always, strategies well-formed.
import { labelSelectorAsSelector } from '../../machinery/labels/label-selector.js';
import type { LabelSelector } from '../../machinery/labels/label-selector.js';
import { validateLabelSelector } from '../../machinery/labels/validation.js';
import type { FieldError } from '../../machinery/status-error.js';
import { isValidPercent, nameIsDNSSubdomain } from '../../machinery/validation/names.js';
import type {
  DaemonSet,
  DaemonSetSpec,
  Deployment,
  DeploymentSpec,
  ReplicaSet,
  ReplicaSetSpec,
  StatefulSet,
  StatefulSetSpec,
} from '../generated/types/apps-v1.js';
import type { PodTemplateSpec } from '../generated/types/core-v1.js';
import {
  forbidden,
  immutableSelector,
  invalidEach,
  invalidValue,
  jsonEqual,
  listOf,
  nonNegative,
  notSupported,
  required,
} from './field.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.js';
import { validatePodTemplateSpec } from './pod.js';

type IntOrPercent = number | string | undefined | null;

function selectorMatches(
  sel: LabelSelector,
  labels: Record<string, string> | undefined,
): boolean | undefined {
  try {
    const s = labelSelectorAsSelector(sel);
    if (s.empty()) return undefined;
    return s.matches(labels ?? {});
  } catch {
    return undefined;
  }
}

/** Selector required, valid and non-empty (`empty selector is invalid for <what>`). */
function validateSelector(sel: LabelSelector | undefined | null, what: string, path: string): FieldError[] {
  if (sel == null) return [required(path)];
  const errs = validateLabelSelector(sel, {}, path);
  if (Object.keys(sel.matchLabels ?? {}).length + listOf(sel.matchExpressions).length === 0) {
    errs.push(invalidValue(path, sel, `empty selector is invalid for ${what}`));
  }
  return errs;
}

function selectorMismatch(
  sel: LabelSelector | undefined | null,
  t: PodTemplateSpec | undefined,
  path: string,
): FieldError[] {
  if (sel == null) return [];
  const labels = t?.metadata?.labels;
  if (selectorMatches(sel, labels) === false) {
    return [
      invalidValue(`${path}.metadata.labels`, labels ?? {}, '`selector` does not match template `labels`'),
    ];
  }
  return [];
}

function restartAlways(t: PodTemplateSpec | undefined, path: string): FieldError[] {
  const p = t?.spec?.restartPolicy ?? '';
  return p === 'Always' ? [] : [notSupported(`${path}.spec.restartPolicy`, p, ['Always'])];
}

/** ValidatePodTemplateSpecForReplicaSet (Deployments, ReplicaSets, ReplicationControllers). */
function validateTemplateForReplicaSet(
  sel: LabelSelector | undefined | null,
  t: PodTemplateSpec | undefined,
  path: string,
): FieldError[] {
  if (t == null) return [required(path)];
  const errs = selectorMismatch(sel, t, path);
  errs.push(...validatePodTemplateSpec(t, path));
  errs.push(...restartAlways(t, path));
  const ads = t.spec?.activeDeadlineSeconds;
  if (ads != null) {
    errs.push(
      invalidValue(
        `${path}.spec.activeDeadlineSeconds`,
        ads,
        'activeDeadlineSeconds in ReplicaSet is not Supported',
      ),
    );
  }
  return errs;
}

function percentValue(v: IntOrPercent): number | undefined {
  if (typeof v !== 'string' || !v.endsWith('%')) return undefined;
  const n = Number(v.slice(0, -1));
  return Number.isInteger(n) ? n : undefined;
}

function intOrPercentValue(v: IntOrPercent): number {
  if (typeof v === 'number') return v;
  return percentValue(v) ?? 0;
}

function validatePositiveIntOrPercent(v: IntOrPercent, path: string): FieldError[] {
  if (typeof v === 'string') return invalidEach(path, v, isValidPercent(v));
  if (typeof v === 'number') return nonNegative(v, path);
  return [];
}

function notMoreThan100Percent(v: IntOrPercent, path: string): FieldError[] {
  const p = percentValue(v);
  return p !== undefined && p > 100 ? [invalidValue(path, v, 'must not be greater than 100%')] : [];
}

function validateDeploymentSpec(spec: Partial<DeploymentSpec>): FieldError[] {
  const errs = nonNegative(spec.replicas, 'spec.replicas');
  errs.push(...validateSelector(spec.selector, 'deployment', 'spec.selector'));
  errs.push(...validateTemplateForReplicaSet(spec.selector, spec.template, 'spec.template'));
  const st = spec.strategy ?? {};
  const type = st.type ?? '';
  if (type === 'Recreate') {
    if (st.rollingUpdate != null) {
      errs.push(
        forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"),
      );
    }
  } else if (type === 'RollingUpdate') {
    const ru = st.rollingUpdate;
    if (ru == null) {
      errs.push(required('spec.strategy.rollingUpdate', 'this should be defaulted and never be nil'));
    } else {
      const path = 'spec.strategy.rollingUpdate';
      errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, `${path}.maxUnavailable`));
      errs.push(...validatePositiveIntOrPercent(ru.maxSurge, `${path}.maxSurge`));
      if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
        errs.push(
          invalidValue(`${path}.maxUnavailable`, ru.maxUnavailable ?? 0, 'may not be 0 when `maxSurge` is 0'),
        );
      }
      errs.push(...notMoreThan100Percent(ru.maxUnavailable, `${path}.maxUnavailable`));
    }
  } else {
    errs.push(notSupported('spec.strategy', st, ['Recreate', 'RollingUpdate']));
  }
  const mrs = spec.minReadySeconds ?? 0;
  errs.push(...nonNegative(mrs, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  const pds = spec.progressDeadlineSeconds;
  if (pds != null) {
    errs.push(...nonNegative(pds, 'spec.progressDeadlineSeconds'));
    if (pds <= mrs)
      errs.push(invalidValue('spec.progressDeadlineSeconds', pds, 'must be greater than minReadySeconds'));
  }
  return errs;
}

/** ValidateDeployment. */
export function validateDeployment(d: Deployment): FieldError[] {
  const errs = validateObjectMeta(d.metadata, true, nameIsDNSSubdomain);
  errs.push(...validateDeploymentSpec(d.spec ?? {}));
  return errs;
}

/** ValidateDeploymentUpdate plus the apps/v1 immutable selector. */
export function validateDeploymentUpdate(d: Deployment, old: Deployment): FieldError[] {
  const errs = validateObjectMetaUpdate(d.metadata, old.metadata);
  errs.push(...validateDeploymentSpec(d.spec ?? {}));
  errs.push(...immutableSelector(d.spec?.selector, old.spec?.selector, 'spec.selector'));
  return errs;
}

function validateReplicaSetSpec(spec: Partial<ReplicaSetSpec>): FieldError[] {
  const errs = nonNegative(spec.replicas, 'spec.replicas');
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateSelector(spec.selector, 'deployment', 'spec.selector'));
  errs.push(...validateTemplateForReplicaSet(spec.selector, spec.template, 'spec.template'));
  return errs;
}

/** ValidateReplicaSet. */
export function validateReplicaSet(rs: ReplicaSet): FieldError[] {
  const errs = validateObjectMeta(rs.metadata, true, nameIsDNSSubdomain);
  errs.push(...validateReplicaSetSpec(rs.spec ?? {}));
  return errs;
}

/** ValidateReplicaSetUpdate plus the apps/v1 immutable selector. */
export function validateReplicaSetUpdate(rs: ReplicaSet, old: ReplicaSet): FieldError[] {
  const errs = validateObjectMetaUpdate(rs.metadata, old.metadata);
  errs.push(...validateReplicaSetSpec(rs.spec ?? {}));
  errs.push(...immutableSelector(rs.spec?.selector, old.spec?.selector, 'spec.selector'));
  return errs;
}

function validateStatefulSetSpec(spec: Partial<StatefulSetSpec>): FieldError[] {
  const errs: FieldError[] = [];
  const pmp = spec.podManagementPolicy ?? '';
  if (pmp === '') errs.push(required('spec.podManagementPolicy'));
  else if (pmp !== 'OrderedReady' && pmp !== 'Parallel') {
    errs.push(invalidValue('spec.podManagementPolicy', pmp, "must be 'OrderedReady' or 'Parallel'"));
  }
  const us = spec.updateStrategy ?? {};
  const ut = us.type ?? '';
  if (ut === '') errs.push(required('spec.updateStrategy'));
  else if (ut === 'OnDelete') {
    if (us.rollingUpdate != null) {
      errs.push(
        invalidValue(
          'spec.updateStrategy.rollingUpdate',
          us.rollingUpdate,
          "only allowed for updateStrategy 'RollingUpdate'",
        ),
      );
    }
  } else if (ut === 'RollingUpdate') {
    errs.push(...nonNegative(us.rollingUpdate?.partition, 'spec.updateStrategy.rollingUpdate.partition'));
  } else {
    errs.push(invalidValue('spec.updateStrategy', us, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const ret = spec.persistentVolumeClaimRetentionPolicy;
  if (ret != null) {
    for (const k of ['whenDeleted', 'whenScaled'] as const) {
      const v = ret[k] ?? '';
      if (v !== 'Retain' && v !== 'Delete') {
        errs.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${k}`, v, ['Retain', 'Delete']));
      }
    }
  }
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.ordinals?.start, 'spec.ordinals.start'));
  errs.push(...validateSelector(spec.selector, 'statefulset', 'spec.selector'));
  const t = spec.template;
  errs.push(...selectorMismatch(spec.selector, t, 'spec.template'));
  // Claim templates become volumes of every pod, so mounts may name them.
  const claims = listOf(spec.volumeClaimTemplates).map((c) => c.metadata?.name ?? '');
  errs.push(...validatePodTemplateSpec(t, 'spec.template', claims));
  errs.push(...restartAlways(t, 'spec.template'));
  if (t?.spec?.activeDeadlineSeconds != null) {
    errs.push(
      forbidden(
        'spec.template.spec.activeDeadlineSeconds',
        'activeDeadlineSeconds in StatefulSet is not Supported',
      ),
    );
  }
  return errs;
}

/** ValidateStatefulSet. */
export function validateStatefulSet(ss: StatefulSet): FieldError[] {
  const errs = validateObjectMeta(ss.metadata, true, nameIsDNSSubdomain);
  errs.push(...validateStatefulSetSpec(ss.spec ?? {}));
  return errs;
}

const STATEFULSET_MUTABLE = [
  'replicas',
  'template',
  'updateStrategy',
  'minReadySeconds',
  'ordinals',
  'revisionHistoryLimit',
  'persistentVolumeClaimRetentionPolicy',
] as const;

/** ValidateStatefulSetUpdate: only a few spec fields may change. */
export function validateStatefulSetUpdate(ss: StatefulSet, old: StatefulSet): FieldError[] {
  const errs = validateObjectMetaUpdate(ss.metadata, old.metadata);
  const ns: Record<string, unknown> = { ...(ss.spec ?? {}) };
  const os: Record<string, unknown> = { ...(old.spec ?? {}) };
  for (const k of STATEFULSET_MUTABLE) {
    delete ns[k];
    delete os[k];
  }
  if (!jsonEqual(ns, os)) {
    errs.push(
      forbidden(
        'spec',
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    );
  }
  errs.push(...validateStatefulSetSpec(ss.spec ?? {}));
  return errs;
}

function validateDaemonSetSpec(spec: Partial<DaemonSetSpec>): FieldError[] {
  const errs: FieldError[] = [];
  const sel = spec.selector;
  if (sel != null) errs.push(...validateLabelSelector(sel, {}, 'spec.selector'));
  errs.push(...selectorMismatch(sel, spec.template, 'spec.template'));
  if (sel != null && Object.keys(sel.matchLabels ?? {}).length + listOf(sel.matchExpressions).length === 0) {
    errs.push(invalidValue('spec.selector', sel, 'empty selector is invalid for daemonset'));
  }
  if (sel == null) errs.push(required('spec.selector'));
  errs.push(...validatePodTemplateSpec(spec.template, 'spec.template'));
  errs.push(...restartAlways(spec.template, 'spec.template'));
  const ads = spec.template?.spec?.activeDeadlineSeconds;
  if (ads != null) {
    errs.push(
      invalidValue(
        'spec.template.spec.activeDeadlineSeconds',
        ads,
        'activeDeadlineSeconds must be nil for daemon set pods',
      ),
    );
  }
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  const us = spec.updateStrategy ?? {};
  const type = us.type ?? '';
  if (type === 'RollingUpdate') {
    const ru = us.rollingUpdate;
    const path = 'spec.updateStrategy.rollingUpdate';
    if (ru == null) {
      errs.push(required(path));
    } else {
      errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, `${path}.maxUnavailable`));
      errs.push(...validatePositiveIntOrPercent(ru.maxSurge, `${path}.maxSurge`));
      errs.push(...notMoreThan100Percent(ru.maxUnavailable, `${path}.maxUnavailable`));
      errs.push(...notMoreThan100Percent(ru.maxSurge, `${path}.maxSurge`));
      const hasUnavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
      const hasSurge = intOrPercentValue(ru.maxSurge) !== 0;
      if (hasUnavailable && hasSurge) {
        errs.push(
          invalidValue(`${path}.maxSurge`, ru.maxSurge, 'may not be set when maxUnavailable is non-zero'),
        );
      } else if (!hasUnavailable && !hasSurge) {
        errs.push(required(`${path}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
      }
    }
  } else if (type !== 'OnDelete') {
    errs.push(notSupported('spec.updateStrategy', us, ['RollingUpdate', 'OnDelete']));
  }
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  return errs;
}

/** ValidateDaemonSet. */
export function validateDaemonSet(ds: DaemonSet): FieldError[] {
  const errs = validateObjectMeta(ds.metadata, true, nameIsDNSSubdomain);
  errs.push(...validateDaemonSetSpec(ds.spec ?? {}));
  return errs;
}

/** ValidateDaemonSetUpdate plus the apps/v1 immutable selector. */
export function validateDaemonSetUpdate(ds: DaemonSet, old: DaemonSet): FieldError[] {
  const errs = validateObjectMetaUpdate(ds.metadata, old.metadata);
  errs.push(...immutableSelector(ds.spec?.selector, old.spec?.selector, 'spec.selector'));
  errs.push(...validateDaemonSetSpec(ds.spec ?? {}));
  return errs;
}
