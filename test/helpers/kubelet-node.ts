// A one-node cluster for kubelet integration tests: an in-process API server, a `Kubectl`
// and a RestClient for it, and a kubelet on the process runtime (or, with `startCriNode`, on
// a private containerd with CNI on a bridge of the test's own) whose server listens on
// loopback (so logs/exec/attach/port-forward reach it through the API server). Everything
// lives under one temp dir that `stop()` removes after stopping the kubelet and the server;
// the cri node also removes its sandboxes, containerd root, bridge and cgroups by name.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeconfig } from '../../src/client/kubeconfig.js';
import { RestClient } from '../../src/client/rest-client.js';
import { NODES } from '../../src/client/resources.js';
import { Kubelet, type KubeletOptions } from '../../src/kubelet/kubelet.js';
import { readMachineInfo } from '../../src/kubelet/node-status.js';
import { removeCgroupDirs } from '../../src/kubelet/pod-sync.js';
import { hostCgroups } from '../../src/kubelet/runtime/cgroupfs.js';
import {
  type ContainerdDaemon,
  cleanupContainerdRoot,
  containerdMissing,
  startContainerd,
} from '../../src/kubelet/runtime/containerd-daemon.js';
import { CriRuntime } from '../../src/kubelet/runtime/cri/cri-runtime.js';
import { ensureBuiltinImages } from '../../src/kubelet/runtime/images/import.js';
import { ProcessRuntime } from '../../src/kubelet/runtime/process/process-runtime.js';
import { startTestApiServer, type TestApiServer } from './apiserver.js';
import { Kubectl } from './kubectl.js';

/** The parts of a running test cluster, for the test to use and for `stop()` to end. */
export interface TestCluster {
  /** The temp dir everything lives in. */
  dir: string;
  api: TestApiServer;
  kubectl: Kubectl;
  client: RestClient;
  /** Removes kubectl's home, stops the API server and deletes `dir`. */
  stop(): Promise<void>;
}

/** A TestCluster with a process-runtime kubelet registered as a node. */
export interface ProcessNode extends TestCluster {
  runtime: ProcessRuntime;
  kubelet: Kubelet;
}

/** A TestCluster with a Ready kubelet on a private containerd (the cri runtime). */
export interface CriNode extends TestCluster {
  daemon: ContainerdDaemon;
  runtime: CriRuntime;
  kubelet: Kubelet;
  /** The pod network's bridge (made by the kubelet, removed by `stop()`). */
  bridge: string;
}

/**
 * Starts an API server in a fresh temp dir named `kts-<label>-…`. With `rootCA`, creates
 * what the root-CA publisher would (ServiceAccount admission projects it into every pod).
 */
export async function startTestCluster(label: string, opts: { rootCA?: boolean } = {}): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), `kts-${label}-`));
  let api: TestApiServer | undefined;
  let kubectl: Kubectl | undefined;
  const stop = async (): Promise<void> => {
    kubectl?.cleanup();
    await api?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    api = await startTestApiServer();
    kubectl = new Kubectl(api.server.kubeconfigPath);
    const client = new RestClient(loadKubeconfig(api.server.kubeconfigPath));
    if (opts.rootCA) {
      await kubectl.ok(['create', 'configmap', 'kube-root-ca.crt', '--from-literal=ca.crt=test-ca']);
    }
    return { dir, api, kubectl, client, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Starts a test cluster (with the root CA configmap) and a started kubelet `nodeName` on the
 * process runtime, at 127.0.0.1, serving on a free loopback port.
 */
export async function startProcessNode(label: string, nodeName: string): Promise<ProcessNode> {
  const cluster = await startTestCluster(label, { rootCA: true });
  const runtime = new ProcessRuntime({ rootDir: join(cluster.dir, 'process') });
  const dataDir = join(cluster.dir, 'kubelet');
  const kubelet = new Kubelet({
    client: cluster.client,
    nodeName,
    runtime,
    dataDir,
    machine: { ...readMachineInfo(dataDir), internalIP: '127.0.0.1' },
    relistMs: 200,
    statusUpdateMs: 1000,
    server: { port: 0, address: '127.0.0.1' },
  });
  const stop = async (): Promise<void> => {
    await kubelet.stop();
    await runtime.close();
    await cluster.stop();
  };
  try {
    await kubelet.start();
  } catch (err) {
    await stop();
    throw err;
  }
  return { ...cluster, runtime, kubelet, stop };
}

/**
 * Starts a test cluster (with the root CA configmap), a private containerd with kts's
 * busybox and pause images, and a kubelet `nodeName` on it serving on loopback, with CNI
 * pods on a bridge of its own in `10.<cidrOctet>.0.0/16` (services one /16 below); resolves once the Node is Ready.
 * Needs root, containerd, runc and the CNI plugins.
 */
export async function startCriNode(
  label: string,
  nodeName: string,
  opts: { cidrOctet?: number; kubelet?: Partial<KubeletOptions> } = {},
): Promise<CriNode> {
  if (process.getuid?.() !== 0) throw new Error(`${label}: the cri runtime needs root`);
  const missing = containerdMissing();
  if (missing !== undefined) throw new Error(missing);
  const suffix = randomBytes(3).toString('hex');
  const bridge = `ktsn${suffix}`;
  const cgroupRoot = `/kts-${label}-${suffix}`;
  const octet = opts.cidrOctet ?? 95;
  const cluster = await startTestCluster(label, { rootCA: true });
  let daemon: ContainerdDaemon | undefined;
  let runtime: CriRuntime | undefined;
  let kubelet: Kubelet | undefined;
  const stop = async (): Promise<void> => {
    try {
      await kubelet?.stop();
      if (runtime !== undefined) {
        for (const s of await runtime.listPodSandbox().catch(() => [])) {
          await runtime.stopPodSandbox(s.id).catch(() => {});
          await runtime.removePodSandbox(s.id).catch(() => {});
        }
        await runtime.close();
      }
      await daemon?.stop();
    } finally {
      cleanupContainerdRoot(join(cluster.dir, 'containerd'));
      removeTestCgroups(cgroupRoot);
      spawnSync('ip', ['link', 'del', bridge]);
      await cluster.stop();
    }
  };
  try {
    daemon = await startContainerd({ rootDir: join(cluster.dir, 'containerd') });
    await ensureBuiltinImages({ socket: daemon.socket });
    runtime = new CriRuntime({ endpoint: daemon.endpoint });
    const dataDir = join(cluster.dir, 'kubelet');
    kubelet = new Kubelet({
      client: cluster.client,
      nodeName,
      runtime,
      dataDir,
      machine: { ...readMachineInfo(dataDir), internalIP: '127.0.0.1' },
      cgroupRoot,
      relistMs: 300,
      statusUpdateMs: 500,
      server: { port: 0, address: '127.0.0.1' },
      network: {
        cniConfDir: daemon.cniConfDir,
        clusterCIDR: `10.${octet}.0.0/16`,
        serviceCIDR: `10.${octet - 1}.0.0/16`,
        bridgeName: bridge,
        masquerade: false,
      },
      ...opts.kubelet,
    });
    await kubelet.start();
    const podCIDR = `10.${octet}.3.0/24`;
    await cluster.client
      .resource(NODES)
      .patch('', nodeName, 'merge', { spec: { podCIDR, podCIDRs: [podCIDR] } });
    await cluster.kubectl.ok(['wait', '--for=condition=Ready', `node/${nodeName}`, '--timeout=30s']);
  } catch (err) {
    await stop();
    throw err;
  }
  return { ...cluster, daemon, runtime, kubelet, bridge, stop };
}

/**
 * Removes a test kubelet's cgroup root: the pod cgroups left under it (pods still there
 * when the kubelet stopped), the QoS cgroups, then the root itself.
 */
export function removeTestCgroups(cgroupRoot: string): void {
  for (const parent of [`${cgroupRoot}/besteffort`, `${cgroupRoot}/burstable`, cgroupRoot]) {
    for (const child of hostCgroups.children(parent))
      if (child.startsWith('pod')) hostCgroups.remove(`${parent}/${child}`, { retryMs: 200 });
    removeCgroupDirs(parent);
  }
}
