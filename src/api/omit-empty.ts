// Go's JSON encoding omits empty maps and slices of `omitempty` fields, so an upstream
// server never stores or returns `labels: {}` after the last label is removed, or
// `finalizers: []`. kts reproduces that on every write: optional (not required) map and
// list properties that are empty are dropped, guided by the schema table. Empty structs
// stay (`resources: {}`), as Go keeps non-pointer structs.
import { resolveNode } from './schema.js';
import type { SchemaNode } from './schema-types.js';

function isEmptyContainer(v: unknown, n: SchemaNode): boolean {
  if (Array.isArray(v)) return v.length === 0;
  if (
    typeof v === 'object' &&
    v !== null &&
    n.additionalProperties !== undefined &&
    n.properties === undefined
  ) {
    for (const _ in v) return false;
    return true;
  }
  return false;
}

/** Drops empty optional maps and lists from obj (in place), following `node`'s schema. */
export function omitEmpty(obj: Record<string, unknown>, node: SchemaNode, depth = 0): void {
  const n = resolveNode(node);
  if (!n || n.preserveUnknownFields || depth > 64) return;
  if (n.properties) {
    const required = n.required;
    for (const key of Object.keys(obj)) {
      const child = n.properties[key];
      if (!child) continue;
      const v = obj[key];
      if (v === null || typeof v !== 'object') continue;
      const cn = resolveNode(child);
      if (!cn) continue;
      if (isEmptyContainer(v, cn) && !(required?.includes(key) ?? false)) {
        delete obj[key];
        continue;
      }
      descend(v, cn, depth + 1);
    }
    return;
  }
  if (n.additionalProperties) {
    for (const v of Object.values(obj))
      if (v !== null && typeof v === 'object') descend(v, n.additionalProperties, depth + 1);
  }
}

function descend(v: object, n: SchemaNode, depth: number): void {
  if (Array.isArray(v)) {
    const items = resolveNode(n)?.items;
    if (!items) return;
    for (const it of v)
      if (it !== null && typeof it === 'object' && !Array.isArray(it))
        omitEmpty(it as Record<string, unknown>, items, depth);
    return;
  }
  omitEmpty(v as Record<string, unknown>, n, depth);
}

/**
 * Drops the listed fields of obj (in place) whose value is 0, as Go's encoder omits a zero
 * `int32 ...,omitempty` field: a status written with `unavailableReplicas: 0` reads back
 * without it from an upstream server. Pointer fields (`ready`, `collisionCount`) and fields
 * without omitempty (`replicas` of a ReplicaSet) must not be listed.
 */
export function omitZero<T extends object>(obj: T, keys: readonly (keyof T)[]): T {
  for (const k of keys) if (obj[k] === 0) delete obj[k];
  return obj;
}
