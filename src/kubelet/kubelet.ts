// The kubelet: wires node registration and status, the node Lease, the pod informer (pods
// with spec.nodeName = this node), the pod workers and the runtime together. Stopping the
// kubelet leaves containers running: a kubelet started again over the same runtime adopts
// them through their labels. Pod relisting (upstream's PLEG) polls the runtime once a second
// and wakes the worker of every pod whose containers changed state.

import type { Node, Pod, ServiceAccount } from '../api/generated/types/core-v1.js';
import { type Clock, realClock } from '../client/clock.js';
import { EventBroadcaster } from '../client/events.js';
import type { Client } from '../client/interface.js';
import { errorText, type Logger, noopLogger } from '../client/log.js';
import {
  CONFIGMAPS,
  NODES,
  PERSISTENTVOLUMECLAIMS,
  PERSISTENTVOLUMES,
  PODS,
  SECRETS,
  SERVICEACCOUNTS,
} from '../client/resources.js';
import { SharedInformerFactory } from '../client/cache/informer-factory.js';
import { DeletedFinalStateUnknown } from '../client/cache/store.js';
import { isNotFound } from '../machinery/status-error.js';
import {
  assignBridgeAddress,
  desiredHostGwRoutes,
  podNetworkConflist,
  prepareNodeBridge,
  RouteSync,
  setupNodeNetwork,
  writeConflist,
} from '../network/index.js';
import { EventReason, KubeletEvents, probeFailedMessage } from './kubelet-events.js';
import { NodeLease } from './node-lease.js';
import { ObjectCache, Semaphore } from './object-cache.js';
import { NodeStatusManager, type MachineInfo, type Readiness, readMachineInfo } from './node-status.js';
import {
  gracePeriodSeconds,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  PodSyncer,
} from './pod-sync.js';
import { PodWorkers } from './pod-workers.js';
import { DEFAULT_EVICTION_HARD, EvictionManager, parseEvictionFlags } from './eviction.js';
import { buildSummary, MachineStats, type StatsProvider, type Summary } from './node-stats.js';
import { isMirrorPod, isStaticPod, MirrorPods, StaticPodSource } from './static-pods.js';
import { ProbeManager } from './probes.js';
import { DEFAULT_API_REQUEST_SLOTS, limitRequests } from './request-limit.js';
import type { KubeletGauges } from './server/kubelet-metrics.js';
import { type ContainerRuntime, podLogDirectory } from './runtime/runtime.js';
import { StatusManager } from './status-manager.js';
import type { KeyPair } from '../pki/x509.js';
import { KubeletServer } from './server/kubelet-server.js';
import { ensureKubeletServingCert } from './server/serving-cert.js';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

/** How pods that do not use the host network are networked. */

/**
 * The kubelet's API client limits in kts (upstream's kubeAPIQPS/kubeAPIBurst default to
 * 50/100). A burst of 100 pods on one node needs about 200 requests (a token and a status
 * patch each); at 50 qps the status patches trickle out over seconds, so kts doubles both
 * (see docs/ARCHITECTURE.md, "Kubelet client limits").
 */
export const KUBELET_CLIENT_LIMITS = { qps: 100, burst: 200 } as const;

/**
 * Limits of the kubelet's separate event client (upstream eventRecordQPS 50 / eventBurst
 * 100, on a client of its own): a pod's five or so events must not spend the budget its
 * token request and status patches need.
 */
export const KUBELET_EVENT_CLIENT_LIMITS = { qps: 50, burst: 100 } as const;

/**
 * How long a new pod's sync may run before its ContainerCreating status is written (at
 * once when it pulls an image). Past a burst's worth: when a hundred pods start together
 * every sync is slow, and a write each would only add to what they all wait behind.
 */
const EARLY_STATUS_DELAY_MS = 1500;
export interface KubeletNetworkOptions {
  /** The CNI conf_dir the runtime reads (the private containerd's `cniConfDir`). */
  cniConfDir: string;
  clusterCIDR?: string;
  serviceCIDR?: string;
  bridgeName?: string;
  /** Install the cluster-wide masquerade rules (default true). */
  masquerade?: boolean;
  /** Keep host-gw routes to the other nodes' podCIDRs (default true). */
  routes?: boolean;
  /**
   * The client the routes watch every Node with. The kubelet's own identity may read only
   * its own Node (the Node authorizer, as upstream's since 1.32), so this one must be allowed
   * to list and watch all Nodes, as k3s gives flannel its own credential. Default: the
   * kubelet's client (enough with admin rights).
   */
  routesClient?: Client;
}

/** The kubelet's HTTPS server (logs, exec, attach); see `server/`. */
export interface KubeletServerConfig {
  /** Port (upstream 10250; 0 picks a free one, which the Node then advertises). */
  port: number;
  /** Listen address (default 0.0.0.0). */
  address?: string;
  /** Serving key pair; default `<dataDir>/pki/kubelet.{crt,key}`, issued by `ca` or self-signed. */
  tls?: KeyPair;
  /** The cluster CA, to issue the default serving certificate from (needs its key). */
  ca?: KeyPair;
  /** CA of accepted client certificates (default: the CA of the kubelet's kubeconfig). */
  clientCAPem?: string;
}

/** Options of a kubelet. */
export interface KubeletOptions {
  client: Client;
  /** The client events are written with (upstream's separate event client); default `client`. */
  eventClient?: Client;
  nodeName: string;
  runtime: ContainerRuntime;
  /** The kubelet's state (`pods/<uid>/volumes`, `logs/pods`). */
  dataDir: string;
  /**
   * CNI networking for the cri runtime: pods wait for the Node's podCIDR, then the node
   * bridge and the conflist are set up. Without it (and always on the process runtime)
   * pods share the node's network and report its address.
   */
  network?: KubeletNetworkOptions;
  /** Parent of the QoS and pod cgroups (default `/kubepods`). */
  cgroupRoot?: string;
  /** `--pod-max-pids`: pids limit of each pod's cgroup (default -1, unlimited). */
  podMaxPids?: number;
  /** `--pod-manifest-path`: a directory of static pod manifests. */
  podManifestPath?: string;
  /** How often the manifest directory is rescanned (default 5 s; file events rescan sooner). */
  staticPodScanMs?: number;
  /** `--eviction-hard` (default upstream's; '' turns node-pressure eviction off). */
  evictionHard?: string;
  /** `--eviction-soft`: thresholds that evict once met for their grace period. */
  evictionSoft?: string;
  /** `--eviction-soft-grace-period` (`signal=duration,…`; every soft signal needs one). */
  evictionSoftGracePeriod?: string;
  /** `--eviction-minimum-reclaim` (`signal=quantity|percent%,…`). */
  evictionMinimumReclaim?: string;
  /** `--eviction-max-pod-grace-period`: the most grace a pod evicted softly gets (default 0). */
  evictionMaxPodGracePeriod?: number;
  /** How often the eviction manager observes the node (default 10 s). */
  evictionIntervalMs?: number;
  /** How long a pressure condition outlives its threshold (default 5 min). */
  evictionPressureTransitionMs?: number;
  /** What the node and its pods use (default measured on this machine). */
  stats?: StatsProvider;
  clusterDNS?: string;
  clusterDomain?: string;
  clock?: Clock;
  logger?: Logger;
  /** Machine facts (default: read from this machine). */
  machine?: MachineInfo;
  statusUpdateMs?: number;
  statusReportMs?: number;
  leaseRenewMs?: number;
  relistMs?: number;
  /** Serve logs, exec and attach over HTTPS (off when omitted). */
  server?: KubeletServerConfig;
  /**
   * Sandboxes created at once (default 12 on the cri runtime, unbounded on the process
   * runtime): past a few, concurrent creations only slow each other down.
   */
  maxConcurrentSandboxes?: number;
}

/** Whether two objects of a pod differ in nothing the kubelet acts on but their status. */
function sameButStatus(a: Pod, b: Pod): boolean {
  const ma = a.metadata ?? {};
  const mb = b.metadata ?? {};
  return (
    ma.deletionTimestamp === mb.deletionTimestamp &&
    ma.deletionGracePeriodSeconds === mb.deletionGracePeriodSeconds &&
    JSON.stringify(ma.labels) === JSON.stringify(mb.labels) &&
    JSON.stringify(ma.annotations) === JSON.stringify(mb.annotations) &&
    JSON.stringify(a.spec) === JSON.stringify(b.spec)
  );
}

/** Root of the `/var/log/pods`-style container log directories under a data dir. */
export function podLogRoot(dataDir: string): string {
  return join(dataDir, 'logs', 'pods');
}

interface TokenCacheEntry {
  token: string;
  refreshAt: number;
}

/** A running kubelet. */
export class Kubelet {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly machine: MachineInfo;
  private readonly abort = new AbortController();
  private readonly probes: ProbeManager;
  private readonly syncer: PodSyncer;
  private readonly workers: PodWorkers;
  private readonly statuses: StatusManager;
  private readonly tokens = new Map<string, TokenCacheEntry>();
  /** The client of per-pod requests (reads, TokenRequests, status writes): bounded, see request-limit. */
  private readonly api: Client;
  /** The request slots `api` queues for. */
  private readonly apiSlots: Semaphore;
  /** Per new pod being synced: writes its ContainerCreating status now (see syncPod). */
  private readonly earlyStatus = new Map<string, () => void>();
  private nodeStatus: NodeStatusManager | undefined;
  private node: Node | undefined;
  private networkConfigured = false;
  private networkSetup: Promise<void> | undefined;
  /** The bridge, routes and masquerade, set up at start; true once they are in place. */
  private bridgePrepared: Promise<boolean> | undefined;
  private runtimeUp = true;
  private readonly loops: Promise<void>[] = [];
  private podFactory: SharedInformerFactory | undefined;
  private nodeFactory: SharedInformerFactory | undefined;
  private routeFactory: SharedInformerFactory | undefined;
  private server: KubeletServer | undefined;
  private mirrors: MirrorPods | undefined;
  private readonly stats: StatsProvider;
  private readonly eviction: EvictionManager;
  /** Pods the eviction manager evicted, by uid: their workers kill them and mark them Failed. */
  private readonly evictions = new Map<string, { message: string; grace: number }>();
  /** Writes the kubelet's events in the background (bounded queue, never awaited by syncs). */
  private readonly broadcaster: EventBroadcaster;
  private readonly events: KubeletEvents;

  /** A kubelet (call start). */
  constructor(private readonly o: KubeletOptions) {
    this.clock = o.clock ?? realClock;
    this.log = o.logger ?? noopLogger;
    this.machine = o.machine ?? readMachineInfo(o.dataDir);
    this.apiSlots = new Semaphore(DEFAULT_API_REQUEST_SLOTS);
    this.api = limitRequests(o.client, this.apiSlots);
    this.broadcaster = new EventBroadcaster({
      client: o.eventClient ?? o.client,
      clock: this.clock,
      logger: this.log,
      // Status before events: a burst of pod starts gets its status patches (what users
      // and controllers wait on) through first; the events follow within a second.
      yieldTo: () => this.apiSlots.idle(1000),
    });
    this.events = new KubeletEvents(this.broadcaster.newRecorder({ component: 'kubelet', host: o.nodeName }));
    this.probes = new ProbeManager({
      runtime: o.runtime,
      clock: this.clock,
      onChange: (uid) => this.workers.trigger(uid),
      onFailure: (pod, c, type, output) =>
        this.events.container(
          pod,
          c,
          'Warning',
          EventReason.ContainerUnhealthy,
          probeFailedMessage(type, output),
        ),
    });
    const client = this.api;
    const getOrUndefined = async <T>(p: Promise<T>): Promise<T | undefined> => {
      try {
        return await p;
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    };
    // Every sync reads the ConfigMaps/Secrets a pod references: bursts share one read.
    const configMaps = new ObjectCache(
      (ns, name) => getOrUndefined(client.resource(CONFIGMAPS).get(ns, name)),
      this.clock,
    );
    const secrets = new ObjectCache(
      (ns, name) => getOrUndefined(client.resource(SECRETS).get(ns, name)),
      this.clock,
    );
    // Claims and volumes: read on every sync of a pod that mounts one.
    const claims = new ObjectCache(
      (ns, name) => getOrUndefined(client.resource(PERSISTENTVOLUMECLAIMS).get(ns, name)),
      this.clock,
    );
    const volumes = new ObjectCache(
      (_ns, name) => getOrUndefined(client.resource(PERSISTENTVOLUMES).get('', name)),
      this.clock,
    );
    const maxSandboxes = o.maxConcurrentSandboxes ?? (o.runtime.type === 'process' ? 0 : 12);
    this.syncer = new PodSyncer({
      runtime: o.runtime,
      runtimeScheme: o.runtime.type === 'process' ? 'process' : 'containerd',
      dataDir: o.dataDir,
      podLogRoot: podLogRoot(o.dataDir),
      hostIP: () => this.machine.internalIP,
      node: () => this.node,
      networkReady: () => this.networkReady(),
      sources: {
        configMap: (ns, name) => configMaps.get(ns, name),
        secret: (ns, name) => secrets.get(ns, name),
        serviceAccountToken: (pod, audience, exp) => this.serviceAccountToken(pod, audience, exp),
        persistentVolumeClaim: (ns, name) => claims.get(ns, name),
        persistentVolume: (name) => volumes.get('', name),
      },
      probes: this.probes,
      clock: this.clock,
      logger: this.log,
      events: this.events,
      beforeRestart: async (pod, status) => {
        await this.statuses.setStatus(pod, status, this.clock.now());
      },
      onPull: (pod) => this.earlyStatus.get(pod.metadata?.uid ?? '')?.(),
      ...(o.cgroupRoot !== undefined ? { cgroupRoot: o.cgroupRoot } : {}),
      ...(o.podMaxPids !== undefined ? { podMaxPids: o.podMaxPids } : {}),
      memoryCapacityBytes: this.machine.memoryBytes,
      ...(maxSandboxes > 0 ? { maxConcurrentSandboxes: maxSandboxes } : {}),
      ...(o.clusterDNS !== undefined ? { clusterDNS: o.clusterDNS } : {}),
      ...(o.clusterDomain !== undefined ? { clusterDomain: o.clusterDomain } : {}),
    });
    this.statuses = new StatusManager(this.api);
    this.stats =
      o.stats ??
      new MachineStats({ runtime: o.runtime, dataDir: o.dataDir, podLogRoot: podLogRoot(o.dataDir) });
    this.eviction = new EvictionManager({
      thresholds: parseEvictionFlags({
        hard: o.evictionHard ?? DEFAULT_EVICTION_HARD,
        ...(o.evictionSoft !== undefined ? { soft: o.evictionSoft } : {}),
        ...(o.evictionSoftGracePeriod !== undefined ? { softGracePeriod: o.evictionSoftGracePeriod } : {}),
        ...(o.evictionMinimumReclaim !== undefined ? { minimumReclaim: o.evictionMinimumReclaim } : {}),
      }),
      ...(o.evictionMaxPodGracePeriod !== undefined
        ? { maxPodGracePeriodSeconds: o.evictionMaxPodGracePeriod }
        : {}),
      stats: this.stats,
      pods: () => this.workers.pods().filter((p) => !this.evictions.has(p.metadata?.uid ?? '')),
      evict: async (pod, message, grace) => {
        this.evictions.set(pod.metadata?.uid ?? '', { message, grace });
        this.workers.trigger(pod.metadata?.uid ?? '');
      },
      clock: this.clock,
      logger: this.log,
      onPressureChange: () => void this.nodeStatus?.sync(true).catch(() => {}),
      ...(o.evictionPressureTransitionMs !== undefined
        ? { pressureTransitionMs: o.evictionPressureTransitionMs }
        : {}),
    });
    this.workers = new PodWorkers(
      (pod) => this.syncPod(pod),
      (uid, pod) => this.removePod(uid, pod),
      this.clock,
      this.log,
    );
  }

  /** The machine facts the node reports. */
  get machineInfo(): MachineInfo {
    return this.machine;
  }

  private networkReady(): boolean {
    return this.o.network === undefined || this.networkConfigured;
  }

  private readiness(): Readiness {
    if (!this.runtimeUp) return { ready: false, message: 'container runtime is down' };
    if (!this.networkReady()) {
      return {
        ready: false,
        message:
          'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
      };
    }
    return { ready: true };
  }

  /** Registers the node and starts every loop; resolves once pods are being synced. */
  async start(): Promise<void> {
    const o = this.o;
    const signal = this.abort.signal;
    this.events.node(o.nodeName, 'Normal', EventReason.StartingKubelet, 'Starting kubelet.');
    // What does not depend on the podCIDR is done while the node registers and waits for it.
    this.bridgePrepared = this.prepareBridge();
    const v = await o.runtime.version();
    const kubeletPort = o.server !== undefined ? await this.startServer(o.server) : undefined;
    const runtimeVersion =
      o.runtime.type === 'process'
        ? 'process://kts'
        : `${v.runtimeName}://${v.runtimeVersion.replace(/^v/, '')}`;
    this.nodeStatus = new NodeStatusManager({
      client: o.client,
      clock: this.clock,
      logger: this.log,
      nodeName: o.nodeName,
      machine: this.machine,
      containerRuntimeVersion: runtimeVersion,
      readiness: () => this.readiness(),
      pressure: () => this.eviction.pressure(),
      events: this.events,
      ...(kubeletPort !== undefined ? { kubeletPort } : {}),
      ...(o.statusUpdateMs !== undefined ? { statusUpdateMs: o.statusUpdateMs } : {}),
      ...(o.statusReportMs !== undefined ? { statusReportMs: o.statusReportMs } : {}),
    });
    this.node = await this.nodeStatus.register(signal);
    this.events.node(
      o.nodeName,
      'Normal',
      EventReason.NodeAllocatableEnforced,
      'Updated Node Allocatable limit across pods',
    );
    const lease = new NodeLease({
      client: o.client,
      clock: this.clock,
      logger: this.log,
      nodeName: o.nodeName,
      nodeUid: () => this.nodeStatus?.current?.metadata?.uid ?? '',
      ...(o.leaseRenewMs !== undefined ? { renewMs: o.leaseRenewMs } : {}),
    });
    this.loops.push(lease.run(signal), this.nodeStatus.run(signal));

    this.nodeFactory = new SharedInformerFactory(o.client, { fieldSelector: `metadata.name=${o.nodeName}` });
    const nodeInf = this.nodeFactory.forResource(NODES).informer;
    nodeInf.addEventHandler({
      onAdd: (n) => this.onNode(n),
      onUpdate: (_old, n) => this.onNode(n),
    });
    this.podFactory = new SharedInformerFactory(o.client, { fieldSelector: `spec.nodeName=${o.nodeName}` });
    const { informer: podInf, lister: podLister } = this.podFactory.forResource(PODS);
    const mirrors = new MirrorPods({
      client: o.client,
      nodeName: o.nodeName,
      nodeUid: () => this.nodeStatus?.current?.metadata?.uid ?? '',
      cached: (ns, name) => podLister.getByKey(`${ns}/${name}`),
      logger: this.log,
    });
    this.mirrors = mirrors;
    // A mirror pod is the API's picture of a static pod, never a pod to run: its changes
    // only wake the static pod's worker (which recreates a deleted or stale mirror).
    const onMirror = (p: Pod): void => {
      const st = mirrors.staticFor(p);
      if (st !== undefined) this.workers.trigger(st.metadata?.uid ?? '');
      else if (p.metadata?.deletionTimestamp == null && this.o.podManifestPath !== undefined) {
        // A mirror of a static pod this kubelet no longer has (removed while it was down).
        void mirrors.deleteMirror(p);
      }
    };
    podInf.addEventHandler({
      onAdd: (p) => (isMirrorPod(p) ? onMirror(p) : this.workers.update(p)),
      onUpdate: (old, p) => {
        if (isMirrorPod(p)) onMirror(p);
        // Upstream's pod config reconciles, and does not sync, a pod whose only change is
        // the status this kubelet wrote: a sync per echo would also hide short-lived states
        // (ErrImagePull turns into ImagePullBackOff the moment it is written).
        else if (this.statuses.isOwnStatus(p) && sameButStatus(old, p)) this.workers.refresh(p);
        else this.workers.update(p);
      },
      onDelete: (p) => {
        const pod = p instanceof DeletedFinalStateUnknown ? p.obj : p;
        if (isMirrorPod(pod)) onMirror(pod);
        else this.workers.delete(pod.metadata?.uid ?? '', pod);
      },
    });
    this.nodeFactory.start(signal);
    this.podFactory.start(signal);
    await this.nodeFactory.waitForCacheSync(signal);
    await this.podFactory.waitForCacheSync(signal);
    if (o.podManifestPath !== undefined) {
      const source = new StaticPodSource({
        dir: o.podManifestPath,
        nodeName: o.nodeName,
        clock: this.clock,
        logger: this.log,
        onChange: (pods) => this.setStaticPods(pods),
        ...(o.staticPodScanMs !== undefined ? { intervalMs: o.staticPodScanMs } : {}),
      });
      // Before orphans are collected, so running static pods are adopted, not killed.
      this.setStaticPods(source.scan());
      this.loops.push(source.run(signal));
    }
    await this.removeOrphans().catch((e: unknown) =>
      this.log.error('removing orphaned pods failed', { err: errorText(e) }),
    );
    this.loops.push(this.relistLoop(signal));
    this.loops.push(this.eviction.run(signal, o.evictionIntervalMs ?? 10_000));
  }

  /** The node's `/stats/summary` now. */
  summary(): Promise<Summary> {
    return buildSummary(this.o.nodeName, this.stats, this.workers.pods(), this.clock.now());
  }

  /** The gauges of the kubelet's `/metrics`, read from the runtime now. */
  private async gauges(): Promise<KubeletGauges> {
    const [sandboxes, containers] = await Promise.all([
      this.o.runtime.listPodSandbox(),
      this.o.runtime.listContainers(),
    ]);
    const byState: Record<string, number> = { created: 0, exited: 0, running: 0, unknown: 0 };
    for (const c of containers) {
      const state = c.state.replace(/^CONTAINER_/, '').toLowerCase();
      byState[state] = (byState[state] ?? 0) + 1;
    }
    return {
      nodeName: this.o.nodeName,
      runningPods: sandboxes.filter((sb) => sb.state === 'SANDBOX_READY').length,
      containers: byState,
    };
  }

  /** Kills an evicted pod and records it Failed/Evicted (upstream evictPod + status manager). */
  private async evictPod(pod: Pod, ev: { message: string; grace: number }): Promise<undefined> {
    this.events.pod(pod, 'Warning', EventReason.Evicted, ev.message);
    const state = await this.syncer.killPod(pod, ev.grace);
    const status = this.syncer.statusAfterKill(pod, state);
    status.phase = 'Failed';
    status.reason = 'Evicted';
    status.message = ev.message;
    status.conditions = [
      ...(status.conditions ?? []),
      { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: ev.message },
    ];
    await this.statuses.setStatus(pod, status, this.clock.now());
    return undefined;
  }

  private async startServer(cfg: KubeletServerConfig): Promise<number> {
    const tls =
      cfg.tls ?? ensureKubeletServingCert(this.o.dataDir, this.o.nodeName, [this.machine.internalIP], cfg.ca);
    const fromKubeconfig = (this.o.client as { config?: { caData?: unknown } }).config?.caData;
    const clientCAPem = cfg.clientCAPem ?? (typeof fromKubeconfig === 'string' ? fromKubeconfig : undefined);
    if (clientCAPem === undefined)
      this.log.error('kubelet server has no client CA: only /healthz is served', {});
    this.server = new KubeletServer({
      runtime: this.o.runtime,
      getPod: (ns, name) =>
        this.workers.pods().find((p) => p.metadata?.namespace === ns && p.metadata?.name === name),
      port: cfg.port,
      tls,
      logger: this.log,
      summary: () => this.summary(),
      gauges: () => this.gauges(),
      pods: () => this.workers.pods(),
      ...(cfg.address !== undefined ? { address: cfg.address } : {}),
      ...(clientCAPem !== undefined ? { clientCAPem } : {}),
    });
    await this.server.listen();
    this.log.info('kubelet server listening', { port: this.server.port });
    return this.server.port;
  }

  /** The port of the kubelet's server (undefined when it serves none). */
  get serverPort(): number | undefined {
    return this.server?.port;
  }

  private async prepareBridge(): Promise<boolean> {
    const net = this.o.network;
    if (net === undefined) return false;
    try {
      await prepareNodeBridge({
        ...(net.clusterCIDR !== undefined ? { clusterCIDR: net.clusterCIDR } : {}),
        ...(net.serviceCIDR !== undefined ? { serviceCIDR: net.serviceCIDR } : {}),
        ...(net.bridgeName !== undefined ? { bridgeName: net.bridgeName } : {}),
        ...(net.masquerade !== undefined ? { masquerade: net.masquerade } : {}),
      });
      return true;
    } catch (e) {
      this.log.error('preparing the pod network bridge failed', { err: errorText(e) });
      return false;
    }
  }

  private onNode(n: Node): void {
    this.node = n;
    const cidr = n.spec?.podCIDR;
    const net = this.o.network;
    if (
      net === undefined ||
      this.networkConfigured ||
      this.networkSetup !== undefined ||
      cidr === undefined ||
      cidr === ''
    )
      return;
    this.networkSetup = (async () => {
      try {
        const opts = {
          podCIDR: cidr,
          ...(net.clusterCIDR !== undefined ? { clusterCIDR: net.clusterCIDR } : {}),
          ...(net.bridgeName !== undefined ? { bridgeName: net.bridgeName } : {}),
        };
        const full = {
          ...opts,
          ...(net.serviceCIDR !== undefined ? { serviceCIDR: net.serviceCIDR } : {}),
          ...(net.masquerade !== undefined ? { masquerade: net.masquerade } : {}),
        };
        // A bridge that could not be prepared at start is tried again whole (and fails loudly).
        if (await this.bridgePrepared) await assignBridgeAddress(full);
        else await setupNodeNetwork(full);
        writeConflist(net.cniConfDir, podNetworkConflist({ ...opts, dataDir: this.o.dataDir }));
        this.networkConfigured = true;
        this.log.info('pod network configured', { node: this.o.nodeName, podCIDR: cidr });
        if (net.routes !== false) this.startRouteSync(net.routesClient ?? this.o.client, net.clusterCIDR);
        await this.nodeStatus?.sync(true).catch(() => {});
        for (const p of this.workers.pods()) this.workers.trigger(p.metadata?.uid ?? '');
      } catch (e) {
        this.log.error('configuring the pod network failed', { podCIDR: cidr, err: errorText(e) });
      } finally {
        this.networkSetup = undefined;
      }
    })();
  }

  /**
   * Pods on other nodes are reached host-gw style: their podCIDR via their InternalIP. Every
   * Node change re-applies the whole set (RouteSync reads the kernel each time, so it is
   * level-based). The routes are left in place when the kubelet stops, like the bridge:
   * running pods keep talking across nodes through a kubelet restart.
   */
  private startRouteSync(client: Client, clusterCIDR: string | undefined): void {
    if (this.routeFactory !== undefined || this.abort.signal.aborted) return;
    const routes = new RouteSync({
      nodeName: this.o.nodeName,
      ...(clusterCIDR !== undefined ? { clusterCIDR } : {}),
    });
    this.routeFactory = new SharedInformerFactory(client, { logger: this.log });
    const nodes = this.routeFactory.forResource(NODES);
    let pending = false;
    let lastKey = '';
    let lastAt = 0;
    const sync = (): void => {
      // Bursts of Node updates collapse into one sync, and the periodic status updates of
      // every node cost nothing while the wanted routes are unchanged (the kernel is still
      // re-read once a minute, so a route deleted by hand comes back).
      if (pending) return;
      pending = true;
      queueMicrotask(() => {
        pending = false;
        const list = nodes.lister.list();
        const key = desiredHostGwRoutes(list, this.o.nodeName, clusterCIDR)
          .map((r) => `${r.dst}>${r.via}`)
          .join(',');
        const now = this.clock.now();
        if (key === lastKey && now - lastAt < 60_000) return;
        routes.sync(list).then(
          (r) => {
            if (r.errors.length === 0) {
              lastKey = key;
              lastAt = now;
            }
            for (const err of r.errors) this.log.error('host-gw route failed', { err: errorText(err) });
            if (r.applied.replace.length + r.applied.remove.length > 0)
              this.log.info('host-gw routes changed', {
                replaced: r.applied.replace.map((x) => `${x.dst} via ${x.via}`).join(','),
                removed: r.applied.remove.map((x) => x.dst).join(','),
              });
          },
          (e: unknown) => this.log.error('syncing host-gw routes failed', { err: errorText(e) }),
        );
      });
    };
    nodes.informer.addEventHandler({ onAdd: sync, onUpdate: sync, onDelete: sync });
    this.routeFactory.start(this.abort.signal);
  }

  private setStaticPods(pods: Pod[]): void {
    const { added, removed } = this.mirrors?.setStaticPods(pods) ?? { added: [], removed: [] };
    for (const p of removed) this.workers.delete(p.metadata?.uid ?? '', p);
    for (const p of added) {
      this.log.info('static pod added', { pod: `${p.metadata?.namespace}/${p.metadata?.name}` });
      this.workers.update(p);
    }
  }

  /** A static pod's sync: its mirror first, then the pod, with the status written to the mirror. */
  private async syncStaticPod(pod: Pod): Promise<number | undefined> {
    const mirror = await this.mirrors?.ensure(pod);
    const result = await this.syncer.syncPod(pod);
    let status = result.status;
    if (mirror !== undefined) {
      const written = await this.statuses.setStatus(mirror, result.status, this.clock.now());
      status = written.status ?? status;
    } else {
      // No mirror yet (no Node uid, or being recreated): retry soon so the API hears of it.
      result.requeueAfterMs = Math.min(result.requeueAfterMs ?? 1000, 1000);
    }
    // The worker's pod object is the kubelet's own: keeping the status on it is how the next
    // sync knows the pod reached a terminal phase.
    pod.status = { ...status };
    if (status.phase === 'Succeeded' || status.phase === 'Failed') {
      await this.syncer.killPod(pod, 0);
      return undefined;
    }
    return result.requeueAfterMs;
  }

  private async syncPod(pod: Pod): Promise<number | undefined> {
    if (isStaticPod(pod)) return this.syncStaticPod(pod);
    const m = pod.metadata ?? {};
    const evicted = this.evictions.get(m.uid ?? '');
    if (evicted !== undefined && m.deletionTimestamp == null) return this.evictPod(pod, evicted);
    if (m.deletionTimestamp !== undefined && m.deletionTimestamp !== null) {
      const state = await this.syncer.killPod(pod, gracePeriodSeconds(pod));
      const status = this.syncer.statusAfterKill(pod, state);
      const all = [...(status.containerStatuses ?? [])];
      // Since 1.27 a deleted pod ends in a terminal phase.
      status.phase = all.every((s) => s.state?.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
      await this.statuses.setStatus(pod, status, this.clock.now());
      try {
        await this.api.resource(PODS).delete(m.namespace ?? '', m.name ?? '', {
          gracePeriodSeconds: 0,
          preconditions: { uid: m.uid ?? '' },
        });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      return undefined;
    }
    // A new pod whose sandbox and containers take a while shows ContainerCreating meanwhile
    // (upstream's first status write). The write runs beside the sync and only when the sync
    // pulls an image or outlasts EARLY_STATUS_DELAY_MS: a pod that starts faster goes straight to its real
    // status, as upstream's status manager coalesces a superseded status away, and a burst
    // of pods does not spend an extra request each. For the same reason a pending write
    // still queued for a request slot when the sync ends is dropped (under a burst most are):
    // it waits for the slot itself and then writes with the unlimited client.
    let early: Promise<unknown> | undefined;
    let earlyStarted = false;
    let superseded = false;
    const uid = m.uid ?? '';
    const writeEarly = (): void => {
      timer?.cancel();
      this.earlyStatus.delete(uid);
      early = this.apiSlots
        .run(async () => {
          if (superseded) return;
          earlyStarted = true;
          await this.statuses.setStatus(pod, this.syncer.pendingStatus(pod), this.clock.now(), this.o.client);
        })
        .catch((e: unknown) => {
          this.log.error('writing the pending pod status failed', { err: errorText(e) });
        });
    };
    const isNew =
      pod.status?.containerStatuses === undefined &&
      pod.status?.phase !== 'Succeeded' &&
      pod.status?.phase !== 'Failed';
    const timer = isNew ? this.clock.setTimeout(writeEarly, EARLY_STATUS_DELAY_MS) : undefined;
    if (isNew) this.earlyStatus.set(uid, writeEarly);
    let result: Awaited<ReturnType<PodSyncer['syncPod']>>;
    try {
      result = await this.syncer.syncPod(pod);
    } finally {
      timer?.cancel();
      this.earlyStatus.delete(uid);
      superseded = true;
      // One already being written must land before the real status.
      if (earlyStarted) await early;
    }
    const written = await this.statuses.setStatus(pod, result.status, this.clock.now());
    const phase = written.status?.phase ?? result.status.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      // A finished pod keeps its containers (for logs and status) but not its sandbox.
      await this.syncer.killPod(pod, 0);
      return undefined;
    }
    return result.requeueAfterMs;
  }

  private async removePod(uid: string, pod: Pod): Promise<void> {
    if (isStaticPod(pod)) {
      await this.syncer.killPod(pod, gracePeriodSeconds(pod));
      await this.mirrors?.remove(pod);
    }
    await this.syncer.killPod(pod, pod.metadata?.deletionGracePeriodSeconds ?? 0);
    await this.syncer.cleanupPod(uid, pod);
    this.statuses.forget(uid);
    this.tokens.delete(uid);
    this.evictions.delete(uid);
    const m = pod.metadata ?? {};
    await rm(podLogDirectory(podLogRoot(this.o.dataDir), m.namespace ?? '', m.name ?? '', uid), {
      recursive: true,
      force: true,
    });
  }

  /** Sandboxes and cgroups of pods this node no longer has (deleted while the kubelet was down). */
  private async removeOrphans(): Promise<void> {
    const sandboxes = await this.o.runtime.listPodSandbox();
    const known = new Set(this.workers.pods().map((p) => p.metadata?.uid ?? ''));
    const withSandbox = new Set(sandboxes.map((s) => s.labels[LABEL_POD_UID] ?? ''));
    this.syncer.removeOrphanedCgroups(
      (uid) => known.has(uid) || withSandbox.has(uid) || this.workers.has(uid),
    );
    for (const s of sandboxes) {
      const uid = s.labels[LABEL_POD_UID];
      if (uid === undefined || known.has(uid) || this.workers.has(uid)) continue;
      const pod: Pod = {
        metadata: {
          uid,
          name: s.labels[LABEL_POD_NAME] ?? s.metadata.name,
          namespace: s.labels[LABEL_POD_NAMESPACE] ?? s.metadata.namespace,
        },
      };
      this.workers.delete(uid, pod);
    }
  }

  private async relistLoop(signal: AbortSignal): Promise<void> {
    let previous = new Map<string, string>();
    let n = 0;
    while (!signal.aborted) {
      try {
        await this.clock.sleep(this.o.relistMs ?? 1000, signal);
      } catch {
        return;
      }
      try {
        const [containers, sandboxes] = await Promise.all([
          this.o.runtime.listContainers(),
          this.o.runtime.listPodSandbox(),
        ]);
        const current = new Map<string, string>();
        for (const c of containers) current.set(c.id, `${c.state}/${c.labels[LABEL_POD_UID] ?? ''}`);
        for (const s of sandboxes) current.set(s.id, `${s.state}/${s.labels[LABEL_POD_UID] ?? ''}`);
        const changed = new Set<string>();
        for (const [id, v] of current) if (previous.get(id) !== v) changed.add(v.slice(v.indexOf('/') + 1));
        for (const [id, v] of previous) if (!current.has(id)) changed.add(v.slice(v.indexOf('/') + 1));
        previous = current;
        for (const uid of changed) if (uid !== '') this.workers.trigger(uid);
        if (!this.runtimeUp) {
          this.runtimeUp = true;
          await this.nodeStatus?.sync(true).catch(() => {});
        }
        if (++n % 30 === 0) await this.removeOrphans();
      } catch (e) {
        if (signal.aborted) return;
        this.log.error('relisting the runtime failed', { err: errorText(e) });
        if (this.runtimeUp) {
          this.runtimeUp = false;
          await this.nodeStatus?.sync(true).catch(() => {});
        }
      }
    }
  }

  private async serviceAccountToken(
    pod: Pod,
    audience: string | undefined,
    expirationSeconds: number,
  ): Promise<string> {
    const m = pod.metadata ?? {};
    const key = `${m.uid ?? ''}/${audience ?? ''}/${expirationSeconds}`;
    const cached = this.tokens.get(key);
    if (cached !== undefined && cached.refreshAt > this.clock.now()) return cached.token;
    const sa = pod.spec?.serviceAccountName ?? 'default';
    const request = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: { name: sa, namespace: m.namespace },
      spec: {
        audiences: audience !== undefined && audience !== '' ? [audience] : [],
        expirationSeconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: m.name, uid: m.uid },
      },
    };
    const resp: unknown = await this.api
      .resource(SERVICEACCOUNTS)
      .create(m.namespace ?? '', request as unknown as ServiceAccount, { subresource: 'token' });
    const token = (resp as { status?: { token?: unknown } }).status?.token;
    if (typeof token !== 'string') throw new Error(`TokenRequest for ${m.namespace}/${sa} returned no token`);
    // Refreshed at 80% of its life, as upstream's token manager does.
    this.tokens.set(key, { token, refreshAt: this.clock.now() + expirationSeconds * 800 });
    return token;
  }

  /** Stops every loop; containers keep running (a new kubelet adopts them). */
  async stop(): Promise<void> {
    this.abort.abort();
    // Queued events get a moment to be written, not an unbounded wait on an absent API.
    const flushed = this.broadcaster.shutdown();
    await Promise.race([flushed, new Promise<void>((resolve) => setTimeout(resolve, 2000).unref())]);
    await this.server?.close();
    await this.workers.stop();
    this.probes.stop();
    await Promise.allSettled(this.loops);
    await this.podFactory?.shutdown();
    await this.nodeFactory?.shutdown();
    await this.routeFactory?.shutdown();
  }
}

/** Starts a kubelet; resolves once it registered its node and watches its pods. */
export async function startKubelet(o: KubeletOptions): Promise<Kubelet> {
  const k = new Kubelet(o);
  await k.start();
  return k;
}
