import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Node, Pod, Taint } from '../../api/generated/types/core-v1.js';
import type { Lease } from '../../api/generated/types/coordination-v1.js';
import { LEASES, NODES, PODS } from '../../client/resources.js';
import { newTestContext, type TestContext, testPod } from '../endpoints/test-context.js';
import { NodeLifecycleController } from './controller.js';
import { TaintEvictionController } from './taint-eviction.js';
import { desiredTaints, minTolerationMs, toleratesTaint } from './taints.js';

const readyNode = (name: string, status = 'True', taints?: Taint[]): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name },
  spec: taints ? { taints } : {},
  status: {
    conditions: [
      {
        type: 'Ready',
        status,
        reason: 'KubeletReady',
        lastHeartbeatTime: '2024-01-02T03:00:00Z',
        lastTransitionTime: '2024-01-02T03:00:00Z',
      },
      { type: 'MemoryPressure', status: 'False', lastHeartbeatTime: '2024-01-02T03:00:00Z' },
    ],
  },
});
const lease = (name: string, renewTime: string): Lease => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name, namespace: 'kube-node-lease' },
  spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime },
});

describe('taints', () => {
  const cases = [
    { name: 'ready', node: readyNode('n'), want: [] },
    {
      name: 'not ready',
      node: readyNode('n', 'False'),
      want: [
        { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' },
      ],
    },
    {
      name: 'unknown',
      node: readyNode('n', 'Unknown'),
      want: [
        { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
      ],
    },
  ];
  for (const c of cases)
    it(`desired taints: ${c.name}`, () => assert.deepEqual(desiredTaints(c.node), c.want));

  it('toleration matching and min toleration time', () => {
    const taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
    assert.equal(toleratesTaint({ operator: 'Exists' }, taint), true);
    assert.equal(toleratesTaint({ key: 'other', operator: 'Exists' }, taint), false);
    assert.equal(toleratesTaint({ key: taint.key, operator: 'Exists', effect: 'NoSchedule' }, taint), false);
    const pod = (tolerationSeconds?: number): Pod => ({
      metadata: {},
      spec: {
        containers: [],
        tolerations: [
          {
            key: taint.key,
            operator: 'Exists',
            effect: 'NoExecute',
            ...(tolerationSeconds !== undefined ? { tolerationSeconds } : {}),
          },
        ],
      },
    });
    assert.equal(minTolerationMs(pod(300), [taint]), 300_000);
    assert.equal(minTolerationMs(pod(), [taint]), Number.POSITIVE_INFINITY);
    assert.equal(minTolerationMs({ metadata: {}, spec: { containers: [] } }, [taint]), 0);
  });
});

describe('NodeLifecycleController', () => {
  let t: TestContext | undefined;
  afterEach(async () => t?.stop());

  it('marks a node Unknown and taints it once its lease stops, untaints on recovery', async () => {
    t = newTestContext(
      [
        { gvr: NODES, object: readyNode('n1') },
        { gvr: LEASES, object: lease('n1', '2024-01-02T03:00:00.000000Z') },
        { gvr: PODS, object: testPod({ name: 'p', ip: '10.42.0.2', node: 'n1' }) },
      ],
      { nodeMonitorGracePeriodMs: 40_000 },
    );
    const c = new NodeLifecycleController(t.ctx);
    await t.start();
    await c.monitorNodeHealth();
    // Lease renewed within the grace period: still healthy.
    t.clock.step(30_000);
    await t.client.resource(LEASES).update('kube-node-lease', lease('n1', '2024-01-02T03:00:30.000000Z'));
    await t.settle();
    await c.monitorNodeHealth();
    t.clock.step(30_000);
    await c.monitorNodeHealth();
    let node = await t.client.resource(NODES).get('', 'n1');
    assert.equal(node.status?.conditions?.[0]?.status, 'True');
    assert.equal(node.spec?.taints, undefined);

    t.clock.step(11_000);
    await c.monitorNodeHealth();
    node = await t.client.resource(NODES).get('', 'n1');
    const ready = node.status?.conditions?.find((x) => x.type === 'Ready');
    assert.equal(ready?.status, 'Unknown');
    assert.equal(ready?.reason, 'NodeStatusUnknown');
    assert.equal(ready?.message, 'Kubelet stopped posting node status.');
    assert.equal(node.status?.conditions?.find((x) => x.type === 'MemoryPressure')?.status, 'Unknown');
    assert.equal(
      node.status?.conditions?.find((x) => x.type === 'DiskPressure')?.reason,
      'NodeStatusNeverUpdated',
    );
    assert.deepEqual(
      node.spec?.taints?.map((x) => `${x.key}:${x.effect}`),
      ['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute'],
    );
    assert.ok(node.spec?.taints?.[1]?.timeAdded);
    await t.settle();
    await c.monitorNodeHealth();
    const pod = await t.client.resource(PODS).get('default', 'p');
    assert.equal(pod.status?.conditions?.find((x) => x.type === 'Ready')?.status, 'False');

    // The kubelet comes back.
    const back = readyNode('n1');
    for (const cond of back.status?.conditions ?? []) cond.lastHeartbeatTime = '2024-01-02T03:06:00Z';
    await t.client.resource(NODES).updateStatus('', { ...node, status: back.status ?? {} });
    await t.settle();
    await c.monitorNodeHealth();
    node = await t.client.resource(NODES).get('', 'n1');
    assert.equal(node.spec?.taints, undefined);
  });
});

describe('NodeLifecycleController node events', () => {
  let t: TestContext | undefined;
  afterEach(async () => t?.stop());

  it('announces a node once when first tracked, and its removal', async () => {
    t = newTestContext([{ gvr: NODES, object: { ...readyNode('n1'), metadata: { name: 'n1', uid: 'u1' } } }]);
    const recorded: string[] = [];
    t.ctx.recorder = () => ({
      event(obj, type, reason, message) {
        const ref = obj as { kind?: string; name?: string; uid?: string };
        recorded.push(`${ref.kind}/${ref.name}/${ref.uid} ${type} ${reason}: ${message}`);
      },
      annotatedEvent() {},
    });
    const c = new NodeLifecycleController(t.ctx);
    await t.start();
    await c.monitorNodeHealth();
    await c.monitorNodeHealth();
    await t.client.resource(NODES).delete('', 'n1');
    await t.settle();
    assert.deepEqual(recorded, [
      'Node/n1/u1 Normal RegisteredNode: Node n1 event: Registered Node n1 in Controller',
      'Node/n1/u1 Normal RemovingNode: Node n1 event: Removing Node n1 from Controller',
    ]);
  });
});

describe('NodeLifecycleController startup grace period', () => {
  let t: TestContext | undefined;
  afterEach(async () => t?.stop());

  it('gives a node that never posted Ready the startup grace period from its creation', async () => {
    // Created 10 s before the controller first sees it (the fake clock starts at 03:04:05).
    const node: Node = { metadata: { name: 'new', creationTimestamp: '2024-01-02T03:03:55Z' } };
    t = newTestContext([{ gvr: NODES, object: node }], {
      nodeMonitorGracePeriodMs: 40_000,
      nodeStartupGracePeriodMs: 60_000,
    });
    const c = new NodeLifecycleController(t.ctx);
    await t.start();
    await c.monitorNodeHealth();
    t.clock.step(45_000);
    await c.monitorNodeHealth();
    let cur = await t.client.resource(NODES).get('', 'new');
    assert.equal(cur.status?.conditions, undefined, 'past the monitor grace period, within the startup one');
    t.clock.step(6_000);
    await c.monitorNodeHealth();
    cur = await t.client.resource(NODES).get('', 'new');
    const ready = cur.status?.conditions?.find((x) => x.type === 'Ready');
    assert.equal(ready?.status, 'Unknown');
    assert.equal(ready?.reason, 'NodeStatusNeverUpdated');
    assert.equal(ready?.message, 'Kubelet never posted node status.');
  });
});

describe('TaintEvictionController', () => {
  let t: TestContext | undefined;
  afterEach(async () => t?.stop());

  it('evicts intolerant pods now and tolerating pods after tolerationSeconds', async () => {
    const taints = [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }];
    const tolerant = testPod({ name: 'tolerant', ip: '10.42.0.3', node: 'n1' });
    if (tolerant.spec) {
      tolerant.spec.tolerations = [
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ];
    }
    const forever = testPod({ name: 'forever', ip: '10.42.0.4', node: 'n1' });
    if (forever.spec) forever.spec.tolerations = [{ operator: 'Exists' }];
    t = newTestContext([
      { gvr: NODES, object: readyNode('n1', 'Unknown', taints) },
      { gvr: PODS, object: testPod({ name: 'plain', ip: '10.42.0.2', node: 'n1' }) },
      { gvr: PODS, object: tolerant },
      { gvr: PODS, object: forever },
    ]);
    const c = new TaintEvictionController(t.ctx);
    await t.start();
    for (const p of ['plain', 'tolerant', 'forever']) await c.sync(`default/${p}`);
    const pods = t.client.resource(PODS);
    await assert.rejects(pods.get('default', 'plain'));
    assert.deepEqual(c.pendingEvictions(), ['default/tolerant']);
    t.clock.step(299_000);
    await c.sync('default/tolerant');
    assert.ok(await pods.get('default', 'tolerant'));
    t.clock.step(1_000);
    await c.sync('default/tolerant');
    await assert.rejects(pods.get('default', 'tolerant'));
    assert.ok(await pods.get('default', 'forever'));
  });
});

describe('NodeLifecycleController NoSchedule tainting on node events', () => {
  let t: TestContext | undefined;
  afterEach(async () => t?.stop());

  it('drops the not-ready NoSchedule taint as soon as the node reports Ready, before the next pass', async () => {
    t = newTestContext([{ gvr: NODES, object: readyNode('n1', 'False') }], {
      nodeMonitorGracePeriodMs: 40_000,
    });
    const c = new NodeLifecycleController(t.ctx);
    await t.start();
    const ac = new AbortController();
    const running = c.run(ac.signal);
    let node = await t.client.resource(NODES).get('', 'n1');
    for (let i = 0; i < 50 && (node.spec?.taints ?? []).length < 2; i++) {
      await t.settle();
      node = await t.client.resource(NODES).get('', 'n1');
    }
    assert.deepEqual(
      node.spec?.taints?.map((x) => `${x.key}:${x.effect}`),
      ['node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute'],
    );
    // The kubelet reports Ready; the fake clock does not move, so no monitor pass runs.
    await t.client.resource(NODES).updateStatus('', { ...node, status: readyNode('n1').status ?? {} });
    for (let i = 0; i < 50 && (node.spec?.taints ?? []).length !== 1; i++) {
      await t.settle();
      node = await t.client.resource(NODES).get('', 'n1');
    }
    // NoExecute taints stay with the monitor pass, as upstream.
    assert.deepEqual(
      node.spec?.taints?.map((x) => `${x.key}:${x.effect}`),
      ['node.kubernetes.io/not-ready:NoExecute'],
    );
    ac.abort();
    await running.catch(() => {});
  });
});
