// PATCH in its four flavours (JSON patch, merge patch, strategic merge patch, server-side
// apply). The patch is applied to the current object inside the Store's read-modify-write
// loop, so a concurrent writer makes it re-apply to the newer object rather than fail —
// unless the patch itself pins metadata.resourceVersion.
import { decodeJSON, parseJSONValue } from '../../api/codec/json.js';
import { decodeYAML } from '../../api/codec/yaml.js';
import { definitionForGVK } from '../../api/schema.js';
import { validateSchema } from '../../api/validation/schema-validate.js';
import { apply, fieldManagerRequired } from '../../machinery/apply/index.js';
import {
  applyJSONPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  patchSchemaForGVK,
} from '../../machinery/patch/index.js';
import { goJSON } from '../../machinery/apply/path-element.js';
import { goQuote, goSprintV } from '../../machinery/go-format.js';
import {
  badRequest,
  invalid,
  notFound,
  type StatusError,
  unsupportedMediaType,
} from '../../machinery/status-error.js';
import { readBody } from '../http.js';
import { queryBool } from '../registry/list-options.js';
import type { KObject } from '../registry/object.js';
import { isObject } from '../registry/object.js';
import { mediaType } from './decode.js';
import { apiVersionOf } from './render.js';
import { parseWriteOptions, type Scope } from './scope.js';
import { writeStored } from './write.js';
import { checkCustomFields } from '../../apiextensions/field-validation.js';

const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

/** A decoded patch body: what to do to the current object. */
export type Patcher = (current: KObject | undefined) => KObject;

/** Builds the patch function for a Content-Type and body (shared with subresource patches). */
export function makePatcher(
  s: Scope,
  contentType: string,
  body: Buffer,
  opts: {
    kind: string;
    apiVersion: string;
    definition: string | undefined;
    force: boolean;
    manager: string;
    explicitManager: boolean;
  },
): Patcher {
  const gvk = { group: s.resource.group, version: s.resource.version, kind: opts.kind };
  switch (contentType) {
    case 'application/json-patch+json': {
      const ops = parseJSONValue(body);
      return (cur) => {
        if (!cur) throw notFound(s.store.gr, s.info.name);
        return asObject(applyJSONPatch(cur, ops as Parameters<typeof applyJSONPatch>[1]));
      };
    }
    case 'application/merge-patch+json': {
      const p = parseJSONValue(body);
      return (cur) => {
        if (!cur) throw notFound(s.store.gr, s.info.name);
        return asObject(applyMergePatch(cur, p));
      };
    }
    case 'application/strategic-merge-patch+json': {
      const p = decodeJSON(body);
      const schema = patchSchemaForGVK(gvk);
      return (cur) => {
        if (!cur) throw notFound(s.store.gr, s.info.name);
        return asObject(applyStrategicMergePatch(cur, p, schema));
      };
    }
    case 'application/apply-patch+yaml': {
      if (!opts.explicitManager) throw fieldManagerRequired();
      const applied = decodeYAML(body);
      if (!isObject(applied)) throw badRequest('error decoding YAML: apply patch must be an object');
      return (cur) => {
        const r = apply(cur, applied, {
          manager: opts.manager,
          force: opts.force,
          apiVersion: opts.apiVersion,
          kind: opts.kind,
          schema: opts.definition ? { ref: opts.definition } : undefined,
          now: s.now,
          ...(s.info.subresource ? { subresource: s.info.subresource } : {}),
        });
        return r.object as KObject;
      };
    }
    default:
      throw unsupportedMediaType(contentType, PATCH_TYPES);
  }
}

const SMP = 'application/strategic-merge-patch+json';

// Custom resources have no patch strategies: upstream refuses strategic merge patches.
const CUSTOM_PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/apply-patch+yaml',
];

/**
 * The 422 upstream's patch handler answers when the patched object does not decode into its
 * type (strictly, under fieldValidation=Strict): an invalid `patch` field of no kind or
 * name, whose value is the strategic merge patch as Go's `%+v` prints the decoded map, or
 * for JSON and merge patches the patched object's JSON (Go's encoder: keys sorted).
 */
function patchInvalid(contentType: string, body: Buffer, next: KObject, why: string): StatusError {
  const value = contentType === SMP ? goSprintV(decodeJSON(body)) : goJSON(next);
  return invalid('', '', '', [
    { type: 'FieldValueInvalid', field: 'patch', renderedValue: goQuote(value), detail: why },
  ]);
}

function asObject(v: unknown): KObject {
  if (!isObject(v)) throw badRequest('the patch result is not an object');
  return v as KObject;
}

/** PATCH /…/<resource>/<name>[/status] */
export async function handlePatch(s: Scope): Promise<void> {
  const wo = parseWriteOptions(s);
  const ct = mediaType(s.req.headers['content-type']);
  const body = await readBody(s.req);
  const force = queryBool(s.url.searchParams.get('force'));
  if (force && ct !== 'application/apply-patch+yaml') {
    throw badRequest('force may not be set for non-apply patch');
  }
  const isApply = ct === 'application/apply-patch+yaml';
  const custom = s.custom;
  if (custom && !CUSTOM_PATCH_TYPES.includes(ct)) throw unsupportedMediaType(ct, CUSTOM_PATCH_TYPES);
  const def = custom
    ? undefined
    : definitionForGVK({
        group: s.resource.group,
        version: s.resource.version,
        kind: s.resource.kind,
      });
  const patcher = makePatcher(s, ct, body, {
    kind: s.resource.kind,
    apiVersion: apiVersionOf(s.resource),
    definition: custom ? custom.info.definition : def?.name,
    force,
    manager: wo.fieldManager,
    explicitManager: wo.explicitManager,
  });
  const status = s.info.subresource === 'status';
  const r = await s.store.guaranteedUpdate(
    s.info.namespace,
    s.info.name,
    { ...wo, managedFieldsDone: isApply },
    (cur) => {
      const next = patcher(cur);
      if (custom) {
        const failure = isApply ? undefined : (why: string) => patchInvalid(ct, body, next, why);
        checkCustomFields(custom, next, [], wo.fieldValidation, s.warnings, failure);
      } else if (def) {
        const failure = isApply ? undefined : (why: string) => patchInvalid(ct, body, next, why);
        const v = validateSchema(next, def, {
          mode: wo.fieldValidation,
          prune: true,
          ...(failure !== undefined ? { strictError: failure } : {}),
          ...(failure !== undefined && ct !== SMP ? { decodeError: failure } : {}),
        });
        for (const w of v.warnings) if (!s.warnings.includes(w)) s.warnings.push(w);
      }
      return next;
    },
    { createIfMissing: isApply && !status, mode: status ? 'status' : 'main' },
  );
  writeStored(s.res, r.created ? 201 : 200, r.obj, s);
}
