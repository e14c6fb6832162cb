// The pod QoS class (upstream pkg/apis/core/helper/qos): Guaranteed when every container
// has cpu and memory limits equal to its requests, BestEffort when no container asks for
// anything, Burstable otherwise. The API server sets it once, at create.
import { quantityFromJSON } from '../../machinery/quantity.js';

interface ResourceRequirements {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}

interface ContainerLike {
  resources?: ResourceRequirements;
}

/** Computes status.qosClass for a pod spec. */
export function podQOSClass(
  spec: { containers?: ContainerLike[]; initContainers?: ContainerLike[] } | undefined,
): string {
  const containers = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
  const tracked = ['cpu', 'memory'];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of tracked) {
      const q = req[r] ?? lim[r];
      const l = lim[r];
      if ((req[r] !== undefined && !isZero(req[r])) || (l !== undefined && !isZero(l))) any = true;
      if (l === undefined || isZero(l)) guaranteed = false;
      else if (q !== undefined && compareQuantities(String(q), String(l)) !== 0) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function isZero(q: string | number): boolean {
  return quantityFromJSON(q)?.isZero() ?? true;
}

function compareQuantities(a: string, b: string): number {
  const x = quantityFromJSON(a);
  const y = quantityFromJSON(b);
  if (!x || !y) return x ? 1 : y ? -1 : 0;
  return x.cmp(y);
}
