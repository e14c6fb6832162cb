// Turning a service's desired endpoints into EndpointSlice writes (upstream
// pkg/controller/endpointslice reconciler, simplified): endpoints are grouped by their
// port set; within a group, endpoints already present in a slice stay in it (updated in
// place if their conditions changed), slices that lose every endpoint are deleted, and new
// endpoints fill slices with room before new slices of at most `maxPerSlice` are created.
// When a service has no endpoints at all a single empty "placeholder" slice is kept.
import { isDeepStrictEqual } from 'node:util';
import type { Endpoint, EndpointPort, EndpointSlice } from '../../api/generated/types/discovery-v1.js';

/** Endpoints that share one port set. */
export interface EndpointGroup {
  ports: EndpointPort[];
  endpoints: Endpoint[];
}

/** The writes that bring existing slices to the desired state. */
export interface SlicePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

/** A stable key of a port set. */
export function portsKey(ports: EndpointPort[] | undefined): string {
  return JSON.stringify(
    (ports ?? []).map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? '', p.appProtocol ?? '']).sort(),
  );
}

function endpointKey(e: Endpoint): string {
  return e.targetRef?.uid !== undefined && e.targetRef.uid !== ''
    ? `uid:${e.targetRef.uid}`
    : `ip:${e.addresses.join(',')}`;
}

/**
 * Plans the writes. `template(ports, endpoints)` builds a new slice's body (metadata
 * without a name); `metaChanged(slice)` says whether an existing slice needs its
 * labels/owner refreshed.
 */
export function planSlices(
  desired: EndpointGroup[],
  existing: EndpointSlice[],
  template: (ports: EndpointPort[], endpoints: Endpoint[]) => EndpointSlice,
  metaChanged: (slice: EndpointSlice) => boolean,
  maxPerSlice: number,
): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const byPorts = new Map<string, EndpointSlice[]>();
  for (const s of existing) {
    const k = portsKey(s.ports);
    const list = byPorts.get(k) ?? [];
    list.push(s);
    byPorts.set(k, list);
  }
  const handledKeys = new Set<string>();
  const totalDesired = desired.reduce((n, g) => n + g.endpoints.length, 0);

  for (const group of desired) {
    if (group.endpoints.length === 0) continue;
    const k = portsKey(group.ports);
    handledKeys.add(k);
    const want = new Map(group.endpoints.map((e) => [endpointKey(e), e]));
    const slices = byPorts.get(k) ?? [];
    const kept: Array<{ slice: EndpointSlice; endpoints: Endpoint[]; changed: boolean }> = [];
    for (const s of slices) {
      const eps: Endpoint[] = [];
      let changed = metaChanged(s);
      for (const e of s.endpoints ?? []) {
        const d = want.get(endpointKey(e));
        if (d === undefined) {
          changed = true;
          continue;
        }
        want.delete(endpointKey(e));
        if (!isDeepStrictEqual(d, e)) changed = true;
        eps.push(d);
      }
      if (eps.length === 0) plan.delete.push(s);
      else kept.push({ slice: s, endpoints: eps, changed });
    }
    // New endpoints go first into slices we are updating anyway, then into untouched ones.
    let rest = [...want.values()];
    kept.sort((a, b) => Number(b.changed) - Number(a.changed));
    for (const k2 of kept) {
      if (rest.length === 0) break;
      const room = maxPerSlice - k2.endpoints.length;
      if (room <= 0) continue;
      k2.endpoints.push(...rest.slice(0, room));
      rest = rest.slice(room);
      k2.changed = true;
    }
    for (const k2 of kept) {
      if (!k2.changed) continue;
      const t = template(group.ports, k2.endpoints);
      plan.update.push({
        ...k2.slice,
        metadata: refreshMeta(k2.slice, t),
        ports: group.ports,
        endpoints: k2.endpoints,
      });
    }
    for (let i = 0; i < rest.length; i += maxPerSlice) {
      plan.create.push(template(group.ports, rest.slice(i, i + maxPerSlice)));
    }
  }
  for (const [k, slices] of byPorts) {
    if (!handledKeys.has(k)) plan.delete.push(...slices.filter((s) => !plan.delete.includes(s)));
  }

  if (totalDesired === 0) {
    // Keep (or create) one empty placeholder so consumers see the service has no endpoints.
    const placeholder = existing.find(
      (s) => (s.endpoints?.length ?? 0) === 0 && (s.ports?.length ?? 0) === 0,
    );
    if (placeholder !== undefined) {
      plan.delete = plan.delete.filter((s) => s !== placeholder);
      if (metaChanged(placeholder)) {
        const t = template([], []);
        plan.update.push({ ...placeholder, metadata: refreshMeta(placeholder, t) });
      }
    } else {
      plan.create.push(template([], []));
    }
  }
  return plan;
}

function refreshMeta(slice: EndpointSlice, t: EndpointSlice): NonNullable<EndpointSlice['metadata']> {
  return {
    ...slice.metadata,
    ...(t.metadata?.labels !== undefined ? { labels: t.metadata.labels } : {}),
    ...(t.metadata?.ownerReferences !== undefined ? { ownerReferences: t.metadata.ownerReferences } : {}),
  };
}
