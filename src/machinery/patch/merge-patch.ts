// RFC 7386 JSON merge patch with the behaviour of evanphx/json-patch (MergePatch and
// CreateMergePatch), which the apiserver uses for `application/merge-patch+json` and for
// custom resources: null deletes a key, objects merge recursively, anything else (arrays
// included) replaces; nulls inside values that are added are pruned.
//
// Errors follow apiserver/pkg/endpoints/handlers/patch.go: a patch that is not an object or
// array (ErrBadJSONPatch) is a 400 "Invalid JSON Patch"; a document that is not an object is
// the library's bare ErrBadJSONDoc, which the apiserver serves as a 500.
import { badRequest } from '../status-error.js';
import { type JSONObject, deepEqual, goKind, isJSONObject } from './json-values.js';
import { unknownServerError } from './patch-errors.js';

/**
 * Applies a JSON merge patch and returns the new document. A patch that is an array replaces
 * the whole document (as upstream). Inputs are not modified; unchanged subtrees are shared.
 */
export function applyMergePatch(doc: unknown, patch: unknown): unknown {
  if (patch === null || patch === undefined) throw badRequest('Invalid JSON Patch');
  if (Array.isArray(patch)) return pruneNulls(patch);
  if (!isJSONObject(patch)) throw badRequest('Invalid JSON Patch');
  if (doc === null || doc === undefined) throw unknownServerError('Invalid JSON Document');
  // A document that is not an object becomes the patch itself (nulls pruned), as upstream.
  if (!isJSONObject(doc)) return pruneNulls(patch);
  return mergeDocs(doc, patch);
}

function mergeDocs(doc: JSONObject, patch: JSONObject): JSONObject {
  const out: JSONObject = { ...doc };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    if (cur === undefined || cur === null) {
      out[k] = pruneNulls(v);
    } else if (!isJSONObject(cur)) {
      out[k] = pruneNulls(v);
    } else if (!isJSONObject(v)) {
      out[k] = v;
    } else {
      out[k] = mergeDocs(cur, v);
    }
  }
  return out;
}

/** Drops null-valued object keys at every depth (array elements that are null stay). */
function pruneNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (x === null ? null : pruneNulls(x)));
  if (isJSONObject(v)) {
    const out: JSONObject = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = pruneNulls(x);
    return out;
  }
  return v;
}

/**
 * The merge patch that turns `original` into `modified` (upstream CreateMergePatch on two
 * objects): changed and added keys with their new values, removed keys as null, arrays whole.
 */
export function createMergePatch(original: JSONObject, modified: JSONObject): JSONObject {
  const into: JSONObject = {};
  for (const [key, bv] of Object.entries(modified)) {
    if (!Object.hasOwn(original, key)) {
      into[key] = bv;
      continue;
    }
    const av = original[key];
    if (goKind(av) !== goKind(bv)) {
      into[key] = bv;
      continue;
    }
    if (isJSONObject(av) && isJSONObject(bv)) {
      const sub = createMergePatch(av, bv);
      if (Object.keys(sub).length > 0) into[key] = sub;
    } else if (!deepEqual(av, bv)) {
      into[key] = bv;
    }
  }
  for (const key of Object.keys(original)) {
    if (!Object.hasOwn(modified, key)) into[key] = null;
  }
  return into;
}
