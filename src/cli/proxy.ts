// `kts proxy --kubeconfig K [--node-name N] [--proxy-mode nftables|iptables|userspace] [--cleanup]`:
// runs kube-proxy for one node until SIGINT/SIGTERM. `--cleanup` removes every kts proxy
// rule of both kernel modes (KTS-* iptables chains, the kts-proxy nftables table) and
// exits, as upstream's flag of the same name (no API needed).
import { hostname } from 'node:os';
import { stderrLogger } from '../client/log.js';
import {
  cleanupProxyRules,
  DEFAULT_CLUSTER_CIDR,
  PROXY_MODES,
  type ProxyMode,
  runProxy,
} from '../proxy/run.js';
import { FlagError, parseFlags } from './flags.js';
import type { Command } from './main.js';

const USAGE = `Usage: kts proxy --kubeconfig FILE [--node-name NAME]
  [--proxy-mode nftables|iptables|userspace] [--cluster-cidr CIDR] [--cleanup] [--v]

  --node-name     the Node this proxy serves (default: the host name)
  --proxy-mode    nftables (default where nft works), iptables (default elsewhere), or
                  userspace (sockets bound to the ClusterIPs, which must then be local
                  addresses of the node)
  --cluster-cidr  the pod network (default ${DEFAULT_CLUSTER_CIDR})
  --cleanup       remove every kts proxy rule and exit
`;

/** The proxy command. */
export const proxy: Command = async (args) => {
  let f: ReturnType<typeof parseFlags>;
  try {
    f = parseFlags(args, {
      kubeconfig: 'string',
      'node-name': 'string',
      'hostname-override': 'string',
      'proxy-mode': 'string',
      'cluster-cidr': 'string',
      cleanup: 'boolean',
      v: 'boolean',
      help: 'boolean',
    });
  } catch (e) {
    if (e instanceof FlagError) {
      process.stderr.write(`kts proxy: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const v = f.values;
  if (v.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (f.positional.length > 0) {
    process.stderr.write(`kts proxy: unexpected argument "${f.positional[0]}"\n${USAGE}`);
    return 2;
  }
  if (v.cleanup === true) {
    try {
      const r = await cleanupProxyRules();
      process.stderr.write(`kts proxy: removed ${r.chains} chains and ${r.rules} jump rules\n`);
      return 0;
    } catch (e) {
      process.stderr.write(`kts proxy: cleanup failed: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
  }
  const modeFlag = v['proxy-mode'];
  const mode = PROXY_MODES.find((m) => m === modeFlag);
  if (modeFlag !== undefined && mode === undefined) {
    process.stderr.write(
      `kts proxy: invalid value "${String(modeFlag)}" for --proxy-mode: nftables, iptables or userspace\n`,
    );
    return 2;
  }
  if (typeof v.kubeconfig !== 'string') {
    process.stderr.write(`kts proxy: --kubeconfig is required\n${USAGE}`);
    return 2;
  }
  const override = v['node-name'] ?? v['hostname-override'];
  const nodeName = typeof override === 'string' ? override : hostname().toLowerCase();
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await runProxy({
      kubeconfig: v.kubeconfig,
      nodeName,
      ...(mode !== undefined ? { mode: mode satisfies ProxyMode } : {}),
      ...(typeof v['cluster-cidr'] === 'string' ? { clusterCIDR: v['cluster-cidr'] } : {}),
      signal: ac.signal,
      logger: stderrLogger('proxy', v.v === true),
      onReady: (p) =>
        process.stderr.write(
          `kts proxy: ${p.mode} mode for node ${nodeName} (addresses: ${p.nodeIPs.join(', ') || 'none'})\n`,
        ),
    });
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
};
