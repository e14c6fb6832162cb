// Go writes every non-pointer field to the protobuf wire, so a decoded body carries zero
// values (`restartPolicy: ""`, `hostPort: 0`, `paused: false`, `creationTimestamp: null`)
// that the JSON form of the same object omits (`omitempty`). Defaulting and validation read
// "absent" and "zero" alike only if these are dropped, and responses would otherwise differ
// from upstream's. The wire does not say which fields were Go pointers (whose zero is a
// real value: `replicas: 0`, `automountServiceAccountToken: false`), so that knowledge is
// the list below; required fields always keep their zero; map values are data and are kept.
import type { SchemaNode } from '../schema-types.js';
import { definitionForGVK, propertySchema, resolveNode } from '../schema.js';

// Optional fields that are Go pointers (or otherwise not omitempty) somewhere in the
// built-in API, where an explicit zero means something. Matching by property name is
// deliberately generous: keeping a zero that Go would omit is harmless, dropping a
// meaningful one is not.
const POINTER_FIELDS = new Set([
  'replicas',
  'revisionHistoryLimit',
  'progressDeadlineSeconds',
  'terminationGracePeriodSeconds',
  'activeDeadlineSeconds',
  'backoffLimit',
  'backoffLimitPerIndex',
  'maxFailedIndexes',
  'completions',
  'parallelism',
  'ttlSecondsAfterFinished',
  'startingDeadlineSeconds',
  'successfulJobsHistoryLimit',
  'failedJobsHistoryLimit',
  'suspend',
  'manualSelector',
  'runAsUser',
  'runAsGroup',
  'runAsNonRoot',
  'fsGroup',
  'privileged',
  'readOnlyRootFilesystem',
  'allowPrivilegeEscalation',
  'procMount',
  'defaultMode',
  'mode',
  'optional',
  'priority',
  'preemptionPolicy',
  'partition',
  'maxUnavailable',
  'maxSurge',
  'minAvailable',
  'minReplicas',
  'expirationSeconds',
  'gracePeriodSeconds',
  'timeoutSeconds',
  'automountServiceAccountToken',
  'immutable',
  'enableServiceLinks',
  'shareProcessNamespace',
  'setHostnameAsFQDN',
  'hostUsers',
  'allocateLoadBalancerNodePorts',
  'orphanDependents',
  'stabilizationWindowSeconds',
  'selectPolicy',
  'tolerationSeconds',
]);

/** Go's zero values as they appear in a decoded object. */
export function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false || v === null;
}

/** Deepest object level (the top-level object is 0) whose zeros are dropped. */
export const MAX_ZERO_WALK_DEPTH = 64;

/** True when a zero value of property `key` stays (required, or a pointer outside status). */
export function zeroIsKept(key: string, required: ReadonlySet<string>, inStatus: boolean): boolean {
  return required.has(key) || (!inStatus && POINTER_FIELDS.has(key));
}

/**
 * Drops Go zero values from a protobuf-decoded object, guided by its schema. Decoding with
 * decodeProtobufDroppingZeros (protobuf.ts) gives the same result in one pass.
 */
export function dropProtobufZeros(obj: Record<string, unknown>): void {
  const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  const kind = typeof obj.kind === 'string' ? obj.kind : '';
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const def = definitionForGVK({ group, version, kind });
  if (def) walk(obj, def, 0, false);
}

function walk(value: Record<string, unknown>, node: SchemaNode, depth: number, inStatus: boolean): void {
  const n = resolveNode(node);
  if (!n || n.preserveUnknownFields || depth > MAX_ZERO_WALK_DEPTH) return;
  if (n.properties) {
    const required = new Set(n.required ?? []);
    for (const key of Object.keys(value)) {
      const v = value[key];
      const child = propertySchema(n, key);
      if (isZero(v)) {
        if (!zeroIsKept(key, required, inStatus)) delete value[key];
        continue;
      }
      if (child) descend(v, child, depth + 1, inStatus || (depth === 0 && key === 'status'));
    }
    return;
  }
  if (n.additionalProperties) {
    for (const v of Object.values(value)) descend(v, n.additionalProperties, depth + 1, inStatus);
  }
}

function descend(v: unknown, node: SchemaNode, depth: number, inStatus: boolean): void {
  if (Array.isArray(v)) {
    const n = resolveNode(node);
    const items = n?.items;
    if (!items) return;
    for (const it of v)
      if (typeof it === 'object' && it !== null && !Array.isArray(it))
        walk(it as Record<string, unknown>, items, depth, inStatus);
    return;
  }
  if (typeof v === 'object' && v !== null) walk(v as Record<string, unknown>, node, depth, inStatus);
}
