// Applying a strategic merge patch (upstream k8s.io/apimachinery/pkg/util/strategicpatch,
// mergeMap and friends). The engine is shared by two callers with different options: the
// apiserver applying a PATCH (parallel lists are merged, unmatched nulls dropped) and the
// three-way patch builder merging a deletions patch with a changes patch (directives and
// nulls are kept, because the result is itself a patch).
//
// Inputs are never mutated: every map or list the merge changes is a fresh copy, and
// unchanged subtrees of the inputs are shared with the result.
import { StatusError, badRequest } from '../status-error.js';
import {
  type JSONObject,
  deepEqual,
  deduplicateScalars,
  goFormat,
  goKind,
  isJSONObject,
} from './json-values.js';
import {
  PatchError,
  errBadArgType,
  errBadPatchFormatForPrimitiveList,
  errBadPatchFormatForRetainKeys,
  errBadPatchFormatForSetElementOrderList,
  errBadPatchType,
  errNoMergeKey,
  errOther,
  strategicMergePatchStatusError,
} from './patch-errors.js';
import { PatchMeta, type PatchSchema, extractRetainKeysPatchStrategy } from './patch-meta.js';
import {
  DELETE_DIRECTIVE,
  DELETE_FROM_PRIMITIVE_LIST_PREFIX,
  DIRECTIVE_MARKER,
  MERGE_DIRECTIVE,
  REPLACE_DIRECTIVE,
  RETAIN_KEYS_DIRECTIVE,
  SET_ELEMENT_ORDER_PREFIX,
  containsDirectiveMarker,
  deleteFromSlice,
  findMapByKey,
  mergeKeyValueEqual,
  normalizeElementOrder,
  partitionMaps,
  partitionPrimitives,
  sliceElementKind,
} from './strategic-merge-patch-lists.js';

/** How mergeMap treats directives and nulls (upstream MergeOptions). */
export interface MergeOptions {
  /** Apply `$deleteFromPrimitiveList`/`$setElementOrder`/`$retainKeys` (server side). */
  mergeParallelList: boolean;
  /** Drop nulls that match nothing (server side); keep them when merging two patches. */
  ignoreUnmatchedNulls: boolean;
}

const APPLY_OPTIONS: MergeOptions = { mergeParallelList: true, ignoreUnmatchedNulls: true };

/**
 * Applies a strategic merge patch to a JSON object, using the patch metadata of `schema`
 * (no schema: maps merge as in a JSON merge patch, lists are replaced). Failures are
 * StatusErrors as the apiserver serves them: 400 for malformed documents and directives,
 * 422 for lists of lists, 500 (bare upstream text) for the rest.
 */
export function applyStrategicMergePatch(doc: unknown, patch: unknown, schema?: PatchSchema): JSONObject {
  if (!isJSONObject(doc)) throw badRequest('invalid JSON document');
  let p: JSONObject;
  if (patch === null || patch === undefined) p = {};
  else if (isJSONObject(patch)) p = patch;
  else
    throw badRequest(
      `json: cannot unmarshal ${jsonTypeWord(patch)} into Go value of type map[string]interface {}`,
    );
  try {
    return mergeMap(doc, p, PatchMeta.of(schema), APPLY_OPTIONS);
  } catch (err) {
    if (err instanceof PatchError || !(err instanceof StatusError)) throw strategicMergePatchStatusError(err);
    throw err;
  }
}

/** The word Go's JSON decoder uses for a value's JSON type in unmarshal errors. */
export function jsonTypeWord(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  return 'object';
}

/**
 * Merges `patch` into `original` (upstream mergeMap). Throws PatchError with upstream text.
 */
export function mergeMap(
  original: JSONObject | undefined,
  patch: JSONObject,
  meta: PatchMeta,
  opts: MergeOptions,
): JSONObject {
  if (Object.hasOwn(patch, DIRECTIVE_MARKER))
    return handleDirectiveInMergeMap(patch[DIRECTIVE_MARKER], patch, opts);

  const out: JSONObject = original === undefined ? {} : { ...original };
  // Directives are consumed from a private copy of the patch as they are handled.
  const p: JSONObject = { ...patch };

  applyRetainKeysDirective(out, p, opts);
  mergePatchIntoOriginal(out, p, meta, opts);

  for (const key of Object.keys(p)) {
    if (!Object.hasOwn(p, key)) continue;
    const patchV = p[key];
    let k = key;
    let isDeleteList = false;
    if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)) {
      if (!opts.mergeParallelList) {
        out[key] = patchV;
        continue;
      }
      k = extractKey(key, DELETE_FROM_PRIMITIVE_LIST_PREFIX);
      isDeleteList = true;
    }

    if (patchV === null) {
      delete out[k];
      if (opts.ignoreUnmatchedNulls) continue;
    }

    if (!Object.hasOwn(out, k) || goKind(out[k]) !== goKind(patchV)) {
      if (!isDeleteList) adoptInto(out, k, patchV, opts);
      continue;
    }

    const origV = out[k];
    if (isJSONObject(origV) && isJSONObject(patchV)) {
      const f = meta.forStruct(k);
      const [, strategy] = extractRetainKeysPatchStrategy(f.strategies);
      out[k] = strategy === REPLACE_DIRECTIVE ? adopt(patchV, opts) : mergeMap(origV, patchV, f.sub, opts);
    } else if (Array.isArray(origV) && Array.isArray(patchV)) {
      const f = meta.forSlice(k);
      const [, strategy] = extractRetainKeysPatchStrategy(f.strategies);
      if (strategy === MERGE_DIRECTIVE || isDeleteList) {
        out[k] = mergeSlice(origV, patchV, f.sub, f.mergeKey, opts, isDeleteList);
      } else {
        out[k] = adopt(patchV, opts);
      }
    } else {
      adoptInto(out, k, patchV, opts);
    }
  }
  return out;
}

/** Sets out[k] to a patch value with its directives removed (or removes k if it is one). */
function adoptInto(out: JSONObject, k: string, patchV: unknown, opts: MergeOptions): void {
  const v = opts.ignoreUnmatchedNulls ? discardNullValues(patchV) : patchV;
  const [clean, keep] = removeDirectives(v, opts.mergeParallelList);
  if (keep) out[k] = clean;
  else delete out[k];
}

/**
 * A patch value taken whole. Upstream keeps such values raw and lets decoding into the typed
 * object drop nulls and unknown directive keys; when applying, that cleanup is done here.
 */
function adopt(v: unknown, opts: MergeOptions): unknown {
  if (!opts.ignoreUnmatchedNulls) return v;
  const [clean, keep] = removeDirectives(discardNullValues(v), opts.mergeParallelList);
  return keep ? clean : null;
}

/** Upstream handleDirectiveInMergeMap: `$patch: replace` keeps the patch, `delete` empties. */
function handleDirectiveInMergeMap(directive: unknown, patch: JSONObject, opts: MergeOptions): JSONObject {
  if (directive === REPLACE_DIRECTIVE) {
    const { [DIRECTIVE_MARKER]: _, ...rest } = patch;
    return opts.ignoreUnmatchedNulls ? (adopt(rest, opts) as JSONObject) : rest;
  }
  if (directive === DELETE_DIRECTIVE) return {};
  throw errBadPatchType(directive, patch);
}

/** Strips `$prefix/` from a parallel-list key. */
function extractKey(s: string, prefix: string): string {
  const slash = s.indexOf('/');
  if (slash < 0 || s.slice(0, slash) !== prefix) {
    if (prefix === DELETE_FROM_PRIMITIVE_LIST_PREFIX) throw errBadPatchFormatForPrimitiveList();
    if (prefix === SET_ELEMENT_ORDER_PREFIX) throw errBadPatchFormatForSetElementOrderList();
    throw errOther(`fail to find unknown prefix "${prefix}" in ${s}\n`);
  }
  return s.slice(slash + 1);
}

/**
 * `$retainKeys`: clears keys of `original` not listed (server side), after checking that the
 * patch sets no key outside the list; when merging patches it is carried over instead.
 */
function applyRetainKeysDirective(original: JSONObject, patch: JSONObject, opts: MergeOptions): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS_DIRECTIVE)) return;
  const retain = patch[RETAIN_KEYS_DIRECTIVE];
  delete patch[RETAIN_KEYS_DIRECTIVE];

  if (!opts.mergeParallelList) {
    if (Object.hasOwn(original, RETAIN_KEYS_DIRECTIVE)) {
      const inOriginal = original[RETAIN_KEYS_DIRECTIVE];
      if (!deepEqual(inOriginal, retain)) {
        throw errOther(
          `${goFormat(inOriginal)} and ${goFormat(retain)} are not deep equal: this may happen when calculating the 3-way diff patch`,
        );
      }
    } else {
      original[RETAIN_KEYS_DIRECTIVE] = retain;
    }
    return;
  }

  if (!Array.isArray(retain)) throw errBadPatchFormatForRetainKeys();
  const keep = new Set<unknown>(retain);
  for (const [k, v] of Object.entries(patch)) {
    if (
      v === null ||
      k.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX) ||
      k.startsWith(SET_ELEMENT_ORDER_PREFIX)
    ) {
      continue;
    }
    if (!keep.has(k)) throw errBadPatchFormatForRetainKeys();
  }
  for (const k of Object.keys(original)) {
    if (!keep.has(k)) delete original[k];
  }
}

/**
 * `$setElementOrder/<list>`: merges the list it names (if the patch has it) and orders the
 * result: the directive's order first, then the live order for items the directive omits.
 */
function mergePatchIntoOriginal(
  original: JSONObject,
  patch: JSONObject,
  meta: PatchMeta,
  opts: MergeOptions,
): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER_PREFIX)) continue;
    const order = patch[key];
    if (!opts.mergeParallelList) {
      if (Object.hasOwn(original, key)) {
        if (!deepEqual(original[key], order)) throw errBadPatchFormatForSetElementOrderList();
      } else {
        original[key] = order;
      }
    }
    delete patch[key];

    if (!Array.isArray(order)) throw errBadArgType('slice', order);
    const originalKey = extractKey(key, SET_ELEMENT_ORDER_PREFIX);
    const foundOriginal = Object.hasOwn(original, originalKey);
    const foundPatch = Object.hasOwn(patch, originalKey);
    const originalList = original[originalKey];
    const patchList = patch[originalKey];
    let originalItems: unknown[] = [];
    let patchItems: unknown[] = [];
    if (foundOriginal) {
      if (!Array.isArray(originalList)) throw errBadArgType('slice', originalList);
      originalItems = originalList;
    }
    if (foundPatch) {
      if (!Array.isArray(patchList)) throw errBadArgType('slice', patchList);
      patchItems = patchList;
    }
    const f = meta.forSlice(originalKey);
    const [, strategy] = extractRetainKeysPatchStrategy(f.strategies);
    validatePatchWithSetOrderList(patchItems, order, f.mergeKey);

    let merged: unknown[];
    if (foundOriginal && !foundPatch) {
      merged = originalItems;
    } else if (!foundOriginal && foundPatch) {
      merged = removeDirectives(patchItems, opts.mergeParallelList)[0] as unknown[];
    } else if (foundOriginal && foundPatch) {
      if (strategy === MERGE_DIRECTIVE) {
        [merged, originalItems] = mergeSliceWithView(
          originalItems,
          patchItems,
          f.sub,
          f.mergeKey,
          opts,
          false,
        );
      } else {
        merged = adopt(patchItems, opts) as unknown[];
      }
    } else {
      continue;
    }

    const [inOrder, serverOnly] =
      f.mergeKey === '' ? partitionPrimitives(merged, order) : partitionMaps(merged, order, f.mergeKey);
    const kind = sliceElementKind(originalItems, patchItems);
    original[originalKey] = normalizeElementOrder(
      inOrder,
      serverOnly,
      order,
      originalItems,
      f.mergeKey,
      kind,
    );
    delete patch[originalKey];
  }
}

/**
 * Checks that the patch list's items appear in the `$setElementOrder` list in the same
 * relative order (deletions and directive items aside).
 */
function validatePatchWithSetOrderList(
  patchList: unknown[],
  setOrderList: unknown[],
  mergeKey: string,
): void {
  if (setOrderList.length === 0 || patchList.length === 0) return;
  let nonDelete: unknown[] = patchList;
  if (mergeKey !== '') {
    nonDelete = [];
    for (const v of patchList) {
      if (!isJSONObject(v)) throw errBadArgType('map', v);
      if (!(Object.hasOwn(v, DIRECTIVE_MARKER) && v[DIRECTIVE_MARKER] === DELETE_DIRECTIVE))
        nonDelete.push(v);
    }
  }
  let pi = 0;
  let si = 0;
  while (pi < nonDelete.length && si < setOrderList.length) {
    if (containsDirectiveMarker(nonDelete[pi])) {
      pi++;
      continue;
    }
    if (mergeKeyValueEqual(nonDelete[pi], setOrderList[si], mergeKey)) pi++;
    si++;
  }
  if (pi < nonDelete.length && si >= setOrderList.length) {
    throw errOther(
      `The order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ELEMENT_ORDER_PREFIX} list:\n${goFormat(setOrderList)}\n`,
    );
  }
}

/** Merges two lists with merge semantics (upstream mergeSlice). */
export function mergeSlice(
  original: unknown[],
  patch: unknown[],
  meta: PatchMeta,
  mergeKey: string,
  opts: MergeOptions,
  isDeleteList: boolean,
): unknown[] {
  return mergeSliceWithView(original, patch, meta, mergeKey, opts, isDeleteList)[0];
}

/**
 * mergeSlice, also returning what the caller's `original` slice looks like afterwards.
 * Upstream deletes list items with `append(s[:i], s[i+1:]...)` and then appends new items to
 * the shortened slice, both in the caller's backing array; the caller then orders the merged
 * list by that rewritten array (see mergePatchIntoOriginal). The view reproduces it.
 */
function mergeSliceWithView(
  original: unknown[],
  patch: unknown[],
  meta: PatchMeta,
  mergeKey: string,
  opts: MergeOptions,
  isDeleteList: boolean,
): [unknown[], unknown[]] {
  if (original.length === 0 && patch.length === 0) return [original, original];
  const kind = sliceElementKind(original, patch);

  let merged: unknown[];
  let view = original;
  let kept = original;
  let plain = patch;
  if (kind !== 'map') {
    if (opts.mergeParallelList && isDeleteList) return [deleteFromSlice(original, patch), original];
    merged = deduplicateScalars(original.concat(patch));
  } else {
    if (mergeKey === '') throw errOther(`cannot merge lists without merge key for ${meta.name()}`);
    const special = mergeSliceWithSpecialElements(original, patch, mergeKey);
    ({ kept, plain, view } = special);
    const { out, appended } = mergeSliceWithoutSpecialElements(kept, plain, mergeKey, meta, opts);
    merged = out;
    if (!special.replaced && special.deleted > 0) {
      view = view.slice();
      const start = original.length - special.deleted;
      for (let i = 0; i < appended.length && start + i < view.length; i++) view[start + i] = appended[i];
    }
  }

  const [inPatch, serverOnly] =
    mergeKey === '' ? partitionPrimitives(merged, plain) : partitionMaps(merged, plain, mergeKey);
  return [normalizeElementOrder(inPatch, serverOnly, plain, kept, mergeKey, kind), view];
}

/**
 * Applies `$patch` items of a list of maps: deletions by merge key, and `replace`. Returns the
 * remaining items, the plain patch items, and the caller's array as upstream leaves it.
 */
function mergeSliceWithSpecialElements(
  original: unknown[],
  patch: unknown[],
  mergeKey: string,
): { kept: unknown[]; plain: unknown[]; view: unknown[]; deleted: number; replaced: boolean } {
  const plain: unknown[] = [];
  let replace = false;
  let backing = original;
  let len = original.length;
  for (const v of patch) {
    const item = v as JSONObject;
    if (!Object.hasOwn(item, DIRECTIVE_MARKER)) {
      plain.push(v);
      continue;
    }
    const directive = item[DIRECTIVE_MARKER];
    if (directive === DELETE_DIRECTIVE) {
      if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
      const value = item[mergeKey];
      for (;;) {
        const found = findMapByKey(backing.slice(0, len), mergeKey, value);
        if (found === undefined) break;
        if (backing === original) backing = original.slice();
        backing.copyWithin(found.index, found.index + 1, len);
        len--;
      }
    } else if (directive === REPLACE_DIRECTIVE) {
      replace = true;
    } else if (directive === MERGE_DIRECTIVE) {
      throw errOther('merging lists cannot yet be specified in the patch');
    } else {
      throw errBadPatchType(directive, item);
    }
  }
  const deleted = original.length - len;
  const kept = deleted === 0 ? original : backing.slice(0, len);
  if (replace) return { kept: plain, plain: [], view: backing, deleted, replaced: true };
  return { kept, plain, view: backing, deleted, replaced: false };
}

/** Merges plain (directive-free) patch items into the list by merge key, appending new ones. */
function mergeSliceWithoutSpecialElements(
  original: unknown[],
  patch: unknown[],
  mergeKey: string,
  meta: PatchMeta,
  opts: MergeOptions,
): { out: unknown[]; appended: unknown[] } {
  const out = original.slice();
  const appended: unknown[] = [];
  for (const v of patch) {
    const item = v as JSONObject;
    if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    const found = findMapByKey(out, mergeKey, item[mergeKey]);
    if (found !== undefined) {
      out[found.index] = mergeMap(found.map, item, meta, opts);
    } else {
      const added = adopt(item, opts);
      out.push(added);
      appended.push(added);
    }
  }
  return { out, appended };
}

/**
 * Removes `$patch` maps from a value taken from a patch. With `stripParallel` (when applying)
 * it also drops parallel-list and `$retainKeys` keys, which typed decoding drops upstream.
 * Returns [value, keep].
 */
export function removeDirectives(obj: unknown, stripParallel: boolean): [unknown, boolean] {
  if (Array.isArray(obj)) {
    const res: unknown[] = [];
    for (const v of obj) {
      const [nv, keep] = removeDirectives(v, stripParallel);
      if (keep) res.push(nv);
    }
    return [res, true];
  }
  if (isJSONObject(obj)) {
    if (Object.hasOwn(obj, DIRECTIVE_MARKER)) return [undefined, false];
    const out: JSONObject = {};
    for (const [k, v] of Object.entries(obj)) {
      if (stripParallel && isDirectiveKey(k)) continue;
      const [nv, keep] = removeDirectives(v, stripParallel);
      if (keep) out[k] = nv;
    }
    return [out, true];
  }
  return [obj, true];
}

function isDirectiveKey(k: string): boolean {
  return (
    k === RETAIN_KEYS_DIRECTIVE ||
    k.startsWith(`${SET_ELEMENT_ORDER_PREFIX}/`) ||
    k.startsWith(`${DELETE_FROM_PRIMITIVE_LIST_PREFIX}/`)
  );
}

/** Drops null-valued map entries at every depth (upstream discardNullValuesFromPatch). */
export function discardNullValues(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(discardNullValues);
  if (isJSONObject(v)) {
    const out: JSONObject = {};
    for (const [k, x] of Object.entries(v)) {
      if (x !== null) out[k] = discardNullValues(x);
    }
    return out;
  }
  return v;
}
