// The node's side of the pod network. On start the node makes its bridge (`kts0`, up, with
// the gateway address of its podCIDR) and routes the whole cluster CIDR and service CIDR
// to it, so a packet for a pod or service address that nothing serves yet stays on the
// machine instead of leaving by the default gateway (an `unreachable` route would also
// block iptables' OUTPUT DNAT of service IPs, which needs a route to exist first).
//
// Between nodes, pods are routed host-gw style: the podCIDR of every other node via that
// node's InternalIP, which must be on a directly connected network. `RouteSync` computes
// these routes from the Node list and applies only the difference. kts's routes carry
// their own protocol number, so they are found again (after a restart, by teardown)
// without any state file and never confused with routes someone else made.

import type { Node } from '../api/generated/types/core-v1.js';
import {
  DEFAULT_CLUSTER_CIDR,
  DEFAULT_SERVICE_CIDR,
  canonicalCidr,
  cidrContains,
  cidrsOverlap,
  gatewayAddress,
  isIpv4,
  parseCidr,
} from './cidr.js';
import { DEFAULT_BRIDGE_NAME } from './conflist.js';
import { type CommandRunner, execCommand, HostCommandError, mustRun } from './host-command.js';
import { ensurePodNetworkRules, HostIptables } from './iptables.js';
import { ip, listLinks } from './netns.js';

/** The routing protocol number that marks a route as kts's (`ip route … proto 242`). */
export const KTS_ROUTE_PROTOCOL = '242';

/** What the node's network setup needs. */
export interface NodeNetworkOptions {
  /** The node's `spec.podCIDR`. */
  podCIDR: string;
  /** The cluster's pod range (default `10.42.0.0/16`). */
  clusterCIDR?: string;
  /** The service range (default `10.43.0.0/16`). */
  serviceCIDR?: string;
  /** Bridge name (default `kts0`). */
  bridgeName?: string;
  /** MTU of the bridge. */
  mtu?: number;
  /** Install the cluster-wide masquerade/forward rules (default true). */
  masquerade?: boolean;
  /** Do all of it inside this named network namespace (tests' "nodes"); the host's when absent. */
  netns?: string;
  /** Command runner (default: real processes). */
  run?: CommandRunner;
}

/** What `setupNodeNetwork` made. */
export interface NodeNetworkState {
  bridge: string;
  /** The bridge's address: the pods' default gateway. */
  gateway: string;
  /** Routes sent whole to the bridge. */
  bridgeRoutes: string[];
}

/** What the podCIDR-independent part of the node's network needs. */
export type NodeBridgeOptions = Omit<NodeNetworkOptions, 'podCIDR'>;

/**
 * The part of the node's network that does not depend on its podCIDR: the bridge up, IP
 * forwarding on, the cluster and service CIDRs routed whole to the bridge, masquerade for
 * traffic leaving the cluster. A kubelet runs it as it starts, before node-ipam has given
 * the node a podCIDR, so that only the bridge's address is left for then. Idempotent.
 */
export async function prepareNodeBridge(opts: NodeBridgeOptions): Promise<Omit<NodeNetworkState, 'gateway'>> {
  const run = opts.run ?? execCommand;
  const io = { netns: opts.netns, run };
  const bridge = opts.bridgeName ?? DEFAULT_BRIDGE_NAME;
  const cluster = canonicalCidr(opts.clusterCIDR ?? DEFAULT_CLUSTER_CIDR);
  const service = canonicalCidr(opts.serviceCIDR ?? DEFAULT_SERVICE_CIDR);
  const existing = (await listLinks(io)).find((l) => l.name === bridge);
  if (existing !== undefined && existing.kind !== 'bridge') {
    throw new Error(`${bridge} exists and is not a bridge (kind ${existing.kind ?? 'none'})`);
  }
  if (existing === undefined) await ip(['link', 'add', bridge, 'type', 'bridge'], io);
  if (opts.mtu !== undefined) await ip(['link', 'set', bridge, 'mtu', String(opts.mtu)], io);
  await ip(['link', 'set', bridge, 'up'], io);
  await mustRun(run, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'], { netns: opts.netns });
  for (const dst of [cluster, service]) {
    await ip(['route', 'replace', dst, 'dev', bridge, 'proto', KTS_ROUTE_PROTOCOL], io);
  }
  if (opts.masquerade !== false) await ensurePodNetworkRules(new HostIptables(opts.netns, run), cluster);
  return { bridge, bridgeRoutes: [cluster, service] };
}

/** Gives the (prepared) bridge the podCIDR's gateway address: the pods' default route. */
export async function assignBridgeAddress(opts: NodeNetworkOptions): Promise<NodeNetworkState> {
  const bridge = opts.bridgeName ?? DEFAULT_BRIDGE_NAME;
  const cluster = canonicalCidr(opts.clusterCIDR ?? DEFAULT_CLUSTER_CIDR);
  const service = canonicalCidr(opts.serviceCIDR ?? DEFAULT_SERVICE_CIDR);
  const podCIDR = canonicalCidr(opts.podCIDR);
  const gateway = gatewayAddress(podCIDR);
  if (!cidrContains(cluster, gateway)) {
    throw new Error(`podCIDR ${podCIDR} is not inside the cluster CIDR ${cluster}`);
  }
  const io = { netns: opts.netns, run: opts.run ?? execCommand };
  await ip(['addr', 'replace', `${gateway}/${parseCidr(podCIDR).prefix}`, 'dev', bridge], io);
  return { bridge, gateway, bridgeRoutes: [cluster, service] };
}

/**
 * Prepares the node: the bridge (see prepareNodeBridge), then its gateway address.
 * Idempotent: run it on every start.
 */
export async function setupNodeNetwork(opts: NodeNetworkOptions): Promise<NodeNetworkState> {
  // A podCIDR outside the cluster is refused before anything is changed.
  const cluster = canonicalCidr(opts.clusterCIDR ?? DEFAULT_CLUSTER_CIDR);
  const podCIDR = canonicalCidr(opts.podCIDR);
  if (!cidrContains(cluster, gatewayAddress(podCIDR))) {
    throw new Error(`podCIDR ${podCIDR} is not inside the cluster CIDR ${cluster}`);
  }
  await prepareNodeBridge(opts);
  return assignBridgeAddress(opts);
}

/** One host-gw route: a node's podCIDR via its address. */
export interface HostGwRoute {
  /** Canonical destination CIDR. */
  dst: string;
  /** The next hop: the other node's InternalIP. */
  via: string;
}

/** The difference between the routes present and the routes wanted. */
export interface RouteDiff {
  /** Routes to add or to change (`ip route replace`). */
  replace: HostGwRoute[];
  /** Routes to delete. */
  remove: HostGwRoute[];
}

/** The address a node is reached at: its first IPv4 InternalIP. */
export function nodeInternalIP(node: Node): string | undefined {
  return node.status?.addresses?.find((a) => a.type === 'InternalIP' && isIpv4(a.address))?.address;
}

/**
 * The host-gw routes this node wants: every other node's podCIDR via its InternalIP.
 * Nodes without a podCIDR or an IPv4 InternalIP are skipped, as are podCIDRs outside the
 * cluster CIDR or overlapping this node's own (routing those would hijack local traffic).
 */
export function desiredHostGwRoutes(
  nodes: readonly Node[],
  selfName: string,
  clusterCIDR: string = DEFAULT_CLUSTER_CIDR,
): HostGwRoute[] {
  const self = nodes.find((n) => n.metadata?.name === selfName);
  const ownCIDR = self?.spec?.podCIDR;
  const routes = new Map<string, HostGwRoute>();
  for (const node of nodes) {
    if (node.metadata?.name === selfName) continue;
    const cidr = node.spec?.podCIDR;
    const via = nodeInternalIP(node);
    if (cidr === undefined || via === undefined) continue;
    let dst: string;
    try {
      dst = canonicalCidr(cidr);
    } catch {
      continue;
    }
    if (!cidrsOverlap(dst, clusterCIDR) || parseCidr(dst).prefix < parseCidr(clusterCIDR).prefix) continue;
    if (ownCIDR !== undefined && cidrsOverlap(dst, ownCIDR)) continue;
    if (cidrContains(clusterCIDR, via)) continue;
    routes.set(dst, { dst, via });
  }
  return [...routes.values()].sort((a, b) => a.dst.localeCompare(b.dst));
}

/** What to change to get from `current` to `desired` (a changed next hop is a replace). */
export function diffRoutes(current: readonly HostGwRoute[], desired: readonly HostGwRoute[]): RouteDiff {
  const have = new Map(current.map((r) => [r.dst, r]));
  const want = new Map(desired.map((r) => [r.dst, r]));
  const replace = [...want.values()].filter((r) => have.get(r.dst)?.via !== r.via);
  const remove = [...have.values()].filter((r) => !want.has(r.dst));
  return { replace, remove };
}

/** kts's host-gw routes present in the kernel (kts protocol, with a gateway). */
export async function listHostGwRoutes(
  opts: { netns?: string; run?: CommandRunner } = {},
): Promise<HostGwRoute[]> {
  const out = await ip(['-j', 'route', 'show', 'proto', KTS_ROUTE_PROTOCOL], opts);
  const v: unknown = JSON.parse(out.trim() === '' ? '[]' : out);
  if (!Array.isArray(v)) return [];
  const routes: HostGwRoute[] = [];
  for (const e of v) {
    if (typeof e !== 'object' || e === null) continue;
    const r = e as Record<string, unknown>;
    if (typeof r.dst !== 'string' || typeof r.gateway !== 'string') continue;
    routes.push({ dst: canonicalCidr(r.dst), via: r.gateway });
  }
  return routes;
}

/** Options of a `RouteSync`. */
export interface RouteSyncOptions {
  /** This node's name (its own podCIDR is local, not routed). */
  nodeName: string;
  /** The cluster's pod range (default `10.42.0.0/16`). */
  clusterCIDR?: string;
  /** Work inside this named network namespace. */
  netns?: string;
  /** Command runner. */
  run?: CommandRunner;
}

/** The outcome of one sync: what was changed and which routes failed. */
export interface RouteSyncResult {
  applied: RouteDiff;
  errors: Error[];
}

/**
 * Keeps the host-gw routes equal to what the Node list asks for. `sync(nodes)` is
 * level-based (the kernel is read each time, so restarts and manual changes converge);
 * calls are serialized; `stop()` removes every kts host-gw route.
 */
export class RouteSync {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly clusterCIDR: string;

  constructor(private readonly opts: RouteSyncOptions) {
    this.clusterCIDR = canonicalCidr(opts.clusterCIDR ?? DEFAULT_CLUSTER_CIDR);
  }

  /** Applies the difference between the kernel's kts routes and those `nodes` want. */
  sync(nodes: readonly Node[]): Promise<RouteSyncResult> {
    return this.serialize(() => this.apply(desiredHostGwRoutes(nodes, this.opts.nodeName, this.clusterCIDR)));
  }

  /** Removes every kts host-gw route (the node is leaving or shutting down). */
  stop(): Promise<RouteSyncResult> {
    return this.serialize(() => this.apply([]));
  }

  /** The kts host-gw routes in the kernel now. */
  current(): Promise<HostGwRoute[]> {
    return listHostGwRoutes({ netns: this.opts.netns, run: this.opts.run });
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => {});
    return next;
  }

  private async apply(desired: HostGwRoute[]): Promise<RouteSyncResult> {
    const io = { netns: this.opts.netns, run: this.opts.run };
    const diff = diffRoutes(await this.current(), desired);
    const applied: RouteDiff = { replace: [], remove: [] };
    const errors: Error[] = [];
    for (const r of diff.remove) {
      try {
        await ip(['route', 'del', r.dst, 'via', r.via, 'proto', KTS_ROUTE_PROTOCOL], io);
        applied.remove.push(r);
      } catch (e) {
        if (e instanceof HostCommandError && /No such process/.test(e.result.stderr)) applied.remove.push(r);
        else errors.push(e instanceof Error ? e : new Error(String(e)));
      }
    }
    for (const r of diff.replace) {
      try {
        await ip(['route', 'replace', r.dst, 'via', r.via, 'proto', KTS_ROUTE_PROTOCOL], io);
        applied.replace.push(r);
      } catch (e) {
        errors.push(e instanceof Error ? e : new Error(String(e)));
      }
    }
    return { applied, errors };
  }
}
