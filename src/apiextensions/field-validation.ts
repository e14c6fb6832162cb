// Unknown and duplicate fields of custom objects, as upstream's CR decoder reports them:
// fields the schema does not declare are always pruned; fieldValidation decides whether
// that fails the request (Strict: `strict decoding error: unknown field "spec.foo"`),
// becomes a Warning header (Warn, the default) or passes silently (Ignore).
import type { FieldValidationMode } from '../api/validation/schema-validate.js';
import { badRequest } from '../machinery/status-error.js';
import type { KObject } from '../apiserver/registry/object.js';
import type { ServedCustomResource } from './registry.js';

/** The 400 of a body that does not decode: `Widget in version "v1" cannot be handled as a Widget: <why>`. */
export function customUndecodable(custom: ServedCustomResource, why: string): Error {
  const kind = custom.info.kind;
  return badRequest(`${kind} in version "${custom.version}" cannot be handled as a ${kind}: ${why}`);
}

/**
 * Prunes `obj` per the version's schema and applies the fieldValidation mode to what was
 * pruned and to duplicate keys. Warnings are appended to `warnings`; Strict throws the
 * error `strictError` builds from upstream's `strict decoding error: …` text.
 */
export function checkCustomFields(
  custom: ServedCustomResource,
  obj: KObject,
  duplicates: readonly string[],
  mode: FieldValidationMode,
  warnings: string[],
  strictError: (message: string) => Error = (m) => customUndecodable(custom, m),
): void {
  const pruned = custom.schema ? custom.schema.prune(obj as Record<string, unknown>) : [];
  if (mode === 'Ignore') return;
  const problems = [
    ...pruned.map((p) => `unknown field "${p.replace(/^\./, '')}"`),
    ...duplicates.map((d) => `duplicate field "${d.replace(/^\./, '')}"`),
  ];
  if (problems.length === 0) return;
  if (mode === 'Strict') throw strictError(`strict decoding error: ${problems.join(', ')}`);
  for (const p of problems) if (!warnings.includes(p)) warnings.push(p);
}
