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
import { isJoinToken, setupJoin } from './join-token.js';

// Re-exported: they moved to node-flags.ts so `kts agent` can use them without loading the server.
export { defaultNodeName, parseLabel, parseTaint, SERVER_DEFAULTS } from './node-flags.js';

/** Components `--disable` can turn off (`agent` is an alias of `kubelet`). */
export const DISABLEABLE = [
  'scheduler',
  'controller-manager',
  'kubelet',
  'proxy',
  'dns',
  'metrics-server',
] as const;

/** A component `--disable` accepts. */
export type DisableableComponent = (typeof DISABLEABLE)[number];

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

/** Waits until the Node reports Ready; false on timeout. */
async function waitNodeReady(admin: RestClient, name: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (nodeReady(await admin.resource(NODES).get('', name))) return true;
    } catch {
      // not registered yet
    }
    // A GET from the watch cache is cheap; the Ready line is what a user waits for.
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
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
 * Starts the whole server. Resolves once every enabled component runs and the node is
 * Ready (or its wait timed out, which is reported as progress, not an error). On a failure
 * part-way, what already started is stopped before the error is thrown.
 */
export async function startServer(cfg: ServerConfig, hooks: ServerHooks = {}): Promise<RunningServer> {
  const t0 = Date.now();
  const progress = hooks.progress ?? (() => {});
  const logFor = hooks.logger ?? (() => noopLogger);
  const since = (): number => Date.now() - t0;
  const fmt = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);
  const running: Running[] = [];
  const clients: RestClient[] = [];
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
  if (cfg.datastoreEndpoint !== undefined && isExternalDatastore(cfg.datastoreEndpoint)) {
    // Before the API server reads DATA_DIR/tls: every server on the datastore shares one CA.
    const shared = await prepareSharedPKI(cfg.dataDir, cfg.datastoreEndpoint, cfg.token);
    progress(
      shared.outcome === 'stored'
        ? 'cluster CA and service-account key stored in the datastore (encrypted with the token)'
        : 'cluster CA and service-account key loaded from the datastore',
    );
  }
  // The node's runtime (for cri a private containerd and its image imports, about a second)
  // opens while the API server starts: the kubelet needs both, neither needs the other.
  const runtimeOpening = !cfg.disable.has('kubelet')
    ? openNodeRuntime(cfg.runtime, cfg.dataDir, logFor('kubelet'))
    : undefined;
  // Its failure is reported where the kubelet awaits it.
  runtimeOpening?.catch(() => {});
  const closeRuntime = async (): Promise<void> => {
    const opened = await runtimeOpening?.catch(() => undefined);
    await opened?.close();
  };
  let api: ApiServer;
  try {
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

    const joinLine = await setupJoin(admin, {
      dataDir: cfg.dataDir,
      server: api.url,
      caPem: pki.ca.certPem,
      ...(cfg.agentToken !== undefined
        ? { token: cfg.agentToken }
        : isJoinToken(cfg.token)
          ? { token: cfg.token }
          : {}),
    });
    progress(`join more nodes with: ${joinLine}`);

    const startups: Promise<void>[] = [];
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
        controllers: ['*', 'tokencleaner'],
        rootCA: pki.ca.certPem,
        // csrsigning signs node certificates with the cluster CA (upstream's --cluster-signing-*-file).
        clusterSigning: pki.ca,
        options: { clusterCIDR: cfg.clusterCIDR },
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
      // The node starts meanwhile. The scheduler is ready once it leads; a standby (another
      // server holds kube-system/kube-scheduler) is not waited for beyond one lease duration.
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
    if (wantKubelet) {
      const log = logFor('kubelet');
      const nodeRuntime: NodeRuntime = await (runtimeOpening ??
        openNodeRuntime(cfg.runtime, cfg.dataDir, log));
      const client = new RestClient({
        ...loadKubeconfig(kubeconfigOf('kubelet')),
        ...KUBELET_CLIENT_LIMITS,
        userAgent: 'kubelet/v1.32.4 (linux) kts',
      });
      clients.push(client);
      const eventClient = new RestClient({
        ...loadKubeconfig(kubeconfigOf('kubelet')),
        ...KUBELET_EVENT_CLIENT_LIMITS,
        userAgent: 'kubelet/v1.32.4 (linux) kts',
      });
      clients.push(eventClient);
      const kubelet = new Kubelet({
        client,
        eventClient,
        nodeName: cfg.nodeName,
        runtime: nodeRuntime.runtime,
        dataDir: join(cfg.dataDir, 'agent', 'kubelet'),
        logger: log,
        clusterDNS: cfg.clusterDNS,
        clusterDomain: cfg.clusterDomain,
        // The kubelet's HTTPS server (logs, exec, attach) with a certificate from the cluster CA.
        server: { port: cfg.kubeletPort ?? 10250, ca: pki.ca },
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
      await kubelet.start();
      running.push({ name: 'kubelet', stop: () => kubelet.stop() });
      progress(`kubelet registered node ${cfg.nodeName} (runtime ${cfg.runtime}, ${fmt(since())})`);
      await applyNodeLabelsAndTaints(admin, cfg);
    }
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
    if (wantKubelet) {
      if (await waitNodeReady(admin, cfg.nodeName, cfg.nodeReadyTimeoutMs ?? 60_000)) {
        timings.nodeReadyMs = since();
        progress(`node ${cfg.nodeName} Ready (${fmt(timings.nodeReadyMs)})`);
      } else progress(`node ${cfg.nodeName} is not Ready yet (${fmt(since())}); see the kubelet's log`);
    }
  } catch (e) {
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
