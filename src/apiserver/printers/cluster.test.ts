import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../registry/object.js';
import { buildTable } from './table.js';

const NOW = new Date('2024-06-01T12:00:00Z');
const ago = (seconds: number): string => new Date(NOW.getTime() - seconds * 1000).toISOString();
const meta = (name: string, seconds = 600, extra: Record<string, unknown> = {}) => ({
  name,
  creationTimestamp: ago(seconds),
  ...extra,
});

function rows(group: string, plural: string, objs: KObject[]): unknown[][] {
  return buildTable(group, plural, objs, { includeObject: 'None', now: NOW }).rows.map((r) => r.cells);
}
const row = (group: string, plural: string, obj: KObject): unknown[] => rows(group, plural, [obj])[0] ?? [];

function columnNames(group: string, plural: string): string[] {
  return (buildTable(group, plural, [], { includeObject: 'None', now: NOW }).columnDefinitions ?? []).map(
    (c) => `${c.name}${c.priority ? '*' : ''}`,
  );
}

describe('rbac, coordination, scheduling', () => {
  it('rolebindings and clusterrolebindings', () => {
    assert.deepEqual(columnNames('rbac.authorization.k8s.io', 'clusterrolebindings'), [
      'Name',
      'Role',
      'Age',
      'Users*',
      'Groups*',
      'ServiceAccounts*',
    ]);
    const rb = {
      metadata: meta('admins'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
      subjects: [
        { kind: 'User', name: 'alice' },
        { kind: 'User', name: 'bob' },
        { kind: 'Group', name: 'ops' },
        { kind: 'ServiceAccount', name: 'ci', namespace: 'tools' },
      ],
    };
    assert.deepEqual(row('rbac.authorization.k8s.io', 'rolebindings', rb), [
      'admins',
      'ClusterRole/admin',
      '10m',
      'alice, bob',
      'ops',
      'tools/ci',
    ]);
    assert.deepEqual(columnNames('rbac.authorization.k8s.io', 'roles'), ['Name', 'Created At']);
  });

  it('leases', () => {
    const lease = {
      metadata: meta('kube-scheduler'),
      spec: { holderIdentity: 'n1_abc', leaseDurationSeconds: 15 },
    };
    assert.deepEqual(row('coordination.k8s.io', 'leases', lease), ['kube-scheduler', 'n1_abc', '10m']);
    assert.deepEqual(row('coordination.k8s.io', 'leases', { metadata: meta('free'), spec: {} }), [
      'free',
      '',
      '10m',
    ]);
  });

  it('priorityclasses and runtimeclasses', () => {
    assert.deepEqual(columnNames('scheduling.k8s.io', 'priorityclasses'), [
      'Name',
      'Value',
      'Global-Default',
      'Age',
      'PreemptionPolicy*',
    ]);
    assert.deepEqual(
      row('scheduling.k8s.io', 'priorityclasses', {
        metadata: meta('system-node-critical', 86400 * 400),
        value: 2000001000,
        preemptionPolicy: 'PreemptLowerPriority',
      }),
      ['system-node-critical', 2000001000, false, '400d', 'PreemptLowerPriority'],
    );
    assert.deepEqual(row('node.k8s.io', 'runtimeclasses', { metadata: meta('gvisor'), handler: 'runsc' }), [
      'gvisor',
      'runsc',
      '10m',
    ]);
  });
});

describe('API machinery printers', () => {
  it('apiservices', () => {
    const local = {
      metadata: meta('v1.apps'),
      spec: { group: 'apps', version: 'v1' },
      status: { conditions: [{ type: 'Available', status: 'True', reason: 'Local' }] },
    };
    assert.deepEqual(row('apiregistration.k8s.io', 'apiservices', local), [
      'v1.apps',
      'Local',
      'True',
      '10m',
    ]);
    const remote = {
      metadata: meta('v1beta1.metrics.k8s.io'),
      spec: { service: { namespace: 'kube-system', name: 'metrics-server' } },
      status: { conditions: [{ type: 'Available', status: 'False', reason: 'MissingEndpoints' }] },
    };
    assert.deepEqual(row('apiregistration.k8s.io', 'apiservices', remote).slice(1, 3), [
      'kube-system/metrics-server',
      'False (MissingEndpoints)',
    ]);
    assert.equal(
      row('apiregistration.k8s.io', 'apiservices', { metadata: meta('x'), spec: {} })[2],
      'Unknown',
    );
  });

  it('certificatesigningrequests', () => {
    assert.deepEqual(columnNames('certificates.k8s.io', 'certificatesigningrequests'), [
      'Name',
      'Age',
      'SignerName',
      'Requestor',
      'RequestedDuration',
      'Condition',
    ]);
    const csr = {
      metadata: meta('csr-abc'),
      spec: {
        signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
        username: 'system:node:n1',
        expirationSeconds: 86400,
      },
      status: { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'LS0t' },
    };
    assert.deepEqual(row('certificates.k8s.io', 'certificatesigningrequests', csr), [
      'csr-abc',
      '10m',
      'kubernetes.io/kube-apiserver-client-kubelet',
      'system:node:n1',
      '24h',
      'Approved,Issued',
    ]);
    const denied = {
      metadata: meta('d'),
      spec: {},
      status: { conditions: [{ type: 'Approved' }, { type: 'Denied' }, { type: 'Failed' }] },
    };
    assert.deepEqual(row('certificates.k8s.io', 'certificatesigningrequests', denied).slice(2), [
      '<none>',
      '',
      '<none>',
      'Denied,Failed',
    ]);
    assert.equal(
      row('certificates.k8s.io', 'certificatesigningrequests', { metadata: meta('p'), spec: {} })[5],
      'Pending',
    );
  });

  it('webhook configurations and admission policies', () => {
    const hooks = {
      metadata: meta('hooks'),
      webhooks: [{ name: 'a.example.com' }, { name: 'b.example.com' }],
    };
    assert.deepEqual(row('admissionregistration.k8s.io', 'mutatingwebhookconfigurations', hooks), [
      'hooks',
      2,
      '10m',
    ]);
    assert.deepEqual(
      row('admissionregistration.k8s.io', 'validatingwebhookconfigurations', { metadata: meta('none') }),
      ['none', 0, '10m'],
    );
    const vap = {
      metadata: meta('p'),
      spec: { paramKind: { apiVersion: 'v1', kind: 'ConfigMap' }, validations: [{ expression: 'true' }] },
    };
    assert.deepEqual(row('admissionregistration.k8s.io', 'validatingadmissionpolicies', vap), [
      'p',
      1,
      'v1/ConfigMap',
      '10m',
    ]);
    const binding = (paramRef: unknown) => ({ metadata: meta('b'), spec: { policyName: 'p', paramRef } });
    assert.deepEqual(
      row(
        'admissionregistration.k8s.io',
        'validatingadmissionpolicybindings',
        binding({ name: 'cfg', namespace: 'ns' }),
      ),
      ['b', 'p', 'ns/cfg', '10m'],
    );
    assert.equal(
      row('admissionregistration.k8s.io', 'validatingadmissionpolicybindings', binding({ name: 'cfg' }))[2],
      '*/cfg',
    );
    assert.equal(
      row('admissionregistration.k8s.io', 'validatingadmissionpolicybindings', binding(undefined))[2],
      '<unset>',
    );
    assert.equal(
      row(
        'admissionregistration.k8s.io',
        'validatingadmissionpolicybindings',
        binding({ selector: { matchLabels: { b: '2', a: '1' } } }),
      )[2],
      '&LabelSelector{MatchLabels:map[string]string{a: 1,b: 2,},MatchExpressions:[]LabelSelectorRequirement{},}',
    );
  });

  it('flowschemas print in matching order; prioritylevelconfigurations', () => {
    const fs = (name: string, precedence: number, extra: Record<string, unknown> = {}) => ({
      metadata: meta(name),
      spec: {
        priorityLevelConfiguration: { name: 'workload-low' },
        matchingPrecedence: precedence,
        ...extra,
      },
      status: { conditions: [{ type: 'Dangling', status: 'False' }] },
    });
    const out = rows('flowcontrol.apiserver.k8s.io', 'flowschemas', [
      fs('service-accounts', 9000, { distinguisherMethod: { type: 'ByUser' } }),
      fs('exempt', 1),
      fs('b-same', 9000),
    ]);
    assert.deepEqual(out, [
      ['exempt', 'workload-low', 1, '<none>', '10m', 'False'],
      ['b-same', 'workload-low', 9000, '<none>', '10m', 'False'],
      ['service-accounts', 'workload-low', 9000, 'ByUser', '10m', 'False'],
    ]);
    const limited = {
      metadata: meta('workload-low'),
      spec: {
        type: 'Limited',
        limited: {
          nominalConcurrencyShares: 100,
          limitResponse: { type: 'Queue', queuing: { queues: 128, handSize: 6, queueLengthLimit: 50 } },
        },
      },
    };
    assert.deepEqual(row('flowcontrol.apiserver.k8s.io', 'prioritylevelconfigurations', limited), [
      'workload-low',
      'Limited',
      100,
      128,
      6,
      50,
      '10m',
    ]);
    assert.deepEqual(
      row('flowcontrol.apiserver.k8s.io', 'prioritylevelconfigurations', {
        metadata: meta('exempt'),
        spec: { type: 'Exempt', exempt: {} },
      }),
      ['exempt', 'Exempt', '<none>', '<none>', '<none>', '<none>', '10m'],
    );
  });

  it('resource claims state', () => {
    assert.deepEqual(row('resource.k8s.io', 'resourceclaims', { metadata: meta('c'), spec: {} }), [
      'c',
      'pending',
      '10m',
    ]);
    const allocated = {
      metadata: meta('c', 600, { deletionTimestamp: ago(1) }),
      status: { allocation: {}, reservedFor: [{}] },
    };
    assert.equal(row('resource.k8s.io', 'resourceclaims', allocated)[1], 'deleted,allocated,reserved');
  });
});

describe('storage printers', () => {
  it('storageclasses mark the default class', () => {
    assert.deepEqual(columnNames('storage.k8s.io', 'storageclasses'), [
      'Name',
      'Provisioner',
      'ReclaimPolicy',
      'VolumeBindingMode',
      'AllowVolumeExpansion',
      'Age',
    ]);
    const sc = {
      metadata: meta('local-path', 600, {
        annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
      }),
      provisioner: 'rancher.io/local-path',
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
    };
    assert.deepEqual(row('storage.k8s.io', 'storageclasses', sc), [
      'local-path (default)',
      'rancher.io/local-path',
      'Delete',
      'WaitForFirstConsumer',
      false,
      '10m',
    ]);
  });

  it('csidrivers, csinodes, volumeattachments, csistoragecapacities', () => {
    const driver = {
      metadata: meta('csi.example.com'),
      spec: { volumeLifecycleModes: ['Persistent', 'Ephemeral'], tokenRequests: [{ audience: 'vault' }] },
    };
    assert.deepEqual(row('storage.k8s.io', 'csidrivers', driver), [
      'csi.example.com',
      true,
      false,
      false,
      'vault',
      false,
      'Persistent,Ephemeral',
      '10m',
    ]);
    assert.deepEqual(
      row('storage.k8s.io', 'csidrivers', { metadata: meta('d'), spec: { attachRequired: false } }).slice(
        1,
        7,
      ),
      [false, false, false, '<unset>', false, '<none>'],
    );
    assert.deepEqual(
      row('storage.k8s.io', 'csinodes', { metadata: meta('n1'), spec: { drivers: [{ name: 'a' }] } }),
      ['n1', 1, '10m'],
    );
    const va = {
      metadata: meta('csi-123'),
      spec: { attacher: 'csi.example.com', source: { persistentVolumeName: 'pv1' }, nodeName: 'n1' },
      status: { attached: true },
    };
    assert.deepEqual(row('storage.k8s.io', 'volumeattachments', va), [
      'csi-123',
      'csi.example.com',
      'pv1',
      'n1',
      true,
      '10m',
    ]);
    assert.deepEqual(
      row('storage.k8s.io', 'csistoragecapacities', {
        metadata: meta('cap'),
        storageClassName: 'fast',
        capacity: '1024Mi',
      }),
      ['cap', 'fast', '1Gi'],
    );
  });
});

describe('scaling printers', () => {
  it('horizontalpodautoscalers', () => {
    assert.deepEqual(columnNames('autoscaling', 'horizontalpodautoscalers'), [
      'Name',
      'Reference',
      'Targets',
      'MinPods',
      'MaxPods',
      'Replicas',
      'Age',
    ]);
    const hpa = {
      metadata: meta('web'),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 1,
        maxReplicas: 10,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
          },
          {
            type: 'Resource',
            resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '512Mi' } },
          },
          {
            type: 'Pods',
            pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } },
          },
        ],
      },
      status: {
        currentReplicas: 2,
        currentMetrics: [
          { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 35 } } },
        ],
      },
    };
    assert.deepEqual(row('autoscaling', 'horizontalpodautoscalers', hpa), [
      'web',
      'Deployment/web',
      'cpu: 35%/80%, memory: <unknown>/512Mi + 1 more...',
      '1',
      10,
      2,
      '10m',
    ]);
    const v1 = {
      metadata: meta('v1'),
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'web' },
        maxReplicas: 3,
        targetCPUUtilizationPercentage: 50,
      },
      status: { currentReplicas: 1 },
    };
    assert.deepEqual(row('autoscaling', 'horizontalpodautoscalers', v1).slice(2, 6), [
      'cpu: <unknown>/50%',
      '<unset>',
      3,
      1,
    ]);
    const external = {
      metadata: meta('e'),
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'w' },
        maxReplicas: 2,
        metrics: [
          {
            type: 'External',
            external: { metric: { name: 'q' }, target: { type: 'AverageValue', averageValue: '30' } },
          },
        ],
      },
      status: { currentMetrics: [{ type: 'External', external: { current: { averageValue: '1500m' } } }] },
    };
    assert.equal(row('autoscaling', 'horizontalpodautoscalers', external)[2], '1500m/30 (avg)');
  });

  it('poddisruptionbudgets', () => {
    assert.deepEqual(columnNames('policy', 'poddisruptionbudgets'), [
      'Name',
      'Min Available',
      'Max Unavailable',
      'Allowed Disruptions',
      'Age',
    ]);
    assert.deepEqual(
      row('policy', 'poddisruptionbudgets', {
        metadata: meta('pdb'),
        spec: { minAvailable: 2 },
        status: { disruptionsAllowed: 1 },
      }),
      ['pdb', '2', 'N/A', 1, '10m'],
    );
    assert.deepEqual(
      row('policy', 'poddisruptionbudgets', { metadata: meta('pdb'), spec: { maxUnavailable: '25%' } }).slice(
        1,
        4,
      ),
      ['N/A', '25%', 0],
    );
  });
});
