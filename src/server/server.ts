// The all-in-one `kts server`: one process runs the API server, the controller manager, the
// scheduler and a node (kubelet, later kube-proxy and cluster DNS), started in dependency
// order behind ready signals and stopped in reverse. Every component but the API server is
// an ordinary API client with its own certificate identity (see identities.ts), so RBAC
// treats it exactly as it would a separate upstream binary.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, Taint } from '../api/generated/types/core-v1.js';
import { type ApiServer, startApiServer } from '../apiserver/server.js';
import { startResourceMetrics } from '../metrics/index.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { errorText, type Logger, noopLogger } from '../client/log.js';
import { NODES } from '../client/resources.js';
import { ServiceAccountClientBuilder } from '../client/controller-client-builder.js';
import { RestClient } from '../client/rest-client.js';
import { CONTROLLER_MANAGER_CLIENT_LIMITS, ControllerManager } from '../controllers/manager.js';
import { controllerRegistry } from '../controllers/registry.js';
import { ensureDNSService, runClusterDNS } from '../dns/run.js';
import { KUBELET_CLIENT_LIMITS, KUBELET_EVENT_CLIENT_LIMITS, Kubelet } from '../kubelet/kubelet.js';
import { detectInternalIP } from '../kubelet/node-status.js';
import { cleanupProxyRules, defaultProxyMode, runProxy } from '../proxy/run.js';
import { ensureClusterPKI } from '../pki/cluster-pki.js';
import type { KeyPair } from '../pki/x509.js';
import { runScheduler } from '../scheduler/run.js';
import { type ComponentName, issueComponentIdentities, removeControllerUnionBindings } from './identities.js';
import { isExternalDatastore } from './bootstrap-data.js';
import {
  DEFAULT_LEADER_ELECTION,
  type LeaderElectionTimings,
  prepareSharedPKI,
  runCandidate,
} from './high-availability.js';
import { type NodeRuntime, openNodeRuntime, type RuntimeKind } from './node-runtime.js';
import type { HeadStart } from './head-start.js';
import type { DisableableComponent } from './node-flags.js';
import { isJoinToken, setupJoin } from './join-token.js';
import { startupTraceEnabled, traceStartup } from './startup-trace.js';

// Re-exported: they moved to node-flags.ts so `kts agent` can use them without loading the server.
export {
  DISABLEABLE,
  type DisableableComponent,
  defaultNodeName,
  parseLabel,
  parseTaint,
  SERVER_DEFAULTS,
} from './node-flags.js';

/** The whole configuration of `kts server`. */
export interface ServerConfig {
  dataDir: string;
  httpsPort: number;
  bindAddress?: string;
  advertiseAddress?: string;
  datastoreEndpoint?: string;
  tlsSans?: string[];
  nodeName: string;
  nodeLabels: Record<string, string>;
  nodeTaints: Taint[];
  disable: ReadonlySet<DisableableComponent>;
  runtime: RuntimeKind;
  clusterCIDR: string;
  serviceCIDR: string;
  clusterDNS: string;
  clusterDomain: string;
  /** Port the DNS server listens on at the node's address (default 53). */
  clusterDNSPort?: number;
  /** Port of the kubelet's HTTPS server (default 10250; 0 picks a free one). */
  kubeletPort?: number;
  /** How long `startServer` waits for the node to become Ready (default 60 s). */
  nodeReadyTimeoutMs?: number;
  /** The cluster token (`--token`): keys the shared PKI in an external datastore. */
  token?: string;
  /** The node join token (`--agent-token`; default a --token of that shape, else DATA_DIR/agent-token). */
  agentToken?: string;
  /** Static bearer tokens for the API server (`--token-auth-file`). */
  tokenAuthFile?: string;
  /**
   * Leader election of the controller manager and scheduler (always on, as in k3s); the API
   * server's identity Lease lives for the lease duration and is renewed every third of it.
   */
  leaderElection?: LeaderElectionTimings;
}

/** Hooks of the caller: progress lines and per-component loggers. */
export interface ServerHooks {
  /** One human-readable progress line (no trailing newline). */
  progress?: (line: string) => void;
  /** The logger of a component (default: silent). */
  logger?: (component: string) => Logger;
  /** Preparations the caller started before loading the server (see head-start.ts). */
  headStart?: HeadStart;
}

/** Milliseconds from the start of `startServer` to each milestone. */
export interface ServerTimings {
  apiReadyMs: number;
  controllersStartedMs?: number;
  schedulerReadyMs?: number;
  nodeReadyMs?: number;
}

/** A running all-in-one server. */
export interface RunningServer {
  url: string;
  /** The admin kubeconfig (system:masters). */
  kubeconfigPath: string;
  nodeName: string;
  timings: ServerTimings;
  /** Stops every component in reverse start order. */
  stop(): Promise<void>;
}

/** A component that runs until stopped. */
interface Running {
  name: string;
  stop(): Promise<void>;
}

/** True when iptables-restore is installed and we are root (the iptables proxier's needs). */
function iptablesUsable(): boolean {
  if (process.getuid?.() !== 0) return false;
  return ['/usr/sbin/iptables-restore', '/sbin/iptables-restore', '/usr/bin/iptables-restore'].some((p) =>
    existsSync(p),
  );
}

async function nodeAddress(admin: RestClient, nodeName: string): Promise<string | undefined> {
  try {
    const node = await admin.resource(NODES).get('', nodeName);
    return node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  } catch {
    return undefined;
  }
}

/**
 * kube-proxy and cluster DNS. DNS listens on the node's InternalIP (reachable from pods
 * through the bridge, and not clashing with a host resolver on 127.0.0.53) and the
 * `kube-dns` Service at the cluster DNS IP points there; kube-proxy runs in nftables (else iptables) mode
 * when the machine allows it. Either one failing to start is reported and skipped rather than
 * taking the cluster down: the API, controllers and pods work without them.
 */
export async function startNodeNetworkComponents(
  cfg: ServerConfig,
  kubeconfigs: { proxy?: string; dns?: string; admin: string },
  log: (component: string) => Logger,
  progress: (line: string) => void = () => {},
): Promise<Running[]> {
  const running: Running[] = [];
  const admin = new RestClient({ ...loadKubeconfig(kubeconfigs.admin), userAgent: 'kts-server' });
  // The kube-dns endpoint must be reachable from every node's pods: never loopback (see
  // docs/ARCHITECTURE.md, Cluster DNS); without a Node, the address a kubelet would report.
  const addr = (await nodeAddress(admin, cfg.nodeName)) ?? cfg.advertiseAddress ?? detectInternalIP();
  if (!cfg.disable.has('dns')) {
    const port = cfg.clusterDNSPort ?? 53;
    const ac = new AbortController();
    try {
      await ensureDNSService(admin, {
        nodeAddress: addr,
        port,
        clusterIP: cfg.clusterDNS,
        nodeName: cfg.nodeName,
      });
      let ready: () => void = () => {};
      const started = new Promise<void>((r) => {
        ready = r;
      });
      const done = runClusterDNS({
        kubeconfig: kubeconfigs.dns ?? kubeconfigs.admin,
        address: addr,
        port,
        zone: cfg.clusterDomain,
        signal: ac.signal,
        logger: log('dns'),
        onReady: () => ready(),
      });
      await Promise.race([started, done]);
      progress(`cluster DNS serving ${cfg.clusterDomain} on ${addr}:${port} (service ${cfg.clusterDNS})`);
      running.push({
        name: 'dns',
        stop: async () => {
          ac.abort();
          await done.catch(() => {});
        },
      });
    } catch (e) {
      ac.abort();
      progress(`cluster DNS not started: ${errorText(e)} (use --cluster-dns-port or --disable dns)`);
    }
  }
  if (!cfg.disable.has('proxy') && kubeconfigs.proxy) {
    // nftables where `nft` works (as `kts proxy`), else iptables.
    const mode = process.getuid?.() === 0 ? await defaultProxyMode() : 'iptables';
    if (mode === 'iptables' && !iptablesUsable()) {
      progress(
        'kube-proxy not started: it needs root and nft or iptables (apt-get install nftables iptables)',
      );
    } else {
      const ac = new AbortController();
      const done = runProxy({
        kubeconfig: kubeconfigs.proxy,
        nodeName: cfg.nodeName,
        mode,
        clusterCIDR: cfg.clusterCIDR,
        signal: ac.signal,
        logger: log('kube-proxy'),
      });
      done.catch((e: unknown) => progress(`kube-proxy stopped: ${errorText(e)}`));
      progress(`kube-proxy started (${mode})`);
      running.push({
        name: 'proxy',
        stop: async () => {
          ac.abort();
          await done.catch(() => {});
          // The server removes the chains it created; the next start rebuilds them in one sync.
          await cleanupProxyRules({}).catch((e: unknown) =>
            progress(`kube-proxy cleanup failed: ${errorText(e)}`),
          );
        },
      });
    }
  }
  admin.close();
  return running;
}

function nodeReady(n: Node): boolean {
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** Waits until the Node satisfies `done` (by default: reports Ready); false on timeout. */
async function waitNode(
  admin: RestClient,
  name: string,
  timeoutMs: number,
  done: (n: Node) => boolean = nodeReady,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (done(await admin.resource(NODES).get('', name))) return true;
    } catch {
      // not registered yet
    }
    // A GET from the watch cache is cheap; the Ready line is what a user waits for.
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

/** Traces when the Node is registered, gets its PodCIDR and turns Ready (KTS_TRACE_STARTUP). */
async function traceNodeMilestones(admin: RestClient, name: string, signal: AbortSignal): Promise<void> {
  const seen = new Set<string>();
  while (!signal.aborted && !seen.has('Ready')) {
    try {
      const n = await admin.resource(NODES).get('', name);
      const marks: [string, boolean][] = [
        ['registered', true],
        ['PodCIDR', (n.spec?.podCIDR ?? '') !== ''],
        ['Ready', nodeReady(n)],
      ];
      for (const [m, now] of marks) {
        if (now && !seen.has(m)) {
          seen.add(m);
          traceStartup(`node ${m}`);
        }
      }
    } catch {
      // not registered yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Applies `--node-label` and `--node-taint` to the registered Node (with admin rights). */
async function applyNodeLabelsAndTaints(admin: RestClient, cfg: ServerConfig): Promise<void> {
  const labels = cfg.nodeLabels;
  if (Object.keys(labels).length === 0 && cfg.nodeTaints.length === 0) return;
  const node = await admin.resource(NODES).get('', cfg.nodeName);
  const taints = [...(node.spec?.taints ?? [])];
  for (const t of cfg.nodeTaints) {
    if (!taints.some((x) => x.key === t.key && x.effect === t.effect)) taints.push(t);
  }
  await admin.resource(NODES).patch('', cfg.nodeName, 'merge', {
    metadata: { labels },
    ...(cfg.nodeTaints.length > 0 ? { spec: { taints } } : {}),
  });
}

/**
 * The controllers a fresh single-node cluster needs for its node to turn Ready and run a
 * first pod: the node's PodCIDR (nodeipam), the removal of its not-ready taint
 * (nodelifecycle), the `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap every
 * pod's token volume reads. The rest start once the node has its PodCIDR.
 */
const NODE_FIRST_CONTROLLERS = ['nodeipam', 'nodelifecycle', 'serviceaccount', 'root-ca-cert-publisher'];

/** The longest the other controllers wait for the node (a node that never gets Ready must not hold them). */
const NODE_FIRST_MAX_MS = 3_000;

/** What the server's kubelet is started with. */
interface ServerKubeletContext {
  runtimeOpening: Promise<NodeRuntime> | undefined;
  kubeconfig: string;
  ca: KeyPair;
  log: Logger;
  /** Where its clients go to be closed with the server's. */
  clients: RestClient[];
  /** Where it goes to be stopped in order. */
  running: Running[];
  /** True once the server's start failed: a kubelet not yet made is then never made. */
  abandoned: () => boolean;
}

/**
 * Starts the server's own kubelet once its runtime is open; resolves to that runtime once
 * the node is registered.
 */
async function startServerKubelet(cfg: ServerConfig, ctx: ServerKubeletContext): Promise<NodeRuntime> {
  const nodeRuntime: NodeRuntime = await (ctx.runtimeOpening ??
    openNodeRuntime(cfg.runtime, cfg.dataDir, ctx.log));
  traceStartup('kubelet: runtime open');
  if (ctx.abandoned()) throw new Error('the server stopped before its kubelet started');
  const kubeconfig = loadKubeconfig(ctx.kubeconfig);
  const userAgent = 'kubelet/v1.32.4 (linux) kts';
  const client = new RestClient({ ...kubeconfig, ...KUBELET_CLIENT_LIMITS, userAgent });
  const eventClient = new RestClient({ ...kubeconfig, ...KUBELET_EVENT_CLIENT_LIMITS, userAgent });
  ctx.clients.push(client, eventClient);
  const kubelet = new Kubelet({
    client,
    eventClient,
    nodeName: cfg.nodeName,
    runtime: nodeRuntime.runtime,
    dataDir: join(cfg.dataDir, 'agent', 'kubelet'),
    logger: ctx.log,
    clusterDNS: cfg.clusterDNS,
    clusterDomain: cfg.clusterDomain,
    // The kubelet's HTTPS server (logs, exec, attach) with a certificate from the cluster CA.
    server: { port: cfg.kubeletPort ?? 10250, ca: ctx.ca },
    ...(nodeRuntime.cniConfDir !== undefined
      ? {
          network: {
            cniConfDir: nodeRuntime.cniConfDir,
            clusterCIDR: cfg.clusterCIDR,
            serviceCIDR: cfg.serviceCIDR,
          },
        }
      : {}),
  });
  // Registered before it starts: a stop during start-up must stop it too.
  const starting = kubelet.start();
  ctx.running.push({
    name: 'kubelet',
    stop: async () => {
      await kubelet.stop();
      await starting.catch(() => {});
    },
  });
  await starting;
  return nodeRuntime;
}

/**
 * Starts the whole server. Resolves once every enabled component runs and the node is
 * Ready (or its wait timed out, which is reported as progress, not an error). On a failure
 * part-way, what already started is stopped before the error is thrown.
 */
export async function startServer(cfg: ServerConfig, hooks: ServerHooks = {}): Promise<RunningServer> {
  const t0 = Date.now();
  traceStartup('startServer');
  const progress = (line: string): void => {
    traceStartup(line);
    hooks.progress?.(line);
  };
  const logFor = hooks.logger ?? (() => noopLogger);
  const since = (): number => Date.now() - t0;
  const fmt = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);
  const running: Running[] = [];
  const clients: RestClient[] = [];
  // Set when the start fails part-way (see ServerKubeletContext.abandoned).
  let failed = false;
  const stopAll = async (): Promise<void> => {
    for (const r of running.splice(0).reverse()) {
      try {
        await r.stop();
      } catch (e) {
        logFor('server').error('stopping a component failed', { component: r.name, err: errorText(e) });
      }
    }
    for (const c of clients.splice(0)) c.close();
  };

  const le = { ...DEFAULT_LEADER_ELECTION, ...cfg.leaderElection };
  // The node's runtime (for cri a private containerd and its image imports, about a second)
  // opens while the API server starts: the kubelet needs both, neither needs the other.
  const runtimeOpening = !cfg.disable.has('kubelet')
    ? (hooks.headStart?.runtimeOpening ?? openNodeRuntime(cfg.runtime, cfg.dataDir, logFor('kubelet')))
    : undefined;
  // Its failure is reported where the kubelet awaits it.
  runtimeOpening?.catch(() => {});
  const closeRuntime = async (): Promise<void> => {
    const opened = await runtimeOpening?.catch(() => undefined);
    await opened?.close();
  };
  if (cfg.datastoreEndpoint !== undefined && isExternalDatastore(cfg.datastoreEndpoint)) {
    // Before the API server reads DATA_DIR/tls: every server on the datastore shares one CA.
    let shared: Awaited<ReturnType<typeof prepareSharedPKI>>;
    try {
      shared = await prepareSharedPKI(cfg.dataDir, cfg.datastoreEndpoint, cfg.token);
    } catch (e) {
      await closeRuntime();
      throw e;
    }
    progress(
      shared.outcome === 'stored'
        ? 'cluster CA and service-account key stored in the datastore (encrypted with the token)'
        : 'cluster CA and service-account key loaded from the datastore',
    );
  }
  let api: ApiServer;
  try {
    await hooks.headStart?.serviceAccountKey;
    api = await startApiServer({
      dataDir: cfg.dataDir,
      httpsPort: cfg.httpsPort,
      serviceCIDR: cfg.serviceCIDR,
      ...(cfg.bindAddress !== undefined ? { bindAddress: cfg.bindAddress } : {}),
      ...(cfg.advertiseAddress !== undefined ? { advertiseAddress: cfg.advertiseAddress } : {}),
      ...(cfg.datastoreEndpoint !== undefined ? { datastoreEndpoint: cfg.datastoreEndpoint } : {}),
      tlsSans: [cfg.nodeName, ...(cfg.tlsSans ?? [])],
      ...(cfg.tokenAuthFile !== undefined ? { tokenAuthFile: cfg.tokenAuthFile } : {}),
      identityLease: {
        durationSeconds: Math.max(1, Math.ceil(le.leaseDurationMs / 1000)),
        renewIntervalMs: Math.max(250, Math.floor(le.leaseDurationMs / 3)),
      },
      onError: (e) => logFor('kube-apiserver').error('endpoint reconciler', { err: errorText(e) }),
    });
  } catch (e) {
    await closeRuntime();
    throw e;
  }
  running.push({ name: 'apiserver', stop: () => api.close() });
  // k3s's bundled metrics-server, in process: metrics.k8s.io for `kubectl top` and the HPA.
  if (!cfg.disable.has('metrics-server')) {
    const metrics = startResourceMetrics(api, { log: logFor('metrics-server') });
    running.push({ name: 'metrics-server', stop: () => metrics.stop() });
  }
  if (runtimeOpening !== undefined) running.push({ name: 'runtime', stop: closeRuntime });
  const timings: ServerTimings = { apiReadyMs: since() };
  progress(`API server ready at ${api.url} (${fmt(timings.apiReadyMs)})`);

  try {
    const admin = new RestClient({ ...loadKubeconfig(api.kubeconfigPath), userAgent: 'kts-server' });
    clients.push(admin);
    if (startupTraceEnabled && !cfg.disable.has('kubelet')) {
      const ac = new AbortController();
      const done = traceNodeMilestones(admin, cfg.nodeName, ac.signal);
      running.push({
        name: 'startup-trace',
        stop: async () => {
          ac.abort();
          await done;
        },
      });
    }
    // ensureClusterPKI only reads the files startApiServer just made current.
    const pki = ensureClusterPKI(cfg.dataDir);
    const wantKubelet = !cfg.disable.has('kubelet');
    const ids = issueComponentIdentities({
      dataDir: cfg.dataDir,
      server: api.url,
      ca: pki.ca,
      nodeName: cfg.nodeName,
    });
    const kubeconfigOf = (c: ComponentName): string => {
      const id = ids.get(c);
      if (id === undefined) throw new Error(`no identity issued for ${c}`);
      return id.kubeconfigPath;
    };

    // The node goes first: its registration, PodCIDR and pod network are the longest chain
    // to a Ready node, and every step of it competes for this one thread with the
    // controllers' start-up burst (informer lists, two dozen TokenRequests). So the kubelet
    // starts before anything else, the controllers the node and a first pod need start
    // next, and the others wait until the node has its PodCIDR (see docs/ARCHITECTURE.md,
    // "Start-up order").
    let nodeSettled: () => void = () => {};
    const nodeUp = new Promise<void>((r) => {
      nodeSettled = r;
    });
    const kubeletStarting = wantKubelet
      ? startServerKubelet(cfg, {
          runtimeOpening,
          kubeconfig: kubeconfigOf('kubelet'),
          ca: pki.ca,
          log: logFor('kubelet'),
          clients,
          running,
          abandoned: () => failed,
        }).then(async (nodeRuntime) => {
          progress(`kubelet registered node ${cfg.nodeName} (runtime ${cfg.runtime}, ${fmt(since())})`);
          await applyNodeLabelsAndTaints(admin, cfg);
          return nodeRuntime;
        })
      : Promise.resolve(undefined);
    // Reported where it is awaited; meanwhile the rest starts.
    kubeletStarting.catch(() => {});
    const nodeReadyWait = wantKubelet
      ? kubeletStarting.then(() => waitNode(admin, cfg.nodeName, cfg.nodeReadyTimeoutMs ?? 60_000))
      : Promise.resolve(false);
    // Reported the moment it happens, whatever else is still starting.
    const nodeReported = nodeReadyWait.then((ready) => {
      if (!wantKubelet) return;
      if (ready) {
        timings.nodeReadyMs = since();
        progress(`node ${cfg.nodeName} Ready (${fmt(timings.nodeReadyMs)})`);
      } else progress(`node ${cfg.nodeName} is not Ready yet (${fmt(since())}); see the kubelet's log`);
    });
    nodeReported.catch(() => {});
    // The other controllers start once the node has its PodCIDR (what remains to Ready is
    // mostly child processes setting up the pod network), or after NODE_FIRST_MAX_MS.
    const hasPodCIDR = (n: Node): boolean => (n.spec?.podCIDR ?? '') !== '' || nodeReady(n);
    void kubeletStarting
      .then(() => waitNode(admin, cfg.nodeName, NODE_FIRST_MAX_MS, hasPodCIDR))
      .then(nodeSettled, nodeSettled);
    setTimeout(nodeSettled, NODE_FIRST_MAX_MS).unref();
    if (!wantKubelet) nodeSettled();

    const joining = setupJoin(admin, {
      dataDir: cfg.dataDir,
      server: api.url,
      caPem: pki.ca.certPem,
      ...(cfg.agentToken !== undefined
        ? { token: cfg.agentToken }
        : isJoinToken(cfg.token)
          ? { token: cfg.token }
          : {}),
    }).then((joinLine) => progress(`join more nodes with: ${joinLine}`));
    joining.catch(() => {});

    const startups: Promise<void>[] = [];
    if (!cfg.disable.has('scheduler')) {
      const ac = new AbortController();
      let ready!: () => void;
      const readyP = new Promise<void>((r) => {
        ready = r;
      });
      let elected = false;
      const done = runCandidate(
        'kube-scheduler',
        (signal) =>
          runScheduler({
            kubeconfig: kubeconfigOf('scheduler'),
            leaderElect: true,
            ...le,
            signal,
            logger: logFor('kube-scheduler'),
            onReady: () => {
              elected = true;
              ready();
            },
          }),
        { signal: ac.signal, retryMs: le.retryPeriodMs, log: logFor('kube-scheduler') },
      );
      running.push({
        name: 'scheduler',
        stop: async () => {
          ac.abort();
          await done;
        },
      });
      // The scheduler is ready once it leads; a standby (another server holds
      // kube-system/kube-scheduler) is not waited for beyond one lease duration.
      void Promise.race([readyP, done]).then(() => {
        if (!elected) return;
        timings.schedulerReadyMs = since();
        progress(`scheduler ready, leading kube-system/kube-scheduler (${fmt(timings.schedulerReadyMs)})`);
      });
      startups.push(
        Promise.race([
          readyP,
          done,
          new Promise<void>((r) => setTimeout(r, le.leaseDurationMs).unref()),
        ]).then(() => {
          if (!elected) progress('scheduler standing by (another server leads kube-system/kube-scheduler)');
        }),
      );
    }
    if (!cfg.disable.has('controller-manager')) {
      await removeControllerUnionBindings(admin);
      const managerConfig = {
        ...loadKubeconfig(kubeconfigOf('controller-manager')),
        ...CONTROLLER_MANAGER_CLIENT_LIMITS,
        userAgent: 'kube-controller-manager/v1.32.0 (kts)',
      };
      const client = new RestClient(managerConfig);
      clients.push(client);
      // Each controller runs as its own kube-system ServiceAccount (upstream's
      // --use-service-account-credentials); the manager's identity keeps only its own role.
      const builder = new ServiceAccountClientBuilder({ client, config: managerConfig });
      const manager = new ControllerManager({
        client,
        clientBuilder: builder,
        registry: controllerRegistry,
        // The token cleaner runs as in kubeadm clusters.
        controllers: [
          '*',
          'tokencleaner',
          ...(cfg.disable.has('local-storage') ? ['-local-path-provisioner'] : []),
        ],
        startOrder: { first: NODE_FIRST_CONTROLLERS, rest: nodeUp },
        rootCA: pki.ca.certPem,
        // csrsigning signs node certificates with the cluster CA (upstream's --cluster-signing-*-file).
        clusterSigning: pki.ca,
        // Local-path volumes live under DATA_DIR/storage on every node (k3s: .../k3s/storage).
        options: { clusterCIDR: cfg.clusterCIDR, localPathDir: join(cfg.dataDir, 'storage') },
        log: logFor('kube-controller-manager'),
        leaderElect: true,
        leaderElection: le,
      });
      const ac = new AbortController();
      const done = runCandidate('kube-controller-manager', (signal) => manager.run(signal), {
        signal: ac.signal,
        retryMs: le.retryPeriodMs,
        log: logFor('kube-controller-manager'),
      });
      running.push({
        name: 'controller-manager',
        stop: async () => {
          ac.abort();
          await done;
          builder.close();
        },
      });
      timings.controllersStartedMs = since();
      progress(`controller manager started (${fmt(timings.controllersStartedMs)})`);
    }
    const nodeRuntime = await kubeletStarting;
    const network = await startNodeNetworkComponents(
      cfg,
      {
        admin: api.kubeconfigPath,
        ...(ids.has('proxy') ? { proxy: kubeconfigOf('proxy') } : {}),
        ...(ids.has('dns') ? { dns: kubeconfigOf('dns') } : {}),
      },
      logFor,
      progress,
    );
    running.push(...network);
    await Promise.all(startups);
    await joining;
    await nodeReported;
    // A node whose built-in images could not be imported cannot run pods: fail as before.
    await nodeRuntime?.imagesReady;
  } catch (e) {
    failed = true;
    await stopAll();
    throw e;
  }

  let stopping: Promise<void> | undefined;
  return {
    url: api.url,
    kubeconfigPath: api.kubeconfigPath,
    nodeName: cfg.nodeName,
    timings,
    stop: () => {
      stopping ??= stopAll();
      return stopping;
    },
  };
}
