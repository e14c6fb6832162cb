// metadata.ownerReferences: finding an object's controller, building the reference a
// controller stamps on what it creates, and validating the list as the API server does.
// Controllers adopt and release objects through these, and the garbage collector follows
// them, so "at most one controller" is enforced here with upstream's message.

import type { FieldError } from './status-error.js';

/** metav1.OwnerReference. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** The structural part of an object these helpers read. */
export interface OwnedObject {
  metadata?: { name?: string; uid?: string; ownerReferences?: OwnerReference[] };
}

/** A group, version and kind. */
export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** `apps/v1`, or `v1` for the core group. */
export function groupVersionString(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** Splits `apps/v1` into group and version (`v1` → core group), as schema.ParseGroupVersion. */
export function parseAPIVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  if (slash < 0) return { group: '', version: apiVersion };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The owner reference with controller: true, if any (a copy). */
export function getControllerOf(obj: OwnedObject): OwnerReference | undefined {
  const ref = getControllerOfNoCopy(obj);
  return ref === undefined ? undefined : { ...ref };
}

/** The owner reference with controller: true, if any (the object's own entry). */
export function getControllerOfNoCopy(obj: OwnedObject): OwnerReference | undefined {
  return (obj.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
}

/** True when obj's controller reference points at owner's uid. */
export function isControlledBy(obj: OwnedObject, owner: OwnedObject): boolean {
  const ref = getControllerOfNoCopy(obj);
  return ref !== undefined && ref.uid === (owner.metadata?.uid ?? '');
}

/** The reference a controller puts on objects it creates (controller and blockOwnerDeletion true). */
export function newControllerRef(owner: OwnedObject, gvk: GroupVersionKind): OwnerReference {
  return {
    apiVersion: groupVersionString(gvk.group, gvk.version),
    kind: gvk.kind,
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Kinds that may never own other objects (upstream's BannedOwners). */
const BANNED_OWNERS: ReadonlyArray<GroupVersionKind> = [{ group: '', version: 'v1', kind: 'Event' }];

// schema.FromAPIVersionAndKind: an unparsable apiVersion yields an empty group and version.
function gvkOf(ref: OwnerReference): GroupVersionKind {
  const apiVersion = ref.apiVersion ?? '';
  const parts = apiVersion.split('/');
  let gv: { group: string; version: string };
  if (apiVersion === '') gv = { group: '', version: '' };
  else if (parts.length === 1) gv = { group: '', version: apiVersion };
  else if (parts.length === 2) gv = { group: parts[0] as string, version: parts[1] as string };
  else gv = { group: '', version: '' };
  return { ...gv, kind: ref.kind ?? '' };
}

// Go renders schema.GroupVersionKind with String(): `/v1, Kind=Event`.
function gvkString(gvk: GroupVersionKind): string {
  return `${gvk.group}/${gvk.version}, Kind=${gvk.kind}`;
}

function validateOwnerReference(ref: OwnerReference, fldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  const gvk = gvkOf(ref);
  if (gvk.version === '') {
    errs.push({
      type: 'FieldValueInvalid',
      field: `${fldPath}.apiVersion`,
      badValue: ref.apiVersion ?? '',
      detail: 'version must not be empty',
    });
  }
  if (gvk.kind === '') {
    errs.push({
      type: 'FieldValueInvalid',
      field: `${fldPath}.kind`,
      badValue: ref.kind ?? '',
      detail: 'kind must not be empty',
    });
  }
  if ((ref.name ?? '') === '') {
    errs.push({
      type: 'FieldValueInvalid',
      field: `${fldPath}.name`,
      badValue: ref.name ?? '',
      detail: 'name must not be empty',
    });
  }
  if ((ref.uid ?? '') === '') {
    errs.push({
      type: 'FieldValueInvalid',
      field: `${fldPath}.uid`,
      badValue: ref.uid ?? '',
      detail: 'uid must not be empty',
    });
  }
  if (BANNED_OWNERS.some((b) => b.group === gvk.group && b.version === gvk.version && b.kind === gvk.kind)) {
    errs.push({
      type: 'FieldValueInvalid',
      field: fldPath,
      badValue: ref,
      detail: `${gvkString(gvk)} is disallowed from being an owner`,
    });
  }
  return errs;
}

/**
 * Validates metadata.ownerReferences at fldPath (normally `metadata.ownerReferences`):
 * required fields, banned owner kinds, and at most one controller.
 */
export function validateOwnerReferences(
  refs: readonly OwnerReference[] | undefined | null,
  fldPath: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (refs === undefined || refs === null) return errs;
  let firstController = '';
  for (const ref of refs) {
    errs.push(...validateOwnerReference(ref, fldPath));
    if (ref.controller === true) {
      const current = `${ref.kind}/${ref.name}`;
      if (firstController !== '') {
        errs.push({
          type: 'FieldValueInvalid',
          field: fldPath,
          badValue: refs,
          detail: `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`,
        });
      } else {
        firstController = current;
      }
    }
  }
  return errs;
}

/** True when both references name the same owner (upstream compares by uid). */
export function sameOwner(a: OwnerReference, b: OwnerReference): boolean {
  return a.uid === b.uid;
}

/** The references with the one pointing at uid removed. */
export function removeOwnerReference(
  refs: readonly OwnerReference[] | undefined,
  uid: string,
): OwnerReference[] {
  return (refs ?? []).filter((r) => r.uid !== uid);
}

/** The references with ref added, or replacing the entry with the same uid. */
export function upsertOwnerReference(
  refs: readonly OwnerReference[] | undefined,
  ref: OwnerReference,
): OwnerReference[] {
  const out = (refs ?? []).filter((r) => r.uid !== ref.uid);
  out.push(ref);
  return out;
}
