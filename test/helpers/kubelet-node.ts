// A one-node cluster for kubelet integration tests: an in-process API server, a `Kubectl`
// and a RestClient for it, and a kubelet on the process runtime whose server listens on
// loopback (so logs/exec/attach/port-forward reach it through the API server). Everything
// lives under one temp dir that `stop()` removes after stopping the kubelet and the server.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeconfig } from '../../src/client/kubeconfig.js';
import { RestClient } from '../../src/client/rest-client.js';
import { Kubelet } from '../../src/kubelet/kubelet.js';
import { readMachineInfo } from '../../src/kubelet/node-status.js';
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
