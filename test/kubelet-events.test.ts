// The kubelet's events and ephemeral containers on the process runtime, seen through the
// real kubectl: node events (Starting, NodeHasSufficientMemory, NodeReady), a pod's
// Pulled/Created/Started events in `describe pod`, BackOff for a crash loop, FailedMount
// for a missing ConfigMap, and `kubectl debug` starting an ephemeral container whose
// status and logs are served.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '../src/api/generated/types/core-v1.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { PODS } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { Kubelet } from '../src/kubelet/kubelet.js';
import { readMachineInfo } from '../src/kubelet/node-status.js';
import { ProcessRuntime } from '../src/kubelet/runtime/process/process-runtime.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { Kubectl } from './helpers/kubectl.js';

const NODE = 'kubelet-events-node';
const IMAGE = 'kts.local/busybox:latest';
let api: TestApiServer;
let kubectl: Kubectl;
let client: RestClient;
let runtime: ProcessRuntime;
let kubelet: Kubelet;
let dir = '';

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

function pod(name: string, spec: Partial<NonNullable<Pod['spec']>>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName: NODE, containers: [], terminationGracePeriodSeconds: 1, ...spec },
  };
}

async function eventsOf(name: string): Promise<string> {
  return kubectl.ok([
    'get',
    'events',
    '--field-selector',
    `involvedObject.name=${name}`,
    '-o',
    'custom-columns=TYPE:.type,REASON:.reason,FROM:.source.component,PATH:.involvedObject.fieldPath,MESSAGE:.message',
    '--no-headers',
  ]);
}

describe('kubelet events and ephemeral containers', { timeout: 90_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kts-kubelet-events-'));
    api = await startTestApiServer();
    kubectl = new Kubectl(api.server.kubeconfigPath);
    client = new RestClient(loadKubeconfig(api.server.kubeconfigPath));
    runtime = new ProcessRuntime({ rootDir: join(dir, 'process') });
    await kubectl.ok(['create', 'configmap', 'kube-root-ca.crt', '--from-literal=ca.crt=test-ca']);
    kubelet = new Kubelet({
      client,
      nodeName: NODE,
      runtime,
      dataDir: join(dir, 'kubelet'),
      machine: { ...readMachineInfo(join(dir, 'kubelet')), internalIP: '127.0.0.1' },
      server: { port: 0, address: '127.0.0.1' },
      relistMs: 200,
      statusUpdateMs: 1000,
    });
    await kubelet.start();
  });

  after(async () => {
    await kubelet?.stop();
    await runtime?.close();
    kubectl?.cleanup();
    await api?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('records the node events', async () => {
    const out = await until('node events', async () => {
      const o = await eventsOf(NODE);
      return /NodeReady/.test(o) && /NodeAllocatableEnforced/.test(o) ? o : undefined;
    });
    assert.match(out, /Normal\s+Starting\s+kubelet\s+<none>\s+Starting kubelet\./);
    assert.match(
      out,
      new RegExp(
        `NodeHasSufficientMemory\\s+kubelet\\s+<none>\\s+Node ${NODE} status is now: NodeHasSufficientMemory`,
      ),
    );
    assert.match(out, /NodeHasNoDiskPressure/);
    assert.match(out, /NodeHasSufficientPID/);
    assert.match(out, /Updated Node Allocatable limit across pods/);
    const node = await kubectl.ok(['describe', 'node', NODE]);
    assert.match(node, /Starting kubelet\./);
    assert.doesNotMatch(node, /ephemeral-storage:\s+0\s*$/m);
  });

  it('records Pulled, Created and Started, shown by describe pod', async () => {
    await client.resource(PODS).create(
      'default',
      pod('ev-web', {
        containers: [
          { name: 'web', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '60'] },
        ],
      }),
    );
    const out = await until('started event', async () => {
      const o = await eventsOf('ev-web');
      return /Started/.test(o) ? o : undefined;
    });
    assert.match(
      out,
      new RegExp(
        `Normal\\s+Pulled\\s+kubelet\\s+spec.containers\\{web\\}\\s+Container image "${IMAGE}" already present on machine`,
      ),
    );
    assert.match(out, /Normal\s+Created\s+kubelet\s+spec.containers\{web\}\s+Created container: web/);
    assert.match(out, /Normal\s+Started\s+kubelet\s+spec.containers\{web\}\s+Started container web/);
    const d = await kubectl.ok(['describe', 'pod', 'ev-web']);
    assert.match(d, /Started\s+\S+\s+kubelet\s+Started container web/);
  });

  it('records BackOff for a crash loop and FailedMount for a missing ConfigMap', async () => {
    await client
      .resource(PODS)
      .create(
        'default',
        pod('ev-crash', { containers: [{ name: 'c', image: IMAGE, command: ['sh', '-c', 'exit 3'] }] }),
      );
    await client.resource(PODS).create(
      'default',
      pod('ev-mount', {
        volumes: [{ name: 'cfg', configMap: { name: 'absent' } }],
        containers: [{ name: 'c', image: IMAGE, command: ['sleep', '60'] }],
      }),
    );
    const crash = await until(
      'BackOff event',
      async () => {
        const o = await eventsOf('ev-crash');
        return /BackOff/.test(o) ? o : undefined;
      },
      30_000,
    );
    assert.match(
      crash,
      /Warning\s+BackOff\s+kubelet\s+spec.containers\{c\}\s+Back-off restarting failed container c in pod ev-crash_default\(/,
    );
    const mount = await until('FailedMount event', async () => {
      const o = await eventsOf('ev-mount');
      return /FailedMount/.test(o) ? o : undefined;
    });
    assert.match(mount, /Warning\s+FailedMount\s+kubelet\s+<none>\s+.*"absent" not found/);
  });

  it('runs an ephemeral container from kubectl debug, with status and logs', async () => {
    await until('ev-web running', async () => {
      const p = await client.resource(PODS).get('default', 'ev-web');
      return p.status?.containerStatuses?.[0]?.state?.running !== undefined ? p : undefined;
    });
    await kubectl.ok([
      'debug',
      'ev-web',
      `--image=${IMAGE}`,
      '--image-pull-policy=IfNotPresent',
      '--profile=general',
      '-c',
      'debugger',
      '--target=web',
      '--',
      'sh',
      '-c',
      'echo from-debugger',
    ]);
    const status = await until('ephemeral container status', async () => {
      const p = await client.resource(PODS).get('default', 'ev-web');
      const s = p.status?.ephemeralContainerStatuses?.find((c) => c.name === 'debugger');
      return s?.state?.terminated !== undefined ? s : undefined;
    });
    assert.equal(status.state?.terminated?.exitCode, 0);
    assert.equal(status.restartCount, 0);
    // Never restarted: still one attempt a while later.
    await new Promise((r) => setTimeout(r, 800));
    const again = await client.resource(PODS).get('default', 'ev-web');
    assert.equal(again.status?.ephemeralContainerStatuses?.[0]?.restartCount, 0);
    assert.equal(again.status?.phase, 'Running');
    const logs = await kubectl.ok(['logs', 'ev-web', '-c', 'debugger']);
    assert.equal(logs.trim(), 'from-debugger');
    const out = await eventsOf('ev-web');
    assert.match(
      out,
      /Started\s+kubelet\s+spec.ephemeralContainers\{debugger\}\s+Started container debugger/,
    );
  });

  it('serves /pods as a PodList and /stats/summary indented through the node proxy', async () => {
    const raw = await kubectl.ok(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/pods`]);
    const list = JSON.parse(raw) as { kind?: string; items?: Pod[] };
    assert.equal(list.kind, 'PodList');
    assert.ok(list.items?.some((p) => p.metadata?.name === 'ev-web'));
    const summary = await kubectl.ok(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/stats/summary`]);
    assert.match(summary, /^\{\n {2}"node": \{/);
  });
});
