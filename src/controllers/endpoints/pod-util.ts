// Pod predicates the endpoint-family controllers (and disruption, podgc, quota) share,
// with upstream's semantics: podutil.IsPodReady, IsPodTerminal, FindPort and
// endpointutil.ShouldPodBeInEndpoints / ShouldSetHostname.
import type { Pod, PodCondition, Service, ServicePort } from '../../api/generated/types/core-v1.js';

/** The pod's condition of the given type, if any. */
export function getPodCondition(pod: Pod, type: string): PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === type);
}

/** True when the pod's Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return getPodCondition(pod, 'Ready')?.status === 'True';
}

/** True once the pod reached Succeeded or Failed. */
export function isPodTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** True when the pod has an IP, is not terminal, and is not terminating unless allowed. */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if ((pod.status?.podIP ?? '') === '' && (pod.status?.podIPs?.length ?? 0) === 0) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp !== undefined) return false;
  return true;
}

/** True when the pod asked for a hostname under this service's subdomain. */
export function shouldSetHostname(pod: Pod, svc: Service): boolean {
  return (
    (pod.spec?.hostname ?? '') !== '' &&
    pod.spec?.subdomain === svc.metadata?.name &&
    pod.metadata?.namespace === svc.metadata?.namespace
  );
}

/**
 * The container port a service port targets on this pod: a number as is, a name looked
 * up in the pod's containers (and restartable init containers) with the same protocol.
 * Undefined when the name is not found.
 */
export function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^[0-9]+$/.test(target)) return Number(target);
  const protocol = sp.protocol ?? 'TCP';
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  for (const c of [...(pod.spec?.containers ?? []), ...sidecars]) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

/** The pod IP of the service's primary IP family ('' when the pod has none). */
export function podIPForService(pod: Pod, svc: Service): string {
  const wantV6 = svc.spec?.ipFamilies?.[0] === 'IPv6';
  const ips = pod.status?.podIPs?.map((p) => p.ip) ?? [];
  if (ips.length === 0 && pod.status?.podIP !== undefined) ips.push(pod.status.podIP);
  return ips.find((ip) => ip.includes(':') === wantV6) ?? '';
}

/** The pod's "last change" time for trigger-time annotations: its Ready transition or creation. */
export function podTriggerTime(pod: Pod): number | undefined {
  const t = getPodCondition(pod, 'Ready')?.lastTransitionTime ?? pod.metadata?.creationTimestamp;
  if (t === undefined) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}
