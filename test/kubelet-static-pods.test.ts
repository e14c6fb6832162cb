// Static pods on the process runtime against an in-process API server, driven with the real
// kubectl: a manifest in the kubelet's --pod-manifest-path runs as `<name>-<node>` with a
// mirror pod in the API (config annotations, the Node as controller owner, the static pod's
// status); a mirror deleted with kubectl comes back while the pod keeps running; an edited
// manifest restarts the pod with the new spec; a removed manifest stops it and deletes the
// mirror. Everything is removed afterwards (processes, temp dirs).

import assert from 'node:assert/strict';
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '../src/api/generated/types/core-v1.js';
import { NODES, PODS } from '../src/client/resources.js';
import type { RestClient } from '../src/client/rest-client.js';
import { Kubelet } from '../src/kubelet/kubelet.js';
import { LABEL_POD_UID } from '../src/kubelet/pod-sync.js';
import { ProcessRuntime } from '../src/kubelet/runtime/process/process-runtime.js';
import type { Kubectl } from './helpers/kubectl.js';
import { startTestCluster, type TestCluster } from './helpers/kubelet-node.js';
import { untilWithin } from './helpers/wait.js';

const NODE = 'kubelet-static-node';
const MIRROR = `web-${NODE}`;
let kubectl: Kubectl;
let client: RestClient;
let runtime: ProcessRuntime;
let kubelet: Kubelet;
let dir = '';
let cluster: TestCluster | undefined;
let manifests = '';

const until = untilWithin(20_000);

function manifest(greeting: string): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: kts.local/busybox:latest
    command: ["sh", "-c", "echo ${greeting}; exec sleep 3600"]
`;
}

async function mirror(): Promise<Pod | undefined> {
  try {
    return await client.resource(PODS).get('default', MIRROR);
  } catch {
    return undefined;
  }
}

async function runningContainers(): Promise<string[]> {
  const list = await runtime.listContainers({ state: 'CONTAINER_RUNNING' });
  return list.map((c) => `${c.labels[LABEL_POD_UID]}/${c.id}`);
}

describe('kubelet static pods', { timeout: 90_000 }, () => {
  before(async () => {
    cluster = await startTestCluster('static');
    ({ kubectl, client, dir } = cluster);
    manifests = join(dir, 'manifests');
    runtime = new ProcessRuntime({ rootDir: join(dir, 'process') });
    kubelet = new Kubelet({
      client,
      nodeName: NODE,
      runtime,
      dataDir: join(dir, 'kubelet'),
      podManifestPath: manifests,
      staticPodScanMs: 300,
      relistMs: 200,
      statusUpdateMs: 1000,
      evictionIntervalMs: 1000,
    });
    await kubelet.start();
  });

  after(async () => {
    await kubelet?.stop();
    await runtime?.close();
    await cluster?.stop();
  });

  it('runs a manifest as <name>-<node> with a mirror pod in the API', async () => {
    mkdirSync(manifests, { recursive: true });
    writeFileSync(join(manifests, 'web.yaml'), manifest('hello'));
    const m = await until('mirror pod Running', async () => {
      const p = await mirror();
      return p?.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready === true
        ? p
        : undefined;
    });
    const a = m.metadata?.annotations ?? {};
    assert.equal(a['kubernetes.io/config.source'], 'file');
    assert.match(a['kubernetes.io/config.hash'] ?? '', /^[0-9a-f]{32}$/);
    assert.equal(a['kubernetes.io/config.mirror'], a['kubernetes.io/config.hash']);
    assert.match(a['kubernetes.io/config.seen'] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    // The mirror's uid is the API's own; the runtime knows the pod by its hash.
    assert.notEqual(m.metadata?.uid, a['kubernetes.io/config.hash']);
    const node = await client.resource(NODES).get('', NODE);
    assert.deepEqual(m.metadata?.ownerReferences, [
      { apiVersion: 'v1', kind: 'Node', name: NODE, uid: node.metadata?.uid, controller: true },
    ]);
    assert.equal(m.spec?.nodeName, NODE);
    assert.deepEqual(m.spec?.tolerations, [{ operator: 'Exists', effect: 'NoExecute' }]);
    assert.deepEqual(
      (await runningContainers()).map((x) => x.split('/')[0]),
      [a['kubernetes.io/config.hash']],
    );
    const out = await kubectl.ok(['get', 'pod', MIRROR, '--no-headers']);
    assert.match(out, new RegExp(`^${MIRROR}\\s+1/1\\s+Running\\s+0\\s`));
  });

  it('recreates a mirror pod deleted through the API; the pod keeps running', async () => {
    const before = await mirror();
    const containers = await runningContainers();
    await kubectl.ok(['delete', 'pod', MIRROR, '--wait=true', '--timeout=30s']);
    const again = await until('mirror recreated', async () => {
      const p = await mirror();
      return p !== undefined && p.metadata?.uid !== before?.metadata?.uid && p.status?.phase === 'Running'
        ? p
        : undefined;
    });
    assert.equal(
      again.metadata?.annotations?.['kubernetes.io/config.mirror'],
      before?.metadata?.annotations?.['kubernetes.io/config.mirror'],
    );
    assert.deepEqual(await runningContainers(), containers);
  });

  it('restarts the pod with the new spec when the manifest changes', async () => {
    const oldHash = (await mirror())?.metadata?.annotations?.['kubernetes.io/config.hash'];
    writeFileSync(join(manifests, 'web.yaml'), manifest('changed'));
    const m = await until('mirror of the new spec', async () => {
      const p = await mirror();
      const h = p?.metadata?.annotations?.['kubernetes.io/config.mirror'];
      return h !== undefined && h !== oldHash && p?.status?.phase === 'Running' ? p : undefined;
    });
    const newHash = m.metadata?.annotations?.['kubernetes.io/config.hash'];
    assert.match(m.spec?.containers[0]?.command?.join(' ') ?? '', /echo changed/);
    await until('only the new pod runs', async () => {
      const uids = (await runningContainers()).map((x) => x.split('/')[0]);
      return uids.length === 1 && uids[0] === newHash ? uids : undefined;
    });
  });

  it('stops the pod and deletes the mirror when the manifest is removed', async () => {
    unlinkSync(join(manifests, 'web.yaml'));
    await until('mirror gone', async () => ((await mirror()) === undefined ? true : undefined));
    await until('no containers running', async () =>
      (await runningContainers()).length === 0 ? true : undefined,
    );
  });
});
