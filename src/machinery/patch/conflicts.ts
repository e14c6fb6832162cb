// Conflict detection between two strategic merge patches (upstream MergingMapsHaveConflicts):
// used by the three-way patch builder when it must not overwrite changes made to the live
// object since the last apply. Two patches conflict when they set an overlapping key to
// different values, or when one replaces or deletes a whole map the other edits.
import {
  type JSONObject,
  deduplicateScalars,
  deepEqual,
  goFormat,
  isJSONObject,
  sortScalars,
} from './json-values.js';
import { errOther } from './patch-errors.js';
import { type PatchMeta, extractRetainKeysPatchStrategy } from './patch-meta.js';
import {
  DIRECTIVE_MARKER,
  MERGE_DIRECTIVE,
  REPLACE_DIRECTIVE,
  RETAIN_KEYS_DIRECTIVE,
  sliceElementKind,
} from './strategic-merge-patch-lists.js';

/** True when the two patches change an overlapping key differently. */
export function mergingMapsHaveConflicts(left: JSONObject, right: JSONObject, meta: PatchMeta): boolean {
  return fieldsHaveConflicts(left, right, meta, '', '');
}

function fieldsHaveConflicts(
  left: unknown,
  right: unknown,
  meta: PatchMeta,
  strategy: string,
  mergeKey: string,
): boolean {
  if (isJSONObject(left)) {
    if (!isJSONObject(right)) return true;
    const hasL = Object.hasOwn(left, DIRECTIVE_MARKER);
    const hasR = Object.hasOwn(right, DIRECTIVE_MARKER);
    if (hasL || hasR) {
      if (hasL !== hasR) return true;
      if (left[DIRECTIVE_MARKER] !== right[DIRECTIVE_MARKER]) return true;
    }
    if (strategy === REPLACE_DIRECTIVE) return false;
    return mapsHaveConflicts(left, right, meta);
  }
  if (Array.isArray(left)) {
    if (!Array.isArray(right)) return true;
    return slicesHaveConflicts(left, right, meta, strategy, mergeKey);
  }
  return !deepEqual(left, right);
}

function mapsHaveConflicts(left: JSONObject, right: JSONObject, meta: PatchMeta): boolean {
  for (const [key, lv] of Object.entries(left)) {
    if (key === DIRECTIVE_MARKER || key === RETAIN_KEYS_DIRECTIVE || !Object.hasOwn(right, key)) continue;
    let sub = meta;
    let strategy = '';
    let mergeKey = '';
    if (Array.isArray(lv) || isJSONObject(lv)) {
      const f = Array.isArray(lv) ? meta.forSlice(key) : meta.forStruct(key);
      sub = f.sub;
      strategy = extractRetainKeysPatchStrategy(f.strategies)[1];
      mergeKey = f.mergeKey;
    }
    if (fieldsHaveConflicts(lv, right[key], sub, strategy, mergeKey)) return true;
  }
  return false;
}

function slicesHaveConflicts(
  left: unknown[],
  right: unknown[],
  meta: PatchMeta,
  strategy: string,
  mergeKey: string,
): boolean {
  const kind = sliceElementKind(left, right);
  if (strategy === MERGE_DIRECTIVE) {
    // Merging lists of scalars cannot conflict.
    if (kind !== 'map') return false;
    const lm = byMergeKey(left, mergeKey);
    const rm = byMergeKey(right, mergeKey);
    for (const [k, lv] of lm) {
      const rv = rm.get(k);
      if (rv !== undefined && fieldsHaveConflicts(lv, rv, meta, '', '')) return true;
    }
    return false;
  }
  if (left.length !== right.length) return true;
  let l = left;
  let r = right;
  if (kind !== 'map') {
    l = sortScalars(deduplicateScalars(left));
    r = sortScalars(deduplicateScalars(right));
  }
  for (let i = 0; i < l.length; i++) {
    if (fieldsHaveConflicts(l[i], r[i], meta, '', '')) return true;
  }
  return false;
}

function byMergeKey(list: unknown[], mergeKey: string): Map<string, JSONObject> {
  const out = new Map<string, JSONObject>();
  for (const v of list) {
    if (!isJSONObject(v)) throw errOther(`invalid element type in merging list:${goFormat(list)}`);
    if (!Object.hasOwn(v, mergeKey)) {
      throw errOther(`cannot find merge key \`${mergeKey}\` in merging list element:${goFormat(v)}`);
    }
    out.set(goFormat(v[mergeKey]), v);
  }
  return out;
}
