// The untyped object shape the registry moves around: any Kubernetes object is JSON with
// apiVersion, kind and metadata; the rest is validated against the schema table.
import type { ObjectMeta } from '../../api/generated/types/meta-v1.js';

/** Any API object. */
export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

/** The metadata of an object, created when missing. */
export function meta(obj: KObject): ObjectMeta {
  if (obj.metadata === undefined || obj.metadata === null || typeof obj.metadata !== 'object')
    obj.metadata = {};
  return obj.metadata;
}

/** A deep copy of a JSON value (objects in the registry are plain JSON). */
export function deepCopy<T>(v: T): T {
  return structuredClone(v);
}

const rendered = new WeakMap<KObject, string>();

/**
 * Records the JSON of an object the Store has just persisted (resourceVersion included).
 * Objects returned by Store writes are read-only (they are shared with the watch cache), so
 * the JSON stays valid for as long as the object lives.
 */
export function rememberJSON(obj: KObject, json: string): void {
  rendered.set(obj, json);
}

/** The JSON recorded for a persisted object, so a handler can reply without stringifying. */
export function renderedJSON(obj: KObject): string | undefined {
  return rendered.get(obj);
}

/** True when v is a plain JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Semantic equality of two JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  if (ak.length !== bk.length) return false;
  for (const k of ak) if (!jsonEqual(ao[k], bo[k])) return false;
  return true;
}
