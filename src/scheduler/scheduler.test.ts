import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node, Pod } from '../api/generated/types/core-v1.js';
import type { PodDisruptionBudget } from '../api/generated/types/policy-v1.js';
import { ManualClock } from './clock.js';
import { RecordingSchedulerClient } from './client.js';
import { loadSchedulerConfig } from './config.js';
import { Scheduler } from './scheduler.js';
import { runSchedulingBasic } from './scheduler-perf.js';
import { makeNode, makePod } from './testing.js';

/** A scheduler whose client feeds bindings and deletions back like the informers would. */
function harness(opts: { config?: string; clock?: ManualClock } = {}) {
  const client = new RecordingSchedulerClient();
  const clock = opts.clock ?? new ManualClock();
  const sched = new Scheduler({
    client,
    clock,
    random: () => 0,
    config: opts.config ? loadSchedulerConfig(opts.config) : undefined,
  });
  const pods = new Map<string, Pod>();
  client.onBind = (pod, nodeName) => {
    const cur = pods.get(pod.metadata?.name ?? '') ?? pod;
    const bound: Pod = { ...cur, spec: { ...(cur.spec ?? { containers: [] }), nodeName } };
    pods.set(pod.metadata?.name ?? '', bound);
    sched.updatePod(cur, bound);
  };
  const origDelete = client.deletePod.bind(client);
  client.deletePod = async (pod) => {
    await origDelete(pod);
    pods.delete(pod.metadata?.name ?? '');
    sched.deletePod(pod);
  };
  const add = (...ps: Pod[]): void => {
    for (const p of ps) {
      pods.set(p.metadata?.name ?? '', p);
      sched.addPod(p);
    }
  };
  const nodes = (...ns: Node[]): void => {
    for (const n of ns) sched.addNode(n);
  };
  /** Schedules everything currently in activeQ, synchronously, and waits for the bindings. */
  const drain = async (): Promise<void> => {
    for (;;) {
      const qpi = sched.queue.tryPop();
      if (qpi === undefined) break;
      await sched.scheduleQueued(qpi);
      await sched.waitForBindings();
    }
  };
  const failures = (pod: string) =>
    client
      .events()
      .filter((e) => e.pod === `default/${pod}` && e.reason === 'FailedScheduling')
      .map((e) => e.message);
  return { client, clock, sched, pods, add, nodes, drain, failures };
}

const controlPlane = (name: string, cpu = '4') =>
  makeNode(name, { cpu, taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] });

describe('Scheduler', () => {
  it('binds a pod and records Scheduled', async () => {
    const h = harness();
    h.nodes(makeNode('n1'), makeNode('n2'));
    h.add(makePod('web', { cpu: '1' }));
    await h.drain();
    const node = h.client.bindings.get('default/web');
    assert.ok(node === 'n1' || node === 'n2');
    assert.deepEqual(
      h.client.events().map((e) => [e.type, e.reason, e.message]),
      [['Normal', 'Scheduled', `Successfully assigned default/web to ${node}`]],
    );
  });

  it('reports the aggregated FitError with preemption not helpful', async () => {
    const h = harness();
    h.nodes(controlPlane('cp'), makeNode('w1', { cpu: '1' }), makeNode('w2', { cpu: '1' }));
    h.add(makePod('big', { cpu: '2' }));
    await h.drain();
    const msg =
      '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.';
    assert.deepEqual(h.failures('big'), [msg]);
    const cond = h.client.calls.find((c) => c.verb === 'condition');
    assert.ok(cond?.verb === 'condition');
    assert.deepEqual(
      {
        type: cond.condition.type,
        status: cond.condition.status,
        reason: cond.condition.reason,
        message: cond.condition.message,
      },
      { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: msg },
    );
    assert.equal(h.sched.queue.location(h.pods.get('big') as Pod), 'unschedulable');
  });

  it('says when no preemption victims exist', async () => {
    const h = harness();
    h.nodes(controlPlane('cp'), makeNode('w1', { cpu: '2' }), makeNode('w2', { cpu: '500m' }));
    h.add(makePod('old', { node: 'w1', cpu: '1500m' }));
    h.add(makePod('p', { cpu: '1' }));
    await h.drain();
    assert.deepEqual(h.failures('p'), [
      '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.',
    ]);
  });

  it('preemptionPolicy Never is not eligible', async () => {
    const h = harness();
    h.nodes(makeNode('n1', { cpu: '1' }));
    h.add(makePod('low', { node: 'n1', cpu: '1', priority: 0 }));
    h.add(makePod('p', { cpu: '1', priority: 100, spec: { preemptionPolicy: 'Never' } }));
    await h.drain();
    assert.deepEqual(h.failures('p'), [
      '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.',
    ]);
    assert.ok(!h.client.calls.some((c) => c.verb === 'delete'));
  });

  it('preempts the minimal set of lowest-priority victims, nominates, then binds', async () => {
    const h = harness();
    h.nodes(makeNode('n1', { cpu: '4' }), makeNode('n2', { cpu: '4' }));
    h.add(
      makePod('a', { node: 'n1', cpu: '1', priority: 1 }),
      makePod('b', { node: 'n1', cpu: '1', priority: 1 }),
      makePod('c', { node: 'n1', cpu: '2', priority: 5 }),
      makePod('d', { node: 'n2', cpu: '2', priority: 10 }),
      makePod('e', { node: 'n2', cpu: '2', priority: 1 }),
    );
    h.add(makePod('vip', { cpu: '2', priority: 100 }));
    await h.drain();
    assert.deepEqual(
      h.client.calls.filter((c) => c.verb === 'delete' || c.verb === 'nominate'),
      [
        { verb: 'delete', pod: 'default/e' },
        { verb: 'nominate', pod: 'default/vip', node: 'n2' },
      ],
    );
    assert.ok(
      h.client
        .events()
        .some((e) => e.pod === 'default/e' && e.reason === 'Preempted' && e.message.endsWith('on node n2')),
    );
    // The victim's deletion is an AssignedPod Delete event: the preemptor retries after its backoff.
    h.clock.advance(1000);
    h.sched.queue.flushBackoffQCompleted();
    await h.drain();
    assert.equal(h.client.bindings.get('default/vip'), 'n2');
  });

  it('avoids victims protected by a PodDisruptionBudget', async () => {
    for (const withPDB of [false, true]) {
      const h = harness();
      h.nodes(makeNode('n1', { cpu: '2' }), makeNode('n2', { cpu: '2' }));
      h.add(
        makePod('x', { node: 'n1', cpu: '2', priority: 1, labels: { app: 'guarded' } }),
        makePod('y', { node: 'n2', cpu: '2', priority: 5 }),
      );
      if (withPDB) {
        const pdb: PodDisruptionBudget = {
          metadata: { name: 'guard', namespace: 'default' },
          spec: { selector: { matchLabels: { app: 'guarded' } } },
          status: { disruptionsAllowed: 0 },
        };
        h.sched.upsertObject('PodDisruptionBudget', pdb, true);
      }
      h.add(makePod('vip', { cpu: '2', priority: 100 }));
      await h.drain();
      const deleted = h.client.calls
        .filter((c) => c.verb === 'delete')
        .map((c) => (c.verb === 'delete' ? c.pod : ''));
      assert.deepEqual(deleted, withPDB ? ['default/y'] : ['default/x'], `withPDB=${withPDB}`);
    }
  });

  it('an unschedulable pod schedules when a node appears', async () => {
    const h = harness();
    h.add(makePod('p', { cpu: '1' }));
    await h.drain();
    assert.deepEqual(h.failures('p'), ['no nodes available to schedule pods']);
    h.nodes(makeNode('late'));
    h.clock.advance(1000);
    h.sched.queue.flushBackoffQCompleted();
    await h.drain();
    assert.equal(h.client.bindings.get('default/p'), 'late');
  });

  it('honours spec.schedulerName: a second profile, and other schedulers ignored', async () => {
    const h = harness({
      config: `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
  - schedulerName: default-scheduler
  - schedulerName: bin-packer
    pluginConfig:
      - name: NodeResourcesFit
        args:
          scoringStrategy:
            type: MostAllocated
`,
    });
    h.nodes(makeNode('busy', { cpu: '4', memory: '8Gi' }), makeNode('idle', { cpu: '4', memory: '8Gi' }));
    h.add(makePod('existing', { node: 'busy', cpu: '2', memory: '4Gi' }));
    h.add(makePod('spread', { cpu: '1', memory: '1Gi' }));
    h.add(makePod('packed', { cpu: '1', memory: '1Gi', schedulerName: 'bin-packer' }));
    h.add(makePod('foreign', { cpu: '1', schedulerName: 'someone-else' }));
    await h.drain();
    assert.equal(h.client.bindings.get('default/spread'), 'idle');
    assert.equal(h.client.bindings.get('default/packed'), 'busy');
    assert.equal(h.client.bindings.has('default/foreign'), false);
    assert.equal(h.sched.queue.location(h.pods.get('foreign') as Pod), undefined);
  });

  it('spreads replicas over zones with a DoNotSchedule constraint', async () => {
    const h = harness();
    for (const z of ['a', 'b', 'c'])
      h.nodes(makeNode(`${z}1`, { labels: { zone: z } }), makeNode(`${z}2`, { labels: { zone: z } }));
    const spec = {
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: 'zone',
          whenUnsatisfiable: 'DoNotSchedule',
          labelSelector: { matchLabels: { app: 'web' } },
        },
      ],
    };
    for (let i = 0; i < 6; i++) h.add(makePod(`web-${i}`, { labels: { app: 'web' }, spec }));
    await h.drain();
    const perZone = new Map<string, number>();
    for (const n of h.client.bindings.values())
      perZone.set(n[0] as string, (perZone.get(n[0] as string) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(perZone), { a: 2, b: 2, c: 2 });
  });

  it('run() schedules asynchronously and stops on abort', async () => {
    const client = new RecordingSchedulerClient();
    const sched = new Scheduler({ client });
    client.onBind = (pod, nodeName) =>
      sched.updatePod(pod, { ...pod, spec: { ...(pod.spec ?? { containers: [] }), nodeName } });
    sched.addNode(makeNode('n1'));
    const ac = new AbortController();
    const done = sched.run(ac.signal);
    for (let i = 0; i < 20; i++) sched.addPod(makePod(`p${i}`, { cpu: '10m' }));
    while (client.bindings.size < 20) await new Promise((r) => setTimeout(r, 1));
    ac.abort();
    await done;
    assert.equal(client.bindings.size, 20);
  });

  it('SchedulingBasic throughput (1,000 nodes, 3,000 pods)', async (t) => {
    const r = await runSchedulingBasic(1000, 3000);
    t.diagnostic(`SchedulingBasic: ${r.podsPerSec} pods/s on ${r.nodes} nodes`);
    assert.equal(r.scheduled, 3000);
  });
});
