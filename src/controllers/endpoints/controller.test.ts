import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Endpoints, Service } from '../../api/generated/types/core-v1.js';
import { ENDPOINTS, PODS, SERVICES } from '../../client/resources.js';
import { computeSubsets, EndpointsController, truncateEndpoints } from './controller.js';
import { newTestContext, type TestContext, testPod } from './test-context.js';

function svc(over: Partial<NonNullable<Service['spec']>> = {}, name = 'web'): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', uid: `uid-svc-${name}`, labels: { team: 'a' } },
    spec: {
      selector: { app: 'web' },
      clusterIP: '10.43.0.5',
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
      ...over,
    },
  };
}

const httpPort = [{ name: 'http', containerPort: 8080, protocol: 'TCP' }];

describe('computeSubsets', () => {
  const cases: Array<{ name: string; service: Service; pods: ReturnType<typeof testPod>[]; want: unknown }> =
    [
      {
        name: 'ready and not-ready pods split, named port resolved per pod',
        service: svc(),
        pods: [
          testPod({ name: 'a', ip: '10.42.0.2', node: 'n1', ports: httpPort }),
          testPod({ name: 'b', ip: '10.42.0.3', node: 'n1', ready: false, ports: httpPort }),
          testPod({ name: 'c', ip: '10.42.0.4', ports: [{ name: 'http', containerPort: 9090 }] }),
        ],
        want: [
          {
            addresses: [
              {
                ip: '10.42.0.2',
                nodeName: 'n1',
                targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' },
              },
            ],
            notReadyAddresses: [
              {
                ip: '10.42.0.3',
                nodeName: 'n1',
                targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' },
              },
            ],
            ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
          },
          {
            addresses: [
              { ip: '10.42.0.4', targetRef: { kind: 'Pod', namespace: 'default', name: 'c', uid: 'uid-c' } },
            ],
            ports: [{ name: 'http', port: 9090, protocol: 'TCP' }],
          },
        ],
      },
      {
        name: 'publishNotReadyAddresses lists every pod as ready',
        service: svc({ publishNotReadyAddresses: true, ports: [{ port: 80, targetPort: 80 }] }),
        pods: [testPod({ name: 'b', ip: '10.42.0.3', ready: false })],
        want: [
          {
            addresses: [
              { ip: '10.42.0.3', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } },
            ],
            ports: [{ port: 80, protocol: 'TCP' }],
          },
        ],
      },
      {
        name: 'terminal, terminating and IP-less pods are skipped; missing named port skipped',
        service: svc(),
        pods: [
          testPod({ name: 'done', ip: '10.42.0.5', phase: 'Succeeded', ports: httpPort }),
          testPod({ name: 'bye', ip: '10.42.0.6', deleting: true, ports: httpPort }),
          testPod({ name: 'noip', ports: httpPort }),
          testPod({ name: 'noport', ip: '10.42.0.7' }),
        ],
        want: [],
      },
      {
        name: 'hostname set when the pod subdomain names the service; headless without ports',
        service: svc({ clusterIP: 'None', ports: [] }),
        pods: [testPod({ name: 'h', ip: '10.42.0.8', hostname: 'h0', subdomain: 'web' })],
        want: [
          {
            addresses: [
              {
                ip: '10.42.0.8',
                hostname: 'h0',
                targetRef: { kind: 'Pod', namespace: 'default', name: 'h', uid: 'uid-h' },
              },
            ],
          },
        ],
      },
    ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(computeSubsets(c.service, c.pods), c.want);
    });
  }

  it('truncates to capacity, not-ready addresses first', () => {
    const addrs = (n: number, base: number) =>
      Array.from({ length: n }, (_, i) => ({
        ip: `10.0.${Math.floor((base + i) / 250)}.${(base + i) % 250}`,
      }));
    const subsets = [{ addresses: addrs(8, 0), notReadyAddresses: addrs(6, 100) }];
    assert.equal(truncateEndpoints(subsets, 10), true);
    assert.equal(subsets[0]?.addresses?.length, 8);
    assert.equal(subsets[0]?.notReadyAddresses?.length, 2);
    assert.equal(truncateEndpoints([{ addresses: addrs(3, 0) }], 10), false);
  });
});

describe('EndpointsController.sync', () => {
  let t: TestContext | undefined;
  afterEach(async () => t?.stop());

  it('creates, updates and deletes Endpoints; leaves selector-less services alone', async () => {
    t = newTestContext([
      { gvr: SERVICES, object: svc() },
      { gvr: SERVICES, object: svc({ selector: undefined }, 'manual') },
      { gvr: PODS, object: testPod({ name: 'a', ip: '10.42.0.2', ports: httpPort }) },
    ]);
    const c = new EndpointsController(t.ctx);
    await t.start();
    await c.sync('default/web');
    await c.sync('default/manual');
    const eps = t.client.resource(ENDPOINTS);
    const ep: Endpoints = await eps.get('default', 'web');
    assert.deepEqual(ep.metadata?.labels, { team: 'a' });
    assert.equal(ep.subsets?.[0]?.addresses?.[0]?.ip, '10.42.0.2');
    assert.match(
      ep.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'] ?? '',
      /^2024-/,
    );
    await assert.rejects(eps.get('default', 'manual'));

    // Pod goes not-ready: the address moves.
    await t.client
      .resource(PODS)
      .update('default', testPod({ name: 'a', ip: '10.42.0.2', ready: false, ports: httpPort }));
    await t.settle();
    await c.sync('default/web');
    const ep2 = await eps.get('default', 'web');
    assert.equal(ep2.subsets?.[0]?.addresses, undefined);
    assert.equal(ep2.subsets?.[0]?.notReadyAddresses?.[0]?.ip, '10.42.0.2');

    // A second sync with nothing changed writes nothing.
    await t.settle();
    t.client.clearActions();
    await c.sync('default/web');
    assert.equal(t.client.actions().filter((a) => a.verb === 'update' || a.verb === 'create').length, 0);

    // Service deleted: endpoints deleted.
    await t.client.resource(SERVICES).delete('default', 'web');
    await t.settle();
    await c.sync('default/web');
    await assert.rejects(eps.get('default', 'web'));
  });
});
