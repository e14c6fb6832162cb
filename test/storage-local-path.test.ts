// Persistent volumes end to end, with the real kubectl: the controller manager (statefulset,
// garbage collector, persistentvolume-binder, pvc/pv-protection and the local-path
// provisioner, each under its own ServiceAccount), the scheduler and a process-runtime
// kubelet. `kubectl get sc` shows the default `local-path` class; a StatefulSet's claim is
// provisioned on the pod's node and bound, its pod writes into the volume, and the data
// survives the pod being deleted and recreated; deleting the claim (after the StatefulSet)
// releases the volume, whose directory a helper pod removes before the PV goes; a static PV
// and a classless claim bind; `kubectl describe pvc` shows the binder's and provisioner's
// events.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from '../src/api/generated/types/core-v1.js';
import { ServiceAccountClientBuilder } from '../src/client/controller-client-builder.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { stderrLogger } from '../src/client/log.js';
import { NODES, PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, PODS } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { ControllerManager } from '../src/controllers/manager.js';
import { controllerRegistry } from '../src/controllers/registry.js';
import { runScheduler } from '../src/scheduler/run.js';
import { type ProcessNode, startProcessNode } from './helpers/kubelet-node.js';
import { until } from './helpers/wait.js';

const NODE = 'storage-node';
let node: ProcessNode;
let client: RestClient;
let builder: ServiceAccountClientBuilder;
let storageDir: string;
const ac = new AbortController();
const running: Promise<void>[] = [];
const debug = process.env.KTS_DEBUG ? { log: stderrLogger('kcm', true) } : {};

before(async () => {
  node = await startProcessNode('storage', NODE);
  storageDir = join(node.dir, 'storage');
  const config = { ...loadKubeconfig(node.api.server.kubeconfigPath), qps: 0 };
  client = new RestClient(config);
  // Admission taints new nodes not-ready; the node lifecycle controller (not run here) would clear it.
  await until('node registered', async () => (await client.resource(NODES).get('', NODE)) ?? undefined);
  await client.resource(NODES).patch('', NODE, 'merge', { spec: { taints: null } });
  // The serviceaccount controller (not run here) would make the helper pods' account.
  await node.kubectl.ok(['-n', 'kube-system', 'create', 'serviceaccount', 'default']);
  builder = new ServiceAccountClientBuilder({ client, config });
  const manager = new ControllerManager({
    client,
    clientBuilder: builder,
    registry: controllerRegistry,
    controllers: [
      'statefulset',
      'garbage-collector',
      'persistentvolume-binder',
      'pvc-protection',
      'pv-protection',
      'local-path-provisioner',
    ],
    options: { localPathDir: storageDir, workers: 2 },
    ...debug,
  });
  running.push(manager.run(ac.signal));
  let ready!: () => void;
  const schedulerReady = new Promise<void>((r) => {
    ready = r;
  });
  running.push(runScheduler({ client, signal: ac.signal, onReady: () => ready() }));
  await schedulerReady;
});

after(async () => {
  ac.abort();
  await Promise.all(running);
  builder?.close();
  client?.close();
  await node?.stop();
});

const STATEFULSET = `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: busybox
        command: ["/bin/sh", "-c", "echo started >> data/log; exec sleep 3600"]
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 64Mi}}
`;

async function runningPod(name: string, notUid?: string): Promise<Pod> {
  return until(
    `pod ${name} running`,
    async () => {
      const p = await client.resource(PODS).get('default', name);
      if (p.metadata?.uid === notUid || p.status?.phase !== 'Running') return undefined;
      return p;
    },
    60_000,
  );
}

describe('local-path storage', () => {
  let claimUid = '';
  let dir = '';

  it('ships the default local-path StorageClass', async () => {
    const out = await until('local-path class', async () => {
      const o = await node.kubectl.ok(['get', 'sc']);
      return o.includes('local-path') ? o : undefined;
    });
    const lines = out.trim().split('\n');
    assert.match(
      lines[0] ?? '',
      /^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE$/,
    );
    assert.match(
      lines[1] ?? '',
      /^local-path \(default\)\s+rancher\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false\s+/,
    );
  });

  it('provisions and binds a StatefulSet claim; the data survives the pod', async () => {
    await node.kubectl.ok(['apply', '-f', '-'], { stdin: STATEFULSET });
    const first = await runningPod('web-0');
    const pvc = await until('claim bound', async () => {
      const c = await client.resource(PERSISTENTVOLUMECLAIMS).get('default', 'data-web-0');
      return c.status?.phase === 'Bound' ? c : undefined;
    });
    claimUid = pvc.metadata?.uid ?? '';
    assert.equal(pvc.spec?.storageClassName, 'local-path');
    assert.equal(pvc.spec?.volumeName, `pvc-${claimUid}`);
    assert.deepEqual(pvc.status?.capacity, { storage: '64Mi' });
    assert.equal(pvc.metadata?.annotations?.['volume.kubernetes.io/selected-node'], NODE);
    const pv = await client.resource(PERSISTENTVOLUMES).get('', `pvc-${claimUid}`);
    dir = join(storageDir, `pvc-${claimUid}_default_data-web-0`);
    assert.deepEqual(pv.spec?.hostPath, { path: dir, type: 'DirectoryOrCreate' });
    assert.equal(pv.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'], 'rancher.io/local-path');
    assert.equal(pv.status?.phase, 'Bound');
    assert.deepEqual(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms, [
      { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [NODE] }] },
    ]);
    await until('first write', async () => (existsSync(join(dir, 'log')) ? true : undefined));

    await node.kubectl.ok(['delete', 'pod', 'web-0', '--wait=false']);
    await runningPod('web-0', first.metadata?.uid);
    const log = await until('second write', async () => {
      const text = readFileSync(join(dir, 'log'), 'utf8');
      return text.split('\n').filter(Boolean).length >= 2 ? text : undefined;
    });
    assert.equal(log, 'started\nstarted\n');

    const described = await node.kubectl.ok(['describe', 'pvc', 'data-web-0']);
    assert.match(described, /Status:\s+Bound/);
    assert.match(described, new RegExp(`Volume:\\s+pvc-${claimUid}`));
    assert.match(described, /StorageClass:\s+local-path/);
    assert.match(
      described,
      /ExternalProvisioning\s+.*persistentvolume-controller\s+Waiting for a volume to be created either by the external provisioner 'rancher\.io\/local-path'/,
    );
    assert.match(
      described,
      /Provisioning\s+.*External provisioner is provisioning volume for claim "default\/data-web-0"/,
    );
    assert.match(
      described,
      new RegExp(`ProvisioningSucceeded\\s+.*Successfully provisioned volume pvc-${claimUid}`),
    );
  });

  it('deleting the claim after the StatefulSet releases the volume and removes it with its directory', async () => {
    await node.kubectl.ok(['delete', 'statefulset', 'web']);
    await until(
      'pods gone',
      async () => ((await client.resource(PODS).list('default')).items.length === 0 ? true : undefined),
      60_000,
    );
    await node.kubectl.ok(['delete', 'pvc', 'data-web-0', '--wait=false']);
    await until(
      'volume deleted',
      async () => {
        const pvs = (await client.resource(PERSISTENTVOLUMES).list('')).items;
        return pvs.some((v: PersistentVolume) => v.metadata?.name === `pvc-${claimUid}`) ? undefined : true;
      },
      60_000,
    );
    assert.equal(existsSync(dir), false, 'the volume directory is removed');
    await until('claim gone', async () => {
      const claims = (await client.resource(PERSISTENTVOLUMECLAIMS).list('default')).items;
      return claims.some((c: PersistentVolumeClaim) => c.metadata?.name === 'data-web-0') ? undefined : true;
    });
    await until('helper pod gone', async () =>
      (await client.resource(PODS).list('kube-system')).items.length === 0 ? true : undefined,
    );
  });

  it('binds a static PV to a classless claim; a claim with nothing to bind says why', async () => {
    await node.kubectl.ok(['apply', '-f', '-'], {
      stdin: `
apiVersion: v1
kind: PersistentVolume
metadata: {name: static-pv}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  hostPath: {path: ${join(node.dir, 'static')}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: static-claim}
spec:
  storageClassName: ""
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 500Mi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: lonely}
spec:
  storageClassName: ""
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 5Gi}}
`,
    });
    const out = await until('static claim bound', async () => {
      const o = await node.kubectl.ok(['get', 'pv,pvc']);
      return /persistentvolumeclaim\/static-claim\s+Bound/.test(o) ? o : undefined;
    });
    assert.match(
      out,
      /persistentvolume\/static-pv\s+1Gi\s+RWO\s+Retain\s+Bound\s+default\/static-claim\s+<unset>\s+/,
    );
    assert.match(out, /persistentvolumeclaim\/static-claim\s+Bound\s+static-pv\s+1Gi\s+RWO\s+<unset>\s+/);
    assert.match(out, /persistentvolumeclaim\/lonely\s+Pending\s+<unset>\s+/);
    const described = await until('FailedBinding event', async () => {
      const o = await node.kubectl.ok(['describe', 'pvc', 'lonely']);
      return o.includes('FailedBinding') ? o : undefined;
    });
    assert.match(
      described,
      /FailedBinding\s+.*persistentvolume-controller\s+no persistent volumes available for this claim and no storage class is set/,
    );

    // Retain: the claim goes, the volume stays Released with its claimRef.
    await node.kubectl.ok(['delete', 'pvc', 'static-claim']);
    const released = await until('static volume released', async () => {
      const v = await client.resource(PERSISTENTVOLUMES).get('', 'static-pv');
      return v.status?.phase === 'Released' ? v : undefined;
    });
    assert.equal(released.spec?.claimRef?.name, 'static-claim');
  });
});
