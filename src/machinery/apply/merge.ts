// The ownership algorithm of server-side apply (structured-merge-diff's merge.Updater):
//
// - update: a write changed some fields; whoever owned a changed field loses it (for Apply
//   that is a conflict unless forced), removed fields leave every owner, and the writer
//   gains what it added or modified.
// - apply: the applied configuration is merged onto the live object; the applier now owns
//   exactly the fields of its configuration; fields it applied last time and no longer
//   applies are pruned unless some other manager still owns them.
//
// Objects here have one schema whatever the manager's apiVersion (kts serves one version of
// each kind), so no conversion between versions is needed.
import type { SchemaNode } from '../../api/schema-types.js';
import { ConflictsError, conflictsFromManagers } from './conflicts.js';
import type { FieldSet } from './field-set.js';
import type { ManagerSet } from './managed-fields.js';
import {
  type Comparison,
  compare,
  ensureNamedFieldsAreMembers,
  jsonEqual,
  merge,
  removeItems,
  type TypeContext,
  toFieldSet,
} from './typed-value.js';

/** Manager identifier → owned set. */
export type ManagerSets = Map<string, ManagerSet>;

/** The object schema and its resolver. */
export interface TypedSchema {
  ctx: TypeContext;
  node: SchemaNode | undefined;
}

/**
 * Moves ownership for a write from `oldObj` to `newObj` made by `workflow`: conflicting
 * fields are taken from the other managers (or reported when `force` is false).
 */
function updateOwners(
  s: TypedSchema,
  oldObj: unknown,
  newObj: unknown,
  managers: ManagerSets,
  workflow: string,
  force: boolean,
): Comparison {
  const cmp = compare(s.ctx, oldObj, newObj, s.node);
  const changed = cmp.modified.union(cmp.added);
  const conflicts = new Map<string, FieldSet>();
  for (const [id, ms] of managers) {
    if (id === workflow) continue;
    const c = ms.set.intersection(changed);
    if (!c.isEmpty()) conflicts.set(id, c);
  }
  if (!force && conflicts.size > 0) throw new ConflictsError(conflictsFromManagers(conflicts));
  for (const [id, ms] of [...managers]) {
    if (id === workflow) continue;
    let set = ms.set;
    const c = conflicts.get(id);
    if (c !== undefined) set = set.difference(c);
    set = set.difference(cmp.removed);
    if (set.isEmpty()) managers.delete(id);
    else if (set !== ms.set) managers.set(id, { ...ms, set });
  }
  return cmp;
}

/** Ownership after an ordinary write (upstream Updater.Update); mutates and returns `managers`. */
export function updateOwnership(
  s: TypedSchema,
  oldObj: unknown,
  newObj: unknown,
  apiVersion: string,
  managers: ManagerSets,
  manager: string,
): ManagerSets {
  const cmp = updateOwners(s, oldObj, newObj, managers, manager, true);
  const prev = managers.get(manager)?.set;
  let set = cmp.modified.union(cmp.added);
  if (prev !== undefined) set = prev.difference(cmp.removed).union(set);
  if (set.isEmpty()) managers.delete(manager);
  else managers.set(manager, { set, apiVersion, applied: false });
  return managers;
}

/** Result of an apply: the new object (undefined when nothing changed) and owners. */
export interface ApplyOutcome {
  object: unknown;
  changed: boolean;
  managers: ManagerSets;
}

/** Merges an applied configuration and moves ownership (upstream Updater.Apply). */
export function applyOwnership(
  s: TypedSchema,
  live: unknown,
  config: unknown,
  apiVersion: string,
  managers: ManagerSets,
  manager: string,
  force: boolean,
): ApplyOutcome {
  let merged = merge(s.ctx, live, config, s.node);
  const last = managers.get(manager);
  managers.set(manager, { set: toFieldSet(s.ctx, config, s.node), apiVersion, applied: true });
  if (last !== undefined && !last.set.isEmpty()) merged = prune(s, merged, managers, last.set);
  updateOwners(s, live, merged, managers, manager, force);
  return { object: merged, changed: !jsonEqual(live, merged), managers };
}

/**
 * Removes what the applier owned last time and no longer applies, keeping anything another
 * manager (or the applier's new configuration) owns, and anything the applier never owned.
 */
function prune(s: TypedSchema, merged: unknown, managers: ManagerSets, lastSet: FieldSet): unknown {
  const ensure = (set: FieldSet): FieldSet => ensureNamedFieldsAreMembers(s.ctx, set, s.node);
  const last = ensure(lastSet);
  let pruned = removeItems(s.ctx, merged, last, s.node);
  // add back owned items
  let owned: FieldSet | undefined;
  for (const ms of managers.values()) owned = owned === undefined ? ms.set : owned.union(ms.set);
  const mergedSet = ensure(toFieldSet(s.ctx, merged, s.node));
  let prunedSet = ensure(toFieldSet(s.ctx, pruned, s.node));
  const keep = owned === undefined ? prunedSet : prunedSet.union(ensure(owned));
  pruned = removeItems(s.ctx, merged, mergedSet.difference(keep), s.node);
  // add back dangling items: only what the applier itself owned may go
  prunedSet = ensure(toFieldSet(s.ctx, pruned, s.node));
  return removeItems(s.ctx, merged, mergedSet.difference(prunedSet).intersection(last), s.node);
}
