// Constructors for FieldError values, one per upstream field.ErrorType constructor
// (k8s.io/apimachinery/pkg/util/validation/field), plus the shared checks every kind's
// validation uses (immutability, non-negative numbers, names). Keeping the wording here
// means each kind's file only decides *which* rule applies at *which* path.
import { type LabelSelector, labelSelectorGoString } from '../../machinery/labels/label-selector.js';
import { parseQuantity, type Quantity, QuantityParseError } from '../../machinery/quantity.js';
import type { FieldError } from '../../machinery/status-error.js';
import { FIELD_IMMUTABLE_ERROR_MSG, IS_NEGATIVE_ERROR_MSG } from '../../machinery/validation/names.js';

/** field.Required. */
export function required(field: string, detail = ''): FieldError {
  return { type: 'FieldValueRequired', field, detail };
}

/** field.Invalid. */
export function invalidValue(field: string, badValue: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, badValue, detail };
}

/** field.NotSupported: `Unsupported value: "x": supported values: "a", "b"`. */
export function notSupported(field: string, badValue: unknown, valid: readonly string[]): FieldError {
  const detail =
    valid.length > 0 ? `supported values: ${valid.map((v) => JSON.stringify(v)).join(', ')}` : '';
  return { type: 'FieldValueNotSupported', field, badValue, detail };
}

/** field.Duplicate. */
export function duplicate(field: string, badValue: unknown): FieldError {
  return { type: 'FieldValueDuplicate', field, badValue };
}

/** field.NotFound. */
export function notFound(field: string, badValue: unknown): FieldError {
  return { type: 'FieldValueNotFound', field, badValue };
}

/** field.Forbidden. */
export function forbidden(field: string, detail: string): FieldError {
  return { type: 'FieldValueForbidden', field, detail };
}

/** field.TooLong. */
export function tooLong(field: string, badValue: unknown, maxLength: number): FieldError {
  return { type: 'FieldValueTooLong', field, badValue, detail: `may not be more than ${maxLength} bytes` };
}

/** field.TooMany. */
export function tooMany(field: string, actual: number, max: number): FieldError {
  return { type: 'FieldValueTooMany', field, badValue: actual, detail: `must have at most ${max} items` };
}

/** Deep equality of JSON values (key order ignored), as Go's apiequality.Semantic for plain data. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    // null and absent are the same value after decoding.
    return (a === null || a === undefined) && (b === null || b === undefined);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], bb[i])) return false;
    return true;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const k in ra) if (!jsonEqual(ra[k], rb[k])) return false;
  for (const k in rb) if (!(k in ra) && rb[k] !== undefined && rb[k] !== null) return false;
  return true;
}

/** ValidateImmutableField: `Invalid value: <new>: field is immutable`. */
export function immutable(newVal: unknown, oldVal: unknown, field: string): FieldError[] {
  return jsonEqual(newVal, oldVal) ? [] : [invalidValue(field, newVal ?? null, FIELD_IMMUTABLE_ERROR_MSG)];
}

/**
 * ValidateImmutableField of a `*metav1.LabelSelector`: upstream prints the new selector with
 * Go's `%#v` (`v1.LabelSelector{MatchLabels:…}`), a nil one as the string "null".
 */
export function immutableSelector(
  newSel: LabelSelector | undefined | null,
  oldSel: LabelSelector | undefined | null,
  field: string,
): FieldError[] {
  if (jsonEqual(newSel, oldSel)) return [];
  const rendered = newSel == null ? '"null"' : labelSelectorGoString(newSel);
  return [{ type: 'FieldValueInvalid', field, renderedValue: rendered, detail: FIELD_IMMUTABLE_ERROR_MSG }];
}

/** ValidateNonnegativeField for an optional number. */
export function nonNegative(value: number | undefined | null, field: string): FieldError[] {
  return value != null && value < 0 ? [invalidValue(field, value, IS_NEGATIVE_ERROR_MSG)] : [];
}

/** Wraps each message of a name/value check as field.Invalid at field. */
export function invalidEach(field: string, value: unknown, msgs: readonly string[]): FieldError[] {
  return msgs.map((m) => invalidValue(field, value, m));
}

/** A plain JSON object, or undefined for anything else. */
export function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** The array at v, or an empty one (null and absent lists are empty upstream). */
export function listOf<T>(v: readonly T[] | undefined | null): readonly T[] {
  return Array.isArray(v) ? v : [];
}

const quantityCache = new Map<string, Quantity | string>();
const QUANTITY_CACHE_LIMIT = 4096;

/**
 * resource.ParseQuantity with a bounded memo: the parsed Quantity, or the parse error's
 * message. Writes repeat the same few quantities (`100m`, `128Mi`), and parsing is bigint work.
 */
export function cachedQuantity(s: string): Quantity | string {
  let q = quantityCache.get(s);
  if (q !== undefined) return q;
  try {
    q = parseQuantity(s);
  } catch (e) {
    if (!(e instanceof QuantityParseError)) throw e;
    q = e.message;
  }
  if (quantityCache.size >= QUANTITY_CACHE_LIMIT) quantityCache.clear();
  quantityCache.set(s, q);
  return q;
}
