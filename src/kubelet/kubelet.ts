// The kubelet: wires node registration and status, the node Lease, the pod informer (pods
// with spec.nodeName = this node), the pod workers and the runtime together. Stopping the
// kubelet leaves containers running: a kubelet started again over the same runtime adopts
// them through their labels. Pod relisting (upstream's PLEG) polls the runtime once a second
// and wakes the worker of every pod whose containers changed state.

import type { Node, Pod, ServiceAccount } from '../api/generated/types/core-v1.js';
import { type Clock, realClock } from '../client/clock.js';
import type { Client } from '../client/interface.js';
import { errorText, type Logger, noopLogger } from '../client/log.js';
import { CONFIGMAPS, NODES, PODS, SECRETS, SERVICEACCOUNTS } from '../client/resources.js';
import { SharedInformerFactory } from '../client/cache/informer-factory.js';
import { DeletedFinalStateUnknown } from '../client/cache/store.js';
import { isNotFound } from '../machinery/status-error.js';
import { podNetworkConflist, setupNodeNetwork, writeConflist } from '../network/index.js';
import { NodeLease } from './node-lease.js';
import { ObjectCache } from './object-cache.js';
import { NodeStatusManager, type MachineInfo, type Readiness, readMachineInfo } from './node-status.js';
import {
  gracePeriodSeconds,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  PodSyncer,
} from './pod-sync.js';
import { PodWorkers } from './pod-workers.js';
import { ProbeManager } from './probes.js';
import { type ContainerRuntime, podLogDirectory } from './runtime/runtime.js';
import { StatusManager } from './status-manager.js';
import type { KeyPair } from '../pki/x509.js';
import { KubeletServer } from './server/kubelet-server.js';
import { ensureKubeletServingCert } from './server/serving-cert.js';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

/** How pods that do not use the host network are networked. */
export interface KubeletNetworkOptions {
  /** The CNI conf_dir the runtime reads (the private containerd's `cniConfDir`). */
  cniConfDir: string;
  clusterCIDR?: string;
  serviceCIDR?: string;
  bridgeName?: string;
  /** Install the cluster-wide masquerade rules (default true). */
  masquerade?: boolean;
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
  /** Parent cgroup of pod cgroups on the cri runtime (default `/kubepods`). */
  cgroupRoot?: string;
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
  private nodeStatus: NodeStatusManager | undefined;
  private node: Node | undefined;
  private networkConfigured = false;
  private networkSetup: Promise<void> | undefined;
  private runtimeUp = true;
  private readonly loops: Promise<void>[] = [];
  private podFactory: SharedInformerFactory | undefined;
  private nodeFactory: SharedInformerFactory | undefined;
  private server: KubeletServer | undefined;

  /** A kubelet (call start). */
  constructor(private readonly o: KubeletOptions) {
    this.clock = o.clock ?? realClock;
    this.log = o.logger ?? noopLogger;
    this.machine = o.machine ?? readMachineInfo(o.dataDir);
    this.probes = new ProbeManager({
      runtime: o.runtime,
      clock: this.clock,
      onChange: (uid) => this.workers.trigger(uid),
    });
    const client = o.client;
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
      },
      probes: this.probes,
      clock: this.clock,
      logger: this.log,
      ...(o.cgroupRoot !== undefined ? { cgroupRoot: o.cgroupRoot } : {}),
      ...(maxSandboxes > 0 ? { maxConcurrentSandboxes: maxSandboxes } : {}),
      ...(o.clusterDNS !== undefined ? { clusterDNS: o.clusterDNS } : {}),
      ...(o.clusterDomain !== undefined ? { clusterDomain: o.clusterDomain } : {}),
    });
    this.statuses = new StatusManager(client);
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
      ...(kubeletPort !== undefined ? { kubeletPort } : {}),
      ...(o.statusUpdateMs !== undefined ? { statusUpdateMs: o.statusUpdateMs } : {}),
      ...(o.statusReportMs !== undefined ? { statusReportMs: o.statusReportMs } : {}),
    });
    this.node = await this.nodeStatus.register(signal);
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
    const podInf = this.podFactory.forResource(PODS).informer;
    podInf.addEventHandler({
      onAdd: (p) => this.workers.update(p),
      onUpdate: (_old, p) => this.workers.update(p),
      onDelete: (p) => {
        const pod = p instanceof DeletedFinalStateUnknown ? p.obj : p;
        this.workers.delete(pod.metadata?.uid ?? '', pod);
      },
    });
    this.nodeFactory.start(signal);
    this.podFactory.start(signal);
    await this.nodeFactory.waitForCacheSync(signal);
    await this.podFactory.waitForCacheSync(signal);
    await this.removeOrphans().catch((e: unknown) =>
      this.log.error('removing orphaned pods failed', { err: errorText(e) }),
    );
    this.loops.push(this.relistLoop(signal));
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
        await setupNodeNetwork({
          ...opts,
          ...(net.serviceCIDR !== undefined ? { serviceCIDR: net.serviceCIDR } : {}),
          ...(net.masquerade !== undefined ? { masquerade: net.masquerade } : {}),
        });
        writeConflist(net.cniConfDir, podNetworkConflist({ ...opts, dataDir: this.o.dataDir }));
        this.networkConfigured = true;
        this.log.info('pod network configured', { node: this.o.nodeName, podCIDR: cidr });
        await this.nodeStatus?.sync(true).catch(() => {});
        for (const p of this.workers.pods()) this.workers.trigger(p.metadata?.uid ?? '');
      } catch (e) {
        this.log.error('configuring the pod network failed', { podCIDR: cidr, err: errorText(e) });
      } finally {
        this.networkSetup = undefined;
      }
    })();
  }

  private async syncPod(pod: Pod): Promise<number | undefined> {
    const m = pod.metadata ?? {};
    if (m.deletionTimestamp !== undefined && m.deletionTimestamp !== null) {
      const state = await this.syncer.killPod(pod, gracePeriodSeconds(pod));
      const status = this.syncer.statusAfterKill(pod, state);
      const all = [...(status.containerStatuses ?? [])];
      // Since 1.27 a deleted pod ends in a terminal phase.
      status.phase = all.every((s) => s.state?.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
      await this.statuses.setStatus(pod, status, this.clock.now());
      try {
        await this.o.client.resource(PODS).delete(m.namespace ?? '', m.name ?? '', {
          gracePeriodSeconds: 0,
          preconditions: { uid: m.uid ?? '' },
        });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      return undefined;
    }
    const result = await this.syncer.syncPod(pod);
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
    await this.syncer.killPod(pod, pod.metadata?.deletionGracePeriodSeconds ?? 0);
    await this.syncer.cleanupPod(uid, pod);
    this.statuses.forget(uid);
    this.tokens.delete(uid);
    const m = pod.metadata ?? {};
    await rm(podLogDirectory(podLogRoot(this.o.dataDir), m.namespace ?? '', m.name ?? '', uid), {
      recursive: true,
      force: true,
    });
  }

  /** Sandboxes of pods this node no longer has (deleted while the kubelet was down). */
  private async removeOrphans(): Promise<void> {
    const sandboxes = await this.o.runtime.listPodSandbox();
    const known = new Set(this.workers.pods().map((p) => p.metadata?.uid ?? ''));
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
    const resp: unknown = await this.o.client
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
    await this.server?.close();
    await this.workers.stop();
    this.probes.stop();
    await Promise.allSettled(this.loops);
    await this.podFactory?.shutdown();
    await this.nodeFactory?.shutdown();
  }
}

/** Starts a kubelet; resolves once it registered its node and watches its pods. */
export async function startKubelet(o: KubeletOptions): Promise<Kubelet> {
  const k = new Kubelet(o);
  await k.start();
  return k;
}
