// Runs kube-proxy against an API server (upstream cmd/kube-proxy app.Run): informers on
// Services and EndpointSlices feed a Proxier (nftables or iptables data plane) or a
// UserspaceProxier, and the node's own addresses come from its Node object. The default
// mode is nftables where `nft` works, else iptables; starting in one kernel mode removes
// what the other left behind (upstream's cleanupLeftovers), so switching modes is safe.
//
// LoadBalancer Services get an address the way k3s's ServiceLB gives them one: every node
// serves LoadBalancer traffic on its own addresses, so `status.loadBalancer.ingress` lists
// the addresses of all Ready nodes (ExternalIP where a node has one, else InternalIP).
// Every kube-proxy computes that list from the same Node objects, so proxies on several
// nodes agree instead of overwriting each other; each writes only when the status differs.
// Services naming a `loadBalancerClass` belong to another implementation and are left alone.

import type { Node, Service } from '../api/generated/types/core-v1.js';
import type { EndpointSlice } from '../api/generated/types/discovery-v1.js';
import { SharedInformerFactory } from '../client/cache/informer-factory.js';
import type { Lister } from '../client/cache/listers.js';
import type { ResourceEventHandler } from '../client/cache/shared-informer.js';
import { DeletedFinalStateUnknown } from '../client/cache/store.js';
import type { Client } from '../client/interface.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { errorText, type Logger, noopLogger } from '../client/log.js';
import { ENDPOINTSLICES, NODES, SERVICES } from '../client/resources.js';
import { RestClient } from '../client/rest-client.js';
import { RateLimitingQueue } from '../client/workqueue/rate-limiting-queue.js';
import { isConflict, isNotFound } from '../machinery/status-error.js';
import { cleanupKts, ExecIptables, type Iptables } from './iptables.js';
import type { ServicePortInfo } from './model.js';
import { cleanupNftables, ExecNft, type Nft, NftablesEngine, nftAvailable } from './nftables.js';
import { Proxier, ruleConfig } from './proxier.js';
import { UserspaceProxier } from './userspace/proxier.js';

/** The data planes kts proxy can drive. */
export type ProxyMode = 'nftables' | 'iptables' | 'userspace';

/** The proxy modes, for flag validation. */
export const PROXY_MODES: readonly ProxyMode[] = ['nftables', 'iptables', 'userspace'];

/** Interval of forced full syncs in nftables mode (upstream proxyutil.FullSyncPeriod, 1 h). */
export const NFT_FULL_SYNC_PERIOD_MS = 3_600_000;

/** What a running proxy hands to `onReady`. */
export interface RunningProxy {
  mode: ProxyMode;
  /** Set in nftables and iptables mode. */
  proxier?: Proxier;
  /** Set in userspace mode. */
  userspace?: UserspaceProxier;
  /** This node's IPv4 addresses, as read from its Node object. */
  nodeIPs: string[];
}

/** Options of runProxy. */
export interface RunProxyOptions {
  /** A kubeconfig path (the proxy then owns its REST client) … */
  kubeconfig?: string;
  /** … or a client to use. */
  client?: Client;
  /** The Node this proxy serves (endpoints on it are local). */
  nodeName: string;
  /** Default nftables where `nft` works, else iptables. */
  mode?: ProxyMode;
  /** The pod network (default 10.42.0.0/16): traffic from outside it to a ClusterIP is masqueraded. */
  clusterCIDR?: string;
  /** The iptables binaries to drive (default ExecIptables on the host). */
  iptables?: Iptables;
  /** The nft binary to drive (default ExecNft on the host). */
  nft?: Nft;
  /** Userspace mode: where a service port listens (default its ClusterIP and port). */
  listen?: (info: ServicePortInfo) => { host: string; port: number };
  /** Minimum time between two syncs (default 1 s). */
  minSyncPeriodMs?: number;
  /** Interval of forced full syncs (default 30 s in iptables mode, 1 h in nftables mode). */
  syncPeriodMs?: number;
  /** How long to wait for this node's Node object before going on without its addresses (default 30 s). */
  nodeWaitMs?: number;
  /** Write `status.loadBalancer.ingress` of LoadBalancer Services (default true). */
  serviceLB?: boolean;
  signal: AbortSignal;
  logger?: Logger;
  /** Called once the caches have synced and the data plane is being programmed. */
  onReady?: (p: RunningProxy) => void;
}

/** The default cluster CIDR of kts (pod network). */
export const DEFAULT_CLUSTER_CIDR = '10.42.0.0/16';

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** A Node's IPv4 addresses: InternalIP first, then ExternalIP, without duplicates. */
export function nodeAddresses(node: Node | undefined): string[] {
  const out: string[] = [];
  for (const type of ['InternalIP', 'ExternalIP']) {
    for (const a of node?.status?.addresses ?? []) {
      if (a.type === type && IPV4.test(a.address) && !out.includes(a.address)) out.push(a.address);
    }
  }
  return out;
}

function nodeReady(node: Node): boolean {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  // A node that has not reported yet is given the benefit of the doubt (hollow and fresh nodes).
  return ready === undefined || ready.status === 'True';
}

/**
 * The ingress addresses ServiceLB assigns: of each Ready node its ExternalIPs, or its
 * InternalIPs when it has none; IPv4, sorted so that every proxy computes the same list.
 */
export function loadBalancerAddresses(nodes: readonly Node[]): string[] {
  const set = new Set<string>();
  for (const node of nodes) {
    if (node.metadata?.deletionTimestamp !== undefined || !nodeReady(node)) continue;
    const addrs = node.status?.addresses ?? [];
    const ext = addrs.filter((a) => a.type === 'ExternalIP' && IPV4.test(a.address));
    const use = ext.length > 0 ? ext : addrs.filter((a) => a.type === 'InternalIP' && IPV4.test(a.address));
    for (const a of use) set.add(a.address);
  }
  return [...set].sort(compareIPv4);
}

function compareIPv4(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function ingressIPs(svc: Service): string[] {
  return (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((ip) => ip !== '');
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The ingress a Service should carry, or undefined when ServiceLB has no say: a
 * LoadBalancer Service without a class gets `addresses`; a Service that stopped being a
 * LoadBalancer loses exactly the ingress ServiceLB gave it, and nothing else.
 */
export function desiredIngress(svc: Service, addresses: readonly string[]): string[] | undefined {
  if (svc.spec?.loadBalancerClass !== undefined && svc.spec.loadBalancerClass !== '') return undefined;
  const current = ingressIPs(svc);
  if (svc.spec?.type === 'LoadBalancer') return sameList(current, addresses) ? undefined : [...addresses];
  if (current.length > 0 && sameList(current, addresses)) return [];
  return undefined;
}

/** Keeps LoadBalancer Services' ingress equal to the Ready nodes' addresses (k3s ServiceLB). */
class ServiceLBStatus {
  private readonly queue = new RateLimitingQueue<string>({ name: 'servicelb' });

  constructor(
    private readonly client: Client,
    private readonly services: Lister<Service>,
    private readonly nodes: Lister<Node>,
    private readonly log: Logger,
  ) {}

  enqueue(svc: Service): void {
    const ns = svc.metadata?.namespace;
    const name = svc.metadata?.name;
    if (ns !== undefined && name !== undefined) this.queue.add(`${ns}/${name}`);
  }

  /** Node addresses changed: every Service may need a new ingress. */
  enqueueAll(): void {
    for (const svc of this.services.list()) this.enqueue(svc);
  }

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    for (;;) {
      const next = await this.queue.get();
      if (next.shutdown) return;
      const key = next.item;
      try {
        await this.sync(key, signal);
        this.queue.forget(key);
      } catch (err) {
        if (!signal.aborted) {
          if (!isConflict(err)) {
            this.log.error('servicelb: status update failed', {
              component: 'proxy',
              service: key,
              error: errorText(err),
            });
          }
          this.queue.addRateLimited(key);
        }
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async sync(key: string, signal: AbortSignal): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    const svc = this.services.getByKey(`${namespace}/${name}`);
    if (svc === undefined) return;
    const want = desiredIngress(svc, loadBalancerAddresses(this.nodes.list()));
    if (want === undefined) return;
    const next: Service = structuredClone(svc);
    next.status = {
      ...next.status,
      loadBalancer: want.length === 0 ? {} : { ingress: want.map((ip) => ({ ip, ipMode: 'VIP' })) },
    };
    try {
      await this.client.resource(SERVICES).updateStatus(namespace, next, { signal });
      this.log.info('servicelb: updated ingress', { component: 'proxy', service: key, ingress: want });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

interface DataPlane {
  onServiceUpsert(svc: Service): void;
  onServiceDelete(namespace: string, name: string): void;
  onEndpointSliceUpsert(slice: EndpointSlice): void;
  onEndpointSliceDelete(namespace: string, name: string): void;
}

function unwrap<T>(obj: T | DeletedFinalStateUnknown<T>): T {
  return obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
}

function handlerFor<T extends { metadata?: { namespace?: string; name?: string } }>(
  upsert: (o: T) => void,
  remove: (namespace: string, name: string) => void,
): ResourceEventHandler<T> {
  return {
    onAdd: (o) => upsert(o),
    onUpdate: (_old, o) => upsert(o),
    onDelete: (d) => {
      const o = unwrap(d);
      remove(o.metadata?.namespace ?? '', o.metadata?.name ?? '');
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Waits until the node's Node object has addresses (or the wait runs out); resolves them. */
async function waitForNodeAddresses(
  nodes: Lister<Node>,
  nodeName: string,
  waitMs: number,
  signal: AbortSignal,
): Promise<string[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const addrs = nodeAddresses(nodes.getByKey(nodeName));
    if (addrs.length > 0 || Date.now() >= deadline || signal.aborted) return addrs;
    await sleep(Math.min(200, deadline - Date.now()), signal);
  }
}

/**
 * Runs kube-proxy for `nodeName` until `signal` aborts. The iptables rules stay in place on
 * exit, as upstream (a restart takes over without a gap); `cleanupProxyRules` removes them.
 * Userspace listeners are closed on exit.
 */
export async function runProxy(opts: RunProxyOptions): Promise<void> {
  const { signal } = opts;
  const log = opts.logger ?? noopLogger;
  const mode = opts.mode ?? (await defaultProxyMode(opts.nft));
  const client = opts.client ?? new RestClient(loadKubeconfig(opts.kubeconfig));
  const factory = new SharedInformerFactory(client, { logger: log });
  const nodeInf = factory.forResource(NODES);
  factory.start(signal);
  if (!(await nodeInf.informer.waitForSync(signal))) return factory.shutdown();

  const nodeIPs = await waitForNodeAddresses(
    nodeInf.lister,
    opts.nodeName,
    opts.nodeWaitMs ?? 30_000,
    signal,
  );
  if (signal.aborted) return factory.shutdown();
  if (nodeIPs.length === 0) {
    log.error('proxy: no addresses for this node; NodePorts and LoadBalancer firewalls use none', {
      component: 'proxy',
      node: opts.nodeName,
    });
  }

  let plane: DataPlane;
  const running: RunningProxy = { mode, nodeIPs };
  let proxier: Proxier | undefined;
  let userspace: UserspaceProxier | undefined;
  if (mode === 'iptables' || mode === 'nftables') {
    const base = {
      nodeName: opts.nodeName,
      clusterCIDR: opts.clusterCIDR ?? DEFAULT_CLUSTER_CIDR,
      nodeIPs,
      logger: log,
      ...(opts.minSyncPeriodMs !== undefined ? { minSyncPeriodMs: opts.minSyncPeriodMs } : {}),
    };
    const iptables = opts.iptables ?? new ExecIptables();
    const nft = opts.nft ?? new ExecNft();
    // Only a proxy driving the host's own tables cleans up after the other mode; one given
    // a fake or a namespaced data plane must not reach past it.
    const ownsHost = opts.iptables === undefined && opts.nft === undefined;
    if (mode === 'nftables') {
      if (ownsHost) await cleanupKts(iptables).catch(() => undefined);
      proxier = new Proxier({
        ...base,
        engine: new NftablesEngine(nft, ruleConfig(base)),
        syncPeriodMs: opts.syncPeriodMs ?? NFT_FULL_SYNC_PERIOD_MS,
      });
    } else {
      if (ownsHost && (await nftAvailable())) await cleanupNftables(nft).catch(() => undefined);
      proxier = new Proxier({
        ...base,
        iptables,
        ...(opts.syncPeriodMs !== undefined ? { syncPeriodMs: opts.syncPeriodMs } : {}),
      });
    }
    proxier.start(signal);
    plane = proxier;
    running.proxier = proxier;
  } else {
    userspace = new UserspaceProxier({
      nodeName: opts.nodeName,
      logger: log,
      ...(opts.listen !== undefined ? { listen: opts.listen } : {}),
    });
    plane = userspace;
    running.userspace = userspace;
  }

  const svcInf = factory.forResource(SERVICES);
  const sliceInf = factory.forResource(ENDPOINTSLICES);
  const lb =
    opts.serviceLB === false ? undefined : new ServiceLBStatus(client, svcInf.lister, nodeInf.lister, log);
  svcInf.informer.addEventHandler(
    handlerFor<Service>(
      (s) => {
        plane.onServiceUpsert(s);
        lb?.enqueue(s);
      },
      (ns, name) => plane.onServiceDelete(ns, name),
    ),
  );
  sliceInf.informer.addEventHandler(
    handlerFor<EndpointSlice>(
      (s) => plane.onEndpointSliceUpsert(s),
      (ns, name) => plane.onEndpointSliceDelete(ns, name),
    ),
  );
  // Only address changes matter to ServiceLB; status heartbeats would otherwise requeue
  // every Service every few seconds.
  let lbAddresses = loadBalancerAddresses(nodeInf.lister.list());
  const onNodes = (): void => {
    const next = loadBalancerAddresses(nodeInf.lister.list());
    if (sameList(next, lbAddresses)) return;
    lbAddresses = next;
    lb?.enqueueAll();
  };
  nodeInf.informer.addEventHandler({ onAdd: onNodes, onUpdate: onNodes, onDelete: onNodes });
  factory.start(signal);

  const lbDone = lb?.run(signal);
  const [svcSynced, sliceSynced] = await Promise.all([
    svcInf.informer.waitForSync(signal),
    sliceInf.informer.waitForSync(signal),
  ]);
  if (svcSynced && sliceSynced) {
    proxier?.markServicesSynced();
    proxier?.markEndpointSlicesSynced();
    log.info('proxy: caches synced', { component: 'proxy', mode, node: opts.nodeName, nodeIPs });
    opts.onReady?.(running);
  }

  if (!signal.aborted)
    await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
  proxier?.stop();
  await userspace?.stop();
  await lbDone;
  await factory.shutdown();
}

/** The mode used when none is asked for: nftables where `nft` works, else iptables. */
export async function defaultProxyMode(nft?: Nft): Promise<ProxyMode> {
  if (nft !== undefined) return 'nftables';
  return (await nftAvailable()) ? 'nftables' : 'iptables';
}

/** Options of cleanupProxyRules. */
export interface CleanupProxyOptions {
  /** Default ExecIptables on the host. */
  iptables?: Iptables;
  /** Default ExecNft on the host, when nft is installed. */
  nft?: Nft;
}

/**
 * Removes every kts proxy chain and jump rule of both kernel modes (`kts proxy --cleanup`):
 * the KTS-* iptables chains and the kts-proxy nftables table.
 */
export async function cleanupProxyRules(
  opts: CleanupProxyOptions = {},
): Promise<{ chains: number; rules: number }> {
  // Given one data plane (a namespaced or fake one), clean only that; given none, the host's.
  const host = opts.iptables === undefined && opts.nft === undefined;
  const nft = opts.nft ?? (host && (await nftAvailable()) ? new ExecNft() : undefined);
  const iptables = opts.iptables ?? (host ? new ExecIptables() : undefined);
  const fromNft = nft === undefined ? { chains: 0, rules: 0 } : await cleanupNftables(nft);
  const fromIptables = iptables === undefined ? { chains: 0, rules: 0 } : await cleanupKts(iptables);
  return { chains: fromNft.chains + fromIptables.chains, rules: fromNft.rules + fromIptables.rules };
}
