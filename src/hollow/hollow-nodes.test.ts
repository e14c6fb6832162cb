import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Lease } from '../api/generated/types/coordination-v1.js';
import type { Node, Pod } from '../api/generated/types/core-v1.js';
import { LEASES, NODES, PODS } from '../client/resources.js';
import { FakeClient } from '../client/testing/fake-client.js';
import { FakeClock } from '../client/testing/fake-clock.js';
import { forEachLimit, type HollowNodes, startHollowNodes } from './hollow-nodes.js';

// Lets promise chains (fake client calls, informer deliveries, workers) run to completion.
async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

function pod(
  name: string,
  node: string,
  opts: { phase?: string; meta?: Pod['metadata']; spec?: Partial<NonNullable<Pod['spec']>> } = {},
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ns', ...opts.meta },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'img:1' }], ...opts.spec },
    status: { phase: opts.phase ?? 'Pending', qosClass: 'BestEffort' },
  };
}

let running: HollowNodes | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(
  fake: FakeClient,
  clock: FakeClock,
  extra: Partial<Parameters<typeof startHollowNodes>[0]> = {},
): Promise<HollowNodes> {
  running = await startHollowNodes({ client: fake, clock, count: 3, zones: 2, ...extra });
  return running;
}

const getPod = (fake: FakeClient, name: string): Pod => fake.tracker.get<Pod>(PODS, 'ns', name);

describe('hollow node engine', () => {
  it('registers nodes with labels, capacity and conditions', async () => {
    const fake = new FakeClient();
    const clock = new FakeClock();
    const h = await start(fake, clock, { cpu: '2', memory: '8Gi', pods: 20 });
    assert.deepEqual(h.nodes, ['hollow-node-0', 'hollow-node-1', 'hollow-node-2']);
    const n = fake.tracker.get<Node>(NODES, '', 'hollow-node-1');
    assert.equal(n.metadata?.labels?.['topology.kubernetes.io/zone'], 'zone-1');
    assert.equal(n.metadata?.labels?.['kubernetes.io/os'], 'linux');
    assert.deepEqual(n.status?.capacity, {
      cpu: '2',
      memory: '8Gi',
      pods: '20',
      'ephemeral-storage': '100Gi',
    });
    assert.equal(n.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(n.status?.nodeInfo?.kubeletVersion, 'v1.32.4-kts');
    const n2 = fake.tracker.get<Node>(NODES, '', 'hollow-node-2');
    assert.equal(n2.metadata?.labels?.['topology.kubernetes.io/zone'], 'zone-0');
    assert.notEqual(n.status?.addresses?.[0]?.address, n2.status?.addresses?.[0]?.address);
  });

  it('takes over nodes left by an earlier run', async () => {
    const fake = new FakeClient([
      { gvr: NODES, object: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'hollow-node-0' } } },
    ]);
    const clock = new FakeClock();
    await start(fake, clock, { count: 1 });
    const n = fake.tracker.get<Node>(NODES, '', 'hollow-node-0');
    assert.equal(n.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  });

  it('starts pods bound to its nodes and ignores others', async () => {
    const fake = new FakeClient();
    const clock = new FakeClock();
    await start(fake, clock);
    await fake.resource(PODS).create('ns', pod('a', 'hollow-node-0'));
    await fake.resource(PODS).create('ns', pod('b', 'hollow-node-0'));
    await fake.resource(PODS).create('ns', pod('other', 'real-node'));
    await fake.resource(PODS).create('ns', pod('host', 'hollow-node-2', { spec: { hostNetwork: true } }));
    await settle();
    const a = getPod(fake, 'a');
    const b = getPod(fake, 'b');
    assert.equal(a.status?.phase, 'Running');
    assert.equal(a.status?.qosClass, 'BestEffort');
    assert.match(a.status?.podIP ?? '', /^10\.42\.0\.\d+$/);
    assert.notEqual(a.status?.podIP, b.status?.podIP);
    assert.equal(getPod(fake, 'other').status?.phase, 'Pending');
    const host = getPod(fake, 'host');
    assert.equal(host.status?.podIP, host.status?.hostIP);
    // One status write per pod: the engine does not act twice on its own write.
    const writes = fake.actions().filter((x) => x.verb === 'patch' && x.resource.resource === 'pods');
    assert.equal(writes.length, 3);
  });

  it('completes run-to-completion pods after the configured delay', async () => {
    const fake = new FakeClient();
    const clock = new FakeClock();
    await start(fake, clock, { jobCompletionDelayMs: 500 });
    const owner = [{ apiVersion: 'batch/v1', kind: 'Job', name: 'j', uid: 'j1', controller: true }];
    await fake
      .resource(PODS)
      .create(
        'ns',
        pod('job', 'hollow-node-1', { meta: { ownerReferences: owner }, spec: { restartPolicy: 'Never' } }),
      );
    await settle();
    assert.equal(getPod(fake, 'job').status?.phase, 'Running');
    await clock.advance(400);
    await settle();
    assert.equal(getPod(fake, 'job').status?.phase, 'Running');
    await clock.advance(150);
    await settle();
    const done = getPod(fake, 'job');
    assert.equal(done.status?.phase, 'Succeeded');
    assert.equal(done.status?.containerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
    assert.equal(done.status?.podIP, getPod(fake, 'job').status?.podIP);
  });

  it('finishes deletions after min(grace, cap)', async () => {
    const fake = new FakeClient();
    const clock = new FakeClock();
    await start(fake, clock, { deletionDelayMs: 1000 });
    const terminating = (name: string, grace: number): Pod =>
      pod(name, 'hollow-node-0', {
        phase: 'Running',
        meta: { deletionTimestamp: '2024-01-02T03:05:00Z', deletionGracePeriodSeconds: grace },
      });
    await fake.resource(PODS).create('ns', terminating('long', 30));
    await fake.resource(PODS).create('ns', terminating('short', 0.2));
    await settle();
    assert.ok(getPod(fake, 'long'));
    await clock.advance(250);
    await settle();
    assert.throws(() => getPod(fake, 'short'), /not found/);
    assert.ok(getPod(fake, 'long'));
    await clock.advance(800);
    await settle();
    assert.throws(() => getPod(fake, 'long'), /not found/);
    const del = fake.actions().find((x) => x.verb === 'delete' && x.name === 'long');
    assert.equal((del?.options as { gracePeriodSeconds?: number } | undefined)?.gracePeriodSeconds, 0);
  });

  it('spreads lease renewals over the interval and renews each node once per interval', async () => {
    const fake = new FakeClient();
    const clock = new FakeClock();
    await start(fake, clock, { count: 100, leaseRenewIntervalMs: 10_000, nodeStatusIntervalMs: 60_000 });
    const leaseWrites = (): number =>
      fake.actions().filter((x) => x.resource.resource === 'leases' && x.verb === 'patch').length;
    const perSecond: number[] = [];
    let last = 0;
    for (let s = 0; s < 20; s++) {
      for (let t = 0; t < 10; t++) {
        await clock.advance(100);
        await settle(3);
      }
      const now = leaseWrites();
      perSecond.push(now - last);
      last = now;
    }
    // 100 nodes over 10 s: about 10 renewals a second, never a burst of all of them.
    assert.ok(
      perSecond.every((n) => n >= 9 && n <= 11),
      perSecond.join(','),
    );
    assert.ok(last === 200 || last === 201, String(last));
    const leases = fake.tracker.list<Lease>(LEASES, 'kube-node-lease', {}).items;
    assert.equal(leases.length, 100);
    assert.equal(leases[0]?.spec?.holderIdentity, leases[0]?.metadata?.name);
  });

  it('re-registers a node someone deleted at its next status post', async () => {
    const fake = new FakeClient();
    const clock = new FakeClock();
    const h = await start(fake, clock, { count: 1, nodeStatusIntervalMs: 1000, leaseRenewIntervalMs: 1000 });
    fake.tracker.delete(NODES, '', 'hollow-node-0');
    for (let i = 0; i < 15; i++) {
      await clock.advance(100);
      await settle(3);
    }
    assert.ok(fake.tracker.get<Node>(NODES, '', 'hollow-node-0'));
    assert.equal(h.stats().reregistrations, 1);
  });

  it('deletes its nodes and leases on close when asked', async () => {
    const fake = new FakeClient();
    const clock = new FakeClock();
    const h = await start(fake, clock, { count: 2, leaseRenewIntervalMs: 100 });
    await clock.advance(200);
    await settle();
    assert.equal(fake.tracker.list(LEASES, 'kube-node-lease', {}).items.length, 2);
    await h.close({ deleteNodes: true });
    assert.equal(fake.tracker.list(NODES, '', {}).items.length, 0);
    assert.equal(fake.tracker.list(LEASES, 'kube-node-lease', {}).items.length, 0);
    const actionsAfter = fake.actions().length;
    await clock.advance(1000);
    await settle();
    assert.equal(fake.actions().length, actionsAfter);
  });
});

describe('forEachLimit', () => {
  it('never runs more than the limit at once', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachLimit([1, 2, 3, 4, 5, 6, 7], 3, async (x) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise<void>((r) => setImmediate(r));
      seen.push(x);
      inFlight--;
    });
    assert.equal(peak, 3);
    assert.deepEqual(seen.sort(), [1, 2, 3, 4, 5, 6, 7]);
  });
});
