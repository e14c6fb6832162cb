// Where a `proxy` subresource request goes (upstream's ResourceLocation of the pod, node and
// service registries): the `[scheme:]name[:port]` id is split as upstream splits it, then a
// pod resolves to its IP and port, a node to its kubelet (HTTPS with the API server's kubelet
// client certificate) or to another port on its host, and a service to one ready address of
// its EndpointSlices. Errors carry upstream's exact messages, since clients match on them.

import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { Node, Pod, Service } from '../../api/generated/types/core-v1.js';
import type { EndpointSlice } from '../../api/generated/types/discovery-v1.js';
import { badRequest, serviceUnavailable } from '../../machinery/status-error.js';
import type { StoreRegistry } from '../stores.js';
import { type KubeletConnector, kubeletAddress } from './kubelet-location.js';

/** A proxy target: scheme, host and port, and TLS options when the scheme is https. */
export interface ProxyLocation {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  /** Present for https targets (the kubelet's carry the API server's client certificate). */
  tls?: ConnectionOptions;
}

/** The parts of a `[scheme:]name[:port]` id (upstream's SplitSchemeNamePort). */
export interface SchemeNamePort {
  scheme: string;
  name: string;
  port: string;
}

const VALID_SCHEMES = new Set(['', 'http', 'https']);

/** Splits `name`, `name:port` or `scheme:name:port`; undefined when the id is not valid. */
export function splitSchemeNamePort(id: string): SchemeNamePort | undefined {
  const parts = id.split(':');
  let scheme = '';
  let name = '';
  let port = '';
  if (parts.length === 1) name = parts[0] ?? '';
  else if (parts.length === 2) [name = '', port = ''] = parts;
  else if (parts.length === 3) [scheme = '', name = '', port = ''] = parts;
  else return undefined;
  if (name === '' || !VALID_SCHEMES.has(scheme)) return undefined;
  return { scheme, name, port };
}

function ipv4Octets(ip: string): number[] {
  return ip.split('.').map(Number);
}

/**
 * Whether the API server may proxy to `ip`: upstream allows only global unicast addresses.
 * kts also allows loopback, because a single-machine cluster's nodes (and so its
 * host-network pods) legitimately live on 127.0.0.0/8.
 */
export function isProxyableIP(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) {
    const [a = 0, b = 0] = ipv4Octets(ip);
    if (ip === '0.0.0.0' || ip === '255.255.255.255') return false;
    if (a >= 224 && a <= 239) return false; // multicast
    if (a === 169 && b === 254) return false; // link-local
    return true;
  }
  if (family === 6) {
    const low = ip.toLowerCase();
    if (low === '::') return false;
    if (low.startsWith('ff')) return false; // multicast
    if (/^fe[89ab]/.test(low)) return false; // link-local
    return true;
  }
  return false;
}

function schemeOf(s: string): 'http' | 'https' {
  return s === 'https' ? 'https' : 'http';
}

function defaultPort(scheme: 'http' | 'https'): number {
  return scheme === 'https' ? 443 : 80;
}

function parsePort(port: string, what: string): number {
  const n = Number(port);
  if (!/^\d+$/.test(port) || n < 1 || n > 65535)
    throw badRequest(`invalid ${what} port ${JSON.stringify(port)}`);
  return n;
}

/** TLS options for a pod or service https target (upstream's proxy transport skips verification). */
function insecureTLS(host: string, port: number): ConnectionOptions {
  return { host, port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] };
}

function location(scheme: 'http' | 'https', host: string, port: number): ProxyLocation {
  return scheme === 'https' ? { scheme, host, port, tls: insecureTLS(host, port) } : { scheme, host, port };
}

/** The target of `pods/<id>/proxy`: the pod's IP and the named or first declared port. */
export async function podProxyLocation(
  stores: StoreRegistry,
  namespace: string,
  id: string,
): Promise<ProxyLocation> {
  const snp = splitSchemeNamePort(id);
  if (!snp) throw badRequest(`invalid pod request ${JSON.stringify(id)}`);
  const pod = (await stores.byName('', 'pods').get(namespace, snp.name)) as Pod;
  let port = snp.port;
  if (port === '') {
    for (const c of pod.spec?.containers ?? []) {
      const first = c.ports?.[0];
      if (first) {
        port = String(first.containerPort);
        break;
      }
    }
  }
  const ip = pod.status?.podIP ?? pod.status?.podIPs?.[0]?.ip ?? '';
  if (!isProxyableIP(ip)) throw badRequest('address not allowed');
  const scheme = schemeOf(snp.scheme);
  return location(scheme, ip, port === '' ? defaultPort(scheme) : parsePort(port, 'pod'));
}

/**
 * The target of `nodes/<id>/proxy`: the node's kubelet (its own scheme and client
 * certificate) unless another port is named, which is then reached on the node's host.
 */
export async function nodeProxyLocation(
  stores: StoreRegistry,
  kubelets: KubeletConnector,
  id: string,
): Promise<ProxyLocation> {
  const snp = splitSchemeNamePort(id);
  if (!snp) throw badRequest(`invalid node request ${JSON.stringify(id)}`);
  const node = (await stores.byName('', 'nodes').get('', snp.name)) as Node;
  const kubelet = kubeletAddress(node);
  if (isIP(kubelet.host) !== 0 && !isProxyableIP(kubelet.host)) throw badRequest('address not allowed');
  if (snp.port === '' || snp.port === String(kubelet.port)) {
    return { scheme: 'https', host: kubelet.host, port: kubelet.port, tls: kubelets.tlsOptions(kubelet) };
  }
  return location(schemeOf(snp.scheme), kubelet.host, parsePort(snp.port, 'node'));
}

const SLICE_LABEL = 'kubernetes.io/service-name';

interface Candidate {
  ip: string;
  port: number;
  podName?: string;
}

function pickRandom<T>(items: T[]): T[] {
  const start = items.length > 0 ? Math.floor(Math.random() * items.length) : 0;
  return [...items.slice(start), ...items.slice(0, start)];
}

/** Whether an endpoint address still belongs to its pod (upstream's isValidAddress). */
async function validAddress(stores: StoreRegistry, namespace: string, c: Candidate): Promise<boolean> {
  if (c.podName === undefined) return true;
  try {
    const pod = (await stores.byName('', 'pods').get(namespace, c.podName)) as Pod;
    const ips = [pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p) => p.ip)];
    return ips.includes(c.ip);
  } catch {
    return false;
  }
}

/** The target of `services/<id>/proxy`: one ready address of the service's EndpointSlices. */
export async function serviceProxyLocation(
  stores: StoreRegistry,
  namespace: string,
  id: string,
): Promise<ProxyLocation> {
  const snp = splitSchemeNamePort(id);
  if (!snp) throw badRequest(`invalid service request ${JSON.stringify(id)}`);
  const svc = (await stores.byName('', 'services').get(namespace, snp.name)) as Service;
  let portName = snp.port;
  // A port number names the service port that declares it.
  if (/^-?\d+$/.test(portName)) {
    const n = Number(portName);
    const sp = (svc.spec?.ports ?? []).find((p) => p.port === n);
    if (!sp) throw serviceUnavailable(`no service port ${n} found for service ${JSON.stringify(snp.name)}`);
    portName = sp.name ?? '';
  }
  const slices = (await stores.byName('discovery.k8s.io', 'endpointslices').listAll(namespace))
    .map((e) => e.obj as unknown as EndpointSlice)
    .filter((s) => s.metadata?.labels?.[SLICE_LABEL] === snp.name);
  const ready = slices.filter((s) => (s.endpoints ?? []).some((e) => e.conditions?.ready !== false));
  if (ready.length === 0)
    throw serviceUnavailable(`no endpoints available for service ${JSON.stringify(snp.name)}`);
  for (const slice of pickRandom(ready)) {
    const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === portName);
    if (sp?.port === undefined) continue;
    const candidates: Candidate[] = [];
    for (const e of slice.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      const ip = e.addresses[0];
      if (ip === undefined) continue;
      const podName = e.targetRef?.kind === 'Pod' ? e.targetRef.name : undefined;
      candidates.push(podName === undefined ? { ip, port: sp.port } : { ip, port: sp.port, podName });
    }
    for (const c of pickRandom(candidates)) {
      if (await validAddress(stores, namespace, c)) return location(schemeOf(snp.scheme), c.ip, c.port);
    }
  }
  throw serviceUnavailable(`no endpoints available for service ${JSON.stringify(id)}`);
}
