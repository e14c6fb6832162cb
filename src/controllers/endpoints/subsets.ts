// Repacking Endpoints subsets (upstream endpoints.RepackSubsets): the controller emits one
// subset per (address, port); the API wants the N-to-M form where each subset pairs a set
// of addresses with the set of ports they all offer. An address listed as ready anywhere
// is ready. The result is sorted so that equal inputs give byte-identical objects.
import type { EndpointAddress, EndpointPort, EndpointSubset } from '../../api/generated/types/core-v1.js';

/** A port key; a port of -1 stands for "no ports" (headless services). */
function portKey(p: EndpointPort): string {
  return JSON.stringify([p.name ?? '', p.port, p.protocol ?? '', p.appProtocol ?? '']);
}

function addrKey(a: EndpointAddress): string {
  return `${a.ip}/${a.targetRef?.uid ?? ''}`;
}

/** Regroups subsets by identical port sets and sorts addresses and ports. */
export function repackSubsets(subsets: EndpointSubset[]): EndpointSubset[] {
  const addrs = new Map<string, EndpointAddress>();
  // port key → (address key → ready)
  const byPort = new Map<string, { port: EndpointPort | undefined; ready: Map<string, boolean> }>();
  const note = (port: EndpointPort | undefined, a: EndpointAddress, ready: boolean): void => {
    const pk = port === undefined ? 'none' : portKey(port);
    let entry = byPort.get(pk);
    if (entry === undefined) {
      entry = { port, ready: new Map() };
      byPort.set(pk, entry);
    }
    const ak = addrKey(a);
    if (!addrs.has(ak)) addrs.set(ak, a);
    if (ready || !entry.ready.has(ak)) entry.ready.set(ak, ready || (entry.ready.get(ak) ?? false));
  };
  for (const s of subsets) {
    const ports: Array<EndpointPort | undefined> = s.ports && s.ports.length > 0 ? s.ports : [undefined];
    for (const p of ports) {
      for (const a of s.addresses ?? []) note(p, a, true);
      for (const a of s.notReadyAddresses ?? []) note(p, a, false);
    }
  }
  // Address-set → ports offered by exactly that set.
  const groups = new Map<string, { ready: Map<string, boolean>; ports: EndpointPort[] }>();
  for (const { port, ready } of byPort.values()) {
    const key = [...ready]
      .map(([k, r]) => `${k}=${r}`)
      .sort()
      .join(',');
    let g = groups.get(key);
    if (g === undefined) {
      g = { ready, ports: [] };
      groups.set(key, g);
    }
    if (port !== undefined) g.ports.push(port);
  }
  const out: EndpointSubset[] = [];
  for (const g of groups.values()) {
    const ready: EndpointAddress[] = [];
    const notReady: EndpointAddress[] = [];
    for (const [k, r] of g.ready) {
      const a = addrs.get(k);
      if (a !== undefined) (r ? ready : notReady).push(a);
    }
    const subset: EndpointSubset = {};
    if (ready.length > 0) subset.addresses = ready.sort(compareAddresses);
    if (notReady.length > 0) subset.notReadyAddresses = notReady.sort(compareAddresses);
    if (g.ports.length > 0) subset.ports = g.ports.sort((a, b) => portKey(a).localeCompare(portKey(b)));
    out.push(subset);
  }
  return out.sort((a, b) => subsetKey(a).localeCompare(subsetKey(b)));
}

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const ua = a.targetRef?.uid ?? '';
  const ub = b.targetRef?.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

function subsetKey(s: EndpointSubset): string {
  return JSON.stringify([
    (s.ports ?? []).map(portKey),
    s.addresses?.[0]?.ip ?? '',
    s.notReadyAddresses?.[0]?.ip ?? '',
  ]);
}
