// `kts kubelet --kubeconfig K [--node-name N] [--runtime cri|process]
//   [--container-runtime-endpoint unix:///…] [--data-dir DIR] [--pod-manifest-path DIR]`:
// runs a kubelet until SIGINT/SIGTERM, with the static pods of `--pod-manifest-path`. On the cri runtime without an endpoint, kts starts
// its own containerd under the data dir, imports its built-in pause and busybox images and
// any tarballs queued by `kts image import`, and networks pods with CNI once the Node has
// a podCIDR. Stopping the kubelet leaves pods running (a restarted kubelet adopts them);
// the private containerd is stopped, its shims keep the containers alive.

import { readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { errorText, stderrLogger } from '../client/log.js';
import { RestClient } from '../client/rest-client.js';
import { parseEvictionFlags } from '../kubelet/eviction.js';
import { KUBELET_CLIENT_LIMITS, KUBELET_EVENT_CLIENT_LIMITS, Kubelet } from '../kubelet/kubelet.js';
import {
  type ContainerdDaemon,
  nodeContainerdRoot,
  nodeImagesDir,
  startContainerd,
} from '../kubelet/runtime/containerd-daemon.js';
import { CriRuntime } from '../kubelet/runtime/cri/cri-runtime.js';
import { ensureBuiltinImages, importImageArchive, socketPath } from '../kubelet/runtime/images/import.js';
import { ProcessRuntime } from '../kubelet/runtime/process/process-runtime.js';
import type { ContainerRuntime } from '../kubelet/runtime/runtime.js';
import { defaultDataDir } from './data-dir.js';
import { FlagError, parseFlags } from './flags.js';
import type { Command } from './main.js';

const USAGE = `Usage: kts kubelet --kubeconfig FILE [--node-name NAME] [--runtime cri|process]
  [--container-runtime-endpoint unix:///PATH] [--data-dir DIR] [--pod-manifest-path DIR]
  [--cluster-dns IP] [--cluster-domain DOMAIN] [--port 10250] [--network-kubeconfig FILE]
  [--cgroup-root /kubepods] [--pod-max-pids -1] [--eviction-hard SIGNAL<QUANTITY,...]
  [--eviction-soft SIGNAL<QUANTITY,...] [--eviction-soft-grace-period SIGNAL=DURATION,...]
  [--eviction-max-pod-grace-period 0] [--eviction-minimum-reclaim SIGNAL=QUANTITY,...] [--v]

  --network-kubeconfig  credential that may list and watch every Node, for the host-gw routes
                        to the other nodes' pods (a kubelet may read only its own Node);
                        default: --kubeconfig
  --eviction-hard       hard eviction thresholds; default
                        memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%
  --eviction-soft       thresholds that evict only after staying met for their grace period
  --eviction-soft-grace-period
                        grace period of each soft threshold's signal, e.g. memory.available=1m30s
  --eviction-max-pod-grace-period
                        most seconds of grace a pod evicted for a soft threshold gets (default 0)
  --eviction-minimum-reclaim
                        how much more than a threshold must be available before it is resolved
`;

/** The kubelet command. */
export const kubelet: Command = async (args) => {
  let f: ReturnType<typeof parseFlags>;
  try {
    f = parseFlags(args, {
      kubeconfig: 'string',
      'node-name': 'string',
      runtime: 'string',
      'container-runtime-endpoint': 'string',
      'data-dir': 'string',
      'pod-manifest-path': 'string',
      'cluster-dns': 'string',
      port: 'number',
      'cluster-domain': 'string',
      'network-kubeconfig': 'string',
      'cgroup-root': 'string',
      'pod-max-pids': 'number',
      'eviction-hard': 'string',
      'eviction-soft': 'string',
      'eviction-soft-grace-period': 'string',
      'eviction-max-pod-grace-period': 'number',
      'eviction-minimum-reclaim': 'string',
      v: 'boolean',
      help: 'boolean',
    });
  } catch (e) {
    if (e instanceof FlagError) {
      process.stderr.write(`kts kubelet: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const v = f.values;
  if (v.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (typeof v.kubeconfig !== 'string' || f.positional.length > 0) {
    process.stderr.write(`kts kubelet: --kubeconfig is required\n${USAGE}`);
    return 2;
  }
  const kind = typeof v.runtime === 'string' ? v.runtime : 'cri';
  if (kind !== 'cri' && kind !== 'process') {
    process.stderr.write(`kts kubelet: --runtime must be cri or process\n${USAGE}`);
    return 2;
  }
  const str = (k: string): string | undefined => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const eviction = {
    ...(str('eviction-hard') !== undefined ? { hard: str('eviction-hard') } : {}),
    ...(str('eviction-soft') !== undefined ? { soft: str('eviction-soft') } : {}),
    ...(str('eviction-soft-grace-period') !== undefined
      ? { softGracePeriod: str('eviction-soft-grace-period') }
      : {}),
    ...(str('eviction-minimum-reclaim') !== undefined
      ? { minimumReclaim: str('eviction-minimum-reclaim') }
      : {}),
  };
  try {
    parseEvictionFlags(eviction);
  } catch (e) {
    process.stderr.write(`kts kubelet: invalid eviction flags: ${errorText(e)}\n${USAGE}`);
    return 2;
  }
  const dataDir = typeof v['data-dir'] === 'string' ? v['data-dir'] : defaultDataDir();
  const kubeletDir = join(dataDir, 'agent', 'kubelet');
  const nodeName = typeof v['node-name'] === 'string' ? v['node-name'] : hostname().toLowerCase();
  const logger = stderrLogger('kubelet', v.v === true);
  const client = new RestClient({
    ...loadKubeconfig(v.kubeconfig),
    ...KUBELET_CLIENT_LIMITS,
    userAgent: `kubelet/v1.32.4 (linux) kts`,
  });

  let runtime: ContainerRuntime;
  let daemon: ContainerdDaemon | undefined;
  let cniConfDir: string | undefined;
  if (kind === 'process') {
    runtime = new ProcessRuntime({ rootDir: join(dataDir, 'agent', 'process') });
  } else {
    let endpoint = v['container-runtime-endpoint'];
    if (typeof endpoint !== 'string') {
      daemon = await startContainerd({ rootDir: nodeContainerdRoot(dataDir) });
      endpoint = daemon.endpoint;
      cniConfDir = daemon.cniConfDir;
      await ensureBuiltinImages({ socket: daemon.socket, snapshotter: daemon.snapshotter });
      let queued: string[] = [];
      try {
        queued = readdirSync(nodeImagesDir(dataDir)).filter((n) => n.endsWith('.tar'));
      } catch {
        // nothing queued
      }
      for (const file of queued) {
        await importImageArchive(join(nodeImagesDir(dataDir), file), {
          socket: daemon.socket,
          snapshotter: daemon.snapshotter,
        });
      }
    } else {
      await ensureBuiltinImages({ socket: socketPath(endpoint) }).catch((e: unknown) =>
        logger.error('importing built-in images failed', { err: String(e) }),
      );
    }
    runtime = new CriRuntime({ endpoint });
  }

  const eventClient = new RestClient({
    ...loadKubeconfig(v.kubeconfig),
    ...KUBELET_EVENT_CLIENT_LIMITS,
    userAgent: `kubelet/v1.32.4 (linux) kts`,
  });
  const k = new Kubelet({
    client,
    eventClient,
    nodeName,
    runtime,
    dataDir: kubeletDir,
    logger,
    ...(cniConfDir !== undefined
      ? {
          network: {
            cniConfDir,
            ...(typeof v['network-kubeconfig'] === 'string'
              ? {
                  routesClient: new RestClient({
                    ...loadKubeconfig(v['network-kubeconfig']),
                    userAgent: 'kubelet/v1.32.4 (linux) kts',
                  }),
                }
              : {}),
          },
        }
      : {}),
    server: { port: typeof v.port === 'number' ? v.port : 10250 },
    ...(typeof v['cluster-dns'] === 'string' ? { clusterDNS: v['cluster-dns'] } : {}),
    ...(typeof v['cluster-domain'] === 'string' ? { clusterDomain: v['cluster-domain'] } : {}),
    ...(typeof v['pod-manifest-path'] === 'string' ? { podManifestPath: v['pod-manifest-path'] } : {}),
    ...(typeof v['cgroup-root'] === 'string' ? { cgroupRoot: v['cgroup-root'] } : {}),
    ...(typeof v['pod-max-pids'] === 'number' ? { podMaxPids: v['pod-max-pids'] } : {}),
    ...(eviction.hard !== undefined ? { evictionHard: eviction.hard } : {}),
    ...(eviction.soft !== undefined ? { evictionSoft: eviction.soft } : {}),
    ...(eviction.softGracePeriod !== undefined ? { evictionSoftGracePeriod: eviction.softGracePeriod } : {}),
    ...(eviction.minimumReclaim !== undefined ? { evictionMinimumReclaim: eviction.minimumReclaim } : {}),
    ...(typeof v['eviction-max-pod-grace-period'] === 'number'
      ? { evictionMaxPodGracePeriod: v['eviction-max-pod-grace-period'] }
      : {}),
  });
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await k.start();
    process.stderr.write(`kts kubelet: node ${nodeName} registered (runtime ${kind})\n`);
    await new Promise<void>((resolve) =>
      ac.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await k.stop();
    // The process runtime's containers are children of kts: they end with it (close kills
    // them); containerd's shims keep cri containers running.
    await runtime.close();
    await daemon?.stop();
  }
};
