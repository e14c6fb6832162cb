// What a namespace uses, in the resource names ResourceQuota speaks (upstream
// pkg/quota/v1/evaluator/core): object counts (`pods`, `services`, `count/<r>.<g>`, …),
// service sub-counts (`services.nodeports`, `services.loadbalancers`), pod compute
// (`requests.cpu`, `limits.memory`, the bare `cpu`/`memory` meaning requests) over
// non-terminal pods, PVC storage requests, and the quota scopes that select pods.
import type {
  Container,
  PersistentVolumeClaim,
  Pod,
  ResourceQuota,
  ScopedResourceSelectorRequirement,
  Service,
} from '../../api/generated/types/core-v1.js';
import { parseQuantity, Quantity } from '../../machinery/quantity.js';
import { isPodTerminal } from '../endpoints/pod-util.js';

/** Resources only pods contribute to (the ones scopes apply to). */
export const POD_RESOURCES = new Set([
  'pods',
  'count/pods',
  'cpu',
  'memory',
  'requests.cpu',
  'requests.memory',
  'limits.cpu',
  'limits.memory',
  'ephemeral-storage',
  'requests.ephemeral-storage',
  'limits.ephemeral-storage',
]);

/** Core resources counted under their plain names (`services` is `count/services`). */
export const CORE_COUNTS: Record<string, string> = {
  pods: 'pods',
  services: 'services',
  configmaps: 'configmaps',
  secrets: 'secrets',
  persistentvolumeclaims: 'persistentvolumeclaims',
  replicationcontrollers: 'replicationcontrollers',
  resourcequotas: 'resourcequotas',
};

function q(v: string | undefined): Quantity | undefined {
  if (v === undefined) return undefined;
  try {
    return parseQuantity(v);
  } catch {
    return undefined;
  }
}

/** A pod's effective requests or limits (max of the container sum and each init container). */
export function podResources(pod: Pod, kind: 'requests' | 'limits'): Map<string, Quantity> {
  const out = new Map<string, Quantity>();
  const addTo = (m: Map<string, Quantity>, c: Container): void => {
    for (const [name, v] of Object.entries(c.resources?.[kind] ?? {})) {
      const qty = q(v);
      if (qty !== undefined) m.set(name, (m.get(name) ?? Quantity.of(0)).add(qty));
    }
  };
  for (const c of pod.spec?.containers ?? []) addTo(out, c);
  for (const c of pod.spec?.initContainers ?? []) {
    const one = new Map<string, Quantity>();
    addTo(one, c);
    for (const [name, v] of one) {
      const cur = out.get(name);
      if (cur === undefined || v.cmp(cur) > 0) out.set(name, v);
    }
  }
  for (const [name, v] of Object.entries(pod.spec?.overhead ?? {})) {
    const qty = q(v);
    if (qty !== undefined && out.has(name)) out.set(name, (out.get(name) ?? Quantity.of(0)).add(qty));
  }
  return out;
}

/** True when no container sets requests or limits (the BestEffort QoS class). */
export function isBestEffort(pod: Pod): boolean {
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  return all.every(
    (c) =>
      Object.keys(c.resources?.requests ?? {}).length === 0 &&
      Object.keys(c.resources?.limits ?? {}).length === 0,
  );
}

function matchesScopeRequirement(pod: Pod, r: ScopedResourceSelectorRequirement): boolean {
  switch (r.scopeName) {
    case 'Terminating':
      return pod.spec?.activeDeadlineSeconds !== undefined;
    case 'NotTerminating':
      return pod.spec?.activeDeadlineSeconds === undefined;
    case 'BestEffort':
      return isBestEffort(pod);
    case 'NotBestEffort':
      return !isBestEffort(pod);
    case 'PriorityClass': {
      const pc = pod.spec?.priorityClassName ?? '';
      const values = r.values ?? [];
      switch (r.operator) {
        case 'In':
          return values.includes(pc);
        case 'NotIn':
          return !values.includes(pc);
        case 'Exists':
          return pc !== '';
        case 'DoesNotExist':
          return pc === '';
        default:
          return false;
      }
    }
    default:
      // Scopes this evaluator does not know (CrossNamespacePodAffinity, …) match nothing.
      return false;
  }
}

/** The scope requirements of a quota (`scopes` and `scopeSelector` together). */
export function quotaScopes(quota: ResourceQuota): ScopedResourceSelectorRequirement[] {
  return [
    ...(quota.spec?.scopes ?? []).map((s) => ({ scopeName: s, operator: 'Exists' })),
    ...(quota.spec?.scopeSelector?.matchExpressions ?? []),
  ];
}

/** True when the pod falls under every scope of the quota. */
export function podMatchesScopes(pod: Pod, scopes: ScopedResourceSelectorRequirement[]): boolean {
  return scopes.every((s) => matchesScopeRequirement(pod, s));
}

/** The objects of a namespace the usage is computed from. */
export interface NamespaceObjects {
  pods: Pod[];
  services: Service[];
  pvcs: PersistentVolumeClaim[];
  /** Count of objects per `count/` name (`configmaps`, `deployments.apps`, …). */
  counts: Map<string, number>;
}

/** The usage of each resource named in `hard` (upstream CalculateUsage). */
export function computeUsage(
  hard: Record<string, string>,
  scopes: ScopedResourceSelectorRequirement[],
  objs: NamespaceObjects,
): Record<string, string> {
  const pods = objs.pods.filter((p) => !isPodTerminal(p) && podMatchesScopes(p, scopes));
  const used: Record<string, string> = {};
  const sum = (f: (p: Pod) => Quantity | undefined): Quantity => {
    let total = Quantity.of(0);
    for (const p of pods) {
      const v = f(p);
      if (v !== undefined) total = total.add(v);
    }
    return total;
  };
  for (const name of Object.keys(hard)) {
    if (scopes.length > 0 && !POD_RESOURCES.has(name)) continue;
    let v: Quantity | undefined;
    switch (name) {
      case 'pods':
      case 'count/pods':
        v = Quantity.of(pods.length);
        break;
      case 'cpu':
      case 'requests.cpu':
      case 'memory':
      case 'requests.memory':
      case 'ephemeral-storage':
      case 'requests.ephemeral-storage': {
        const res = name.replace(/^requests\./, '');
        v = sum((p) => podResources(p, 'requests').get(res));
        break;
      }
      case 'limits.cpu':
      case 'limits.memory':
      case 'limits.ephemeral-storage': {
        const res = name.replace(/^limits\./, '');
        v = sum((p) => podResources(p, 'limits').get(res));
        break;
      }
      case 'services.nodeports':
        v = Quantity.of(
          objs.services
            .filter((s) => s.spec?.type === 'NodePort' || s.spec?.type === 'LoadBalancer')
            .reduce(
              (n, s) =>
                n +
                (s.spec?.ports ?? []).filter((p) => (p.nodePort ?? 0) > 0 || s.spec?.type === 'NodePort')
                  .length,
              0,
            ),
        );
        break;
      case 'services.loadbalancers':
        v = Quantity.of(objs.services.filter((s) => s.spec?.type === 'LoadBalancer').length);
        break;
      case 'requests.storage': {
        let total = Quantity.of(0, 'BinarySI');
        for (const pvc of objs.pvcs) {
          const r = q(pvc.spec?.resources?.requests?.storage);
          if (r !== undefined) total = total.add(r);
        }
        v = total;
        break;
      }
      default: {
        const counted = name.startsWith('count/') ? name.slice('count/'.length) : CORE_COUNTS[name];
        if (counted !== undefined) v = Quantity.of(objs.counts.get(counted) ?? 0);
      }
    }
    if (v !== undefined) used[name] = v.toString();
  }
  return used;
}
