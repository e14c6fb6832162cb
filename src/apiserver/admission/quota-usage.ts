// What one object costs against a ResourceQuota (upstream pkg/quota/v1/evaluator/core): the
// object counts (`pods`, `count/deployments.apps`, …), a pod's compute requests and limits,
// a claim's storage, a service's node ports and load balancers, and whether an object falls
// inside a quota's scopes. The ResourceQuota admission plugin and tests share these.
import type {
  PersistentVolumeClaim,
  Pod,
  ResourceQuota,
  Service,
} from '../../api/generated/types/core-v1.js';
import { Quantity, quantityFromJSON } from '../../machinery/quantity.js';
import type { KObject } from '../registry/object.js';
import { podTotals } from './limit-ranger.js';

/** Resource name → amount. */
export type Usage = Map<string, Quantity>;

/** Legacy object-count names (no `count/` prefix) by `group/plural`. */
const LEGACY_COUNTS: Record<string, string> = {
  '/pods': 'pods',
  '/services': 'services',
  '/replicationcontrollers': 'replicationcontrollers',
  '/resourcequotas': 'resourcequotas',
  '/secrets': 'secrets',
  '/configmaps': 'configmaps',
  '/persistentvolumeclaims': 'persistentvolumeclaims',
};

function q(v: unknown): Quantity | undefined {
  try {
    return quantityFromJSON(v);
  } catch {
    return undefined;
  }
}

function add(u: Usage, name: string, v: Quantity): void {
  u.set(name, (u.get(name) ?? Quantity.of(0)).add(v));
}

/** The `count/<plural>[.<group>]` resource name. */
export function countName(group: string, plural: string): string {
  return group === '' ? `count/${plural}` : `count/${plural}.${group}`;
}

/** True when a pod still consumes quota (upstream QuotaV1Pod). */
export function podCountsForQuota(pod: Pod, now: Date): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  const dt = pod.metadata?.deletionTimestamp;
  const grace = pod.metadata?.deletionGracePeriodSeconds;
  if (dt !== undefined && grace !== undefined && now.getTime() > Date.parse(dt) + grace * 1000) return false;
  return true;
}

const STANDARD = new Set(['cpu', 'memory', 'ephemeral-storage']);

/** Compute usage of requests/limits as upstream's podComputeUsageHelper names them. */
function computeUsage(requests: Record<string, string>, limits: Record<string, string>, u: Usage): void {
  for (const [k, v] of Object.entries(requests)) {
    const x = q(v);
    if (!x) continue;
    if (STANDARD.has(k) || k.startsWith('hugepages-')) add(u, k, x);
    add(u, `requests.${k}`, x);
  }
  for (const [k, v] of Object.entries(limits)) {
    const x = q(v);
    if (x && STANDARD.has(k)) add(u, `limits.${k}`, x);
  }
}

/** A pod's usage (upstream PodUsageFunc). */
export function podUsage(pod: Pod, now: Date): Usage {
  const u: Usage = new Map();
  if (!podCountsForQuota(pod, now)) return u;
  u.set('pods', Quantity.of(1));
  u.set('count/pods', Quantity.of(1));
  computeUsage(podTotals(pod, 'requests'), podTotals(pod, 'limits'), u);
  return u;
}

/** The storage class a claim asks for ('' for none). */
function claimClass(pvc: PersistentVolumeClaim): string {
  return (
    pvc.spec?.storageClassName ?? pvc.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? ''
  );
}

/** A claim's usage, per class too (upstream pvcEvaluator). */
export function pvcUsage(pvc: PersistentVolumeClaim): Usage {
  const u: Usage = new Map([
    ['persistentvolumeclaims', Quantity.of(1)],
    ['count/persistentvolumeclaims', Quantity.of(1)],
  ]);
  const cls = claimClass(pvc);
  if (cls !== '') u.set(`${cls}.storageclass.storage.k8s.io/persistentvolumeclaims`, Quantity.of(1));
  const req = q(pvc.spec?.resources?.requests?.storage);
  // A resize in progress is charged at the larger of the request and what was allocated.
  const alloc = q(pvc.status?.allocatedResources?.storage);
  const storage = req && alloc && alloc.cmp(req) > 0 ? alloc : req;
  if (storage) {
    u.set('requests.storage', storage);
    if (cls !== '') u.set(`${cls}.storageclass.storage.k8s.io/requests.storage`, storage);
  }
  return u;
}

/** A service's usage (upstream serviceEvaluator). */
export function serviceUsage(svc: Service): Usage {
  const u: Usage = new Map([
    ['services', Quantity.of(1)],
    ['count/services', Quantity.of(1)],
  ]);
  const type = svc.spec?.type ?? 'ClusterIP';
  const ports = svc.spec?.ports?.length ?? 0;
  if (type === 'NodePort') u.set('services.nodeports', Quantity.of(ports));
  if (type === 'LoadBalancer') {
    u.set('services.loadbalancers', Quantity.of(1));
    if (svc.spec?.allocateLoadBalancerNodePorts !== false) u.set('services.nodeports', Quantity.of(ports));
  }
  return u;
}

/** The usage of any object of group/plural. */
export function objectUsage(group: string, plural: string, obj: KObject, now: Date): Usage {
  if (group === '') {
    if (plural === 'pods') return podUsage(obj as unknown as Pod, now);
    if (plural === 'persistentvolumeclaims') return pvcUsage(obj as unknown as PersistentVolumeClaim);
    if (plural === 'services') return serviceUsage(obj as unknown as Service);
  }
  const u: Usage = new Map([[countName(group, plural), Quantity.of(1)]]);
  const legacy = LEGACY_COUNTS[`${group}/${plural}`];
  if (legacy) u.set(legacy, Quantity.of(1));
  return u;
}

/** True when a quota resource name is one this resource is charged for. */
export function chargesFor(group: string, plural: string, resourceName: string): boolean {
  if (resourceName === countName(group, plural)) return true;
  if (LEGACY_COUNTS[`${group}/${plural}`] === resourceName) return true;
  if (group !== '') return false;
  if (plural === 'pods') {
    return (
      STANDARD.has(resourceName) || resourceName.startsWith('requests.') || resourceName.startsWith('limits.')
    );
  }
  if (plural === 'services')
    return resourceName === 'services.nodeports' || resourceName === 'services.loadbalancers';
  if (plural === 'persistentvolumeclaims') {
    return resourceName === 'requests.storage' || resourceName.includes('.storageclass.storage.k8s.io/');
  }
  return false;
}

function isBestEffort(pod: Pod): boolean {
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  return all.every(
    (c) =>
      Object.keys(c.resources?.requests ?? {}).length === 0 &&
      Object.keys(c.resources?.limits ?? {}).length === 0,
  );
}

function podMatchesScope(pod: Pod, scope: string, op: string, values: string[]): boolean {
  const terminating = pod.spec?.activeDeadlineSeconds !== undefined && pod.spec.activeDeadlineSeconds >= 0;
  switch (scope) {
    case 'Terminating':
      return terminating;
    case 'NotTerminating':
      return !terminating;
    case 'BestEffort':
      return isBestEffort(pod);
    case 'NotBestEffort':
      return !isBestEffort(pod);
    case 'PriorityClass': {
      const pc = pod.spec?.priorityClassName;
      switch (op) {
        case 'Exists':
          return pc !== undefined && pc !== '';
        case 'DoesNotExist':
          return pc === undefined || pc === '';
        case 'In':
          return pc !== undefined && values.includes(pc);
        case 'NotIn':
          return pc === undefined || !values.includes(pc);
      }
      return false;
    }
    case 'CrossNamespacePodAffinity': {
      const terms = [
        ...(pod.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
        ...(pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
      ];
      return terms.some((t) => (t.namespaces ?? []).length > 0 || t.namespaceSelector !== undefined);
    }
  }
  return false;
}

/** True when the object falls inside every scope of the quota (and the quota has scopes for it). */
export function quotaMatches(quota: ResourceQuota, group: string, plural: string, obj: KObject): boolean {
  const scopes: Array<{ scope: string; op: string; values: string[] }> = [
    ...(quota.spec?.scopes ?? []).map((s) => ({ scope: s, op: 'Exists', values: [] })),
    ...(quota.spec?.scopeSelector?.matchExpressions ?? []).map((e) => ({
      scope: e.scopeName,
      op: e.operator,
      values: e.values ?? [],
    })),
  ];
  if (scopes.length === 0) return true;
  // Scopes only describe pods; a scoped quota does not cover other objects.
  if (group !== '' || plural !== 'pods') return false;
  const pod = obj as unknown as Pod;
  return scopes.every((s) => podMatchesScope(pod, s.scope, s.op, s.values));
}

/** `a=1,b=2` with keys sorted (upstream prettyPrint). */
export function prettyPrint(u: Usage): string {
  return [...u.keys()]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((k) => `${k}=${u.get(k)!.toString()}`)
    .join(',');
}

/** Sums usages. */
export function addUsage(into: Usage, u: Usage): void {
  for (const [k, v] of u) add(into, k, v);
}

/** a - b per resource, floored at zero (upstream SubtractWithNonNegativeResult). */
export function subtractNonNegative(a: Usage, b: Usage): Usage {
  const out: Usage = new Map();
  for (const [k, v] of a) {
    const d = v.sub(b.get(k) ?? Quantity.of(0));
    out.set(k, d.sign() < 0 ? Quantity.of(0) : d);
  }
  return out;
}

/** True when every amount is zero. */
export function isZeroUsage(u: Usage): boolean {
  for (const v of u.values()) if (!v.isZero()) return false;
  return true;
}

/** Parses a ResourceList into a Usage (invalid quantities skipped). */
export function usageOf(list: Record<string, string> | undefined): Usage {
  const u: Usage = new Map();
  for (const [k, v] of Object.entries(list ?? {})) {
    const x = q(v);
    if (x) u.set(k, x);
  }
  return u;
}
