// The scheduler's cluster-level behaviour against a real API server and hollow nodes:
// preemption of a lower-priority pod, a pending pod scheduling when a node appears, a second
// profile chosen by schedulerName (from a KubeSchedulerConfiguration file), leader election
// on the kube-system/kube-scheduler Lease, the `kts scheduler` command, and the API writes
// of ApiSchedulerClient.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Node, Pod } from '../src/api/generated/types/core-v1.js';
import { gvr } from '../src/client/interface.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { EVENTS, LEASES, NODES, PERSISTENTVOLUMECLAIMS, PODS } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { type HollowNodes, startHollowNodes } from '../src/hollow/hollow-nodes.js';
import { buildNode } from '../src/hollow/templates.js';
import { ApiSchedulerClient } from '../src/scheduler/api-client.js';
import { runScheduler } from '../src/scheduler/run.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

let srv: TestApiServer;
let client: RestClient;
let dir: string;
const stop = new AbortController();
let running: Promise<void>;

const CONFIG = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packer
  plugins:
    score:
      disabled:
      - name: NodeResourcesBalancedAllocation
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
`;

before(async () => {
  srv = await startTestApiServer('memory://');
  client = new RestClient({ ...loadKubeconfig(srv.server.kubeconfigPath), qps: Number.POSITIVE_INFINITY });
  dir = mkdtempSync(join(tmpdir(), 'kts-sched-'));
  writeFileSync(join(dir, 'config.yaml'), CONFIG);
  let ready!: () => void;
  const isReady = new Promise<void>((r) => {
    ready = r;
  });
  running = runScheduler({
    client,
    configFile: join(dir, 'config.yaml'),
    signal: stop.signal,
    onReady: () => ready(),
  });
  await isReady;
});

after(async () => {
  stop.abort();
  await running;
  client.close();
  rmSync(dir, { recursive: true, force: true });
  await srv.stop();
});

async function addNodes(prefix: string, labels: Record<string, string>[], cpu = '4'): Promise<HollowNodes> {
  const spec = {
    cpu,
    memory: '16Gi',
    pods: 110,
    ephemeralStorage: '100Gi',
    zones: 0,
    leaseDurationSeconds: 40,
  };
  await Promise.all(
    labels.map((l, i) => {
      const node: Node = buildNode(`${prefix}-${i}`, i, spec, Date.now());
      node.metadata = { ...node.metadata, labels: { ...node.metadata?.labels, ...l } };
      return client.resource(NODES).create('', node);
    }),
  );
  const hollow = await startHollowNodes({ client, count: labels.length, namePrefix: prefix, cpu, zones: 0 });
  await clearNotReady(client, hollow.nodes);
  return hollow;
}

/**
 * TaintNodesByCondition admission taints new nodes not-ready; with no node lifecycle
 * controller here, clear the taint as that controller does once the node reports Ready.
 */
async function clearNotReady(c: RestClient, names: string[]): Promise<void> {
  await Promise.all(names.map((n) => c.resource(NODES).patch('', n, 'merge', { spec: { taints: null } })));
}

async function cleanup(test: string, nodes: HollowNodes): Promise<void> {
  await client
    .resource(PODS)
    .deleteCollection('default', { labelSelector: `test=${test}`, gracePeriodSeconds: 0 });
  await nodes.close({ deleteNodes: true });
}

function pod(test: string, name: string, cpu: string, spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return {
    metadata: { name, labels: { test } },
    spec: {
      containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu, memory: '64Mi' } } }],
      terminationGracePeriodSeconds: 0,
      ...spec,
    },
  };
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

async function boundTo(name: string, timeoutMs = 10_000): Promise<string> {
  return waitFor(
    `${name} to be bound`,
    async () => (await client.resource(PODS).get('default', name)).spec?.nodeName || undefined,
    timeoutMs,
  );
}

async function eventsOf(name: string): Promise<{ reason: string; message: string; component: string }[]> {
  const evs = await client.resource(EVENTS).list('default', { fieldSelector: `involvedObject.name=${name}` });
  return evs.items.map((e) => ({
    reason: e.reason ?? '',
    message: e.message ?? '',
    component: e.source?.component ?? '',
  }));
}

const PRIORITYCLASSES = gvr<{ metadata?: { name?: string }; value: number }>(
  'scheduling.k8s.io',
  'v1',
  'priorityclasses',
);

describe('scheduler cluster behaviour (apiserver + hollow nodes)', () => {
  it('preempts a lower-priority pod for a higher-priority one', async () => {
    const nodes = await addNodes('pre', [{}], '1');
    try {
      for (const [name, value] of [
        ['test-low', 100],
        ['test-high', 1000],
      ] as const) {
        await client.resource(PRIORITYCLASSES).create('', { metadata: { name }, value });
      }
      // spec.priority is set beside priorityClassName so the test holds whether or not the
      // API server's Priority admission resolves the class (a matching value is accepted).
      await client
        .resource(PODS)
        .create('default', pod('pre', 'pre-low', '600m', { priorityClassName: 'test-low', priority: 100 }));
      assert.equal(await boundTo('pre-low'), 'pre-0');
      await client
        .resource(PODS)
        .create(
          'default',
          pod('pre', 'pre-high', '600m', { priorityClassName: 'test-high', priority: 1000 }),
        );
      assert.equal(await boundTo('pre-high'), 'pre-0');
      await assert.rejects(client.resource(PODS).get('default', 'pre-low'), /not found/);
      const highEvents = await eventsOf('pre-high');
      assert.ok(
        highEvents.some(
          (e) =>
            e.reason === 'FailedScheduling' && e.message === '0/1 nodes are available: 1 Insufficient cpu.',
        ),
        JSON.stringify(highEvents),
      );
      const lowEvents = await waitFor('Preempted event', async () => {
        const evs = await eventsOf('pre-low');
        return evs.some((e) => e.reason === 'Preempted') ? evs : undefined;
      });
      const preempted = lowEvents.find((e) => e.reason === 'Preempted');
      assert.match(preempted?.message ?? '', /^Preempted by pod [0-9a-f-]+ on node pre-0$/);
    } finally {
      await cleanup('pre', nodes);
    }
  });

  it('schedules a pending pod once a fitting node appears', async () => {
    await client
      .resource(PODS)
      .create('default', pod('late', 'late-pod', '100m', { nodeSelector: { pool: 'late' } }));
    await waitFor('PodScheduled=False', async () => {
      const p = await client.resource(PODS).get('default', 'late-pod');
      return p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False')
        ? true
        : undefined;
    });
    const nodes = await addNodes('late', [{ pool: 'late' }]);
    try {
      assert.equal(await boundTo('late-pod'), 'late-0');
    } finally {
      await cleanup('late', nodes);
    }
  });

  it('runs a second profile by schedulerName and leaves other schedulers’ pods alone', async () => {
    const nodes = await addNodes('prof', [{}, {}]);
    try {
      await client.resource(PODS).create('default', pod('prof', 'prof-seed', '2', { nodeName: 'prof-0' }));
      await client
        .resource(PODS)
        .create('default', pod('prof', 'prof-foreign', '100m', { schedulerName: 'elsewhere' }));
      await client
        .resource(PODS)
        .create('default', pod('prof', 'prof-packed', '500m', { schedulerName: 'bin-packer' }));
      await client.resource(PODS).create('default', pod('prof', 'prof-spread', '500m'));
      // MostAllocated packs next to the seed; the default LeastAllocated goes to the empty node.
      assert.equal(await boundTo('prof-packed'), 'prof-0');
      assert.equal(await boundTo('prof-spread'), 'prof-1');
      const packed = await waitFor('Scheduled event', async () =>
        (await eventsOf('prof-packed')).find((e) => e.reason === 'Scheduled'),
      );
      assert.equal(packed.component, 'bin-packer');
      const foreign = await client.resource(PODS).get('default', 'prof-foreign');
      assert.equal(foreign.spec?.nodeName, undefined);
      assert.equal(foreign.status?.conditions, undefined);
      assert.deepEqual(await eventsOf('prof-foreign'), []);
    } finally {
      await cleanup('prof', nodes);
    }
  });
});

describe('ApiSchedulerClient', () => {
  it('writes conditions by type, nominations, victims and selected nodes', async () => {
    const sc = new ApiSchedulerClient({ client });
    try {
      // No running scheduler serves this name, so only the writes below touch the pod.
      const created = await client
        .resource(PODS)
        .create('default', pod('api', 'api-pod', '100m', { schedulerName: 'nobody' }));
      await sc.updatePodCondition(created, {
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message: 'first',
        lastTransitionTime: '2024-01-01T00:00:00Z',
      });
      await sc.setNominatedNodeName(created, 'somewhere');
      let p = await client.resource(PODS).get('default', 'api-pod');
      assert.equal(p.status?.nominatedNodeName, 'somewhere');
      assert.deepEqual(
        p.status?.conditions?.map((c) => [c.type, c.status, c.message]),
        [['PodScheduled', 'False', 'first']],
      );
      // Same status: the transition time is kept and the message replaced in place.
      await sc.updatePodCondition(p, {
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message: 'second',
        lastTransitionTime: '2030-01-01T00:00:00Z',
      });
      await sc.setNominatedNodeName(p, '');
      p = await client.resource(PODS).get('default', 'api-pod');
      assert.equal(p.status?.nominatedNodeName, undefined);
      assert.deepEqual(
        p.status?.conditions?.map((c) => [c.type, c.message, c.lastTransitionTime]),
        [['PodScheduled', 'second', '2024-01-01T00:00:00Z']],
      );
      const claim = await client.resource(PERSISTENTVOLUMECLAIMS).create('default', {
        metadata: { name: 'api-claim' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      });
      await sc.setSelectedNode(claim, 'node-x');
      const c2 = await client.resource(PERSISTENTVOLUMECLAIMS).get('default', 'api-claim');
      assert.equal(c2.metadata?.annotations?.['volume.kubernetes.io/selected-node'], 'node-x');
      await client.resource(PERSISTENTVOLUMECLAIMS).delete('default', 'api-claim');
      sc.recordEvent(p, 'Warning', 'FailedScheduling', 'no nodes');
      await sc.flushEvents();
      const ev = (await eventsOf('api-pod')).find((e) => e.reason === 'FailedScheduling');
      // Events carry the pod's scheduler (profile) name as their source, as upstream's recorders.
      assert.deepEqual(ev, { reason: 'FailedScheduling', message: 'no nodes', component: 'nobody' });
      await sc.deletePod(p);
      await assert.rejects(client.resource(PODS).get('default', 'api-pod'), /not found/);
    } finally {
      await sc.close();
    }
  });
});

describe('leader election and the command', () => {
  it('schedules only while holding kube-system/kube-scheduler, and a standby takes over', async () => {
    // A separate API server: the shared one already has an unelected scheduler running.
    const own = await startTestApiServer('memory://');
    const c = new RestClient({ ...loadKubeconfig(own.server.kubeconfigPath), qps: Number.POSITIVE_INFINITY });
    const timing = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 500 };
    const a = new AbortController();
    const b = new AbortController();
    const ready: string[] = [];
    const runA = runScheduler({
      client: c,
      leaderElect: true,
      signal: a.signal,
      onReady: () => ready.push('a'),
      ...timing,
    });
    let runB: Promise<void> | undefined;
    const nodes = await startHollowNodes({ client: c, count: 1 });
    await clearNotReady(c, nodes.nodes);
    try {
      await waitFor('a to lead', async () => (ready.includes('a') ? true : undefined));
      runB = runScheduler({
        client: c,
        leaderElect: true,
        signal: b.signal,
        onReady: () => ready.push('b'),
        ...timing,
      });
      const lease = await c.resource(LEASES).get('kube-system', 'kube-scheduler');
      assert.ok(lease.spec?.holderIdentity, 'lease held');
      await new Promise((r) => setTimeout(r, 700));
      assert.deepEqual(ready, ['a']);
      a.abort();
      await runA;
      await waitFor('b to lead', async () => (ready.includes('b') ? true : undefined), 8000);
      await c.resource(PODS).create('default', pod('le', 'le-pod', '100m'));
      assert.equal(
        await waitFor(
          'le-pod bound',
          async () => (await c.resource(PODS).get('default', 'le-pod')).spec?.nodeName || undefined,
        ),
        'hollow-node-0',
      );
    } finally {
      a.abort();
      b.abort();
      await runA;
      await runB;
      await nodes.close();
      c.close();
      await own.stop();
    }
  });

  it('`kts scheduler` schedules until SIGTERM and rejects bad flags', async () => {
    const cli = (args: string[]): ReturnType<typeof spawn> =>
      spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          `import { scheduler } from './src/cli/scheduler.ts'; process.exitCode = await scheduler(${JSON.stringify(args)});`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
    const exit = (ch: ReturnType<typeof spawn>): Promise<{ code: number | null; err: string }> =>
      new Promise((resolve) => {
        let err = '';
        ch.stderr?.on('data', (d: Buffer) => {
          err += d.toString();
        });
        ch.on('exit', (code) => resolve({ code, err }));
      });
    const bad = await exit(cli(['--bogus']));
    assert.equal(bad.code, 2);
    assert.match(bad.err, /unknown flag: --bogus/);

    // The shared scheduler must not race the command: the pod names a scheduler only the
    // command's config knows.
    const cfg = join(dir, 'cli.yaml');
    writeFileSync(
      cfg,
      'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nleaderElection:\n  leaderElect: false\nprofiles:\n- schedulerName: cli-scheduler\n',
    );
    const nodes = await addNodes('cli', [{}]);
    const ch = cli(['--kubeconfig', srv.server.kubeconfigPath, '--config', cfg]);
    const done = exit(ch);
    try {
      await client
        .resource(PODS)
        .create('default', pod('cli', 'cli-pod', '100m', { schedulerName: 'cli-scheduler' }));
      assert.equal(await boundTo('cli-pod', 20_000), 'cli-0');
    } finally {
      ch.kill('SIGTERM');
      const r = await done;
      assert.equal(r.code, 0, r.err);
      await cleanup('cli', nodes);
    }
  });
});
