// Validation of labels and label selectors as they appear inside API objects
// (metadata.labels, spec.selector), returning FieldError lists at upstream's paths with
// upstream's messages. The key and value rules themselves live in ../validation/names.ts.

import type { FieldError } from '../status-error.js';
import { isValidLabelValue, validateLabelName, validateLabels } from '../validation/names.js';
import type { LabelSelector, LabelSelectorRequirement } from './label-selector.js';

export {
  isQualifiedName,
  isValidLabelValue,
  validateLabelName,
  validateLabels,
} from '../validation/names.js';

/** Upstream's LabelSelectorValidationOptions. */
export interface LabelSelectorValidationOptions {
  /** Tolerate values that are not valid label values (kept for objects stored before the rule). */
  allowInvalidLabelValueInSelector?: boolean;
  /** Tolerate operators other than In/NotIn/Exists/DoesNotExist. */
  allowUnknownOperatorInRequirement?: boolean;
}

/** True when some matchExpressions value is not a valid label value. */
export function labelSelectorHasInvalidLabelValue(ls: LabelSelector | null | undefined): boolean {
  if (ls === null || ls === undefined) return false;
  return (ls.matchExpressions ?? []).some((e) =>
    (e.values ?? []).some((v) => isValidLabelValue(v).length > 0),
  );
}

/** Validates a metav1.LabelSelector at fldPath (e.g. `spec.selector`). */
export function validateLabelSelector(
  ls: LabelSelector | null | undefined,
  opts: LabelSelectorValidationOptions,
  fldPath: string,
): FieldError[] {
  if (ls === null || ls === undefined) return [];
  const errs = validateLabels(ls.matchLabels, `${fldPath}.matchLabels`);
  (ls.matchExpressions ?? []).forEach((expr, i) => {
    errs.push(...validateLabelSelectorRequirement(expr, opts, `${fldPath}.matchExpressions[${i}]`));
  });
  return errs;
}

/** Validates one matchExpressions entry at fldPath. */
export function validateLabelSelectorRequirement(
  sr: LabelSelectorRequirement,
  opts: LabelSelectorValidationOptions,
  fldPath: string,
): FieldError[] {
  const errs: FieldError[] = [];
  const values = sr.values ?? [];
  switch (sr.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) {
        errs.push({
          type: 'FieldValueRequired',
          field: `${fldPath}.values`,
          detail: "must be specified when `operator` is 'In' or 'NotIn'",
        });
      }
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) {
        errs.push({
          type: 'FieldValueForbidden',
          field: `${fldPath}.values`,
          detail: "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        });
      }
      break;
    default:
      if (opts.allowUnknownOperatorInRequirement !== true) {
        errs.push({
          type: 'FieldValueInvalid',
          field: `${fldPath}.operator`,
          badValue: sr.operator,
          detail: 'not a valid selector operator',
        });
      }
  }
  errs.push(...validateLabelName(sr.key, `${fldPath}.key`));
  if (opts.allowInvalidLabelValueInSelector !== true) {
    values.forEach((v, i) => {
      for (const msg of isValidLabelValue(v)) {
        errs.push({ type: 'FieldValueInvalid', field: `${fldPath}.values[${i}]`, badValue: v, detail: msg });
      }
    });
  }
  return errs;
}
