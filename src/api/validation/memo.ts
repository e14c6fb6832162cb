// Memos of the pure string checks that semantic validation runs on every write. A write names
// the same few strings again and again (container and volume names, env var names, label
// keys like `app.kubernetes.io/name`), and each check is a regex or two plus a byte count, so
// remembering which strings passed turns most checks into one Set lookup. Only passing
// strings are remembered (failures are rare and rebuild their messages as before), only
// short ones (so the memo cannot hold large bodies alive), and each memo is bounded.
import type { FieldError } from '../../machinery/status-error.js';
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isRelaxedEnvVarName,
  isValidPortName,
  TOTAL_ANNOTATION_SIZE_LIMIT_B,
  type ValidateNameFunc,
  validateAnnotations,
  validateLabels,
} from '../../machinery/validation/names.js';

const MEMO_LIMIT = 4096;
const MAX_MEMO_LENGTH = 256;

/** A bounded set of strings known to pass one check. */
class PassSet {
  private readonly set = new Set<string>();

  has(s: string): boolean {
    return this.set.has(s);
  }

  add(s: string): void {
    if (s.length > MAX_MEMO_LENGTH) return;
    if (this.set.size >= MEMO_LIMIT) this.set.clear();
    this.set.add(s);
  }
}

/** A check returning upstream's messages for a string (empty when it passes). */
export type StringCheck = (s: string) => string[];

/** Wraps a pure string check so that strings which passed once pass again without work. */
export function memoCheck(check: StringCheck): StringCheck {
  const passed = new PassSet();
  return (s) => {
    if (passed.has(s)) return [];
    const msgs = check(s);
    if (msgs.length === 0) passed.add(s);
    return msgs;
  };
}

/** Wraps a ValidateNameFunc the same way (one memo per `prefix` flag). */
export function memoNameFunc(fn: ValidateNameFunc): ValidateNameFunc {
  const exact = memoCheck((s) => fn(s, false));
  const prefix = memoCheck((s) => fn(s, true));
  return (name, isPrefix) => (isPrefix ? prefix(name) : exact(name));
}

/** isDNS1123Label, memoised. */
export const memoDNS1123Label = memoCheck(isDNS1123Label);
/** isDNS1123Subdomain, memoised. */
export const memoDNS1123Subdomain = memoCheck(isDNS1123Subdomain);
/** isRelaxedEnvVarName, memoised. */
export const memoRelaxedEnvVarName = memoCheck(isRelaxedEnvVarName);
/** isValidPortName, memoised. */
export const memoPortName = memoCheck(isValidPortName);

const labelKeys = new PassSet();
const labelValues = new PassSet();

/** validateLabels with a memo of label keys and values that passed. */
export function validateLabelsMemo(
  labels: Record<string, string> | undefined | null,
  path: string,
): FieldError[] {
  if (labels == null) return [];
  for (const k in labels) {
    const v = labels[k];
    if (!labelKeys.has(k) || typeof v !== 'string' || !labelValues.has(v)) return labelsSlow(labels, path);
  }
  return [];
}

function labelsSlow(labels: Record<string, string>, path: string): FieldError[] {
  const errs = validateLabels(labels, path);
  if (errs.length === 0) {
    for (const k in labels) {
      labelKeys.add(k);
      labelValues.add(labels[k] as string);
    }
  }
  return errs;
}

const annotationKeys = new PassSet();

/**
 * validateAnnotations with a memo of keys that passed; the size limit is proven without
 * encoding when three bytes per UTF-16 unit (the UTF-8 worst case) still fit.
 */
export function validateAnnotationsMemo(
  annotations: Record<string, string> | undefined | null,
  path: string,
): FieldError[] {
  if (annotations == null) return [];
  let units = 0;
  for (const k in annotations) {
    const v = annotations[k];
    if (!annotationKeys.has(k) || typeof v !== 'string') return annotationsSlow(annotations, path);
    units += k.length + v.length;
  }
  if (units * 3 > TOTAL_ANNOTATION_SIZE_LIMIT_B) return annotationsSlow(annotations, path);
  return [];
}

function annotationsSlow(annotations: Record<string, string>, path: string): FieldError[] {
  const errs = validateAnnotations(annotations, path);
  if (errs.length === 0) for (const k in annotations) annotationKeys.add(k);
  return errs;
}
