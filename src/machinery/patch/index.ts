// The patch engines of kts: RFC 6902 JSON patch, RFC 7386 JSON merge patch and Kubernetes
// strategic merge patch (apply, plus creating two-way and three-way patches as kubectl apply
// does), each with upstream's semantics, ordering and error texts.
//
// Contract: pure functions on plain JSON values. Inputs are never mutated; results share
// unchanged subtrees with the inputs, so clone a result before mutating it in place. Apply
// functions throw StatusErrors shaped as the apiserver serves them; create functions throw
// PatchError (use isPatchConflict for the three-way conflict). Strategic merge reads patch
// metadata (patchStrategy, patchMergeKey) from the generated schema table through a
// PatchSchema; without metadata, maps merge as in a merge patch and lists are replaced.
import { definitionForGVK } from '../../api/schema.js';
import type { GroupVersionKind } from '../../api/schema-types.js';
import { type PatchSchema, builtinPatchSchema } from './patch-meta.js';

export {
  applyJSONPatch,
  decodeJSONPatch,
  isJSONPatchApplyError,
  JSON_PATCH_MAX_COPY_BYTES,
  JSONPatchError,
  type JSONPatchOperation,
  type JSONPatchOptions,
  MAX_JSON_PATCH_OPERATIONS,
} from './json-patch.js';
export { type JSONObject, deepEqual, isJSONObject } from './json-values.js';
export { applyMergePatch, createMergePatch } from './merge-patch.js';
export { PatchError, type PatchErrorKind, strategicMergePatchStatusError } from './patch-errors.js';
export { builtinPatchSchema, type PatchSchema, type SchemaResolver } from './patch-meta.js';
export { applyStrategicMergePatch } from './strategic-merge-patch.js';
export { createThreeWayMergePatch, createTwoWayMergePatch, isPatchConflict } from './three-way.js';

/** The strategic merge schema of a built-in kind, or undefined for kinds the table lacks. */
export function patchSchemaForGVK(gvk: GroupVersionKind): PatchSchema | undefined {
  const def = definitionForGVK(gvk);
  return def === undefined ? undefined : builtinPatchSchema(def);
}
