// The proxier's view of the cluster: Services and EndpointSlices reduced to what a data
// plane needs, one `ServicePortInfo` per (service, port) and a sorted, de-duplicated list of
// `EndpointInfo` per service port. Mirrors upstream pkg/proxy (serviceport.go,
// endpointslicecache.go, topology.go): IPv4 only, one address per endpoint, FQDN slices and
// headless/ExternalName services ignored, chain names hashed exactly as upstream does but
// with the kts prefix.

import { createHash } from 'node:crypto';
import type { Service } from '../api/generated/types/core-v1.js';
import type { EndpointSlice } from '../api/generated/types/discovery-v1.js';

/** The label an EndpointSlice carries naming its Service (discovery.k8s.io/v1). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Default ClientIP affinity timeout (core/v1 DefaultClientIPServiceAffinitySeconds). */
export const DEFAULT_STICKY_SECONDS = 10800;

/** One port of one proxied Service, with its chain names precomputed. */
export interface ServicePortInfo {
  /** `namespace/name:port` (`:port` omitted for an unnamed port), upstream's ServicePortName. */
  name: string;
  /** `namespace/name`: the Service this port belongs to. */
  serviceKey: string;
  /** The port's name ('' when unnamed); matches EndpointSlice port names. */
  portName: string;
  clusterIP: string;
  port: number;
  /** Lower-case, as iptables wants it: tcp, udp or sctp. */
  protocol: string;
  /** 0 when the port has none. */
  nodePort: number;
  externalIPs: string[];
  /** IPs from status.loadBalancer.ingress (ipMode Proxy excluded, as upstream). */
  loadBalancerVIPs: string[];
  loadBalancerSourceRanges: string[];
  affinityClientIP: boolean;
  stickyMaxAgeSeconds: number;
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
  /** KTS-SVC-…: endpoints used under the Cluster traffic policy. */
  clusterPolicyChain: string;
  /** KTS-SVL-…: endpoints used under the Local traffic policy. */
  localPolicyChain: string;
  /** KTS-EXT-…: entry for NodePort, externalIP and LoadBalancer traffic. */
  externalChain: string;
  /** KTS-FW-…: loadBalancerSourceRanges filter. */
  firewallChain: string;
}

/** One backend of a service port. */
export interface EndpointInfo {
  ip: string;
  port: number;
  /** `ip:port`, the DNAT target and the sort key. */
  endpoint: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** The endpoint runs on this proxier's node. */
  isLocal: boolean;
  /** The endpoint's node, when the slice names one. */
  nodeName?: string;
  /** KTS-SEP-… */
  chain: string;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The first 16 characters of base32(sha256(input)): upstream's chain-name hash. */
export function chainHash(input: string): string {
  const digest = createHash('sha256').update(input).digest();
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
      if (out.length === 16) return out;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

/** Upstream's ServicePortName.String(). */
export function servicePortName(namespace: string, name: string, port: string): string {
  return port === '' ? `${namespace}/${name}` : `${namespace}/${name}:${port}`;
}

/** The KTS-SEP chain of one endpoint of one service port. */
export function endpointChainName(spn: string, protocol: string, endpoint: string): string {
  return `KTS-SEP-${chainHash(spn + protocol + endpoint)}`;
}

function isIPv4(ip: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);
}

function isIPv4Cidr(cidr: string): boolean {
  const [ip, bits] = cidr.trim().split('/');
  return ip !== undefined && isIPv4(ip) && (bits === undefined || /^\d{1,2}$/.test(bits));
}

/** True for the Service types that are reachable from outside (apiservice.ExternallyAccessible). */
function externallyAccessible(svc: Service): boolean {
  const type = svc.spec?.type ?? 'ClusterIP';
  return (
    type === 'LoadBalancer' ||
    type === 'NodePort' ||
    (type === 'ClusterIP' && (svc.spec?.externalIPs?.length ?? 0) > 0)
  );
}

/** The proxied ports of a Service; [] for headless, ExternalName and non-IPv4 services. */
export function servicePortsFromService(svc: Service): ServicePortInfo[] {
  const spec = svc.spec;
  const namespace = svc.metadata?.namespace ?? 'default';
  const name = svc.metadata?.name ?? '';
  const clusterIP = spec?.clusterIP ?? '';
  if (spec === undefined || spec.type === 'ExternalName' || clusterIP === '' || clusterIP === 'None')
    return [];
  if (!isIPv4(clusterIP)) return [];
  const externalIPs = (spec.externalIPs ?? []).filter(isIPv4);
  const lbVIPs = (svc.status?.loadBalancer?.ingress ?? [])
    .filter((ing) => ing.ip !== undefined && isIPv4(ing.ip) && ing.ipMode !== 'Proxy')
    .map((ing) => ing.ip as string);
  const isLB = spec.type === 'LoadBalancer';
  const sourceRanges = isLB
    ? (spec.loadBalancerSourceRanges ?? []).map((r) => r.trim()).filter(isIPv4Cidr)
    : [];
  const external = externallyAccessible(svc);
  const affinity = spec.sessionAffinity === 'ClientIP';
  const sticky = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_STICKY_SECONDS;
  const out: ServicePortInfo[] = [];
  for (const p of spec.ports ?? []) {
    const portName = p.name ?? '';
    const protocol = (p.protocol ?? 'TCP').toLowerCase();
    const spn = servicePortName(namespace, name, portName);
    const hash = chainHash(spn + protocol);
    out.push({
      name: spn,
      serviceKey: `${namespace}/${name}`,
      portName,
      clusterIP,
      port: p.port,
      protocol,
      nodePort: p.nodePort ?? 0,
      externalIPs,
      loadBalancerVIPs: isLB ? lbVIPs : [],
      loadBalancerSourceRanges: sourceRanges,
      affinityClientIP: affinity,
      stickyMaxAgeSeconds: sticky,
      externalPolicyLocal: external && spec.externalTrafficPolicy === 'Local',
      internalPolicyLocal: spec.internalTrafficPolicy === 'Local',
      clusterPolicyChain: `KTS-SVC-${hash}`,
      localPolicyChain: `KTS-SVL-${hash}`,
      externalChain: `KTS-EXT-${hash}`,
      firewallChain: `KTS-FW-${hash}`,
    });
  }
  return out;
}

/** True when the port can be reached from outside the cluster (NodePort, externalIPs, LB). */
export function isExternallyAccessible(info: ServicePortInfo): boolean {
  return info.nodePort !== 0 || info.externalIPs.length > 0 || info.loadBalancerVIPs.length > 0;
}

/**
 * The port needs the Cluster-policy endpoint set (upstream UsesClusterEndpoints): even under
 * externalTrafficPolicy Local, traffic from pods and from the node itself short-circuits to
 * the cluster-wide set.
 */
export function usesClusterEndpoints(info: ServicePortInfo): boolean {
  return !info.internalPolicyLocal || isExternallyAccessible(info);
}

/** The port needs the Local-policy endpoint set (upstream UsesLocalEndpoints). */
export function usesLocalEndpoints(info: ServicePortInfo): boolean {
  return info.internalPolicyLocal || (isExternallyAccessible(info) && info.externalPolicyLocal);
}

/**
 * Names `e.chain` on first read: a sha256 per endpoint is most of a full sync's generation
 * time, and only the iptables rules use the name.
 */
function lazyChain(e: EndpointInfo, spn: string, protocol: string): void {
  let chain: string | undefined;
  Object.defineProperty(e, 'chain', {
    get: () => {
      chain ??= endpointChainName(spn, protocol, e.endpoint);
      return chain;
    },
    set: (v: string) => {
      chain = v;
    },
    enumerable: true,
    configurable: true,
  });
}

/**
 * The endpoints of one service port gathered from its slices: IPv4 slices only, the slice
 * port whose name equals the service port's, the first address of each endpoint; conditions
 * defaulted as upstream (ready nil → true, serving nil → ready, terminating nil → false);
 * duplicates across slices collapsed (a ready copy wins); sorted by `ip:port`.
 */
export function endpointsForServicePort(
  info: Pick<ServicePortInfo, 'name' | 'portName' | 'protocol'>,
  slices: Iterable<EndpointSlice>,
  nodeName: string,
): EndpointInfo[] {
  const byEndpoint = new Map<string, EndpointInfo>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const port = (slice.ports ?? []).find((p) => (p.name ?? '') === info.portName);
    if (port?.port === undefined || port.port <= 0) continue;
    for (const ep of slice.endpoints ?? []) {
      const ip = ep.addresses[0];
      if (ip === undefined || !isIPv4(ip)) continue;
      const ready = ep.conditions?.ready ?? true;
      const e: EndpointInfo = {
        ip,
        port: port.port,
        endpoint: `${ip}:${port.port}`,
        ready,
        serving: ep.conditions?.serving ?? ready,
        terminating: ep.conditions?.terminating ?? false,
        isLocal: nodeName !== '' && ep.nodeName === nodeName,
        chain: '',
      };
      if (ep.nodeName !== undefined && ep.nodeName !== '') e.nodeName = ep.nodeName;
      const prev = byEndpoint.get(e.endpoint);
      if (prev === undefined || (!prev.ready && e.ready)) byEndpoint.set(e.endpoint, e);
    }
  }
  const out = [...byEndpoint.values()].sort((a, b) =>
    a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0,
  );
  for (const e of out) lazyChain(e, info.name, info.protocol);
  return out;
}

/** The endpoint sets a service port routes to (upstream proxy.CategorizeEndpoints, no topology). */
export interface CategorizedEndpoints {
  cluster: EndpointInfo[];
  local: EndpointInfo[];
  /** Every endpoint some rule of this port may DNAT to (needs a KTS-SEP chain). */
  allReachable: EndpointInfo[];
  /** Some usable endpoint exists anywhere in the cluster. */
  hasAny: boolean;
}

/**
 * Splits endpoints by traffic policy. Ready endpoints are preferred; when none are ready,
 * serving-and-terminating ones are used so that rolling updates do not drop traffic.
 */
export function categorizeEndpoints(info: ServicePortInfo, endpoints: EndpointInfo[]): CategorizedEndpoints {
  let cluster: EndpointInfo[] = [];
  let local: EndpointInfo[] = [];
  let hasAny = false;
  if (usesClusterEndpoints(info)) {
    cluster = endpoints.filter((e) => e.ready);
    if (cluster.length === 0) cluster = endpoints.filter((e) => e.serving && e.terminating);
    hasAny = cluster.length > 0;
  }
  if (!usesLocalEndpoints(info)) return { cluster, local, allReachable: cluster, hasAny };
  let localReady = false;
  let localServingTerminating = false;
  for (const e of endpoints) {
    if (e.ready) {
      hasAny = true;
      if (e.isLocal) localReady = true;
    } else if (e.serving && e.terminating) {
      hasAny = true;
      if (e.isLocal) localServingTerminating = true;
    }
  }
  if (localReady) local = endpoints.filter((e) => e.isLocal && e.ready);
  else if (localServingTerminating) local = endpoints.filter((e) => e.isLocal && e.serving && e.terminating);
  if (!usesClusterEndpoints(info)) return { cluster, local, allReachable: local, hasAny };
  const seen = new Set(cluster.map((e) => e.endpoint));
  const allReachable = [...cluster, ...local.filter((e) => !seen.has(e.endpoint))];
  return { cluster, local, allReachable, hasAny };
}

/**
 * Services and EndpointSlices as the informers last reported them, with the set of Services
 * touched since the last `takeChanges()` (what a partial sync must rewrite).
 */
export class ProxyState {
  private readonly services = new Map<string, Service>();
  private readonly slices = new Map<string, EndpointSlice>();
  private readonly slicesByService = new Map<string, Set<string>>();
  private changed = new Set<string>();

  constructor(private readonly nodeName: string) {}

  /** Records an added or updated Service. */
  upsertService(svc: Service): void {
    const key = objectKey(svc.metadata);
    this.services.set(key, svc);
    this.changed.add(key);
  }

  /** Records a deleted Service. */
  deleteService(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    if (this.services.delete(key)) this.changed.add(key);
  }

  /** Records an added or updated EndpointSlice. */
  upsertEndpointSlice(slice: EndpointSlice): void {
    const key = objectKey(slice.metadata);
    const prev = this.slices.get(key);
    if (prev !== undefined) this.unindexSlice(key, prev);
    this.slices.set(key, slice);
    const svcKey = sliceServiceKey(slice);
    if (svcKey === undefined) return;
    let set = this.slicesByService.get(svcKey);
    if (set === undefined) {
      set = new Set();
      this.slicesByService.set(svcKey, set);
    }
    set.add(key);
    this.changed.add(svcKey);
  }

  /** Records a deleted EndpointSlice. */
  deleteEndpointSlice(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const prev = this.slices.get(key);
    if (prev === undefined) return;
    this.slices.delete(key);
    this.unindexSlice(key, prev);
  }

  private unindexSlice(key: string, slice: EndpointSlice): void {
    const svcKey = sliceServiceKey(slice);
    if (svcKey === undefined) return;
    const set = this.slicesByService.get(svcKey);
    set?.delete(key);
    if (set?.size === 0) this.slicesByService.delete(svcKey);
    this.changed.add(svcKey);
  }

  /** Keys (`namespace/name`) of Services changed since the last call; resets the set. */
  takeChanges(): Set<string> {
    const out = this.changed;
    this.changed = new Set();
    return out;
  }

  /** Keys of every known Service, sorted so generated rules are deterministic. */
  serviceKeys(): string[] {
    return [...this.services.keys()].sort();
  }

  /** The proxied ports of one Service with their endpoints; [] when unknown or not proxied. */
  servicePorts(serviceKey: string): Array<{ info: ServicePortInfo; endpoints: EndpointInfo[] }> {
    const svc = this.services.get(serviceKey);
    if (svc === undefined) return [];
    const sliceKeys = this.slicesByService.get(serviceKey) ?? new Set<string>();
    const slices: EndpointSlice[] = [];
    for (const k of sliceKeys) {
      const s = this.slices.get(k);
      if (s !== undefined) slices.push(s);
    }
    return servicePortsFromService(svc).map((info) => ({
      info,
      endpoints: endpointsForServicePort(info, slices, this.nodeName),
    }));
  }

  /** Every Service, for consumers (such as the userspace proxier) that rebuild everything. */
  allServices(): Service[] {
    return [...this.services.values()];
  }
}

function objectKey(meta: { namespace?: string; name?: string } | undefined): string {
  return `${meta?.namespace ?? 'default'}/${meta?.name ?? ''}`;
}

function sliceServiceKey(slice: EndpointSlice): string | undefined {
  const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  if (svc === undefined || svc === '') return undefined;
  return `${slice.metadata?.namespace ?? 'default'}/${svc}`;
}
