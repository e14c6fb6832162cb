// Apply conflicts and the API errors of server-side apply, worded as upstream
// (k8s.io/apimachinery managedfields conflict.go, metav1 validation): kubectl prints these
// messages and reads `details.causes` to list the conflicting fields.
import type { FieldError, StatusCause } from '../status-error.js';
import { badRequest, invalid, StatusError } from '../status-error.js';
import type { FieldSet } from './field-set.js';
import { type Path, pathToString } from './path-element.js';

/** One field owned by another manager that an apply would change. */
export interface Conflict {
  /** Manager identifier (JSON, see managerIdentifier). */
  manager: string;
  path: Path;
}

/** Thrown inside the apply machinery when conflicts stop an apply; becomes a 409. */
export class ConflictsError extends Error {
  /** Makes the error from conflicts in upstream's order. */
  constructor(readonly conflicts: Conflict[]) {
    super(`${conflicts.length} conflicts`);
    this.name = 'ConflictsError';
  }
}

/** Conflicts from per-manager conflicting sets, managers sorted, paths in set order. */
export function conflictsFromManagers(sets: ReadonlyMap<string, FieldSet>): Conflict[] {
  const out: Conflict[] = [];
  for (const manager of [...sets.keys()].sort()) {
    sets.get(manager)!.iterate((path) => out.push({ manager, path }));
  }
  return out;
}

/** `"mgr"`, `"mgr" with subresource "status"`, `"mgr" using apps/v1` (upstream printManager). */
export function printManager(manager: string): string {
  let e: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(manager);
    if (v === null || typeof v !== 'object') return JSON.stringify(manager);
    e = v as Record<string, unknown>;
  } catch {
    return JSON.stringify(manager);
  }
  let s = JSON.stringify(typeof e.manager === 'string' ? e.manager : '');
  if (typeof e.subresource === 'string' && e.subresource !== '') {
    s = `${s} with subresource ${JSON.stringify(e.subresource)}`;
  }
  if (e.operation === 'Update') {
    const v = typeof e.apiVersion === 'string' ? e.apiVersion : '';
    if (typeof e.time === 'string') return `${s} using ${v} at ${e.time}`;
    return `${s} using ${v}`;
  }
  return s;
}

/** upstream getConflictMessage: one line for one conflict, grouped by manager otherwise. */
export function conflictMessage(conflicts: readonly Conflict[]): string {
  const only = conflicts[0];
  if (conflicts.length === 1 && only !== undefined) {
    return `Apply failed with 1 conflict: conflict with ${printManager(only.manager)}: ${pathToString(only.path)}`;
  }
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) {
    const list = byManager.get(c.manager) ?? [];
    list.push(pathToString(c.path));
    byManager.set(c.manager, list);
  }
  const lines: string[] = [];
  for (const manager of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${printManager(manager)}:`);
    for (const p of byManager.get(manager)!) lines.push(`- ${p}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

/** 409 Conflict for an apply (upstream errors.NewApplyConflict): causes of type FieldManagerConflict. */
export function applyConflict(conflicts: readonly Conflict[]): StatusError {
  const causes: StatusCause[] = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${printManager(c.manager)}`,
    field: pathToString(c.path),
  }));
  return new StatusError({
    reason: 'Conflict',
    code: 409,
    message: conflictMessage(conflicts),
    details: { causes },
  });
}

/** 422 for PatchOptions of an apply patch without fieldManager (upstream ValidatePatchOptions). */
export function fieldManagerRequired(): StatusError {
  const errs: FieldError[] = [
    { type: 'FieldValueRequired', field: 'fieldManager', detail: 'is required for apply patch' },
  ];
  return invalid('PatchOptions', 'meta.k8s.io', '', errs);
}

/** Validates a fieldManager value (≤ 128 printable characters); errors as upstream's ValidateFieldManager. */
export function validateFieldManager(manager: string, field = 'fieldManager'): FieldError[] {
  const errs: FieldError[] = [];
  if (Buffer.byteLength(manager, 'utf8') > FIELD_MANAGER_MAX_LENGTH) {
    errs.push({
      type: 'FieldValueTooLong',
      field,
      detail: `may not be more than ${FIELD_MANAGER_MAX_LENGTH} bytes`,
    });
  }
  let i = 0;
  for (const ch of manager) {
    if (!isPrintable(ch)) {
      const cp = ch.codePointAt(0) ?? 0;
      const hex = cp.toString(16).toUpperCase().padStart(4, '0');
      errs.push({
        type: 'FieldValueInvalid',
        field,
        badValue: manager,
        detail: `invalid character U+${hex} (at position ${i})`,
      });
    }
    i += Buffer.byteLength(ch, 'utf8');
  }
  return errs;
}

/** Maximum length of a field manager name (upstream FieldManagerMaxLength). */
export const FIELD_MANAGER_MAX_LENGTH = 128;

function isPrintable(ch: string): boolean {
  // Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and ASCII space.
  return ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

/**
 * The manager of a request without `fieldManager`: the User-Agent up to its first `/`,
 * without unprintable characters, cut at 128 bytes (upstream prefixFromUserAgent).
 */
export function managerOrUserAgent(manager: string | undefined, userAgent: string | undefined): string {
  if (manager !== undefined && manager !== '') return manager;
  const prefix = (userAgent ?? '').split('/')[0] ?? '';
  let out = '';
  let len = 0;
  for (const ch of prefix) {
    if (!isPrintable(ch)) continue;
    const n = Buffer.byteLength(ch, 'utf8');
    if (len + n > FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
    len += n;
  }
  return out;
}

/** 400 for an applied object whose apiVersion is not the endpoint's (upstream wording). */
export function incorrectApplyVersion(specified: string, expected: string): StatusError {
  return badRequest(
    `Incorrect version specified in apply patch. Specified patch version: ${specified}, expected: ${expected}`,
  );
}

/** 400 for an applied object that carries managedFields. */
export function managedFieldsMustBeNil(): StatusError {
  return badRequest('metadata.managedFields must be nil');
}
