// Server-side apply and managedFields (structured-merge-diff v4 semantics as served by
// Kubernetes 1.32). Contract:
// - `apply(live, applied, opts)` is the PATCH `application/apply-patch+yaml` path: it merges
//   the applied configuration, prunes what the manager stopped applying, records ownership
//   and throws a 409 StatusError on conflicts (unless `force`).
// - `updateManagedFields(old, new, opts)` runs on every other create/update/patch and
//   returns the object with metadata.managedFields recomputed; it never throws (as
//   upstream's UpdateNoErrors, a failure keeps the live object's managedFields).
// Neither function mutates its inputs. Defaulting of an applied result is the caller's job.
import { resolveNode } from '../../api/schema.js';
import type { SchemaNode } from '../../api/schema-types.js';
import { badRequest, internalError, StatusError } from '../status-error.js';
import { applyConflict, ConflictsError } from './conflicts.js';
import { FieldSet } from './field-set.js';
import {
  capUpdateManagers,
  decodeManagedFields,
  emptyManaged,
  encodeManagedFields,
  formatTime,
  isResetManagedFields,
  type Managed,
  type ManagedFieldsEntry,
  managerIdentifier,
} from './managed-fields.js';
import { applyOwnership, type TypedSchema, updateOwnership } from './merge.js';
import { fieldElement, goJSON, type Path } from './path-element.js';
import { compare, isMap, type SchemaResolver, stripEmptied, TypeContext, toFieldSet } from './typed-value.js';
import { typedPatchError, undeclaredFields } from './undeclared-fields.js';
import { zeroObject } from './zero-value.js';

export {
  applyConflict,
  type Conflict,
  conflictMessage,
  fieldManagerRequired,
  incorrectApplyVersion,
  managedFieldsMustBeNil,
  managerOrUserAgent,
  printManager,
  validateFieldManager,
} from './conflicts.js';
export { type FieldsV1, FieldSet } from './field-set.js';
export {
  ANCIENT_CHANGES_MANAGER,
  DEFAULT_MAX_UPDATE_MANAGERS,
  decodeManagedFields,
  encodeManagedFields,
  isResetManagedFields,
  type ManagedFieldsEntry,
  managerIdentifier,
} from './managed-fields.js';
export { type Path, type PathElement, pathToString } from './path-element.js';
export { type SchemaResolver, TypeContext, toFieldSet } from './typed-value.js';

/** The annotation kubectl's client-side apply keeps; server-side apply by `kubectl` keeps it current. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** Options shared by apply and updateManagedFields. */
export interface FieldManagerOptions {
  /** Field manager name (already defaulted from the User-Agent for non-apply writes). */
  manager: string;
  /** The group/version the request was made with: `apps/v1`, `v1`. */
  apiVersion: string;
  /** Schema of the object's kind (e.g. `{ ref: 'io.k8s.api.apps.v1.Deployment' }`); undefined = untyped. */
  schema: SchemaNode | undefined;
  /** Time of the write (entries carry it with second precision). */
  now: Date;
  /** `status`, `scale`, … when the write is to a subresource. */
  subresource?: string;
  /** Follows schema refs; defaults to the project's generated schema table. */
  resolver?: SchemaResolver;
  /** Maximum Update entries before the oldest merge into `ancient-changes` (default 10). */
  maxUpdateManagers?: number;
}

/** Options of an apply. */
export interface ApplyOptions extends FieldManagerOptions {
  /** Take conflicting fields from their owners instead of failing. */
  force: boolean;
  /** Expected kind; an applied object of another kind or version is rejected (400). */
  kind?: string;
}

/** Options of an ordinary write. */
export interface UpdateOptions extends FieldManagerOptions {
  operation?: 'Update';
}

/** An object with its managed fields. */
export interface FieldManagerResult {
  object: Record<string, unknown>;
  managedFields: ManagedFieldsEntry[] | undefined;
}

const contexts = new Map<SchemaResolver, TypeContext>();

function typed(opts: FieldManagerOptions): TypedSchema {
  const resolver = opts.resolver ?? resolveNode;
  let ctx = contexts.get(resolver);
  if (ctx === undefined) {
    ctx = new TypeContext(resolver);
    contexts.set(resolver, ctx);
  }
  return { ctx, node: opts.schema };
}

// Fields that never belong to a manager (upstream stripMetaManager).
const STRIP_SET = new FieldSet(
  [
    ['apiVersion'],
    ['kind'],
    ['metadata'],
    ['metadata', 'name'],
    ['metadata', 'namespace'],
    ['metadata', 'creationTimestamp'],
    ['metadata', 'selfLink'],
    ['metadata', 'uid'],
    ['metadata', 'clusterName'],
    ['metadata', 'generation'],
    ['metadata', 'managedFields'],
    ['metadata', 'resourceVersion'],
  ].map((p): Path => p.map(fieldElement)),
);

function stripMeta(m: Managed, id: string): void {
  const ms = m.fields.get(id);
  if (ms === undefined) return;
  const set = ms.set.difference(STRIP_SET);
  if (set.isEmpty()) m.fields.delete(id);
  else m.fields.set(id, { ...ms, set });
}

function metadataOf(obj: unknown): Record<string, unknown> | undefined {
  return isMap(obj) && isMap(obj.metadata) ? obj.metadata : undefined;
}

function managedFieldsOf(obj: unknown): unknown {
  return metadataOf(obj)?.managedFields;
}

/** A shallow copy of `obj` with metadata.managedFields replaced (removed when undefined). */
function withManagedFields(
  obj: Record<string, unknown>,
  mf: ManagedFieldsEntry[] | undefined,
): Record<string, unknown> {
  const meta = metadataOf(obj);
  if (meta === undefined && mf === undefined) return obj;
  const { managedFields: _drop, ...rest } = meta ?? {};
  return { ...obj, metadata: mf === undefined ? rest : { ...rest, managedFields: mf } };
}

function decodeOrEmpty(v: unknown): Managed {
  if (!Array.isArray(v)) return emptyManaged();
  try {
    return decodeManagedFields(v as ManagedFieldsEntry[]);
  } catch {
    return emptyManaged();
  }
}

/** Managed fields a write starts from (upstream decodeLiveOrNew). */
function decodeLiveOrNew(oldObj: unknown, newObj: unknown, isSubresource: boolean): Managed {
  if (isSubresource) return decodeOrEmpty(managedFieldsOf(oldObj));
  const sent = managedFieldsOf(newObj);
  if (isResetManagedFields(sent)) return emptyManaged();
  if (Array.isArray(sent)) {
    try {
      const m = decodeManagedFields(sent as ManagedFieldsEntry[]);
      if (m.fields.size > 0) return m;
    } catch {
      // invalid managedFields from the client: keep the live object's, as upstream
    }
  }
  return decodeOrEmpty(managedFieldsOf(oldObj));
}

/**
 * Recomputes metadata.managedFields for a create (`oldObj` undefined) or update made by
 * `opts.manager`: the fields it changed become its own (taken from other managers), one
 * entry per (manager, Update, apiVersion, subresource).
 */
export function updateManagedFields(
  oldObj: Record<string, unknown> | undefined,
  newObj: Record<string, unknown>,
  opts: UpdateOptions,
): FieldManagerResult {
  const s = typed(opts);
  const managed = decodeLiveOrNew(oldObj, newObj, (opts.subresource ?? '') !== '');
  const next = withManagedFields(newObj, undefined);
  try {
    const base = oldObj === undefined ? zeroObject(s.ctx, s.node) : withManagedFields(oldObj, undefined);
    const id = managerIdentifier({
      manager: opts.manager === '' ? 'unknown' : opts.manager,
      operation: 'Update',
      apiVersion: opts.apiVersion,
      ...(opts.subresource ? { subresource: opts.subresource } : {}),
    });
    const self = 'current-operation';
    updateOwnership(s, base, next, opts.apiVersion, managed.fields, self);
    stripMeta(managed, self);
    const mine = managed.fields.get(self);
    if (mine !== undefined) {
      managed.fields.delete(self);
      const prev = managed.fields.get(id);
      managed.fields.set(id, { ...mine, set: prev === undefined ? mine.set : mine.set.union(prev.set) });
      managed.times.set(id, formatTime(opts.now));
    }
    capUpdateManagers(managed, opts.maxUpdateManagers);
    const mf = encodeManagedFields(managed);
    return { object: withManagedFields(next, mf), managedFields: mf };
  } catch {
    // like upstream's UpdateNoErrors: never fail a write over managedFields
    const mf = managedFieldsOf(oldObj);
    const kept = Array.isArray(mf) ? (mf as ManagedFieldsEntry[]) : undefined;
    return { object: withManagedFields(next, kept), managedFields: kept };
  }
}

function gvkString(apiVersion: string, kind: string): string {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  return `${group}/${version}, Kind=${kind}`;
}

/**
 * Server-side apply of `applied` by `opts.manager` onto `live` (undefined when the apply
 * creates the object). Throws StatusError: 409 on conflicts, 400 on a malformed request.
 */
export function apply(
  live: Record<string, unknown> | undefined,
  applied: Record<string, unknown>,
  opts: ApplyOptions,
): FieldManagerResult {
  const appliedVersion = typeof applied.apiVersion === 'string' ? applied.apiVersion : '';
  const appliedKind = typeof applied.kind === 'string' ? applied.kind : '';
  if (appliedVersion !== opts.apiVersion || (opts.kind !== undefined && appliedKind !== opts.kind)) {
    throw badRequest(`invalid object type: ${gvkString(appliedVersion, appliedKind)}`);
  }
  const sentManaged = managedFieldsOf(applied);
  if (sentManaged !== undefined && sentManaged !== null) {
    throw badRequest('metadata.managedFields must be nil');
  }
  const s = typed(opts);
  if (s.node !== undefined) {
    const undeclared = undeclaredFields(s.ctx, applied, s.node);
    if (undeclared.length > 0) {
      throw typedPatchError(applied, gvkString(appliedVersion, appliedKind), undeclared);
    }
  }
  let managed: Managed;
  try {
    const mf = managedFieldsOf(live);
    managed = Array.isArray(mf) ? decodeManagedFields(mf as ManagedFieldsEntry[]) : emptyManaged();
  } catch (err) {
    throw internalError(
      `failed to decode managed fields: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const base = live === undefined ? {} : withManagedFields(live, undefined);
  const id = managerIdentifier({
    manager: opts.manager === '' ? 'unknown' : opts.manager,
    operation: 'Apply',
    ...(opts.subresource ? { subresource: opts.subresource } : {}),
  });
  const run = (force: boolean) => {
    const m: Managed = { fields: new Map(managed.fields), times: new Map(managed.times) };
    const outcome = applyOwnership(s, base, applied, opts.apiVersion, m.fields, id, force);
    return { m, outcome };
  };
  let result: ReturnType<typeof run>;
  try {
    try {
      result = run(opts.force);
    } catch (err) {
      if (!(err instanceof ConflictsError) || opts.manager !== 'kubectl') throw err;
      // kubectl upgrading from client-side apply: conflicts on fields whose live values
      // still match the last-applied annotation are its own and are taken over
      const allowed = allowedFromLastApplied(s, base, opts.apiVersion);
      const remaining =
        allowed === undefined ? err.conflicts : err.conflicts.filter((c) => !allowed.has(c.path));
      if (remaining.length > 0) throw new ConflictsError(remaining);
      result = run(true);
    }
  } catch (err) {
    if (err instanceof ConflictsError) throw applyConflict(err.conflicts);
    if (err instanceof StatusError) throw err;
    throw internalError(err instanceof Error ? err.message : String(err));
  }
  const { m, outcome } = result;
  stripMeta(m, id);
  let object: Record<string, unknown>;
  if (outcome.changed) {
    m.times.set(id, formatTime(opts.now));
    const stripped = stripEmptied(outcome.object);
    object = isMap(stripped) ? stripped : {};
  } else {
    object = base;
  }
  if (opts.manager === 'kubectl') object = syncLastApplied(object, applied);
  const mf = encodeManagedFields(m);
  return { object: structuredClone(withManagedFields(object, mf)), managedFields: mf };
}

function lastAppliedOf(obj: unknown): string | undefined {
  const ann = metadataOf(obj)?.annotations;
  if (!isMap(ann)) return undefined;
  const v = ann[LAST_APPLIED_ANNOTATION];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Fields of the last-applied annotation whose live values still match it. */
function allowedFromLastApplied(s: TypedSchema, live: unknown, apiVersion: string): FieldSet | undefined {
  const text = lastAppliedOf(live);
  if (text === undefined) return undefined;
  let last: unknown;
  try {
    last = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isMap(last) || last.apiVersion !== apiVersion) return undefined;
  const c = compare(s.ctx, last, live, s.node);
  return toFieldSet(s.ctx, last, s.node).difference(c.modified).difference(c.added).difference(c.removed);
}

/** Keeps kubectl's last-applied annotation in step with what kubectl server-side applied. */
function syncLastApplied(
  obj: Record<string, unknown>,
  applied: Record<string, unknown>,
): Record<string, unknown> {
  if (lastAppliedOf(obj) === undefined) return obj;
  const appliedMeta = metadataOf(applied);
  let source: Record<string, unknown> = applied;
  if (appliedMeta !== undefined && isMap(appliedMeta.annotations)) {
    const { [LAST_APPLIED_ANNOTATION]: _drop, ...annotations } = appliedMeta.annotations;
    source = { ...applied, metadata: { ...appliedMeta, annotations } };
  }
  const meta = metadataOf(obj)!;
  const annotations = { ...(meta.annotations as Record<string, unknown>) };
  annotations[LAST_APPLIED_ANNOTATION] = `${goJSON(source)}\n`;
  return { ...obj, metadata: { ...meta, annotations } };
}
