// The Strategy of customresourcedefinitions (upstream's customresourcedefinition strategy
// and REST storage): defaults (singular, listKind, conversion None), status reset on create
// with the storage version recorded in storedVersions, the cleanup finalizer, status kept
// across spec updates, the Terminating condition when deletion starts, and validation.
import type {
  CustomResourceDefinition,
  CustomResourceDefinitionCondition,
} from '../api/generated/types/apiextensions-v1.js';
import type { ResourceInfo } from '../api/registry-types.js';
import type { FieldError } from '../machinery/status-error.js';
import type { KObject } from '../apiserver/registry/object.js';
import { rfc3339 } from '../apiserver/registry/store.js';
import { DefaultStrategy, type Strategy, type StrategyContext } from '../apiserver/registry/strategy.js';
import {
  validateCustomResourceDefinition,
  validateCustomResourceDefinitionStatusUpdate,
  validateCustomResourceDefinitionUpdate,
} from './crd-validation.js';

/** The finalizer that holds a CRD until its custom objects are gone. */
export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

const asCRD = (o: KObject): CustomResourceDefinition => o as unknown as CustomResourceDefinition;

/** Upstream's v1 defaults of a CRD spec. */
export function defaultCRD(crd: CustomResourceDefinition): void {
  const spec = crd.spec;
  if (spec === undefined || spec === null || typeof spec !== 'object') return;
  const names = spec.names;
  if (names !== undefined && typeof names === 'object' && names !== null) {
    if ((names.singular === undefined || names.singular === '') && typeof names.kind === 'string')
      names.singular = names.kind.toLowerCase();
    if (
      (names.listKind === undefined || names.listKind === '') &&
      typeof names.kind === 'string' &&
      names.kind !== ''
    )
      names.listKind = `${names.kind}List`;
  }
  if (spec.conversion === undefined) spec.conversion = { strategy: 'None' };
  if (
    spec.conversion.strategy === 'Webhook' &&
    spec.conversion.webhook?.clientConfig?.service !== undefined
  ) {
    spec.conversion.webhook.clientConfig.service.port ??= 443;
  }
}

// The storage version joins storedVersions as soon as it is the storage version.
function recordStorageVersion(crd: CustomResourceDefinition): void {
  const storage = (crd.spec?.versions ?? []).find((v) => v.storage);
  if (!storage) return;
  if (crd.status === undefined) crd.status = {};
  const status = crd.status;
  const stored = status.storedVersions ?? [];
  if (!stored.includes(storage.name)) status.storedVersions = [...stored, storage.name];
}

/** Sets (or replaces) a condition, keeping lastTransitionTime when the status did not change. */
export function setCondition(
  crd: CustomResourceDefinition,
  cond: Omit<CustomResourceDefinitionCondition, 'lastTransitionTime'>,
  now: Date,
): void {
  if (crd.status === undefined) crd.status = {};
  const status = crd.status;
  const conds = status.conditions ?? [];
  const old = conds.find((c) => c.type === cond.type);
  const next: CustomResourceDefinitionCondition = {
    type: cond.type,
    status: cond.status,
    lastTransitionTime:
      old !== undefined && old.status === cond.status && old.lastTransitionTime
        ? old.lastTransitionTime
        : rfc3339(now),
    ...(cond.reason !== undefined ? { reason: cond.reason } : {}),
    ...(cond.message !== undefined ? { message: cond.message } : {}),
  };
  status.conditions = old === undefined ? [...conds, next] : conds.map((c) => (c === old ? next : c));
}

class CustomResourceDefinitionStrategy extends DefaultStrategy {
  override prepareForCreate(obj: KObject, _ctx: StrategyContext): void {
    const crd = asCRD(obj);
    defaultCRD(crd);
    crd.status = {};
    recordStorageVersion(crd);
    if (obj.metadata === undefined) obj.metadata = {};
    const m = obj.metadata;
    const fins = m.finalizers ?? [];
    if (!fins.includes(CRD_CLEANUP_FINALIZER)) m.finalizers = [...fins, CRD_CLEANUP_FINALIZER];
  }

  override prepareForUpdate(obj: KObject, old: KObject, ctx: StrategyContext): void {
    super.prepareForUpdate(obj, old, ctx);
    const crd = asCRD(obj);
    defaultCRD(crd);
    if (crd.status !== undefined) crd.status = structuredClone(crd.status);
    recordStorageVersion(crd);
  }

  validate(obj: KObject, _ctx: StrategyContext): FieldError[] {
    return validateCustomResourceDefinition(asCRD(obj));
  }

  validateUpdate(obj: KObject, old: KObject, _ctx: StrategyContext): FieldError[] {
    const crd = asCRD(obj);
    const prev = asCRD(old);
    // A status write leaves spec as it was: only status rules apply (upstream's status strategy).
    if (JSON.stringify(crd.spec) === JSON.stringify(prev.spec))
      return validateCustomResourceDefinitionStatusUpdate(crd, prev);
    return validateCustomResourceDefinitionUpdate(crd, prev);
  }

  beginDelete(obj: KObject, ctx: StrategyContext): void {
    setCondition(
      asCRD(obj),
      {
        type: 'Terminating',
        status: 'True',
        reason: 'InstanceDeletionInProgress',
        message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon',
      },
      ctx.now,
    );
  }
}

/** The strategy override for customresourcedefinitions (undefined for every other resource). */
export function crdStrategyOverride(r: ResourceInfo): Strategy | undefined {
  if (r.group !== 'apiextensions.k8s.io' || r.plural !== 'customresourcedefinitions') return undefined;
  return new CustomResourceDefinitionStrategy(r, { tracksGeneration: true });
}
