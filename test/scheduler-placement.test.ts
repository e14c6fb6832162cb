// The scheduler against a real API server and hollow nodes: where pods land under node
// selectors, node affinity, taints, pod anti-affinity, topology spread and host ports, and
// how an unschedulable pod is reported (FailedScheduling event, PodScheduled=False) as seen
// by the real kubectl. Each case registers its own nodes (labels and taints set at
// creation, so the scheduler never sees them half-configured) and removes them afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Node, Pod, Taint } from '../src/api/generated/types/core-v1.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { EVENTS, NODES, PODS } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { type HollowNodes, startHollowNodes } from '../src/hollow/hollow-nodes.js';
import { buildNode } from '../src/hollow/templates.js';
import { runScheduler } from '../src/scheduler/run.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { Kubectl } from './helpers/kubectl.js';

let srv: TestApiServer;
let client: RestClient;
let kubectl: Kubectl;
const stop = new AbortController();
let running: Promise<void>;

before(async () => {
  srv = await startTestApiServer('memory://');
  client = new RestClient({ ...loadKubeconfig(srv.server.kubeconfigPath), qps: Number.POSITIVE_INFINITY });
  kubectl = new Kubectl(srv.server.kubeconfigPath);
  let ready!: () => void;
  const isReady = new Promise<void>((r) => {
    ready = r;
  });
  running = runScheduler({ client, signal: stop.signal, onReady: () => ready() });
  await isReady;
});

after(async () => {
  stop.abort();
  await running;
  client.close();
  kubectl.cleanup();
  await srv.stop();
});

interface NodeSpec {
  labels?: Record<string, string>;
  taints?: Taint[];
}

/** Registers nodes `<prefix>-<i>` with the given labels/taints and runs them as hollow nodes. */
async function addNodes(prefix: string, specs: NodeSpec[], cpu = '4'): Promise<HollowNodes> {
  const spec = {
    cpu,
    memory: '16Gi',
    pods: 110,
    ephemeralStorage: '100Gi',
    zones: 0,
    leaseDurationSeconds: 40,
  };
  await Promise.all(
    specs.map((s, i) => {
      const node: Node = buildNode(`${prefix}-${i}`, i, spec, Date.now());
      node.metadata = { ...node.metadata, labels: { ...node.metadata?.labels, ...s.labels } };
      if (s.taints !== undefined) node.spec = { taints: s.taints };
      return client.resource(NODES).create('', node);
    }),
  );
  const hollow = await startHollowNodes({ client, count: specs.length, namePrefix: prefix, cpu, zones: 0 });
  // TaintNodesByCondition admission taints new nodes not-ready; with no node lifecycle
  // controller here, clear it as that controller does once the node reports Ready.
  await Promise.all(
    specs.map((s, i) =>
      client.resource(NODES).patch('', `${prefix}-${i}`, 'merge', { spec: { taints: s.taints ?? null } }),
    ),
  );
  return hollow;
}

/** Deletes the test's pods at once, then its nodes. */
async function cleanup(test: string, nodes: HollowNodes): Promise<void> {
  await client
    .resource(PODS)
    .deleteCollection('default', { labelSelector: `test=${test}`, gracePeriodSeconds: 0 });
  await nodes.close({ deleteNodes: true });
}

function pod(test: string, name: string, spec: Partial<NonNullable<Pod['spec']>> = {}, labels = {}): Pod {
  return {
    metadata: { name, labels: { test, ...labels } },
    spec: {
      containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
      terminationGracePeriodSeconds: 0,
      ...spec,
    },
  };
}

async function create(...pods: Pod[]): Promise<void> {
  await Promise.all(pods.map((p) => client.resource(PODS).create('default', p)));
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until every named pod is bound; returns pod → node. */
async function placements(names: string[]): Promise<Record<string, string>> {
  return waitFor(`${names.join(', ')} to be bound`, async () => {
    const out: Record<string, string> = {};
    for (const n of names) {
      const p = await client.resource(PODS).get('default', n);
      if (!p.spec?.nodeName) return undefined;
      out[n] = p.spec.nodeName;
    }
    return out;
  });
}

/** Waits for the pod's PodScheduled=False condition and returns its message. */
async function unschedulable(name: string): Promise<string> {
  return waitFor(`${name} to be reported unschedulable`, async () => {
    const p = await client.resource(PODS).get('default', name);
    const c = p.status?.conditions?.find((x) => x.type === 'PodScheduled');
    if (c?.status !== 'False') return undefined;
    // A pod created before the scheduler's informer saw the test's nodes fails first with
    // no nodes at all; the node add requeues it and the real verdict follows.
    if (c.message === 'no nodes available to schedule pods') return undefined;
    assert.equal(c.reason, 'Unschedulable');
    assert.equal(p.spec?.nodeName, undefined);
    return c.message ?? '';
  });
}

// Resolvable failures (ports, anti-affinity) with nothing of lower priority to evict …
const NO_VICTIMS = (n: number): string =>
  `preemption: 0/${n} nodes are available: ${n} No preemption victims found for incoming pod.`;
// … and failures no eviction can fix (selectors, taints, requests above allocatable).
const NOT_HELPFUL = (n: number): string =>
  `preemption: 0/${n} nodes are available: ${n} Preemption is not helpful for scheduling.`;

describe('scheduler placement (apiserver + hollow nodes)', () => {
  it('follows nodeSelector', async () => {
    const nodes = await addNodes('sel', [{}, { labels: { disk: 'ssd' } }, {}]);
    try {
      await create(
        pod('sel', 'sel-a', { nodeSelector: { disk: 'ssd' } }),
        pod('sel', 'sel-b', { nodeSelector: { disk: 'ssd' } }),
      );
      assert.deepEqual(await placements(['sel-a', 'sel-b']), { 'sel-a': 'sel-1', 'sel-b': 'sel-1' });
      // Hollow nodes run what was bound to them.
      await waitFor('sel-a running', async () => {
        const p = await client.resource(PODS).get('default', 'sel-a');
        return p.status?.phase === 'Running' ? true : undefined;
      });
      const scheduled = await waitFor('Scheduled event', async () => {
        const evs = await client
          .resource(EVENTS)
          .list('default', { fieldSelector: 'involvedObject.name=sel-a' });
        return evs.items.find((e) => e.reason === 'Scheduled');
      });
      assert.equal(scheduled.message, 'Successfully assigned default/sel-a to sel-1');
      assert.equal(scheduled.source?.component, 'default-scheduler');
      assert.equal(scheduled.reportingComponent, 'default-scheduler');
      assert.equal(scheduled.type, 'Normal');
      const cond = (await client.resource(PODS).get('default', 'sel-a')).status?.conditions?.find(
        (c) => c.type === 'PodScheduled',
      );
      assert.equal(cond?.status, 'True');
    } finally {
      await cleanup('sel', nodes);
    }
  });

  it('honours required and preferred node affinity', async () => {
    const nodes = await addNodes('aff', [
      { labels: { tier: 'gold', disk: 'hdd' } },
      { labels: { tier: 'silver', disk: 'ssd' } },
      { labels: { tier: 'gold', disk: 'ssd' } },
      { labels: { disk: 'hdd' } },
    ]);
    try {
      const required = {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold'] }] }],
      };
      const preferSsd = [
        { weight: 100, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
      ];
      await create(
        pod('aff', 'aff-both', {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: required,
              preferredDuringSchedulingIgnoredDuringExecution: preferSsd,
            },
          },
        }),
        pod('aff', 'aff-pref', {
          affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: preferSsd } },
        }),
        pod('aff', 'aff-notin', {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }],
              },
            },
          },
        }),
      );
      const got = await placements(['aff-both', 'aff-pref', 'aff-notin']);
      assert.equal(got['aff-both'], 'aff-2');
      assert.equal(got['aff-notin'], 'aff-3');
      assert.ok(got['aff-pref'] === 'aff-1' || got['aff-pref'] === 'aff-2', `aff-pref on ${got['aff-pref']}`);
      // No node is platinum: unschedulable with upstream's message.
      await create(
        pod('aff', 'aff-none', {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: 'tier', operator: 'In', values: ['platinum'] }] },
                ],
              },
            },
          },
        }),
      );
      assert.equal(
        await unschedulable('aff-none'),
        `0/4 nodes are available: 4 node(s) didn't match Pod's node affinity/selector. ${NOT_HELPFUL(4)}`,
      );
    } finally {
      await cleanup('aff', nodes);
    }
  });

  it('keeps pods off NoSchedule taints unless tolerated and prefers nodes without PreferNoSchedule', async () => {
    const nodes = await addNodes('taint', [
      { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] },
      { taints: [{ key: 'spare', value: 'yes', effect: 'PreferNoSchedule' }] },
      {},
    ]);
    try {
      await create(
        pod('taint', 'taint-plain-0'),
        pod('taint', 'taint-plain-1'),
        pod('taint', 'taint-tolerant', {
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }],
          nodeSelector: { 'kubernetes.io/hostname': 'taint-0' },
        }),
        pod('taint', 'taint-blocked', { nodeSelector: { 'kubernetes.io/hostname': 'taint-0' } }),
      );
      const got = await placements(['taint-plain-0', 'taint-plain-1', 'taint-tolerant']);
      assert.equal(got['taint-plain-0'], 'taint-2');
      assert.equal(got['taint-plain-1'], 'taint-2');
      assert.equal(got['taint-tolerant'], 'taint-0');
      assert.equal(
        await unschedulable('taint-blocked'),
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s) didn't match Pod's node affinity/selector. " +
          NOT_HELPFUL(3),
      );
    } finally {
      await cleanup('taint', nodes);
    }
  });

  it('spreads pods with required anti-affinity on hostname, one per node', async () => {
    const nodes = await addNodes('anti', [{}, {}, {}]);
    try {
      const anti = {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' },
          ],
        },
      };
      const names = ['anti-0', 'anti-1', 'anti-2'];
      await create(...names.map((n) => pod('anti', n, { affinity: anti }, { app: 'web' })));
      const got = await placements(names);
      assert.deepEqual(new Set(Object.values(got)), new Set(['anti-0', 'anti-1', 'anti-2']));
      await create(pod('anti', 'anti-3', { affinity: anti }, { app: 'web' }));
      assert.equal(
        await unschedulable('anti-3'),
        `0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. ${NO_VICTIMS(3)}`,
      );
    } finally {
      await cleanup('anti', nodes);
    }
  });

  it('spreads pods evenly over zones', async () => {
    const zone = 'topology.kubernetes.io/zone';
    const nodes = await addNodes('zone', [
      { labels: { [zone]: 'a' } },
      { labels: { [zone]: 'a' } },
      { labels: { [zone]: 'a' } },
      { labels: { [zone]: 'b' } },
      { labels: { [zone]: 'c' } },
    ]);
    try {
      const spread = [
        {
          maxSkew: 1,
          topologyKey: zone,
          whenUnsatisfiable: 'DoNotSchedule',
          labelSelector: { matchLabels: { app: 'spread' } },
        },
      ];
      const names = Array.from({ length: 6 }, (_, i) => `zone-p${i}`);
      // One at a time, so each decision sees the previous pods (the skew bound holds per step).
      for (const n of names) {
        await create(pod('zone', n, { topologySpreadConstraints: spread }, { app: 'spread' }));
        await placements([n]);
      }
      const got = await placements(names);
      const perZone: Record<string, number> = { a: 0, b: 0, c: 0 };
      for (const node of Object.values(got)) {
        const z = node === 'zone-3' ? 'b' : node === 'zone-4' ? 'c' : 'a';
        perZone[z] = (perZone[z] ?? 0) + 1;
      }
      assert.deepEqual(perZone, { a: 2, b: 2, c: 2 });
    } finally {
      await cleanup('zone', nodes);
    }
  });

  it('never puts two pods with the same host port on one node', async () => {
    const nodes = await addNodes('port', [{}, {}]);
    try {
      const withPort = (name: string): Pod => {
        const p = pod('port', name);
        const c = p.spec?.containers[0];
        if (c !== undefined) c.ports = [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }];
        return p;
      };
      await create(withPort('port-0'), withPort('port-1'));
      const got = await placements(['port-0', 'port-1']);
      assert.notEqual(got['port-0'], got['port-1']);
      await create(withPort('port-2'));
      assert.equal(
        await unschedulable('port-2'),
        `0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports. ${NO_VICTIMS(2)}`,
      );
    } finally {
      await cleanup('port', nodes);
    }
  });

  it('reports insufficient resources as kubectl shows them', async () => {
    const nodes = await addNodes('big', [{}, {}], '2');
    try {
      const p = pod('big', 'big-pod');
      const c = p.spec?.containers[0];
      if (c !== undefined) c.resources = { requests: { cpu: '3', memory: '1Gi' } };
      await create(p);
      // The request exceeds what any node has at all, so preemption cannot help (upstream 1.32).
      const msg = `0/2 nodes are available: 2 Insufficient cpu. ${NOT_HELPFUL(2)}`;
      assert.equal(await unschedulable('big-pod'), msg);
      const json = JSON.parse(await kubectl.ok(['get', 'pod', 'big-pod', '-o', 'json'])) as Pod;
      const cond = json.status?.conditions?.find((x) => x.type === 'PodScheduled');
      assert.equal(cond?.status, 'False');
      assert.equal(cond?.reason, 'Unschedulable');
      assert.equal(json.status?.phase, 'Pending');
      const describe = await waitFor('FailedScheduling in describe', async () => {
        const out = await kubectl.ok(['describe', 'pod', 'big-pod']);
        return out.includes('FailedScheduling') ? out : undefined;
      });
      assert.match(
        describe,
        /Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+0\/2 nodes are available: 2 Insufficient cpu\./,
      );
      assert.match(describe, /PodScheduled\s+False/);
    } finally {
      await cleanup('big', nodes);
    }
  });
});
