// List helpers of strategic merge patch: element-type checks, merge-key lookups, and the
// ordering rules upstream applies after merging a list (patch order first, live order for
// server-only items, `$patch: delete` items last). The order of a merged list is observable
// (kubectl diff, container order), so these follow upstream step by step, including its
// comparator quirks.
import {
  type GoKind,
  type JSONObject,
  goEqual,
  goFormat,
  goKind,
  goSliceStable,
  isJSONObject,
} from './json-values.js';
import { errBadArgType, errNoListOfLists, errNoMergeKey, errOther } from './patch-errors.js';

/** The `$patch` directive key. */
export const DIRECTIVE_MARKER = '$patch';
/** `$patch: delete`. */
export const DELETE_DIRECTIVE = 'delete';
/** `$patch: replace`. */
export const REPLACE_DIRECTIVE = 'replace';
/** `$patch: merge`. */
export const MERGE_DIRECTIVE = 'merge';
/** The retainKeys patch strategy and its `$retainKeys` directive. */
export const RETAIN_KEYS_STRATEGY = 'retainKeys';
/** `$retainKeys`. */
export const RETAIN_KEYS_DIRECTIVE = '$retainKeys';
/** Prefix of the parallel list that deletes items from a primitive list. */
export const DELETE_FROM_PRIMITIVE_LIST_PREFIX = '$deleteFromPrimitiveList';
/** Prefix of the parallel list that sets the order of a merged list. */
export const SET_ELEMENT_ORDER_PREFIX = '$setElementOrder';

/**
 * The common Go kind of the elements of the given lists (upstream sliceElementType): lists of
 * lists and mixed element types are errors.
 */
export function sliceElementKind(...slices: readonly (readonly unknown[])[]): GoKind {
  let prev: GoKind | undefined;
  for (const s of slices) {
    for (const v of s) {
      const cur = goKind(v);
      if (prev === undefined) {
        prev = cur;
        if (prev === 'slice') throw errNoListOfLists();
      } else if (prev !== cur) {
        throw errOther(`list element types are not identical: [${slices.map((x) => goFormat(x)).join(' ')}]`);
      }
    }
  }
  if (prev === undefined) throw errOther('no elements in any of the given slices');
  return prev;
}

/** The value an item is ordered by: its merge-key value for maps, itself otherwise. */
function orderValue(item: unknown, mergeKey: string, kind: GoKind): unknown {
  if (kind !== 'map') return item;
  return isJSONObject(item) ? item[mergeKey] : undefined;
}

/** Index of `val` in `l` by merge-key value (maps) or value (scalars); -1 when absent. */
export function indexIn(l: readonly unknown[], val: unknown, mergeKey: string, kind: GoKind): number {
  const want = orderValue(val, mergeKey, kind);
  for (let i = 0; i < l.length; i++) {
    if (goEqual(want, orderValue(l[i], mergeKey, kind))) return i;
  }
  return -1;
}

/** The first map in `m` whose `key` equals `value` (upstream findMapInSliceBasedOnKeyValue). */
export function findMapByKey(
  m: readonly unknown[],
  key: string,
  value: unknown,
): { map: JSONObject; index: number } | undefined {
  for (let k = 0; k < m.length; k++) {
    const v = m[k];
    if (!isJSONObject(v)) throw errOther(`value for key ${k} is not a map`);
    if (Object.hasOwn(v, key) && goEqual(v[key], value)) return { map: v, index: k };
  }
  return undefined;
}

/** Checks that every item of the lists is a map holding the merge key. */
export function validateMergeKeyInLists(mergeKey: string, ...lists: readonly (readonly unknown[])[]): void {
  for (const list of lists) {
    for (const item of list) {
      if (!isJSONObject(item)) throw errBadArgType('map', item);
      if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    }
  }
}

/** Splits a list of maps into (kept items, `$patch: delete` items). */
export function extractToDeleteItems(l: readonly unknown[]): [unknown[], unknown[]] {
  const keep: unknown[] = [];
  const del: unknown[] = [];
  for (const v of l) {
    if (!isJSONObject(v)) throw errBadArgType('map', v);
    if (Object.hasOwn(v, DIRECTIVE_MARKER) && v[DIRECTIVE_MARKER] === DELETE_DIRECTIVE) del.push(v);
    else keep.push(v);
  }
  return [keep, del];
}

/** Sorts `toSort` by the positions its items have in `order` (upstream normalizeSliceOrder). */
export function normalizeSliceOrder(
  toSort: readonly unknown[],
  order: readonly unknown[],
  mergeKey: string,
  kind: GoKind,
): unknown[] {
  let items: readonly unknown[] = toSort;
  let toDelete: unknown[] = [];
  if (kind === 'map') {
    validateMergeKeyInLists(mergeKey, toSort, order);
    [items, toDelete] = extractToDeleteItems(toSort);
  }
  // Upstream's comparator answers "less" whenever an item is missing from `order`; with
  // SliceStable's exact steps the outcome matches upstream even then.
  const sorted = goSliceStable(items, (a, b) => {
    const ia = indexIn(order, a, mergeKey, kind);
    if (ia >= 0) {
      const ib = indexIn(order, b, mergeKey, kind);
      if (ib >= 0) return ia < ib;
    }
    return true;
  });
  return toDelete.length === 0 ? sorted : sorted.concat(toDelete);
}

/**
 * Interleaves server-only items (`left`) into patch items (`right`), keeping each list's
 * relative order and using the live order to place a server-only item before a patch item.
 */
function mergeSortedSlice(
  left: readonly unknown[],
  right: readonly unknown[],
  serverOrder: readonly unknown[],
  mergeKey: string,
  kind: GoKind,
): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  const size = left.length + right.length;
  for (let k = 0; k < size; k++) {
    if (i >= left.length && j < right.length) {
      out.push(right[j++]);
    } else if (j >= right.length && i < left.length) {
      out.push(left[i++]);
    } else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/**
 * Orders a merged list: patch items by `patchOrder`, server-only items by `serverOrder`, then
 * interleaves them (upstream normalizeElementOrder).
 */
export function normalizeElementOrder(
  patch: readonly unknown[],
  serverOnly: readonly unknown[],
  patchOrder: readonly unknown[],
  serverOrder: readonly unknown[],
  mergeKey: string,
  kind: GoKind,
): unknown[] {
  const p = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const s = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(s, p, serverOrder, mergeKey, kind);
}

/** Splits primitives into (present in `by`, absent from `by`). */
export function partitionPrimitives(
  original: readonly unknown[],
  by: readonly unknown[],
): [unknown[], unknown[]] {
  const inPatch = new Set<unknown>(by.map((v) => (v === undefined ? null : v)));
  const patch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of original) {
    if (inPatch.has(v === undefined ? null : v)) patch.push(v);
    else serverOnly.push(v);
  }
  return [patch, serverOnly];
}

/** Splits maps into (merge key present in `by`, absent from `by`). */
export function partitionMaps(
  original: readonly unknown[],
  by: readonly unknown[],
  mergeKey: string,
): [unknown[], unknown[]] {
  const patch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of original) {
    if (!isJSONObject(v)) throw errBadArgType('map', v);
    if (!Object.hasOwn(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
    if (findMapByKey(by, mergeKey, v[mergeKey]) === undefined) serverOnly.push(v);
    else patch.push(v);
  }
  return [patch, serverOnly];
}

/** Removes from `current` every scalar listed in `toDelete`. */
export function deleteFromSlice(current: readonly unknown[], toDelete: readonly unknown[]): unknown[] {
  const del = new Set<unknown>(toDelete.map((v) => (v === undefined ? null : v)));
  return current.filter((v) => !del.has(v === undefined ? null : v));
}

/** True when `item` is a map holding a `$patch` directive. */
export function containsDirectiveMarker(item: unknown): boolean {
  return isJSONObject(item) && Object.hasOwn(item, DIRECTIVE_MARKER);
}

/** Compares two items by merge key (or by value when there is no merge key). */
export function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (mergeKey === '') return goEqual(left, right);
  if (!isJSONObject(left)) throw errBadArgType('map', left);
  if (!isJSONObject(right)) throw errBadArgType('map', right);
  if (!Object.hasOwn(left, mergeKey)) throw errNoMergeKey(left, mergeKey);
  if (!Object.hasOwn(right, mergeKey)) throw errNoMergeKey(right, mergeKey);
  return goEqual(left[mergeKey], right[mergeKey]);
}
