// Creating strategic merge patches (upstream strategicpatch diffMaps, CreateTwoWayMergePatch,
// CreateThreeWayMergePatch). kubectl apply sends the three-way patch: deletions are what the
// user removed between the last applied configuration (original) and the new one (modified);
// additions and changes are what modified sets differently from the live object (current).
// The patches carry `$setElementOrder`, `$retainKeys`, `$deleteFromPrimitiveList` and
// `$patch: delete` exactly where upstream puts them, so the server's merge gives the same
// object whichever side computed the patch.
import { stringify } from 'yaml';
import {
  type JSONObject,
  deduplicateScalars,
  deepEqual,
  goFormat,
  goKind,
  isJSONObject,
  sortScalars,
} from './json-values.js';
import {
  PatchError,
  errBadArgType,
  errBadJSONDoc,
  errNoListOfLists,
  errNoMergeKey,
  errOther,
} from './patch-errors.js';
import { PatchMeta, type PatchSchema, extractRetainKeysPatchStrategy } from './patch-meta.js';
import { mergingMapsHaveConflicts } from './conflicts.js';
import {
  DELETE_DIRECTIVE,
  DELETE_FROM_PRIMITIVE_LIST_PREFIX,
  DIRECTIVE_MARKER,
  MERGE_DIRECTIVE,
  REPLACE_DIRECTIVE,
  RETAIN_KEYS_DIRECTIVE,
  SET_ELEMENT_ORDER_PREFIX,
  mergeKeyValueEqual,
  normalizeSliceOrder,
  sliceElementKind,
} from './strategic-merge-patch-lists.js';
import { mergeMap } from './strategic-merge-patch.js';

/** What a diff keeps (upstream DiffOptions). */
interface DiffOptions {
  setElementOrder: boolean;
  ignoreChangesAndAdditions: boolean;
  ignoreDeletions: boolean;
  buildRetainKeysDirective: boolean;
}

const NO_DIFF_OPTIONS: DiffOptions = {
  setElementOrder: false,
  ignoreChangesAndAdditions: false,
  ignoreDeletions: false,
  buildRetainKeysDirective: false,
};

function asDocument(v: unknown): JSONObject {
  if (v === null || v === undefined) return {};
  if (!isJSONObject(v)) throw errBadJSONDoc();
  return v;
}

/**
 * A strategic merge patch that turns `original` into `modified` (upstream
 * CreateTwoWayMergePatch, with `$setElementOrder` lists). Throws PatchError.
 */
export function createTwoWayMergePatch(
  original: unknown,
  modified: unknown,
  schema?: PatchSchema,
): JSONObject {
  return diffMaps(asDocument(original), asDocument(modified), PatchMeta.of(schema), {
    ...NO_DIFF_OPTIONS,
    setElementOrder: true,
  });
}

/**
 * kubectl apply's patch (upstream CreateThreeWayMergePatch): deletions from original to
 * modified plus additions and changes from current to modified. With overwrite=false a
 * patch that changes something that was also changed from original to current is refused
 * (PatchError of kind `conflict`); kubectl always passes overwrite=true.
 */
export function createThreeWayMergePatch(
  original: unknown,
  modified: unknown,
  current: unknown,
  schema: PatchSchema | undefined,
  overwrite: boolean,
): JSONObject {
  const originalMap = asDocument(original);
  const modifiedMap = asDocument(modified);
  const currentMap = asDocument(current);
  const meta = PatchMeta.of(schema);

  const delta = diffMaps(currentMap, modifiedMap, meta, {
    ...NO_DIFF_OPTIONS,
    ignoreDeletions: true,
    setElementOrder: true,
  });
  const deletions = diffMaps(originalMap, modifiedMap, meta, {
    ...NO_DIFF_OPTIONS,
    setElementOrder: true,
    ignoreChangesAndAdditions: true,
  });
  // Merging the two patches keeps nulls and directives: the result is still a patch.
  const patch = mergeMap(deletions, delta, meta, { mergeParallelList: false, ignoreUnmatchedNulls: false });

  if (!overwrite) {
    const changed = diffMaps(originalMap, currentMap, meta, NO_DIFF_OPTIONS);
    if (mergingMapsHaveConflicts(patch, changed, meta)) {
      throw new PatchError(
        'conflict',
        `patch:\n${toYAML(patch)}\nconflicts with changes made from original to current:\n${toYAML(changed)}\n`,
      );
    }
  }
  return patch;
}

function toYAML(v: unknown): string {
  return stringify(v, { sortMapEntries: true });
}

/** True when a three-way patch was refused because of a conflict with the live object. */
export function isPatchConflict(err: unknown): boolean {
  return err instanceof PatchError && err.kind === 'conflict';
}

/** The (recursive) patch from original to modified (upstream diffMaps). */
function diffMaps(
  original: JSONObject,
  modified: JSONObject,
  meta: PatchMeta,
  opts: DiffOptions,
): JSONObject {
  const patch: JSONObject = {};
  const retainKeys: string[] = [];

  for (const [key, modifiedValue] of Object.entries(modified)) {
    if (opts.buildRetainKeysDirective && modifiedValue !== null) retainKeys.push(key);

    if (!Object.hasOwn(original, key)) {
      if (!opts.ignoreChangesAndAdditions) patch[key] = modifiedValue;
      continue;
    }
    const originalValue = original[key];

    if (key === DIRECTIVE_MARKER) {
      if (typeof originalValue !== 'string' || typeof modifiedValue !== 'string') {
        throw errOther(`invalid value for special key: ${DIRECTIVE_MARKER}`);
      }
      if (originalValue !== modifiedValue) patch[DIRECTIVE_MARKER] = modifiedValue;
      continue;
    }

    if (goKind(originalValue) !== goKind(modifiedValue)) {
      if (!opts.ignoreChangesAndAdditions) patch[key] = modifiedValue;
      continue;
    }

    if (isJSONObject(originalValue) && isJSONObject(modifiedValue)) {
      handleMapDiff(key, originalValue, modifiedValue, patch, meta, opts);
    } else if (Array.isArray(originalValue) && Array.isArray(modifiedValue)) {
      handleSliceDiff(key, originalValue, modifiedValue, patch, meta, opts);
    } else if (!opts.ignoreChangesAndAdditions && !deepEqual(originalValue, modifiedValue)) {
      patch[key] = modifiedValue;
    }
  }

  if (!opts.ignoreDeletions) {
    for (const key of Object.keys(original)) {
      if (!Object.hasOwn(modified, key)) patch[key] = null;
    }
  }

  // `$retainKeys` goes out when the patch changes something, or when original has a field
  // (with a value) that modified dropped and the server must clear.
  if (retainKeys.length > 0 && (Object.keys(patch).length > 0 || hasAdditionalNewField(original, modified))) {
    patch[RETAIN_KEYS_DIRECTIVE] = sortScalars(retainKeys);
  }
  return patch;
}

function hasAdditionalNewField(original: JSONObject, modified: JSONObject): boolean {
  for (const [k, v] of Object.entries(original)) {
    if (v !== null && !Object.hasOwn(modified, k)) return true;
  }
  return false;
}

function handleMapDiff(
  key: string,
  original: JSONObject,
  modified: JSONObject,
  patch: JSONObject,
  meta: PatchMeta,
  opts: DiffOptions,
): void {
  const f = meta.forStruct(key);
  const [retainKeys, strategy] = extractRetainKeysPatchStrategy(f.strategies);
  if (strategy === REPLACE_DIRECTIVE) {
    if (!opts.ignoreChangesAndAdditions) patch[key] = modified;
    return;
  }
  const sub = diffMaps(original, modified, f.sub, { ...opts, buildRetainKeysDirective: retainKeys });
  if (Object.keys(sub).length > 0) patch[key] = sub;
}

function handleSliceDiff(
  key: string,
  original: unknown[],
  modified: unknown[],
  patch: JSONObject,
  meta: PatchMeta,
  opts: DiffOptions,
): void {
  const f = meta.forSlice(key);
  const [retainKeys, strategy] = extractRetainKeysPatchStrategy(f.strategies);
  if (strategy !== MERGE_DIRECTIVE) {
    if (!opts.ignoreChangesAndAdditions && !deepEqual(original, modified)) patch[key] = modified;
    return;
  }
  const [add, del, order] = diffLists(original, modified, f.sub, f.mergeKey, {
    ...opts,
    buildRetainKeysDirective: retainKeys,
  });
  if (add.length > 0) patch[key] = add;
  if (del.length > 0) patch[`${DELETE_FROM_PRIMITIVE_LIST_PREFIX}/${key}`] = del;
  if (order.length > 0) patch[`${SET_ELEMENT_ORDER_PREFIX}/${key}`] = order;
}

/**
 * Diff of two merging lists: [patch list, parallel deletion list (primitives only),
 * `$setElementOrder` list].
 */
function diffLists(
  original: unknown[],
  modified: unknown[],
  meta: PatchMeta,
  mergeKey: string,
  opts: DiffOptions,
): [unknown[], unknown[], unknown[]] {
  if (original.length === 0) {
    if (modified.length === 0 || opts.ignoreChangesAndAdditions) return [[], [], []];
    return [modified, [], []];
  }
  const kind = sliceElementKind(original, modified);
  if (kind === 'slice') throw errNoListOfLists();

  if (kind === 'map') {
    const [changes, deletions] = diffListsOfMaps(original, modified, meta, mergeKey, opts);
    const ordered = normalizeSliceOrder(changes, modified, mergeKey, kind);
    const orderSame = isOrderSame(original, modified, mergeKey);
    const patchList = ordered.concat(deletions);
    let order: unknown[] = [];
    if (
      opts.setElementOrder &&
      ((!opts.ignoreChangesAndAdditions && (patchList.length > 0 || !orderSame)) ||
        (!opts.ignoreDeletions && patchList.length > 0))
    ) {
      order = modified.map((v) => ({ [mergeKey]: (v as JSONObject)[mergeKey] }));
    }
    return [patchList, [], order];
  }

  const [additions, deletions, sortedOriginal] = diffListsOfScalars(original, modified, opts);
  const patchList = normalizeSliceOrder(additions, modified, mergeKey, kind);
  // Upstream sorts `original` in place while diffing, then compares the sorted list with
  // modified: an unchanged but unsorted list still gets a `$setElementOrder`.
  let order: unknown[] = [];
  if (
    opts.setElementOrder &&
    ((!opts.ignoreDeletions && deletions.length > 0) ||
      (!opts.ignoreChangesAndAdditions && !deepEqual(sortedOriginal, modified)))
  ) {
    order = modified;
  }
  return [patchList, deletions, order];
}

function isOrderSame(original: unknown[], modified: unknown[], mergeKey: string): boolean {
  if (original.length !== modified.length) return false;
  for (let i = 0; i < modified.length; i++) {
    if (!mergeKeyValueEqual(original[i], modified[i], mergeKey)) return false;
  }
  return true;
}

/** [additions, deletions, original sorted] of two primitive lists, compared by `%v` text. */
function diffListsOfScalars(
  original: unknown[],
  modified: unknown[],
  opts: DiffOptions,
): [unknown[], unknown[], unknown[]] {
  const o = sortScalars(original);
  const m = sortScalars(modified);
  const add: unknown[] = [];
  const del: unknown[] = [];
  let oi = 0;
  let mi = 0;
  while (oi < o.length || mi < m.length) {
    const oIn = oi < o.length;
    const mIn = mi < m.length;
    const os = oIn ? goFormat(o[oi]) : '';
    const ms = mIn ? goFormat(m[mi]) : '';
    if (oIn && mIn && os === ms) {
      oi++;
      mi++;
    } else if (!oIn || (mIn && compareBytes(os, ms) > 0)) {
      if (!opts.ignoreChangesAndAdditions) add.push(m[mi]);
      mi++;
    } else {
      if (!opts.ignoreDeletions) del.push(o[oi]);
      oi++;
    }
  }
  return [add, deduplicateScalars(del), o];
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** [changes and additions, `$patch: delete` items] of two lists of maps. */
function diffListsOfMaps(
  original: unknown[],
  modified: unknown[],
  meta: PatchMeta,
  mergeKey: string,
  opts: DiffOptions,
): [unknown[], unknown[]] {
  const patch: unknown[] = [];
  const deletions: unknown[] = [];
  const o = sortMapsByMergeKey(original, mergeKey);
  const m = sortMapsByMergeKey(modified, mergeKey);
  let oi = 0;
  let mi = 0;
  while (oi < o.length || mi < m.length) {
    const oIn = oi < o.length;
    const mIn = mi < m.length;
    let oe: JSONObject | undefined;
    let me: JSONObject | undefined;
    let os = '';
    let ms = '';
    if (oIn) {
      oe = mapWithMergeKey(o[oi], mergeKey);
      os = goFormat(oe[mergeKey]);
    }
    if (mIn) {
      me = mapWithMergeKey(m[mi], mergeKey);
      ms = goFormat(me[mergeKey]);
    }
    if (oe !== undefined && me !== undefined && os === ms) {
      const sub = diffMaps(oe, me, meta, opts);
      if (Object.keys(sub).length > 0) {
        sub[mergeKey] = me[mergeKey];
        patch.push(sub);
      }
      oi++;
      mi++;
    } else if (me !== undefined && (oe === undefined || compareBytes(os, ms) > 0)) {
      if (!opts.ignoreChangesAndAdditions) patch.push(me);
      mi++;
    } else if (oe !== undefined) {
      if (!opts.ignoreDeletions)
        deletions.push({ [mergeKey]: oe[mergeKey], [DIRECTIVE_MARKER]: DELETE_DIRECTIVE });
      oi++;
    }
  }
  return [patch, deletions];
}

function mapWithMergeKey(v: unknown, mergeKey: string): JSONObject {
  if (!isJSONObject(v)) throw errBadArgType('map', v);
  if (!Object.hasOwn(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
  return v;
}

/** Sorts maps by the `%v` text of their merge key (upstream sortMergeListsByNameArray). */
function sortMapsByMergeKey(s: unknown[], mergeKey: string): unknown[] {
  if (s.length === 0) return s;
  const kind = sliceElementKind(s);
  if (kind !== 'map') return sortScalars(s);
  const keyed = s.map((v) => ({ v, k: goFormat(isJSONObject(v) ? v[mergeKey] : undefined) }));
  keyed.sort((a, b) => compareBytes(a.k, b.k));
  return keyed.map((e) => e.v);
}
