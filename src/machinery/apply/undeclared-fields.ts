// Fields of an applied configuration that its schema does not declare. Server-side apply
// turns the applied object into a typed value first (structured-merge-diff's ObjectToTyped),
// and that conversion rejects a field no struct declares whatever fieldValidation says, so
// an apply with a typo fails before any merge: upstream answers a plain 500 whose message is
// `failed to create typed patch object (<ns>/<name>; <gvk>): .spec.bogus: field not declared
// in schema`, one line per field under `errors:` when there are several.
import type { SchemaNode } from '../../api/schema-types.js';
import { StatusError } from '../status-error.js';
import { pathElementToString } from './path-element.js';
import { isMap, type TypeContext, type TypeInfo } from './typed-value.js';

const NOT_DECLARED = 'field not declared in schema';

/**
 * The `<path>: field not declared in schema` errors of `value` against `node`, in a stable
 * order (keys sorted; upstream walks Go maps, whose order varies from run to run).
 */
export function undeclaredFields(ctx: TypeContext, value: unknown, node: SchemaNode | undefined): string[] {
  const out: string[] = [];
  walk(ctx, value, ctx.info(node), '', out);
  return out;
}

function walk(ctx: TypeContext, v: unknown, t: TypeInfo, path: string, out: string[]): void {
  if (t.kind === 'map') {
    // a struct without declared properties and without an element type is free-form
    if (!isMap(v) || (t.props === undefined && t.elem === undefined)) return;
    for (const key of Object.keys(v).sort(cmp)) {
      const child = `${path}.${key}`;
      if (t.props !== undefined && Object.hasOwn(t.props, key))
        walk(ctx, v[key], ctx.info(t.props[key]), child, out);
      else if (t.elem !== undefined) walk(ctx, v[key], ctx.info(t.elem), child, out);
      else out.push(`${child}: ${NOT_DECLARED}`);
    }
    return;
  }
  if (t.kind !== 'list' || !Array.isArray(v)) return;
  const item = ctx.info(t.item);
  for (let i = 0; i < v.length; i++) {
    let element = `[${i}]`;
    if (t.rel !== 'atomic') {
      try {
        element = pathElementToString(ctx.itemElement(t, v[i]));
      } catch {
        // an item that cannot be keyed is the merge's error to report, not this walk's
        continue;
      }
    }
    walk(ctx, v[i], item, `${path}${element}`, out);
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The 500 upstream answers for an applied object with undeclared fields (no reason: the
 * field manager's error is not an API status).
 */
export function typedPatchError(
  applied: Record<string, unknown>,
  gvk: string,
  errors: string[],
): StatusError {
  const meta = isMap(applied.metadata) ? applied.metadata : {};
  const ns = typeof meta.namespace === 'string' ? meta.namespace : '';
  const name = typeof meta.name === 'string' ? meta.name : '';
  const detail =
    errors.length === 1 ? (errors[0] ?? '') : ['errors:', ...errors.map((e) => `  ${e}`)].join('\n');
  return new StatusError({
    code: 500,
    message: `failed to create typed patch object (${ns}/${name}; ${gvk}): ${detail}`,
  });
}
