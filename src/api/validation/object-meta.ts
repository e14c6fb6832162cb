// metadata validation shared by every kind (upstream apimachinery api/validation
// ValidateObjectMeta / ValidateObjectMetaUpdate): name or generateName by the kind's name rule,
// namespace required or forbidden by scope, labels, annotations, owner references,
// finalizers, and the fields an update may not change.
import type { FieldError } from '../../machinery/status-error.js';
import { validateOwnerReferences } from '../../machinery/owner-references.js';
import type { OwnerReference } from '../../machinery/owner-references.js';
import {
  type ValidateNameFunc,
  validateFinalizers,
  validateNamespaceName,
  validateNoNewFinalizers,
} from '../../machinery/validation/names.js';
import type { ObjectMeta } from '../generated/types/meta-v1.js';
import { forbidden, immutable, invalidEach, invalidValue, nonNegative, required } from './field.js';
import { memoNameFunc, validateAnnotationsMemo, validateLabelsMemo } from './memo.js';

const namespaceName = memoNameFunc(validateNamespaceName);

/** ValidateObjectMeta at fldPath (normally `metadata`). */
export function validateObjectMeta(
  meta: ObjectMeta | undefined | null,
  requiresNamespace: boolean,
  nameFn: ValidateNameFunc,
  fldPath = 'metadata',
): FieldError[] {
  const md = meta ?? {};
  const errs: FieldError[] = [];
  const generateName = md.generateName ?? '';
  if (generateName !== '')
    errs.push(...invalidEach(`${fldPath}.generateName`, generateName, nameFn(generateName, true)));
  const name = md.name ?? '';
  if (name === '') errs.push(required(`${fldPath}.name`, 'name or generateName is required'));
  else errs.push(...invalidEach(`${fldPath}.name`, name, nameFn(name, false)));
  const ns = md.namespace ?? '';
  if (requiresNamespace) {
    if (ns === '') errs.push(required(`${fldPath}.namespace`));
    else errs.push(...invalidEach(`${fldPath}.namespace`, ns, namespaceName(ns, false)));
  } else if (ns !== '') {
    errs.push(forbidden(`${fldPath}.namespace`, 'not allowed on this type'));
  }
  errs.push(...nonNegative(md.generation, `${fldPath}.generation`));
  errs.push(...validateLabelsMemo(md.labels, `${fldPath}.labels`));
  errs.push(...validateAnnotationsMemo(md.annotations, `${fldPath}.annotations`));
  errs.push(
    ...validateOwnerReferences(
      md.ownerReferences as OwnerReference[] | undefined,
      `${fldPath}.ownerReferences`,
    ),
  );
  errs.push(...validateFinalizers(md.finalizers, `${fldPath}.finalizers`));
  return errs;
}

/** ValidateObjectMetaUpdate at fldPath: identity fields are immutable, generation only grows. */
export function validateObjectMetaUpdate(
  meta: ObjectMeta | undefined | null,
  old: ObjectMeta | undefined | null,
  fldPath = 'metadata',
): FieldError[] {
  const md = meta ?? {};
  const om = old ?? {};
  const errs: FieldError[] = [];
  if (om.deletionTimestamp != null) {
    errs.push(...validateNoNewFinalizers(md.finalizers, om.finalizers, `${fldPath}.finalizers`));
  }
  if ((md.resourceVersion ?? '') === '') {
    errs.push(
      invalidValue(`${fldPath}.resourceVersion`, md.resourceVersion ?? '', 'must be specified for an update'),
    );
  }
  if ((md.generation ?? 0) < (om.generation ?? 0)) {
    errs.push(invalidValue(`${fldPath}.generation`, md.generation ?? 0, 'must not be decremented'));
  }
  errs.push(...immutable(md.name ?? '', om.name ?? '', `${fldPath}.name`));
  errs.push(...immutable(md.namespace ?? '', om.namespace ?? '', `${fldPath}.namespace`));
  errs.push(...immutable(md.uid ?? '', om.uid ?? '', `${fldPath}.uid`));
  errs.push(...immutable(md.creationTimestamp, om.creationTimestamp, `${fldPath}.creationTimestamp`));
  errs.push(...immutable(md.deletionTimestamp, om.deletionTimestamp, `${fldPath}.deletionTimestamp`));
  errs.push(
    ...immutable(
      md.deletionGracePeriodSeconds,
      om.deletionGracePeriodSeconds,
      `${fldPath}.deletionGracePeriodSeconds`,
    ),
  );
  errs.push(...validateLabelsMemo(md.labels, `${fldPath}.labels`));
  errs.push(...validateAnnotationsMemo(md.annotations, `${fldPath}.annotations`));
  errs.push(
    ...validateOwnerReferences(
      md.ownerReferences as OwnerReference[] | undefined,
      `${fldPath}.ownerReferences`,
    ),
  );
  return errs;
}
