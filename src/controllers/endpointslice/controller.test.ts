import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Node, Service } from '../../api/generated/types/core-v1.js';
import type { EndpointSlice } from '../../api/generated/types/discovery-v1.js';
import { ENDPOINTSLICES, NODES, PODS, SERVICES } from '../../client/resources.js';
import { newTestContext, type TestContext, testPod } from '../endpoints/test-context.js';
import { EndpointSliceController } from './controller.js';

const service: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'default', uid: 'uid-svc', labels: { team: 'a' } },
  spec: {
    selector: { app: 'web' },
    ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
  },
};
const node: Node = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'z1' } },
};
const httpPort = [{ name: 'http', containerPort: 8080, protocol: 'TCP' }];

async function slicesOf(t: TestContext): Promise<EndpointSlice[]> {
  return (await t.client.resource(ENDPOINTSLICES).list('default')).items;
}

describe('EndpointSliceController.sync', () => {
  let t: TestContext | undefined;
  afterEach(async () => t?.stop());

  const conditionCases = [
    { name: 'ready pod', pod: { ready: true }, want: { ready: true, serving: true, terminating: false } },
    {
      name: 'not-ready pod',
      pod: { ready: false },
      want: { ready: false, serving: false, terminating: false },
    },
    {
      name: 'terminating ready pod',
      pod: { ready: true, deleting: true },
      want: { ready: false, serving: true, terminating: true },
    },
    {
      name: 'terminating not-ready pod',
      pod: { ready: false, deleting: true },
      want: { ready: false, serving: false, terminating: true },
    },
  ];
  for (const c of conditionCases) {
    it(`conditions: ${c.name}`, async () => {
      t = newTestContext([
        { gvr: SERVICES, object: service },
        { gvr: NODES, object: node },
        { gvr: PODS, object: testPod({ name: 'a', ip: '10.42.0.2', node: 'n1', ports: httpPort, ...c.pod }) },
      ]);
      const ctl = new EndpointSliceController(t.ctx);
      await t.start();
      await ctl.sync('default/web');
      const [slice, ...more] = await slicesOf(t);
      assert.equal(more.length, 0);
      assert.deepEqual(slice?.endpoints?.[0]?.conditions, c.want);
    });
  }

  it('names, labels, owner, zone, named ports; splits at the per-slice limit; placeholder', async () => {
    const pods = Array.from({ length: 5 }, (_, i) =>
      testPod({ name: `p${i}`, ip: `10.42.0.${i + 2}`, node: 'n1', ports: httpPort }),
    );
    t = newTestContext([
      { gvr: SERVICES, object: service },
      { gvr: NODES, object: node },
      ...pods.map((p) => ({ gvr: PODS, object: p })),
    ]);
    const ctl = new EndpointSliceController(t.ctx);
    ctl.maxEndpointsPerSlice = 2;
    await t.start();
    await ctl.sync('default/web');
    let slices = await slicesOf(t);
    assert.equal(slices.length, 3);
    const s = slices[0] as EndpointSlice;
    assert.match(s.metadata?.name ?? '', /^web-[a-z0-9]{5}$/);
    assert.deepEqual(s.metadata?.labels, {
      team: 'a',
      'kubernetes.io/service-name': 'web',
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    });
    assert.equal(s.metadata?.ownerReferences?.[0]?.kind, 'Service');
    assert.equal(s.metadata?.ownerReferences?.[0]?.controller, true);
    assert.equal(s.addressType, 'IPv4');
    assert.deepEqual(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.equal(s.endpoints?.[0]?.zone, 'z1');
    assert.equal(s.endpoints?.[0]?.nodeName, 'n1');
    assert.equal(s.endpoints?.[0]?.targetRef?.kind, 'Pod');
    assert.equal(slices.flatMap((x) => x.endpoints ?? []).length, 5);

    // Steady state: no writes.
    await t.settle();
    t.client.clearActions();
    await ctl.sync('default/web');
    assert.deepEqual(
      t.client.actions().filter((a) => a.verb !== 'get' && a.verb !== 'list' && a.verb !== 'watch'),
      [],
    );

    // All pods gone: one placeholder remains.
    for (const p of pods) await t.client.resource(PODS).delete('default', p.metadata?.name ?? '');
    await t.settle();
    await ctl.sync('default/web');
    slices = await slicesOf(t);
    assert.equal(slices.length, 1);
    assert.equal(slices[0]?.endpoints?.length ?? 0, 0);
  });
});
