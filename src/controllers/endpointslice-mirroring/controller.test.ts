import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Endpoints, Service } from '../../api/generated/types/core-v1.js';
import { ENDPOINTS, ENDPOINTSLICES, SERVICES } from '../../client/resources.js';
import { newTestContext, type TestContext } from '../endpoints/test-context.js';
import { EndpointSliceMirroringController } from './controller.js';

const svc = (selector?: Record<string, string>): Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'ext', namespace: 'default' },
  spec: { ports: [{ port: 80 }], ...(selector ? { selector } : {}) },
});
const eps = (labels: Record<string, string> = {}): Endpoints => ({
  apiVersion: 'v1',
  kind: 'Endpoints',
  metadata: { name: 'ext', namespace: 'default', labels },
  subsets: [
    {
      addresses: [{ ip: '192.168.1.10' }],
      notReadyAddresses: [{ ip: '192.168.1.11' }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    },
  ],
});

describe('EndpointSliceMirroringController.sync', () => {
  let t: TestContext | undefined;
  afterEach(async () => t?.stop());

  const cases = [
    { name: 'mirrors selector-less Endpoints', service: svc(), endpoints: eps({ a: 'b' }), want: 1 },
    { name: 'skips services with a selector', service: svc({ app: 'x' }), endpoints: eps(), want: 0 },
    {
      name: 'honours skip-mirror',
      service: svc(),
      endpoints: eps({ 'endpointslice.kubernetes.io/skip-mirror': 'true' }),
      want: 0,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      t = newTestContext([
        { gvr: SERVICES, object: c.service },
        { gvr: ENDPOINTS, object: c.endpoints },
      ]);
      const ctl = new EndpointSliceMirroringController(t.ctx);
      await t.start();
      await ctl.sync('default/ext');
      const slices = (await t.client.resource(ENDPOINTSLICES).list('default')).items;
      assert.equal(slices.length, c.want);
      if (c.want === 0) return;
      const s = slices[0];
      assert.equal(
        s?.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'],
        'endpointslicemirroring-controller.k8s.io',
      );
      assert.equal(s?.metadata?.labels?.['kubernetes.io/service-name'], 'ext');
      assert.equal(s?.metadata?.labels?.a, 'b');
      assert.deepEqual(s?.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
      assert.deepEqual(
        s?.endpoints?.map((e) => [e.addresses[0], e.conditions?.ready]),
        [
          ['192.168.1.10', true],
          ['192.168.1.11', false],
        ],
      );
      // Endpoints labelled skip-mirror afterwards: the slice goes.
      await t.client
        .resource(ENDPOINTS)
        .update('default', eps({ 'endpointslice.kubernetes.io/skip-mirror': 'true' }));
      await t.settle();
      await ctl.sync('default/ext');
      assert.equal((await t.client.resource(ENDPOINTSLICES).list('default')).items.length, 0);
    });
  }
});
