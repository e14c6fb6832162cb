// The cluster DNS's view of the API: Services, EndpointSlices and Pods reduced to what
// names need, indexed so every lookup a query makes is a map hit (by service, by IP).
// Whoever watches the API (an informer-driven controller) feeds it with set*/delete*;
// listeners hear which names went stale so pre-encoded answers can be dropped precisely.

import type { Pod, Service } from '../api/generated/types/core-v1.js';
import type { EndpointSlice } from '../api/generated/types/discovery-v1.js';
import type { ObjectMeta } from '../api/generated/types/meta-v1.js';
import { canonicalIP } from './ip.js';

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** A port as DNS sees it; names and protocols lowercase (DNS compares them case-insensitively). */
export interface DNSPort {
  name: string;
  protocol: string;
  port: number;
}

/** How a Service is published. */
export type ServiceKind = 'ClusterIP' | 'Headless' | 'ExternalName';

/** A Service reduced to what DNS answers from. */
export interface ServiceEntry {
  namespace: string;
  name: string;
  kind: ServiceKind;
  /** Canonical cluster IPs (empty for headless and ExternalName services). */
  clusterIPs: string[];
  /** Lowercase, without the trailing dot; '' unless kind is ExternalName. */
  externalName: string;
  ports: DNSPort[];
  publishNotReadyAddresses: boolean;
}

/** One endpoint of a slice. */
export interface EndpointEntry {
  /** Canonical addresses. */
  addresses: string[];
  /** Lowercase hostname, or '' when the endpoint has none. */
  hostname: string;
  /** Ready, or unknown (CoreDNS treats a missing condition as ready). */
  ready: boolean;
}

/** An EndpointSlice reduced to what DNS answers from. */
export interface SliceEntry {
  namespace: string;
  name: string;
  /** The owning Service's name ('' when the slice has no service-name label). */
  service: string;
  endpoints: EndpointEntry[];
  ports: DNSPort[];
}

/** Something naming an object: the object itself or just its metadata. */
export type ObjectRef = { metadata?: ObjectMeta };

/** Invalidation key for everything under one service's names. */
export function serviceDep(namespace: string, name: string): string {
  return `svc:${namespace}/${name}`;
}
/** Invalidation key for reverse (PTR) answers. */
export const REVERSE_DEP = 'reverse';
/** Invalidation key for pod answers in verified mode. */
export const PODS_DEP = 'pods';
/** Invalidation key fired by every change (the SOA serial moves). */
export const SERIAL_DEP = 'serial';

/** Receives the invalidation keys of one change. */
export type ChangeListener = (deps: readonly string[]) => void;

function keyOf(ref: ObjectRef): { namespace: string; name: string; key: string } {
  const namespace = ref.metadata?.namespace ?? 'default';
  const name = ref.metadata?.name ?? '';
  return { namespace, name, key: `${namespace}/${name}` };
}

function addTo<K, V>(index: Map<K, Set<V>>, k: K, v: V): void {
  let s = index.get(k);
  if (!s) {
    s = new Set();
    index.set(k, s);
  }
  s.add(v);
}

function removeFrom<K, V>(index: Map<K, Set<V>>, k: K, v: V): void {
  const s = index.get(k);
  if (!s) return;
  s.delete(v);
  if (s.size === 0) index.delete(k);
}

function toPorts(ports: { name?: string; protocol?: string; port?: number }[] | undefined): DNSPort[] {
  return (ports ?? []).map((p) => ({
    name: (p.name ?? '').toLowerCase(),
    protocol: (p.protocol ?? 'TCP').toLowerCase(),
    port: p.port ?? 0,
  }));
}

function ips(list: (string | undefined)[]): string[] {
  const out: string[] = [];
  for (const ip of list) {
    const c = ip ? canonicalIP(ip) : null;
    if (c && !out.includes(c)) out.push(c);
  }
  return out;
}

/** Converts a Service to its DNS entry. */
export function serviceEntry(svc: Service): ServiceEntry {
  const { namespace, name } = keyOf(svc);
  const spec = svc.spec ?? {};
  const clusterIPs = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  let kind: ServiceKind = 'ClusterIP';
  if (spec.type === 'ExternalName') kind = 'ExternalName';
  else if (clusterIPs[0] === 'None') kind = 'Headless';
  let externalName = '';
  if (kind === 'ExternalName') externalName = (spec.externalName ?? '').toLowerCase().replace(/\.$/, '');
  return {
    namespace,
    name,
    kind,
    clusterIPs: kind === 'ClusterIP' ? ips(clusterIPs) : [],
    externalName,
    ports: toPorts(spec.ports),
    publishNotReadyAddresses: spec.publishNotReadyAddresses === true,
  };
}

/** Converts an EndpointSlice to its DNS entry (FQDN slices carry no addresses DNS can serve). */
export function sliceEntry(slice: EndpointSlice): SliceEntry {
  const { namespace, name } = keyOf(slice);
  const usable = slice.addressType === 'IPv4' || slice.addressType === 'IPv6';
  return {
    namespace,
    name,
    service: slice.metadata?.labels?.[SERVICE_NAME_LABEL] ?? '',
    endpoints: usable
      ? (slice.endpoints ?? []).map((e) => ({
          addresses: ips(e.addresses ?? []),
          hostname: (e.hostname ?? '').toLowerCase(),
          ready: e.conditions?.ready !== false,
        }))
      : [],
    ports: toPorts(slice.ports),
  };
}

function podIPs(pod: Pod): string[] {
  const st = pod.status ?? {};
  return ips([...(st.podIPs ?? []).map((p) => p.ip), st.podIP]);
}

/** The in-memory view the cluster DNS answers from. */
export class ClusterDNSModel {
  private readonly services = new Map<string, ServiceEntry>();
  private readonly slices = new Map<string, SliceEntry>();
  private readonly slicesByService = new Map<string, Set<SliceEntry>>();
  private readonly servicesByIP = new Map<string, Set<ServiceEntry>>();
  private readonly slicesByIP = new Map<string, Set<SliceEntry>>();
  private readonly pods = new Map<string, { namespace: string; ips: string[] }>();
  /** ip → namespace → how many pods there hold it (two pods can share an address briefly). */
  private readonly podNamespacesByIP = new Map<string, Map<string, number>>();
  private readonly listeners = new Set<ChangeListener>();
  private serialValue: number;

  constructor(private readonly now: () => number = Date.now) {
    this.serialValue = Math.floor(now() / 1000);
  }

  /** The zone's SOA serial: the Unix time of the last change, as CoreDNS reports it. */
  get serial(): number {
    return this.serialValue;
  }

  /** Registers a listener for invalidation keys; returns its removal. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(deps: string[]): void {
    this.serialValue = Math.max(this.serialValue, Math.floor(this.now() / 1000)) >>> 0;
    deps.push(SERIAL_DEP);
    for (const l of this.listeners) l(deps);
  }

  /** Adds or replaces a Service. */
  setService(svc: Service): void {
    const entry = serviceEntry(svc);
    const key = `${entry.namespace}/${entry.name}`;
    this.unindexService(key);
    this.services.set(key, entry);
    for (const ip of entry.clusterIPs) addTo(this.servicesByIP, ip, entry);
    this.changed([serviceDep(entry.namespace, entry.name), REVERSE_DEP]);
  }

  /** Removes a Service. */
  deleteService(ref: ObjectRef): void {
    const { namespace, name, key } = keyOf(ref);
    if (!this.unindexService(key)) return;
    this.changed([serviceDep(namespace, name), REVERSE_DEP]);
  }

  private unindexService(key: string): boolean {
    const old = this.services.get(key);
    if (!old) return false;
    this.services.delete(key);
    for (const ip of old.clusterIPs) removeFrom(this.servicesByIP, ip, old);
    return true;
  }

  /** Adds or replaces an EndpointSlice. */
  setEndpointSlice(slice: EndpointSlice): void {
    const entry = sliceEntry(slice);
    const key = `${entry.namespace}/${entry.name}`;
    const old = this.unindexSlice(key);
    this.slices.set(key, entry);
    if (entry.service) addTo(this.slicesByService, `${entry.namespace}/${entry.service}`, entry);
    for (const e of entry.endpoints) for (const ip of e.addresses) addTo(this.slicesByIP, ip, entry);
    const deps = [REVERSE_DEP];
    if (entry.service) deps.push(serviceDep(entry.namespace, entry.service));
    if (old?.service && old.service !== entry.service) deps.push(serviceDep(old.namespace, old.service));
    this.changed(deps);
  }

  /** Removes an EndpointSlice. */
  deleteEndpointSlice(ref: ObjectRef): void {
    const { key } = keyOf(ref);
    const old = this.unindexSlice(key);
    if (!old) return;
    const deps = [REVERSE_DEP];
    if (old.service) deps.push(serviceDep(old.namespace, old.service));
    this.changed(deps);
  }

  private unindexSlice(key: string): SliceEntry | undefined {
    const old = this.slices.get(key);
    if (!old) return undefined;
    this.slices.delete(key);
    if (old.service) removeFrom(this.slicesByService, `${old.namespace}/${old.service}`, old);
    for (const e of old.endpoints) for (const ip of e.addresses) removeFrom(this.slicesByIP, ip, old);
    return old;
  }

  /** Adds or replaces a Pod (only its namespace and IPs matter, for `pods verified`). */
  setPod(pod: Pod): void {
    const { namespace, key } = keyOf(pod);
    const next = podIPs(pod);
    const old = this.pods.get(key);
    if (old && old.ips.length === next.length && old.ips.every((ip, i) => ip === next[i])) return;
    this.unindexPod(key);
    this.pods.set(key, { namespace, ips: next });
    for (const ip of next) {
      let byNs = this.podNamespacesByIP.get(ip);
      if (!byNs) {
        byNs = new Map();
        this.podNamespacesByIP.set(ip, byNs);
      }
      byNs.set(namespace, (byNs.get(namespace) ?? 0) + 1);
    }
    this.changed([PODS_DEP]);
  }

  /** Removes a Pod. */
  deletePod(ref: ObjectRef): void {
    if (this.unindexPod(keyOf(ref).key)) this.changed([PODS_DEP]);
  }

  private unindexPod(key: string): boolean {
    const old = this.pods.get(key);
    if (!old) return false;
    this.pods.delete(key);
    for (const ip of old.ips) {
      const byNs = this.podNamespacesByIP.get(ip);
      const n = byNs?.get(old.namespace) ?? 0;
      if (!byNs || n === 0) continue;
      if (n > 1) byNs.set(old.namespace, n - 1);
      else byNs.delete(old.namespace);
      if (byNs.size === 0) this.podNamespacesByIP.delete(ip);
    }
    return true;
  }

  /** The Service `namespace/name`, if known. */
  service(namespace: string, name: string): ServiceEntry | undefined {
    return this.services.get(`${namespace}/${name}`);
  }

  /** The EndpointSlices of a Service. */
  slicesOf(namespace: string, service: string): Iterable<SliceEntry> {
    return this.slicesByService.get(`${namespace}/${service}`) ?? [];
  }

  /** Services having `ip` (canonical) among their cluster IPs. */
  servicesWithIP(ip: string): Iterable<ServiceEntry> {
    return this.servicesByIP.get(ip) ?? [];
  }

  /** EndpointSlices with an endpoint at `ip` (canonical). */
  slicesWithIP(ip: string): Iterable<SliceEntry> {
    return this.slicesByIP.get(ip) ?? [];
  }

  /** Whether a pod in `namespace` has the address `ip` (canonical). */
  hasPodIP(namespace: string, ip: string): boolean {
    return this.podNamespacesByIP.get(ip)?.has(namespace) ?? false;
  }

  /** Object counts, for logs and benchmarks. */
  stats(): { services: number; endpointSlices: number; pods: number } {
    return { services: this.services.size, endpointSlices: this.slices.size, pods: this.pods.size };
  }
}
