// Hollow nodes against a real in-process API server, checked with the real kubectl: nodes
// register Ready, bound pods start (and Jobs' pods finish), deletions complete, Leases are
// renewed, close() stops everything; plus a registration scale check whose timings are
// reported as diagnostics (speed targets live in the benchmarks).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Node, Pod } from '../src/api/generated/types/core-v1.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { LEASES, NODES, PODS } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { type HollowNodes, startHollowNodes } from '../src/hollow/hollow-nodes.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { Kubectl } from './helpers/kubectl.js';

let srv: TestApiServer;
let client: RestClient;
let kubectl: Kubectl;
let hollow: HollowNodes;

before(async () => {
  srv = await startTestApiServer('memory://');
  client = new RestClient({ ...loadKubeconfig(srv.server.kubeconfigPath), qps: 0 });
  kubectl = new Kubectl(srv.server.kubeconfigPath);
  hollow = await startHollowNodes({
    kubeconfig: srv.server.kubeconfigPath,
    count: 3,
    namePrefix: 'hn',
    cpu: '8',
    memory: '32Gi',
    pods: 50,
    jobCompletionDelayMs: 200,
    deletionDelayMs: 300,
    leaseRenewIntervalMs: 300,
    nodeStatusIntervalMs: 1000,
  });
});
after(async () => {
  await hollow.close();
  client.close();
  await srv.stop();
});

async function until<T>(probe: () => Promise<T | undefined>, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function pod(name: string, node: string, extra: Partial<Pod['spec']> = {}, ownerKind?: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      ...(ownerKind !== undefined
        ? {
            ownerReferences: [
              {
                apiVersion: 'batch/v1',
                kind: ownerKind,
                name: 'job-1',
                uid: '00000000-0000-0000-0000-000000000001',
                controller: true,
              },
            ],
          }
        : {}),
    },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox:1.36' }], ...extra },
  };
}

describe('hollow nodes', () => {
  it('registers nodes that kubectl shows Ready with their capacity and labels', async () => {
    assert.deepEqual(hollow.nodes, ['hn-0', 'hn-1', 'hn-2']);
    const out = await kubectl.ok(['get', 'nodes', '--no-headers']);
    const rows = out
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/));
    assert.deepEqual(
      rows.map((r) => [r[0], r[1]]),
      [
        ['hn-0', 'Ready'],
        ['hn-1', 'Ready'],
        ['hn-2', 'Ready'],
      ],
    );
    assert.ok(
      rows.every((r) => r[4] === 'v1.32.4-kts'),
      out,
    );
    const n = await client.resource(NODES).get('', 'hn-2');
    assert.equal(n.metadata?.labels?.['topology.kubernetes.io/zone'], 'zone-2');
    assert.equal(n.metadata?.labels?.['kubernetes.io/hostname'], 'hn-2');
    assert.equal(n.metadata?.labels?.type, 'hollow');
    assert.deepEqual(n.status?.allocatable, {
      cpu: '8',
      memory: '32Gi',
      pods: '50',
      'ephemeral-storage': '100Gi',
    });
    assert.deepEqual(
      n.status?.conditions?.map((c) => [c.type, c.status]),
      [
        ['MemoryPressure', 'False'],
        ['DiskPressure', 'False'],
        ['PIDPressure', 'False'],
        ['Ready', 'True'],
      ],
    );
    assert.equal(n.status?.nodeInfo?.containerRuntimeVersion, 'hollow://');
    assert.equal(n.status?.addresses?.[0]?.type, 'InternalIP');
  });

  it('runs a bound pod: Running and Ready with an IP from its node subnet', async () => {
    await client.resource(PODS).create('default', pod('web', 'hn-1'));
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/web', '--timeout=20s']);
    const p = await client.resource(PODS).get('default', 'web');
    assert.equal(p.status?.phase, 'Running');
    assert.match(p.status?.podIP ?? '', /^10\.42\.1\.\d+$/);
    assert.deepEqual(p.status?.podIPs, [{ ip: p.status?.podIP }]);
    const node = await client.resource(NODES).get('', 'hn-1');
    assert.equal(p.status?.hostIP, node.status?.addresses?.[0]?.address);
    const cs = p.status?.containerStatuses?.[0];
    assert.equal(cs?.ready, true);
    assert.equal(cs?.started, true);
    assert.equal(cs?.restartCount, 0);
    assert.ok(cs?.state?.running?.startedAt !== undefined);
    assert.match(cs?.containerID ?? '', /^hollow:\/\//);
    assert.match(cs?.imageID ?? '', /^busybox@sha256:[0-9a-f]{64}$/);
    const types = new Set(p.status?.conditions?.filter((c) => c.status === 'True').map((c) => c.type));
    for (const t of [
      'PodScheduled',
      'Initialized',
      'ContainersReady',
      'Ready',
      'PodReadyToStartContainers',
    ]) {
      assert.ok(types.has(t), `condition ${t}`);
    }
    const wide = await kubectl.ok(['get', 'pod', 'web', '-o', 'wide', '--no-headers']);
    assert.match(wide, /Running/);
  });

  it('gives pods on one node distinct IPs', async () => {
    for (const n of ['ip-a', 'ip-b', 'ip-c']) await client.resource(PODS).create('default', pod(n, 'hn-0'));
    const ips = await until(async () => {
      const list = await client.resource(PODS).list('default', { fieldSelector: 'spec.nodeName=hn-0' });
      const got = list.items.filter((p) => p.metadata?.name?.startsWith('ip-')).map((p) => p.status?.podIP);
      return got.length === 3 && got.every((x) => x !== undefined) ? got : undefined;
    }, 'pod IPs');
    assert.equal(new Set(ips).size, 3);
  });

  it('runs a Job-owned pod to Succeeded', async () => {
    await client.resource(PODS).create('default', pod('job-pod', 'hn-2', { restartPolicy: 'Never' }, 'Job'));
    const done = await until(async () => {
      const p = await client.resource(PODS).get('default', 'job-pod');
      return p.status?.phase === 'Succeeded' ? p : undefined;
    }, 'Succeeded');
    const t = done.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(t?.exitCode, 0);
    assert.equal(t?.reason, 'Completed');
    assert.equal(done.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
  });

  it('finishes a graceful deletion within the cap', async () => {
    await client.resource(PODS).create('default', pod('doomed', 'hn-0'));
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/doomed', '--timeout=20s']);
    const t0 = Date.now();
    // kubectl asks for the default 30 s grace and waits until the pod is gone.
    await kubectl.ok(['delete', 'pod', 'doomed', '--timeout=20s']);
    const ms = Date.now() - t0;
    await assert.rejects(client.resource(PODS).get('default', 'doomed'), /not found/);
    assert.ok(ms < 15_000, `deletion took ${ms} ms`);
  });

  it('renews Leases in kube-node-lease', async () => {
    const first = await until(
      async () =>
        client
          .resource(LEASES)
          .get('kube-node-lease', 'hn-0')
          .catch(() => undefined),
      'lease',
    );
    assert.equal(first.spec?.holderIdentity, 'hn-0');
    assert.equal(first.spec?.leaseDurationSeconds, 40);
    assert.equal(first.metadata?.ownerReferences?.[0]?.kind, 'Node');
    const renewed = await until(async () => {
      const l = await client.resource(LEASES).get('kube-node-lease', 'hn-0');
      return (l.spec?.renewTime ?? '') > (first.spec?.renewTime ?? '') ? l : undefined;
    }, 'renewal');
    assert.ok(renewed.spec?.renewTime !== undefined);
  });

  it('stops renewing and handling pods after close', async () => {
    const extra = await startHollowNodes({
      client,
      count: 2,
      namePrefix: 'closing',
      leaseRenewIntervalMs: 100,
    });
    await extra.close();
    const frozen = await client.resource(LEASES).get('kube-node-lease', 'closing-0');
    await client.resource(PODS).create('default', pod('orphan', 'closing-0'));
    await new Promise((r) => setTimeout(r, 400));
    const later = await client.resource(LEASES).get('kube-node-lease', 'closing-0');
    assert.equal(later.spec?.renewTime, frozen.spec?.renewTime);
    assert.equal((await client.resource(PODS).get('default', 'orphan')).status?.phase, 'Pending');
    // The nodes stay (a stopped kubelet does not delete its Node) unless asked.
    assert.ok(await client.resource(NODES).get('', 'closing-0'));
  });

  it('deletes its nodes and Leases on close when asked', async () => {
    const extra = await startHollowNodes({ client, count: 2, namePrefix: 'gone', deleteNodesOnClose: true });
    assert.ok(await client.resource(LEASES).get('kube-node-lease', 'gone-1'));
    await extra.close();
    await assert.rejects(client.resource(NODES).get('', 'gone-1'), /not found/);
    await assert.rejects(client.resource(LEASES).get('kube-node-lease', 'gone-1'), /not found/);
  });
});

describe('hollow nodes at scale', () => {
  it('registers 1,000 nodes and starts pods on them', async (t) => {
    const t0 = Date.now();
    const many = await startHollowNodes({ client, count: 1000, namePrefix: 'scale', pods: 110 });
    const registerMs = Date.now() - t0;
    try {
      const nodes = await client.resource(NODES).list('', { labelSelector: 'type=hollow' });
      assert.ok(nodes.items.filter((n: Node) => n.metadata?.name?.startsWith('scale-')).length === 1000);
      const pods = 100;
      const t1 = Date.now();
      await Promise.all(
        Array.from({ length: pods }, (_, i) =>
          client.resource(PODS).create('default', pod(`scale-${i}`, `scale-${i % 1000}`)),
        ),
      );
      const createdMs = Date.now() - t1;
      await until(
        async () => (many.stats().podsStarted >= pods ? true : undefined),
        'scale pods running',
        60_000,
      );
      const runningMs = Date.now() - t1;
      t.diagnostic(
        `1000 nodes registered in ${registerMs} ms (${Math.round(1000 / (registerMs / 1000))}/s); ` +
          `${pods} pods created in ${createdMs} ms, all Running after ${runningMs} ms`,
      );
    } finally {
      await many.close();
    }
  });
});
