// The all-in-one `kts server`: one process runs the API server, the controller manager, the
// scheduler and a node (kubelet, later kube-proxy and cluster DNS), started in dependency
// order behind ready signals and stopped in reverse. Every component but the API server is
// an ordinary API client with its own certificate identity (see identities.ts), so RBAC
// treats it exactly as it would a separate upstream binary.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ClusterRoleBinding } from '../api/generated/types/rbac-v1.js';
import type { Node, Taint } from '../api/generated/types/core-v1.js';
import { type ApiServer, startApiServer } from '../apiserver/server.js';
import { CONTROLLER_ROLE_PREFIX, controllerRoles } from '../apiserver/auth/rbac/controller-policy.js';
import { gvr } from '../client/interface.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { errorText, type Logger, noopLogger } from '../client/log.js';
import { NODES } from '../client/resources.js';
import { RestClient } from '../client/rest-client.js';
import { ControllerManager } from '../controllers/manager.js';
import { controllerRegistry } from '../controllers/registry.js';
import { ensureDNSService, runClusterDNS } from '../dns/run.js';
import { Kubelet } from '../kubelet/kubelet.js';
import { cleanupProxyRules, runProxy } from '../proxy/run.js';
import { isAlreadyExists } from '../machinery/status-error.js';
import { ensureClusterPKI } from '../pki/cluster-pki.js';
import { runScheduler } from '../scheduler/run.js';
import { type ComponentName, issueComponentIdentities } from './identities.js';
import { type NodeRuntime, openNodeRuntime, type RuntimeKind } from './node-runtime.js';

/** Components `--disable` can turn off (`agent` is an alias of `kubelet`). */
export const DISABLEABLE = ['scheduler', 'controller-manager', 'kubelet', 'proxy', 'dns'] as const;

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
}

/** Defaults of the network flags (as k3s). */
export const SERVER_DEFAULTS = {
  httpsPort: 6443,
  clusterCIDR: '10.42.0.0/16',
  serviceCIDR: '10.43.0.0/16',
  clusterDNS: '10.43.0.10',
  clusterDomain: 'cluster.local',
} as const;

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
 * `kube-dns` Service at the cluster DNS IP points there; kube-proxy runs in iptables mode
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
  const addr = (await nodeAddress(admin, cfg.nodeName)) ?? cfg.advertiseAddress ?? '127.0.0.1';
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
    if (!iptablesUsable()) {
      progress('kube-proxy not started: it needs root and iptables (apt-get install iptables)');
    } else {
      const ac = new AbortController();
      const done = runProxy({
        kubeconfig: kubeconfigs.proxy,
        nodeName: cfg.nodeName,
        mode: 'iptables',
        clusterCIDR: cfg.clusterCIDR,
        signal: ac.signal,
        logger: log('kube-proxy'),
      });
      done.catch((e: unknown) => progress(`kube-proxy stopped: ${errorText(e)}`));
      progress('kube-proxy started (iptables)');
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

const CLUSTERROLEBINDINGS = gvr<ClusterRoleBinding>('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings');

/** Name prefix of the bindings that give the controller manager its controllers' roles. */
export const CONTROLLER_UNION_BINDING_PREFIX = 'kts:kube-controller-manager:';

/**
 * Binds every `system:controller:*` role to `system:kube-controller-manager`. Upstream runs
 * each controller as its own service account (--use-service-account-credentials); the kts
 * manager shares one client, so its identity holds the union of the controller roles —
 * exactly those, nothing more (no cluster-admin).
 */
export async function ensureControllerManagerBindings(admin: RestClient): Promise<void> {
  const api = admin.resource(CLUSTERROLEBINDINGS);
  await Promise.all(
    controllerRoles().map(async (role) => {
      const roleName = role.metadata?.name ?? '';
      const name = `${CONTROLLER_UNION_BINDING_PREFIX}${roleName.slice(CONTROLLER_ROLE_PREFIX.length)}`;
      try {
        await api.create('', {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'kts' } },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
          subjects: [
            { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:kube-controller-manager' },
          ],
        });
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
      }
    }),
  );
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
    await new Promise((r) => setTimeout(r, 100));
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

/** Parses `key[=value]:Effect` as `--node-taint` (and kubectl taint) take it. */
export function parseTaint(s: string): Taint {
  const colon = s.lastIndexOf(':');
  if (colon < 0) throw new Error(`invalid taint "${s}": want key[=value]:Effect`);
  const effect = s.slice(colon + 1);
  if (effect !== 'NoSchedule' && effect !== 'PreferNoSchedule' && effect !== 'NoExecute')
    throw new Error(`invalid taint effect "${effect}": want NoSchedule, PreferNoSchedule or NoExecute`);
  const kv = s.slice(0, colon);
  const eq = kv.indexOf('=');
  const key = eq < 0 ? kv : kv.slice(0, eq);
  if (key === '') throw new Error(`invalid taint "${s}": empty key`);
  return eq < 0 ? { key, effect } : { key, value: kv.slice(eq + 1), effect };
}

/** Parses `key=value` as `--node-label` takes it. */
export function parseLabel(s: string): [string, string] {
  const eq = s.indexOf('=');
  if (eq <= 0) throw new Error(`invalid node label "${s}": want key=value`);
  return [s.slice(0, eq), s.slice(eq + 1)];
}

/** The default node name: this host's name in lower case, as the kubelet does. */
export function defaultNodeName(): string {
  return hostname().toLowerCase();
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

  const api: ApiServer = await startApiServer({
    dataDir: cfg.dataDir,
    httpsPort: cfg.httpsPort,
    serviceCIDR: cfg.serviceCIDR,
    ...(cfg.bindAddress !== undefined ? { bindAddress: cfg.bindAddress } : {}),
    ...(cfg.advertiseAddress !== undefined ? { advertiseAddress: cfg.advertiseAddress } : {}),
    ...(cfg.datastoreEndpoint !== undefined ? { datastoreEndpoint: cfg.datastoreEndpoint } : {}),
    ...(cfg.tlsSans !== undefined ? { tlsSans: cfg.tlsSans } : {}),
  });
  running.push({ name: 'apiserver', stop: () => api.close() });
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

    const startups: Promise<void>[] = [];
    if (!cfg.disable.has('controller-manager')) {
      await ensureControllerManagerBindings(admin);
      const client = new RestClient({
        ...loadKubeconfig(kubeconfigOf('controller-manager')),
        userAgent: 'kube-controller-manager/v1.32.0 (kts)',
      });
      clients.push(client);
      const manager = new ControllerManager({
        client,
        registry: controllerRegistry,
        rootCA: pki.ca.certPem,
        options: { clusterCIDR: cfg.clusterCIDR },
        log: logFor('kube-controller-manager'),
      });
      const ac = new AbortController();
      const done = manager.run(ac.signal).catch((e: unknown) => {
        logFor('kube-controller-manager').error('controller manager failed', { err: errorText(e) });
      });
      running.push({
        name: 'controller-manager',
        stop: async () => {
          ac.abort();
          await done;
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
      const done = runScheduler({
        kubeconfig: kubeconfigOf('scheduler'),
        leaderElect: false,
        signal: ac.signal,
        logger: logFor('kube-scheduler'),
        onReady: () => ready(),
      }).catch((e: unknown) => {
        logFor('kube-scheduler').error('scheduler failed', { err: errorText(e) });
      });
      running.push({
        name: 'scheduler',
        stop: async () => {
          ac.abort();
          await done;
        },
      });
      // The node starts meanwhile; the scheduler's readiness is awaited before returning.
      startups.push(
        Promise.race([readyP, done]).then(() => {
          timings.schedulerReadyMs = since();
          progress(`scheduler ready (${fmt(timings.schedulerReadyMs)})`);
        }),
      );
    }
    if (wantKubelet) {
      const log = logFor('kubelet');
      const nodeRuntime: NodeRuntime = await openNodeRuntime(cfg.runtime, cfg.dataDir, log);
      running.push({ name: 'runtime', stop: () => nodeRuntime.close() });
      const client = new RestClient({
        ...loadKubeconfig(kubeconfigOf('kubelet')),
        userAgent: 'kubelet/v1.32.4 (linux) kts',
      });
      clients.push(client);
      const kubelet = new Kubelet({
        client,
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
