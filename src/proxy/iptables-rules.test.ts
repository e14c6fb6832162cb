// Golden tests of the generated iptables-restore payload for representative Services.
// The expected files live in testdata/; regenerate with KTS_UPDATE_GOLDEN=1 and review the
// diff like code.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Service } from '../api/generated/types/core-v1.js';
import type { EndpointSlice } from '../api/generated/types/discovery-v1.js';
import type { Iptables } from './iptables.js';
import {
  assembleTables,
  cidrContains,
  masqueradeMark,
  renderRestore,
  servicePortRules,
} from './iptables-rules.js';
import { chainHash, endpointsForServicePort, servicePortsFromService } from './model.js';
import { Proxier } from './proxier.js';
import { makeEndpointSlice, makeService } from './testing.js';

const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const UPDATE = process.env.KTS_UPDATE_GOLDEN === '1';

/** An Iptables that records payloads and reports an empty kernel. */
function recorder(): Iptables & { payloads: string[] } {
  const payloads: string[] = [];
  return {
    payloads,
    restore: async (p) => {
      payloads.push(p);
    },
    save: async () => '',
  };
}

async function render(services: Service[], slices: EndpointSlice[]): Promise<string> {
  const ipt = recorder();
  const p = new Proxier({ iptables: ipt, nodeName: 'node-a', clusterCIDR: '10.42.0.0/16' });
  for (const s of services) p.onServiceUpsert(s);
  for (const s of slices) p.onEndpointSliceUpsert(s);
  const r = await p.syncNow();
  assert.ok(r?.full);
  return ipt.payloads.join('');
}

const three = ['10.42.0.2', '10.42.0.3', '10.42.1.4'];

const cases: Array<{ name: string; services: Service[]; slices: EndpointSlice[] }> = [
  {
    name: 'clusterip-3-endpoints',
    services: [makeService('ns1', 'web', { clusterIP: '10.43.0.10' })],
    slices: [makeEndpointSlice('ns1', 'web', three)],
  },
  {
    name: 'nodeport',
    services: [
      makeService('ns1', 'np', {
        type: 'NodePort',
        clusterIP: '10.43.0.20',
        ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }],
        externalIPs: ['192.0.2.7'],
      }),
    ],
    slices: [makeEndpointSlice('ns1', 'np', ['10.42.0.2', '10.42.1.4'])],
  },
  {
    name: 'headless',
    services: [makeService('ns1', 'hl', { clusterIP: 'None' })],
    slices: [makeEndpointSlice('ns1', 'hl', three)],
  },
  {
    name: 'externalname',
    services: [makeService('ns1', 'ext', { type: 'ExternalName', externalName: 'example.com' })],
    slices: [],
  },
  {
    name: 'clientip-affinity',
    services: [makeService('ns1', 'sticky', { clusterIP: '10.43.0.30', sessionAffinity: 'ClientIP' })],
    slices: [makeEndpointSlice('ns1', 'sticky', ['10.42.0.2', '10.42.0.3'])],
  },
  {
    name: 'external-traffic-policy-local',
    services: [
      makeService('ns1', 'lb', {
        type: 'LoadBalancer',
        clusterIP: '10.43.0.40',
        ports: [{ name: 'http', port: 80, nodePort: 30081, protocol: 'TCP' }],
        externalTrafficPolicy: 'Local',
        loadBalancerIngressIPs: ['192.0.2.50'],
      }),
      // No endpoint on this node: external traffic is dropped, internal still served.
      makeService('ns1', 'remote', {
        type: 'NodePort',
        clusterIP: '10.43.0.41',
        ports: [{ name: '', port: 53, nodePort: 30053, protocol: 'UDP' }],
        externalTrafficPolicy: 'Local',
      }),
    ],
    slices: [
      makeEndpointSlice('ns1', 'lb', [
        { ip: '10.42.0.2', nodeName: 'node-a' },
        { ip: '10.42.1.4', nodeName: 'node-b' },
      ]),
      makeEndpointSlice('ns1', 'remote', [{ ip: '10.42.1.5', nodeName: 'node-b' }], {
        port: 53,
        protocol: 'UDP',
      }),
    ],
  },
  {
    name: 'no-endpoints',
    services: [
      makeService('ns1', 'empty', {
        type: 'NodePort',
        clusterIP: '10.43.0.50',
        ports: [{ name: 'http', port: 80, nodePort: 30090, protocol: 'TCP' }],
      }),
    ],
    slices: [makeEndpointSlice('ns1', 'empty', [{ ip: '10.42.0.9', ready: false }])],
  },
];

describe('iptables rules (golden)', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const got = await render(c.services, c.slices);
      const file = join(TESTDATA, `${c.name}.rules`);
      if (UPDATE) writeFileSync(file, got);
      assert.equal(got, readFileSync(file, 'utf8'));
    });
  }

  it('headless and ExternalName services produce no service rules', async () => {
    for (const name of ['headless', 'externalname']) {
      const c = cases.find((x) => x.name === name);
      assert.ok(c);
      const got = await render(c.services, c.slices);
      assert.equal(got, await render([], []));
      assert.doesNotMatch(got, /KTS-(SVC|SEP|EXT)-/);
    }
  });
});

describe('iptables rules (details)', () => {
  it('hashes chain names as upstream (base32 of sha256, 16 chars)', () => {
    // Upstream's golden value for servicePortChainName("ns1/svc1:p80", "tcp").
    assert.equal(chainHash('ns1/svc1:p80tcp'), 'XPGD46QRK7WJZT7O');
  });

  it('falls back to serving terminating endpoints when none is ready', () => {
    const svc = makeService('ns', 's', { clusterIP: '10.43.0.9' });
    const slice = makeEndpointSlice('ns', 's', [
      { ip: '10.42.0.5', ready: false, serving: true, terminating: true },
      { ip: '10.42.0.6', ready: false, serving: false, terminating: true },
    ]);
    const [info] = servicePortsFromService(svc);
    assert.ok(info);
    const eps = endpointsForServicePort(info, [slice], 'n');
    const r = servicePortRules(info, eps, { masqueradeBit: 13 });
    const dnat = r.natChains.flatMap(([, l]) => l).filter((l) => l.includes('DNAT'));
    assert.deepEqual(
      dnat.map((l) => l.split('--to-destination ')[1]),
      ['10.42.0.5:8080'],
    );
  });

  it('internalTrafficPolicy Local drops cluster IP traffic without local endpoints', () => {
    const svc = makeService('ns', 's', { clusterIP: '10.43.0.9', internalTrafficPolicy: 'Local' });
    const [info] = servicePortsFromService(svc);
    assert.ok(info);
    const eps = endpointsForServicePort(
      info,
      [makeEndpointSlice('ns', 's', [{ ip: '10.42.1.1', nodeName: 'b' }])],
      'a',
    );
    const r = servicePortRules(info, eps, { masqueradeBit: 13 });
    assert.deepEqual(r.natServices, []);
    assert.equal(r.filterServices.length, 1);
    assert.match(r.filterServices[0] ?? '', /"ns\/s:http has no local endpoints" .* -j DROP$/);
  });

  it('partial render writes only changed chains and deletes vanished ones last', () => {
    const cfg = { masqueradeBit: 13, clusterCIDR: '10.42.0.0/16' };
    const svc = makeService('ns', 's', { clusterIP: '10.43.0.9' });
    const [info] = servicePortsFromService(svc);
    assert.ok(info);
    const before = assembleTables(
      [
        servicePortRules(
          info,
          endpointsForServicePort(info, [makeEndpointSlice('ns', 's', three)], 'a'),
          cfg,
        ),
      ],
      cfg,
    );
    const after = assembleTables(
      [
        servicePortRules(
          info,
          endpointsForServicePort(info, [makeEndpointSlice('ns', 's', ['10.42.0.2'])], 'a'),
          cfg,
        ),
      ],
      cfg,
    );
    const r = renderRestore(after, { full: false, previous: before });
    assert.equal(r.rewritten, 1);
    assert.equal(r.deleted, 2);
    const lines = r.payload.trim().split('\n');
    assert.equal(lines[0], '*nat');
    assert.deepEqual(lines.slice(-3).slice(0, 2), [
      `-X ${[...before.nat.keys()].find((c) => c.startsWith('KTS-SEP-') && !after.nat.has(c))}`,
      lines.at(-2),
    ]);
    assert.equal(lines.at(-1), 'COMMIT');
    assert.equal(renderRestore(after, { full: false, previous: after }).payload, '');
  });

  it('masquerade mark and CIDR helpers', () => {
    assert.equal(masqueradeMark(13), '0x2000');
    assert.equal(masqueradeMark(14), '0x4000');
    assert.equal(cidrContains('10.42.0.0/16', '10.42.7.1'), true);
    assert.equal(cidrContains('10.42.0.0/16', '10.43.0.1'), false);
    assert.equal(cidrContains('0.0.0.0/0', '8.8.8.8'), true);
  });
});
