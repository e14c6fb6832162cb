// The "live object" of a create. Upstream compares a created object against a freshly
// allocated Go struct of its kind, whose JSON form already holds the value-typed structs
// (`metadata`, `spec`, `status`, `spec.template`, `spec.strategy`, …) and required
// pointer/slice fields as null. Which struct nodes exist there decides whether a created
// object's managedFields mark them with `.`; this module rebuilds that skeleton from the
// schema plus the list of non-pointer struct fields below (a Go type fact the OpenAPI
// document does not carry), so creates produce the fieldsV1 a real cluster writes.
import type { SchemaNode } from '../../api/schema-types.js';
import type { TypeContext } from './typed-value.js';

// Definition short name → properties that are non-pointer structs in the Go types.
const VALUE_STRUCT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  DeploymentSpec: ['template', 'strategy'],
  ReplicaSetSpec: ['template'],
  StatefulSetSpec: ['template', 'updateStrategy'],
  DaemonSetSpec: ['template', 'updateStrategy'],
  JobSpec: ['template'],
  CronJobSpec: ['jobTemplate'],
  JobTemplateSpec: ['metadata', 'spec'],
  PodTemplateSpec: ['metadata', 'spec'],
  PodTemplate: ['template'],
  ServiceStatus: ['loadBalancer'],
  IngressStatus: ['loadBalancer'],
  NodeStatus: ['daemonEndpoints', 'nodeInfo'],
  NodeDaemonEndpoints: ['kubeletEndpoint'],
  PersistentVolumeClaimSpec: ['resources'],
  HorizontalPodAutoscalerSpec: ['scaleTargetRef'],
  Event: ['involvedObject', 'source', 'firstTimestamp', 'lastTimestamp', 'eventTime'],
  Lease: [],
};

// Value-typed structs whose zero value serializes as null (metav1.Time, MicroTime).
const NULL_STRUCTS = new Set(['Time', 'MicroTime']);

const TOP_LEVEL_STRUCTS = ['metadata', 'spec', 'status'];

function shortName(name: string | undefined): string {
  if (name === undefined) return '';
  const i = name.lastIndexOf('.');
  return i < 0 ? name : name.slice(i + 1);
}

// Every create compares against its kind's skeleton, which depends only on the schema:
// build it once per kind. The cached skeletons are frozen; comparisons only read them.
const skeletons = new WeakMap<TypeContext, Map<string, Record<string, unknown>>>();

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const c of Object.values(v)) deepFreeze(c);
    Object.freeze(v);
  }
  return v;
}

/**
 * The JSON of an empty Go object of the kind described by `root` (upstream's create
 * baseline). Frozen and shared for kinds named by a ref: callers must not mutate it.
 */
export function zeroObject(ctx: TypeContext, root: SchemaNode | undefined): Record<string, unknown> {
  if (root === undefined) return {};
  if (root.ref !== undefined && Object.keys(root).length === 1) {
    let byRef = skeletons.get(ctx);
    if (byRef === undefined) {
      byRef = new Map();
      skeletons.set(ctx, byRef);
    }
    let z = byRef.get(root.ref);
    if (z === undefined) {
      z = deepFreeze(buildZeroObject(ctx, root));
      byRef.set(root.ref, z);
    }
    return z;
  }
  return buildZeroObject(ctx, root);
}

function buildZeroObject(ctx: TypeContext, root: SchemaNode): Record<string, unknown> {
  const def = root.ref !== undefined ? ctx.resolve(root) : root;
  const name = shortName(def !== undefined && 'name' in def ? String(def.name) : root.ref);
  return zeroStruct(ctx, root, [...TOP_LEVEL_STRUCTS, ...(VALUE_STRUCT_FIELDS[name] ?? [])], 0);
}

function zeroStruct(
  ctx: TypeContext,
  node: SchemaNode,
  valueFields: readonly string[],
  depth: number,
): Record<string, unknown> {
  const def = node.ref !== undefined ? ctx.resolve(node) : node;
  const out: Record<string, unknown> = {};
  if (def?.properties === undefined || depth > 8) return out;
  const required = new Set(def.required ?? []);
  for (const [prop, child] of Object.entries(def.properties)) {
    if (valueFields.includes(prop)) {
      const childDef = child.ref !== undefined ? ctx.resolve(child) : child;
      const name = shortName(
        childDef !== undefined && 'name' in childDef ? String(childDef.name) : child.ref,
      );
      if (NULL_STRUCTS.has(name) || childDef?.properties === undefined) {
        out[prop] = null;
        continue;
      }
      const nested = name === 'ObjectMeta' ? ['creationTimestamp'] : (VALUE_STRUCT_FIELDS[name] ?? []);
      out[prop] = zeroStruct(ctx, child, nested, depth + 1);
    } else if (required.has(prop)) {
      out[prop] = null;
    }
  }
  return out;
}
