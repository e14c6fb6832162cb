// `kts agent`: join this machine to a cluster as a node. Discovery (token-authenticated
// cluster-info, optional CA pin) → kubelet TLS bootstrap (or the saved credentials) → the
// kubelet and kube-proxy in this process, both under the node's certificate identity
// `system:node:<name>` (the server binds system:node-proxier to system:nodes) → renewal
// at 70–90% of the certificate's life, after which kubelet and proxy restart on the new
// credentials. An unreachable server is retried with backoff; a bad token is final.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Taint } from '../api/generated/types/core-v1.js';
import { type Clock, realClock } from '../client/clock.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { errorText, type Logger, noopLogger } from '../client/log.js';
import { NODES } from '../client/resources.js';
import { RestClient } from '../client/rest-client.js';
import { KUBELET_CLIENT_LIMITS, KUBELET_EVENT_CLIENT_LIMITS, Kubelet } from '../kubelet/kubelet.js';
import { readMachineInfo } from '../kubelet/node-status.js';
import { cleanupProxyRules, defaultProxyMode, runProxy } from '../proxy/run.js';
import { type JoinToken, parseJoinToken } from '../server/join-token.js';
import { type NodeRuntime, openNodeRuntime, type RuntimeKind } from '../server/node-runtime.js';
import { DiscoveryError, discoverCluster } from './discovery.js';
import {
  BootstrapAuthError,
  loadNodeCredentials,
  type NodeCredentials,
  renewalDeadline,
  requestNodeCertificate,
  sleepUntil,
} from './tls-bootstrap.js';

/** Options of `kts agent`. */
export interface AgentConfig {
  server: string;
  token: string;
  dataDir: string;
  nodeName: string;
  nodeIP?: string;
  runtime: RuntimeKind;
  nodeLabels: Record<string, string>;
  nodeTaints: Taint[];
  disableProxy: boolean;
  clusterCIDR: string;
  /** The service CIDR, routed to the node bridge so pods reach ClusterIPs (cri runtime). */
  serviceCIDR?: string;
  clusterDNS: string;
  clusterDomain: string;
  kubeletPort?: number;
}

/** Caller hooks. */
export interface AgentHooks {
  progress?: (line: string) => void;
  logger?: (component: string) => Logger;
  clock?: Clock;
  /** Aborts the join while it is still retrying (SIGTERM before the server answered). */
  signal?: AbortSignal;
}

/** A running agent. */
export interface RunningAgent {
  nodeName: string;
  credentials(): NodeCredentials;
  stop(): Promise<void>;
}

/** A user error (bad token, CA mismatch): retrying cannot help. */
export class AgentConfigError extends Error {}

interface NodeComponents {
  stop(): Promise<void>;
}

async function untilDone<T>(
  what: string,
  fn: () => Promise<T>,
  progress: (l: string) => void,
  clock: Clock,
  signal: AbortSignal,
): Promise<T> {
  let delay = 1000;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof DiscoveryError || e instanceof BootstrapAuthError)
        throw new AgentConfigError(e.message);
      if (signal.aborted) throw e;
      progress(`${what} failed: ${errorText(e)}; retrying in ${delay / 1000} s (is the server reachable?)`);
      await clock.sleep(delay, signal).catch(() => {});
      if (signal.aborted) throw e;
      delay = Math.min(delay * 2, 30_000);
    }
  }
}

/** Starts the agent; resolves once the kubelet has registered the node. */
export async function startAgent(cfg: AgentConfig, hooks: AgentHooks = {}): Promise<RunningAgent> {
  const progress = hooks.progress ?? (() => {});
  const logFor = hooks.logger ?? (() => noopLogger);
  const clock = hooks.clock ?? realClock;
  const token = (() => {
    try {
      return parseJoinToken(cfg.token);
    } catch (e) {
      throw new AgentConfigError((e as Error).message);
    }
  })();
  mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  const ac = new AbortController();
  const onAbort = (): void => ac.abort();
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  if (hooks.signal?.aborted) ac.abort();
  try {
    return await joinAndRun(cfg, token, ac, progress, logFor, clock);
  } finally {
    hooks.signal?.removeEventListener('abort', onAbort);
  }
}

async function joinAndRun(
  cfg: AgentConfig,
  token: JoinToken,
  ac: AbortController,
  progress: (l: string) => void,
  logFor: (c: string) => Logger,
  clock: Clock,
): Promise<RunningAgent> {
  const info = await untilDone(
    'discovery',
    () => discoverCluster(cfg.server, token, (m) => progress(`warning: ${m}`)),
    progress,
    clock,
    ac.signal,
  );
  progress(
    `discovered the cluster at ${cfg.server} (CA verified${token.caHash ? ' against the token hash' : ' by the token signature only'})`,
  );
  let creds = loadNodeCredentials(cfg.dataDir, cfg.nodeName, info.caPem, clock.now());
  if (creds) progress(`reusing the node certificate in ${creds.kubeconfigPath}`);
  else {
    creds = await untilDone(
      'TLS bootstrap',
      () =>
        requestNodeCertificate({
          server: cfg.server,
          caPem: info.caPem,
          nodeName: cfg.nodeName,
          auth: { token: `${token.id}.${token.secret}` },
          dataDir: cfg.dataDir,
          clock,
          signal: ac.signal,
        }),
      progress,
      clock,
      ac.signal,
    );
    progress(`node certificate issued for system:node:${cfg.nodeName}`);
  }

  if (ac.signal.aborted) throw new Error('aborted before the node joined');
  const nodeRuntime: NodeRuntime = await openNodeRuntime(cfg.runtime, cfg.dataDir, logFor('kubelet'));
  let components: NodeComponents;
  try {
    components = await startComponents(cfg, creds, nodeRuntime, logFor, progress);
  } catch (e) {
    await nodeRuntime.close();
    throw e;
  }
  try {
    // The kubelet registers while containerd unpacks kts's built-in images; a node that
    // cannot import them cannot run pods, so the agent fails as it did before registering.
    await nodeRuntime.imagesReady;
  } catch (e) {
    await components.stop();
    await nodeRuntime.close();
    throw e;
  }
  let current = creds;
  const renewer = (async () => {
    while (!ac.signal.aborted) {
      await sleepUntil(clock, renewalDeadline(current.notBefore, current.notAfter), ac.signal);
      if (ac.signal.aborted) return;
      try {
        const next = await requestNodeCertificate({
          server: cfg.server,
          caPem: info.caPem,
          nodeName: cfg.nodeName,
          auth: { certPem: current.certPem, keyPem: current.keyPem },
          dataDir: cfg.dataDir,
          clock,
          signal: ac.signal,
        });
        current = next;
        progress('node certificate renewed; restarting the kubelet and kube-proxy on it');
        await components.stop();
        components = await startComponents(cfg, current, nodeRuntime, logFor, progress);
      } catch (e) {
        if (ac.signal.aborted) return;
        progress(`renewing the node certificate failed: ${errorText(e)}; retrying in 1 min`);
        await clock.sleep(60_000, ac.signal).catch(() => {});
      }
    }
  })();
  return {
    nodeName: cfg.nodeName,
    credentials: () => current,
    async stop() {
      ac.abort();
      await renewer;
      await components.stop();
      await nodeRuntime.close();
    },
  };
}

async function startComponents(
  cfg: AgentConfig,
  creds: NodeCredentials,
  nodeRuntime: NodeRuntime,
  logFor: (c: string) => Logger,
  progress: (l: string) => void,
): Promise<NodeComponents> {
  const rc = loadKubeconfig(creds.kubeconfigPath);
  const client = new RestClient({
    ...rc,
    ...KUBELET_CLIENT_LIMITS,
    userAgent: 'kubelet/v1.32.4 (linux) kts',
  });
  const kubeletDir = join(cfg.dataDir, 'agent', 'kubelet');
  const eventClient = new RestClient({
    ...rc,
    ...KUBELET_EVENT_CLIENT_LIMITS,
    userAgent: 'kubelet/v1.32.4 (linux) kts',
  });
  const kubelet = new Kubelet({
    client,
    eventClient,
    nodeName: cfg.nodeName,
    runtime: nodeRuntime.runtime,
    dataDir: kubeletDir,
    logger: logFor('kubelet'),
    clusterDNS: cfg.clusterDNS,
    clusterDomain: cfg.clusterDomain,
    ...(cfg.nodeIP !== undefined
      ? { machine: { ...readMachineInfo(kubeletDir), internalIP: cfg.nodeIP } }
      : {}),
    // Without the CA key the serving certificate is self-signed, as upstream's kubelet does.
    server: { port: cfg.kubeletPort ?? 10250, ...(cfg.nodeIP !== undefined ? { address: cfg.nodeIP } : {}) },
    ...(nodeRuntime.cniConfDir !== undefined
      ? {
          network: {
            cniConfDir: nodeRuntime.cniConfDir,
            clusterCIDR: cfg.clusterCIDR,
            ...(cfg.serviceCIDR !== undefined ? { serviceCIDR: cfg.serviceCIDR } : {}),
          },
        }
      : {}),
  });
  await kubelet.start();
  progress(`kubelet registered node ${cfg.nodeName} (runtime ${nodeRuntime.kind})`);
  await applyLabelsAndTaints(client, cfg, progress);
  const proxyAC = new AbortController();
  let proxyDone: Promise<void> | undefined;
  if (!cfg.disableProxy) {
    // The same mode choice as `kts proxy` and `kts server`: nftables where `nft` works.
    const mode = await defaultProxyMode();
    proxyDone = runProxy({
      client,
      nodeName: cfg.nodeName,
      mode,
      clusterCIDR: cfg.clusterCIDR,
      signal: proxyAC.signal,
      logger: logFor('kube-proxy'),
    }).catch((e: unknown) => progress(`kube-proxy stopped: ${errorText(e)}`));
    progress(`kube-proxy started (${mode})`);
  }
  return {
    async stop() {
      proxyAC.abort();
      if (proxyDone) {
        await proxyDone;
        await cleanupProxyRules({}).catch(() => {});
      }
      await kubelet.stop();
      client.close();
      eventClient.close();
    },
  };
}

// Labels and taints are set by the node itself; NodeRestriction may refuse some (e.g.
// node-role.kubernetes.io/*), which is reported rather than fatal, as upstream's kubelet does.
async function applyLabelsAndTaints(
  client: RestClient,
  cfg: AgentConfig,
  progress: (l: string) => void,
): Promise<void> {
  if (Object.keys(cfg.nodeLabels).length === 0 && cfg.nodeTaints.length === 0) return;
  try {
    const node = await client.resource(NODES).get('', cfg.nodeName);
    const taints = [...(node.spec?.taints ?? [])];
    for (const t of cfg.nodeTaints)
      if (!taints.some((x) => x.key === t.key && x.effect === t.effect)) taints.push(t);
    await client.resource(NODES).patch('', cfg.nodeName, 'merge', {
      metadata: { labels: cfg.nodeLabels },
      ...(cfg.nodeTaints.length > 0 ? { spec: { taints } } : {}),
    });
  } catch (e) {
    progress(`setting node labels/taints failed: ${errorText(e)}`);
  }
}
