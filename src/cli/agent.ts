// `kts agent --server URL --token T`: joins this machine to a cluster as a node (discovery,
// kubelet TLS bootstrap, then the kubelet and kube-proxy in this process) and runs until
// SIGINT/SIGTERM. A bad token is reported and exits 1; an unreachable server is retried.
import { stderrLogger } from '../client/log.js';
import { AgentConfigError, startAgent } from '../agent/agent.js';
import { runtimeProblem } from '../server/node-runtime.js';
import { defaultNodeName, SERVER_DEFAULTS } from '../server/node-flags.js';
import { defaultDataDir } from './data-dir.js';
import { FlagError, flagString, parseFlags } from './flags.js';
import type { Command } from './main.js';
import { NODE_FLAG_SPEC, nodeLabelsAndTaintsOf, runtimeFlagOf } from './node-cli-flags.js';

const USAGE = `Usage: kts agent --server https://ADDR:PORT --token TOKEN [flags]
  --server URL             the API server to join
  --token TOKEN            join token: K10<ca-hash>::<id>.<secret> (pins the CA) or <id>.<secret>
  --data-dir DIR           state directory (default /var/lib/kts as root, ~/.kts otherwise)
  --node-name NAME         node name (default: hostname)
  --node-ip IP             the node's InternalIP (default: this machine's first address)
  --node-label k=v         node label (repeatable)
  --node-taint k=v:Effect  node taint (repeatable)
  --runtime cri|process    container runtime (default: cri when containerd and runc are installed)
  --disable-proxy          do not run kube-proxy
  --kubelet-port N         port of the kubelet's HTTPS server (default 10250)
  --cluster-dns IP         cluster DNS service IP (default 10.43.0.10)
  --cluster-domain DOMAIN  cluster domain (default cluster.local)
  --v                      verbose component logs
`;

const str = flagString;

function usageError(msg: string): number {
  process.stderr.write(`kts agent: ${msg}\n${USAGE}`);
  return 2;
}

/** The agent command. */
export const agent: Command = async (args) => {
  let f: ReturnType<typeof parseFlags>;
  try {
    f = parseFlags(args, {
      ...NODE_FLAG_SPEC,
      server: 'string',
      'node-ip': 'string',
      'disable-proxy': 'boolean',
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
  const server = str(v.server);
  const token = str(v.token) ?? process.env.KTS_TOKEN;
  if (server === undefined) return usageError('--server is required');
  if (token === undefined) return usageError('--token is required');
  const runtimeFlag = runtimeFlagOf(v);
  if ('usage' in runtimeFlag) return usageError(runtimeFlag.usage);
  const { runtime } = runtimeFlag;
  const problem = runtimeProblem(runtime);
  if (problem !== undefined) {
    process.stderr.write(`kts agent: ${problem}\n`);
    return 1;
  }
  const node = nodeLabelsAndTaintsOf(v);
  if ('usage' in node) return usageError(node.usage);
  const { nodeLabels, nodeTaints } = node;
  const verbose = v.v === true;
  const out = (line: string): void => {
    process.stdout.write(`kts agent: ${line}\n`);
  };
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let running: Awaited<ReturnType<typeof startAgent>>;
    try {
      running = await startAgent(
        {
          server,
          token,
          dataDir: str(v['data-dir']) ?? defaultDataDir(),
          nodeName: str(v['node-name']) ?? defaultNodeName(),
          ...(str(v['node-ip']) !== undefined ? { nodeIP: str(v['node-ip']) } : {}),
          runtime,
          nodeLabels,
          nodeTaints,
          disableProxy: v['disable-proxy'] === true,
          clusterCIDR: SERVER_DEFAULTS.clusterCIDR,
          serviceCIDR: SERVER_DEFAULTS.serviceCIDR,
          clusterDNS: str(v['cluster-dns']) ?? SERVER_DEFAULTS.clusterDNS,
          clusterDomain: str(v['cluster-domain']) ?? SERVER_DEFAULTS.clusterDomain,
          ...(typeof v['kubelet-port'] === 'number' ? { kubeletPort: v['kubelet-port'] } : {}),
        },
        { progress: out, logger: (c) => stderrLogger(c, verbose), signal: ac.signal },
      );
    } catch (e) {
      if (e instanceof AgentConfigError) {
        process.stderr.write(`kts agent: ${e.message}\n`);
        return 1;
      }
      if (ac.signal.aborted) {
        process.stderr.write('kts agent: interrupted before the node joined\n');
        return 1;
      }
      throw e;
    }
    if (!ac.signal.aborted)
      await new Promise<void>((r) => ac.signal.addEventListener('abort', () => r(), { once: true }));
    out('shutting down');
    await running.stop();
    out('stopped');
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
};
