import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../registry/object.js';
import { buildTable } from './table.js';

const NOW = new Date('2024-06-01T12:00:00Z');
const ago = (seconds: number): string => new Date(NOW.getTime() - seconds * 1000).toISOString();
const meta = (name: string, seconds = 600) => ({
  name,
  namespace: 'default',
  creationTimestamp: ago(seconds),
});

function row(group: string, plural: string, obj: KObject): unknown[] {
  return buildTable(group, plural, [obj], { includeObject: 'None', now: NOW }).rows[0]?.cells ?? [];
}

function columnNames(group: string, plural: string): string[] {
  return (buildTable(group, plural, [], { includeObject: 'None', now: NOW }).columnDefinitions ?? []).map(
    (c) => `${c.name}${c.priority ? '*' : ''}`,
  );
}

describe('service printers', () => {
  it('services of every type', () => {
    assert.deepEqual(columnNames('', 'services'), [
      'Name',
      'Type',
      'Cluster-IP',
      'External-IP',
      'Port(s)',
      'Age',
      'Selector*',
    ]);
    const svc = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) => ({
      metadata: meta('web'),
      spec: { clusterIP: '10.43.0.15', clusterIPs: ['10.43.0.15'], selector: { app: 'web' }, ...spec },
      status,
    });
    assert.deepEqual(
      row('', 'services', svc({ type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP' }] })),
      ['web', 'ClusterIP', '10.43.0.15', '<none>', '80/TCP', '10m', 'app=web'],
    );
    assert.deepEqual(
      row(
        '',
        'services',
        svc({
          type: 'NodePort',
          ports: [
            { port: 80, nodePort: 30080, protocol: 'TCP' },
            { port: 53, protocol: 'UDP' },
          ],
        }),
      ).slice(1, 5),
      ['NodePort', '10.43.0.15', '<none>', '80:30080/TCP,53/UDP'],
    );
    assert.equal(
      row('', 'services', svc({ type: 'LoadBalancer', ports: [{ port: 443, nodePort: 31443 }] }))[3],
      '<pending>',
    );
    assert.equal(
      row(
        '',
        'services',
        svc(
          { type: 'LoadBalancer' },
          {
            loadBalancer: {
              ingress: [{ ip: '192.168.1.20' }, { hostname: 'lb.example.com' }, { ip: '192.168.1.10' }],
            },
          },
        ),
      )[3],
      '192.168.1.10,192.168.1.20,lb.example.com',
    );
    assert.equal(
      row(
        '',
        'services',
        svc(
          { type: 'LoadBalancer', externalIPs: ['1.2.3.4'] },
          { loadBalancer: { ingress: [{ ip: '5.6.7.8' }] } },
        ),
      )[3],
      '5.6.7.8,1.2.3.4',
    );
    assert.deepEqual(
      row('', 'services', {
        metadata: meta('ext'),
        spec: { type: 'ExternalName', externalName: 'example.com' },
      }).slice(1, 7),
      ['ExternalName', '<none>', 'example.com', '<none>', '10m', '<none>'],
    );
    assert.deepEqual(
      row(
        '',
        'services',
        svc({
          clusterIP: 'None',
          clusterIPs: ['None'],
          type: 'ClusterIP',
          externalIPs: ['1.1.1.1', '2.2.2.2'],
        }),
      ).slice(1, 5),
      ['ClusterIP', 'None', '1.1.1.1,2.2.2.2', '<none>'],
    );
  });

  it('endpoints: host:port pairs, the first three, then a count', () => {
    const ep = {
      metadata: meta('web'),
      subsets: [
        {
          addresses: [{ ip: '10.42.0.5' }, { ip: '10.42.0.6' }],
          ports: [
            { name: 'http', port: 80 },
            { name: 'https', port: 443 },
          ],
        },
      ],
    };
    assert.deepEqual(row('', 'endpoints', ep), [
      'web',
      '10.42.0.5:80,10.42.0.6:80,10.42.0.5:443 + 1 more...',
      '10m',
    ]);
    assert.equal(row('', 'endpoints', { metadata: meta('none') })[1], '<none>');
    assert.equal(
      row('', 'endpoints', {
        metadata: meta('h'),
        subsets: [
          { addresses: [{ ip: 'fd00::1' }], ports: [{ port: 53 }] },
          { addresses: [{ ip: '10.0.0.1' }] },
        ],
      })[1],
      '[fd00::1]:53,10.0.0.1',
    );
  });

  it('endpointslices', () => {
    assert.deepEqual(columnNames('discovery.k8s.io', 'endpointslices'), [
      'Name',
      'AddressType',
      'Ports',
      'Endpoints',
      'Age',
    ]);
    const slice = {
      metadata: meta('web-abc12'),
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'named' }, {}, { port: 9090 }],
      endpoints: [{ addresses: ['10.42.0.5'] }, { addresses: ['10.42.0.6'] }],
    };
    assert.deepEqual(row('discovery.k8s.io', 'endpointslices', slice), [
      'web-abc12',
      'IPv4',
      '80,named,* + 1 more...',
      '10.42.0.5,10.42.0.6',
      '10m',
    ]);
    assert.deepEqual(
      row('discovery.k8s.io', 'endpointslices', { metadata: meta('e'), addressType: 'IPv4' }).slice(2, 4),
      ['<unset>', '<unset>'],
    );
  });

  it('ingresses and ingressclasses', () => {
    assert.deepEqual(columnNames('networking.k8s.io', 'ingresses'), [
      'Name',
      'Class',
      'Hosts',
      'Address',
      'Ports',
      'Age',
    ]);
    const ing = {
      metadata: meta('web'),
      spec: {
        ingressClassName: 'kts',
        rules: [
          { host: 'a.example.com' },
          { host: 'b.example.com' },
          {},
          { host: 'c.example.com' },
          { host: 'd.example.com' },
        ],
        tls: [{ hosts: ['a.example.com'] }],
      },
      status: { loadBalancer: { ingress: [{ ip: '192.168.1.10' }] } },
    };
    assert.deepEqual(row('networking.k8s.io', 'ingresses', ing), [
      'web',
      'kts',
      'a.example.com,b.example.com,c.example.com + 2 more...',
      '192.168.1.10',
      '80, 443',
      '10m',
    ]);
    assert.deepEqual(
      row('networking.k8s.io', 'ingresses', { metadata: meta('any'), spec: { rules: [{}] } }).slice(1, 5),
      ['<none>', '*', '', '80'],
    );
    const ic = {
      metadata: meta('kts'),
      spec: {
        controller: 'kts.dev/ingress',
        parameters: { apiGroup: 'k8s.example.com', kind: 'Params', name: 'p' },
      },
    };
    assert.deepEqual(row('networking.k8s.io', 'ingressclasses', ic), [
      'kts',
      'kts.dev/ingress',
      'Params.k8s.example.com/p',
      '10m',
    ]);
    assert.equal(
      row('networking.k8s.io', 'ingressclasses', { metadata: meta('x'), spec: { controller: 'c' } })[2],
      '<none>',
    );
  });

  it('networkpolicies, servicecidrs, ipaddresses', () => {
    assert.deepEqual(
      row('networking.k8s.io', 'networkpolicies', { metadata: meta('deny'), spec: { podSelector: {} } }),
      ['deny', '<none>', '10m'],
    );
    assert.deepEqual(
      row('networking.k8s.io', 'networkpolicies', {
        metadata: meta('web'),
        spec: { podSelector: { matchLabels: { app: 'web' } } },
      })[1],
      'app=web',
    );
    assert.deepEqual(
      row('networking.k8s.io', 'servicecidrs', {
        metadata: meta('kubernetes'),
        spec: { cidrs: ['10.43.0.0/16', 'fd00::/108'] },
      }),
      ['kubernetes', '10.43.0.0/16,fd00::/108', '10m'],
    );
    assert.deepEqual(
      row('networking.k8s.io', 'ipaddresses', {
        metadata: meta('10.43.0.1'),
        spec: { parentRef: { group: '', resource: 'services', namespace: 'default', name: 'kubernetes' } },
      }),
      ['10.43.0.1', 'services/default/kubernetes'],
    );
  });
});
