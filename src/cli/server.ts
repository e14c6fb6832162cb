// `kts server`: one command to a whole cluster on this machine — API server, controller
// manager, scheduler and a node, in one process, started in order with progress lines and
// stopped in reverse on SIGINT/SIGTERM (pods on the cri runtime keep running, as in k3s).
import { accessSync, constants, mkdirSync } from 'node:fs';
import type { Taint } from '../api/generated/types/core-v1.js';
import { stderrLogger } from '../client/log.js';
import { defaultRuntimeKind, type RuntimeKind, runtimeProblem } from '../server/node-runtime.js';
import {
  DISABLEABLE,
  type DisableableComponent,
  defaultNodeName,
  parseLabel,
  parseTaint,
  SERVER_DEFAULTS,
  startServer,
} from '../server/server.js';
import { defaultDataDir } from './data-dir.js';
import { FlagError, parseFlags } from './flags.js';
import type { Command } from './main.js';

const USAGE = `Usage: kts server [flags]
  --data-dir DIR                 state directory (default /var/lib/kts as root, ~/.kts otherwise)
  --https-port N                 API server port (default 6443)
  --bind-address IP              address to listen on (default 0.0.0.0)
  --advertise-address IP         address clients use (default 127.0.0.1)
  --datastore-endpoint URL       sqlite://PATH (default, in the data dir) | etcd://HOST:PORT,... | memory://
  --tls-san NAME                 extra serving certificate SAN (repeatable)
  --node-name NAME               node name (default: hostname)
  --node-label k=v               node label (repeatable)
  --node-taint k=v:Effect        node taint (repeatable)
  --disable COMPONENT            scheduler, controller-manager, kubelet (agent), proxy, dns (repeatable)
  --disable-agent                run no node (same as --disable kubelet)
  --runtime cri|process          container runtime (default: cri when containerd and runc are installed)
  --cluster-cidr CIDR            pod network (default 10.42.0.0/16)
  --service-cidr CIDR            service network (default 10.43.0.0/16)
  --cluster-dns IP               cluster DNS service IP (default 10.43.0.10)
  --cluster-dns-port N           port of the DNS server on the node's address (default 53)
  --kubelet-port N               port of the kubelet's HTTPS server (default 10250; 0 = any free port)
  --cluster-domain DOMAIN        cluster domain (default cluster.local)
  --v                            verbose component logs
`;

function fail(msg: string): number {
  process.stderr.write(`kts server: ${msg}\n`);
  return 1;
}

function usageError(msg: string): number {
  process.stderr.write(`kts server: ${msg}\n${USAGE}`);
  return 2;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []);

/** The server command. */
export const server: Command = async (args) => {
  let f: ReturnType<typeof parseFlags>;
  try {
    f = parseFlags(args, {
      'data-dir': 'string',
      'https-port': 'number',
      'bind-address': 'string',
      'advertise-address': 'string',
      'datastore-endpoint': 'string',
      'tls-san': 'list',
      'node-name': 'string',
      'node-label': 'list',
      'node-taint': 'list',
      disable: 'list',
      'disable-agent': 'boolean',
      runtime: 'string',
      'cluster-cidr': 'string',
      'service-cidr': 'string',
      'cluster-dns': 'string',
      'cluster-dns-port': 'number',
      'kubelet-port': 'number',
      'cluster-domain': 'string',
      v: 'boolean',
      help: 'boolean',
    });
  } catch (e) {
    if (e instanceof FlagError) return usageError(e.message);
    throw e;
  }
  const v = f.values;
  if (v.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (f.positional.length > 0) return usageError(`unexpected argument "${f.positional[0]}"`);

  const disable = new Set<DisableableComponent>();
  for (const d of list(v.disable)) {
    const c = d === 'agent' ? 'kubelet' : d;
    if (!(DISABLEABLE as readonly string[]).includes(c))
      return usageError(`unknown component "${d}" for --disable (one of ${DISABLEABLE.join(', ')}, agent)`);
    disable.add(c as DisableableComponent);
  }
  if (v['disable-agent'] === true) disable.add('kubelet');

  const runtimeFlag = str(v.runtime);
  if (runtimeFlag !== undefined && runtimeFlag !== 'cri' && runtimeFlag !== 'process')
    return usageError('--runtime must be cri or process');
  const runtime: RuntimeKind = runtimeFlag ?? defaultRuntimeKind();
  if (!disable.has('kubelet')) {
    const problem = runtimeProblem(runtime);
    if (problem !== undefined) return fail(problem);
  }

  const nodeLabels: Record<string, string> = {};
  const nodeTaints: Taint[] = [];
  try {
    for (const l of list(v['node-label'])) {
      const [k, val] = parseLabel(l);
      nodeLabels[k] = val;
    }
    // Taints are not comma-split by meaning, but the list flag splits on commas: k3s does too.
    for (const t of list(v['node-taint'])) nodeTaints.push(parseTaint(t));
  } catch (e) {
    return usageError((e as Error).message);
  }

  const dataDir = str(v['data-dir']) ?? defaultDataDir();
  try {
    mkdirSync(dataDir, { recursive: true });
    accessSync(dataDir, constants.W_OK);
  } catch (e) {
    return fail(
      `the data dir ${dataDir} is not writable (${(e as Error).message}); choose another with --data-dir`,
    );
  }
  const port = typeof v['https-port'] === 'number' ? v['https-port'] : SERVER_DEFAULTS.httpsPort;
  const verbose = v.v === true;
  const out = (line: string): void => {
    process.stdout.write(`kts server: ${line}\n`);
  };
  out(`starting (data dir ${dataDir})`);

  // Signals during startup are remembered and honoured once startup settles.
  let stopRequested: () => void = () => {};
  const stopSignal = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  const onSignal = (): void => stopRequested();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let running: Awaited<ReturnType<typeof startServer>>;
    try {
      running = await startServer(
        {
          dataDir,
          httpsPort: port,
          nodeName: str(v['node-name']) ?? defaultNodeName(),
          nodeLabels,
          nodeTaints,
          disable,
          runtime,
          clusterCIDR: str(v['cluster-cidr']) ?? SERVER_DEFAULTS.clusterCIDR,
          serviceCIDR: str(v['service-cidr']) ?? SERVER_DEFAULTS.serviceCIDR,
          clusterDNS: str(v['cluster-dns']) ?? SERVER_DEFAULTS.clusterDNS,
          ...(typeof v['cluster-dns-port'] === 'number' ? { clusterDNSPort: v['cluster-dns-port'] } : {}),
          ...(typeof v['kubelet-port'] === 'number' ? { kubeletPort: v['kubelet-port'] } : {}),
          clusterDomain: str(v['cluster-domain']) ?? SERVER_DEFAULTS.clusterDomain,
          ...(str(v['bind-address']) !== undefined ? { bindAddress: str(v['bind-address']) } : {}),
          ...(str(v['advertise-address']) !== undefined
            ? { advertiseAddress: str(v['advertise-address']) }
            : {}),
          ...(str(v['datastore-endpoint']) !== undefined
            ? { datastoreEndpoint: str(v['datastore-endpoint']) }
            : {}),
          ...(list(v['tls-san']).length > 0 ? { tlsSans: list(v['tls-san']) } : {}),
        },
        { progress: out, logger: (c) => stderrLogger(c, verbose) },
      );
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EADDRINUSE')
        return fail(`port ${port} is already in use; stop what listens there or pass --https-port`);
      if (err.code === 'EACCES' && err.syscall === 'listen')
        return fail(`not allowed to listen on port ${port}: ${err.message}`);
      if (err.code === 'EACCES' || err.code === 'EROFS')
        return fail(
          `cannot write in the data dir ${dataDir} (${err.message}); choose another with --data-dir`,
        );
      throw e;
    }
    out(`use it with: export KUBECONFIG=${running.kubeconfigPath}   (or: kts kubectl …)`);
    await stopSignal;
    out('shutting down');
    await running.stop();
    out('stopped');
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
};
