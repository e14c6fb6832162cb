import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Pod, ResourceQuota } from '../../api/generated/types/core-v1.js';
import { CONFIGMAPS, PODS, SERVICES } from '../../client/resources.js';
import { newTestContext, type TestContext, testPod } from '../endpoints/test-context.js';
import { RESOURCEQUOTAS, ResourceQuotaController } from './controller.js';
import { computeUsage } from './usage.js';

function withResources(
  p: Pod,
  requests: Record<string, string>,
  limits: Record<string, string>,
  deadline?: number,
): Pod {
  const c = p.spec?.containers[0];
  if (c) c.resources = { requests, limits };
  if (deadline !== undefined && p.spec) p.spec.activeDeadlineSeconds = deadline;
  return p;
}

const pods = [
  withResources(testPod({ name: 'a' }), { cpu: '100m', memory: '64Mi' }, { cpu: '200m', memory: '128Mi' }),
  withResources(testPod({ name: 'b' }), { cpu: '250m', memory: '64Mi' }, { cpu: '500m' }, 30),
  testPod({ name: 'be' }),
  withResources(testPod({ name: 'done', phase: 'Succeeded' }), { cpu: '1' }, {}),
];
const objs = {
  pods,
  services: [
    {
      metadata: { name: 's1' },
      spec: {
        type: 'NodePort',
        ports: [
          { port: 80, nodePort: 30000 },
          { port: 81, nodePort: 30001 },
        ],
      },
    },
    { metadata: { name: 's2' }, spec: { type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30002 }] } },
    { metadata: { name: 's3' }, spec: { type: 'ClusterIP', ports: [{ port: 80 }] } },
  ],
  pvcs: [],
  counts: new Map([
    ['services', 3],
    ['configmaps', 2],
  ]),
};

describe('computeUsage', () => {
  const hardAll = {
    pods: '10',
    'requests.cpu': '4',
    'requests.memory': '1Gi',
    'limits.cpu': '4',
    'limits.memory': '1Gi',
    cpu: '4',
    services: '10',
    'services.nodeports': '5',
    'services.loadbalancers': '1',
    configmaps: '10',
    'count/configmaps': '10',
  };
  const cases: Array<{
    name: string;
    scopes: Array<{ scopeName: string; operator: string }>;
    want: Record<string, string>;
  }> = [
    {
      name: 'no scopes',
      scopes: [],
      want: {
        pods: '3',
        'requests.cpu': '350m',
        'requests.memory': '128Mi',
        'limits.cpu': '700m',
        'limits.memory': '128Mi',
        cpu: '350m',
        services: '3',
        'services.nodeports': '3',
        'services.loadbalancers': '1',
        configmaps: '2',
        'count/configmaps': '2',
      },
    },
    {
      name: 'BestEffort scope counts only pods',
      scopes: [{ scopeName: 'BestEffort', operator: 'Exists' }],
      want: {
        pods: '1',
        'requests.cpu': '0',
        'requests.memory': '0',
        'limits.cpu': '0',
        'limits.memory': '0',
        cpu: '0',
      },
    },
    {
      name: 'Terminating scope',
      scopes: [{ scopeName: 'Terminating', operator: 'Exists' }],
      want: {
        pods: '1',
        'requests.cpu': '250m',
        'requests.memory': '64Mi',
        'limits.cpu': '500m',
        'limits.memory': '0',
        cpu: '250m',
      },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(computeUsage(hardAll, c.scopes, objs), c.want));
});

describe('ResourceQuotaController.sync', () => {
  let t: TestContext | undefined;
  afterEach(async () => t?.stop());

  it('writes hard and used, and follows pod changes', async () => {
    const quota: ResourceQuota = {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'q', namespace: 'default' },
      spec: { hard: { pods: '5', configmaps: '3', 'count/services': '2' } },
    };
    t = newTestContext([
      { gvr: RESOURCEQUOTAS, object: quota },
      { gvr: PODS, object: testPod({ name: 'a' }) },
      {
        gvr: CONFIGMAPS,
        object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' } },
      },
      {
        gvr: SERVICES,
        object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' } },
      },
    ]);
    const c = new ResourceQuotaController(t.ctx);
    await t.start();
    await c.sync('default/q');
    let got = await t.client.resource(RESOURCEQUOTAS).get('default', 'q');
    assert.deepEqual(got.status, {
      hard: quota.spec?.hard,
      used: { pods: '1', configmaps: '1', 'count/services': '1' },
    });
    await t.client.resource(PODS).create('default', testPod({ name: 'b' }));
    await t.settle();
    assert.ok(c.queue.len() >= 1);
    await c.sync('default/q');
    got = await t.client.resource(RESOURCEQUOTAS).get('default', 'q');
    assert.equal(got.status?.used?.pods, '2');
  });
});
