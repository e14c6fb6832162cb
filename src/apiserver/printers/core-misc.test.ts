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

function row(group: string, plural: string, obj: KObject): unknown[] {
  return buildTable(group, plural, [obj], { includeObject: 'None', now: NOW }).rows[0]?.cells ?? [];
}

function columnNames(group: string, plural: string): string[] {
  return (buildTable(group, plural, [], { includeObject: 'None', now: NOW }).columnDefinitions ?? []).map(
    (c) => `${c.name}${c.priority ? '*' : ''}`,
  );
}

describe('node printer', () => {
  const node = (extra: Record<string, unknown> = {}, labels: Record<string, string> = {}) => ({
    metadata: meta('n1', 8 * 86400, { labels: { 'kubernetes.io/hostname': 'n1', ...labels } }),
    spec: {},
    status: {
      conditions: [
        { type: 'MemoryPressure', status: 'False' },
        { type: 'Ready', status: 'True' },
      ],
      addresses: [
        { type: 'Hostname', address: 'n1' },
        { type: 'InternalIP', address: '192.168.1.5' },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.32.4+kts',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        kernelVersion: '6.1.0-18-amd64',
        containerRuntimeVersion: 'containerd://1.7.24',
      },
    },
    ...extra,
  });

  it('prints status, roles, version and the wide cells', () => {
    assert.deepEqual(columnNames('', 'nodes'), [
      'Name',
      'Status',
      'Roles',
      'Age',
      'Version',
      'Internal-IP*',
      'External-IP*',
      'OS-Image*',
      'Kernel-Version*',
      'Container-Runtime*',
    ]);
    assert.deepEqual(
      row(
        '',
        'nodes',
        node({}, { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/master': 'true' }),
      ),
      [
        'n1',
        'Ready',
        'control-plane,master',
        '8d',
        'v1.32.4+kts',
        '192.168.1.5',
        '<none>',
        'Debian GNU/Linux 12 (bookworm)',
        '6.1.0-18-amd64',
        'containerd://1.7.24',
      ],
    );
  });

  it('marks cordoned and unready nodes', () => {
    assert.equal(row('', 'nodes', node({ spec: { unschedulable: true } }))[1], 'Ready,SchedulingDisabled');
    const notReady = node();
    (notReady.status.conditions[1] as { status: string }).status = 'Unknown';
    assert.equal(row('', 'nodes', notReady)[1], 'NotReady');
    assert.deepEqual(row('', 'nodes', { metadata: meta('bare', 5), spec: { unschedulable: true } }), [
      'bare',
      'Unknown,SchedulingDisabled',
      '<none>',
      '5s',
      '',
      '<none>',
      '<none>',
      '<unknown>',
      '<unknown>',
      '<unknown>',
    ]);
    assert.equal(
      row('', 'nodes', node({}, { 'kubernetes.io/role': 'worker', 'node-role.kubernetes.io/': '' }))[2],
      'worker',
    );
  });
});

describe('core printers', () => {
  it('namespaces, configmaps, secrets, serviceaccounts', () => {
    assert.deepEqual(
      row('', 'namespaces', { metadata: meta('default', 86400 * 3), status: { phase: 'Active' } }),
      ['default', 'Active', '3d'],
    );
    assert.deepEqual(
      row('', 'configmaps', { metadata: meta('cfg'), data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }),
      ['cfg', 3, '10m'],
    );
    assert.deepEqual(row('', 'configmaps', { metadata: meta('empty') }), ['empty', 0, '10m']);
    assert.deepEqual(columnNames('', 'secrets'), ['Name', 'Type', 'Data', 'Age']);
    assert.deepEqual(
      row('', 'secrets', {
        metadata: meta('tls'),
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': 'x', 'tls.key': 'y' },
      }),
      ['tls', 'kubernetes.io/tls', 2, '10m'],
    );
    assert.deepEqual(row('', 'serviceaccounts', { metadata: meta('default'), secrets: [{ name: 's' }] }), [
      'default',
      1,
      '10m',
    ]);
    assert.deepEqual(row('', 'serviceaccounts', { metadata: meta('default') }), ['default', 0, '10m']);
  });

  it('events: last seen, object, source, count', () => {
    assert.deepEqual(columnNames('', 'events'), [
      'Last Seen',
      'Type',
      'Reason',
      'Object',
      'Subobject*',
      'Source*',
      'Message',
      'First Seen*',
      'Count*',
      'Name*',
    ]);
    const ev = {
      metadata: meta('web.17d', 600),
      involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', fieldPath: 'spec.containers{web}' },
      reason: 'BackOff',
      message: 'Back-off restarting failed container\n',
      source: { component: 'kubelet', host: 'n1' },
      firstTimestamp: ago(600),
      lastTimestamp: ago(30),
      count: 7,
      type: 'Warning',
    };
    assert.deepEqual(row('', 'events', ev), [
      '30s',
      'Warning',
      'BackOff',
      'pod/web',
      'spec.containers{web}',
      'kubelet, n1',
      'Back-off restarting failed container',
      '10m',
      7,
      'web.17d',
    ]);
    // New-style events: eventTime, reporting controller, series, no count.
    const newStyle = {
      metadata: meta('e2'),
      involvedObject: { kind: 'Node', name: 'n1' },
      reason: 'Starting',
      message: 'Starting kubelet.',
      eventTime: '2024-06-01T11:00:00.000000Z',
      reportingComponent: 'kubelet',
      reportingInstance: 'n1',
      type: 'Normal',
    };
    assert.deepEqual(row('', 'events', newStyle), [
      '60m',
      'Normal',
      'Starting',
      'node/n1',
      '',
      'kubelet, n1',
      'Starting kubelet.',
      '60m',
      1,
      'e2',
    ]);
    const series = { ...newStyle, series: { count: 4, lastObservedTime: ago(90) } };
    assert.deepEqual([row('', 'events', series)[0], row('', 'events', series)[8]], ['90s', 4]);
    const noTimes = {
      metadata: meta('e3'),
      involvedObject: { kind: 'Namespace' },
      source: { component: 'ctrl' },
    };
    assert.deepEqual(row('', 'events', noTimes).slice(0, 6), ['<unknown>', '', '', 'namespace', '', 'ctrl']);
  });

  it('events.k8s.io events print like core ones', () => {
    const ev = {
      metadata: meta('web.17d'),
      regarding: { kind: 'Pod', name: 'web' },
      reason: 'Pulled',
      note: 'Image pulled',
      eventTime: ago(120),
      reportingController: 'kubelet',
      reportingInstance: 'n1',
      deprecatedCount: 2,
      deprecatedFirstTimestamp: ago(300),
      deprecatedLastTimestamp: ago(20),
      type: 'Normal',
    };
    assert.deepEqual(row('events.k8s.io', 'events', ev), [
      '20s',
      'Normal',
      'Pulled',
      'pod/web',
      '',
      'kubelet, n1',
      'Image pulled',
      '5m',
      2,
      'web.17d',
    ]);
  });

  it('resourcequotas (1.32 column order)', () => {
    assert.deepEqual(columnNames('', 'resourcequotas'), ['Name', 'Age', 'Request', 'Limit']);
    const rq = {
      metadata: meta('q'),
      status: {
        hard: {
          pods: '10',
          'requests.cpu': '2',
          'limits.memory': '2Gi',
          'limits.cpu': '4',
          'requests.memory': '1Gi',
        },
        used: { pods: '3', 'requests.cpu': '500m', 'limits.cpu': '1000m' },
      },
    };
    assert.deepEqual(row('', 'resourcequotas', rq), [
      'q',
      '10m',
      'pods: 3/10, requests.cpu: 500m/2, requests.memory: 0/1Gi',
      'limits.cpu: 1/4, limits.memory: 0/2Gi',
    ]);
  });

  it('persistentvolumes and claims', () => {
    assert.deepEqual(columnNames('', 'persistentvolumes'), [
      'Name',
      'Capacity',
      'Access Modes',
      'Reclaim Policy',
      'Status',
      'Claim',
      'StorageClass',
      'VolumeAttributesClass',
      'Reason',
      'Age',
      'VolumeMode*',
    ]);
    const pv = {
      metadata: meta('pv1'),
      spec: {
        capacity: { storage: '10Gi' },
        accessModes: ['ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        claimRef: { namespace: 'default', name: 'data' },
        storageClassName: 'local-path',
        volumeMode: 'Filesystem',
      },
      status: { phase: 'Bound' },
    };
    assert.deepEqual(row('', 'persistentvolumes', pv), [
      'pv1',
      '10Gi',
      'RWO,RWX',
      'Retain',
      'Bound',
      'default/data',
      'local-path',
      '<unset>',
      '',
      '10m',
      'Filesystem',
    ]);
    assert.equal(
      row('', 'persistentvolumes', { ...pv, metadata: meta('pv1', 600, { deletionTimestamp: ago(1) }) })[4],
      'Terminating',
    );
    const pvc = {
      metadata: meta('data'),
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '1Gi' } },
        storageClassName: 'local-path',
        volumeMode: 'Filesystem',
      },
      status: { phase: 'Pending' },
    };
    assert.deepEqual(row('', 'persistentvolumeclaims', pvc), [
      'data',
      'Pending',
      '',
      '',
      '',
      'local-path',
      '<unset>',
      '10m',
      'Filesystem',
    ]);
    const bound = {
      metadata: meta('data', 600, { annotations: { 'volume.beta.kubernetes.io/storage-class': 'old' } }),
      spec: { ...pvc.spec, volumeName: 'pv1' },
      status: { phase: 'Bound', accessModes: ['ReadWriteOncePod'], capacity: { storage: '1Gi' } },
    };
    assert.deepEqual(row('', 'persistentvolumeclaims', bound).slice(1, 6), [
      'Bound',
      'pv1',
      '1Gi',
      'RWOP',
      'old',
    ]);
  });

  it('componentstatuses', () => {
    const cs = {
      metadata: { name: 'etcd-0' },
      conditions: [{ type: 'Healthy', status: 'True', message: 'ok' }],
    };
    assert.deepEqual(row('', 'componentstatuses', cs), ['etcd-0', 'Healthy', 'ok', '']);
    assert.deepEqual(row('', 'componentstatuses', { metadata: { name: 'x' } }), ['x', 'Unknown', '', '']);
  });
});
