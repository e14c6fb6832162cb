// Golden tests of the generated nftables transactions (testdata/nft-*.nft; regenerate with
// KTS_UPDATE_GOLDEN=1 and review the diff like code), plus the partial-sync diff and the
// engine's full/partial/failure cycle against a recording fake `nft`.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Service } from '../api/generated/types/core-v1.js';
import type { EndpointSlice } from '../api/generated/types/discovery-v1.js';
import { DEFAULT_MASQUERADE_BIT, type RuleConfig } from './iptables-rules.js';
import { endpointsForServicePort, servicePortsFromService } from './model.js';
import { type Nft, NftablesEngine } from './nftables.js';
import { nftServicePortRules, renderNftFull, renderNftPartial } from './nftables-rules.js';
import { Proxier } from './proxier.js';
import { makeEndpointSlice, makeService } from './testing.js';

const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const UPDATE = process.env.KTS_UPDATE_GOLDEN === '1';
const CFG: RuleConfig = {
  masqueradeBit: DEFAULT_MASQUERADE_BIT,
  clusterCIDR: '10.42.0.0/16',
  nodeIPs: ['192.0.2.1'],
};

/** A fake nft that records scripts; `fail` makes the next apply throw. */
function recorder(): Nft & { scripts: string[]; fail: boolean } {
  const r = {
    scripts: [] as string[],
    fail: false,
    apply: async (s: string) => {
      if (r.fail) {
        r.fail = false;
        throw new Error('nft: Error: Could not process rule');
      }
      r.scripts.push(s);
    },
    hasTable: async () => r.scripts.length > 0,
  };
  return r;
}

function rulesOf(services: Service[], slices: EndpointSlice[]) {
  return services.flatMap((svc) =>
    servicePortsFromService(svc).map((info) => {
      const own = slices.filter(
        (s) => s.metadata?.labels?.['kubernetes.io/service-name'] === svc.metadata?.name,
      );
      return nftServicePortRules(info, endpointsForServicePort(info, own, 'node-a'), CFG);
    }),
  );
}

const two = ['10.42.0.2', '10.42.0.3'];

const cases: Array<{ name: string; services: Service[]; slices: EndpointSlice[] }> = [
  {
    name: 'nft-clusterip',
    services: [makeService('ns1', 'web', { clusterIP: '10.43.0.10' })],
    slices: [makeEndpointSlice('ns1', 'web', two)],
  },
  {
    name: 'nft-affinity-no-endpoints',
    services: [
      makeService('ns1', 'sticky', { clusterIP: '10.43.0.30', sessionAffinity: 'ClientIP' }),
      makeService('ns1', 'empty', {
        type: 'NodePort',
        clusterIP: '10.43.0.50',
        ports: [{ name: 'http', port: 80, nodePort: 30090, protocol: 'TCP' }],
      }),
    ],
    slices: [makeEndpointSlice('ns1', 'sticky', two)],
  },
  {
    name: 'nft-external-local-firewall',
    services: [
      makeService('ns1', 'lb', {
        type: 'LoadBalancer',
        clusterIP: '10.43.0.40',
        ports: [{ name: 'http', port: 80, nodePort: 30081, protocol: 'TCP' }],
        externalTrafficPolicy: 'Local',
        externalIPs: ['192.0.2.9'],
        loadBalancerIngressIPs: ['192.0.2.50'],
        loadBalancerSourceRanges: ['192.0.2.0/24'],
      }),
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
];

describe('nftables rules (golden)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const got = renderNftFull(rulesOf(c.services, c.slices), CFG).script;
      const file = join(TESTDATA, `${c.name}.nft`);
      if (UPDATE) writeFileSync(file, got);
      assert.equal(got, readFileSync(file, 'utf8'));
    });
  }
});

describe('nftables rules', () => {
  it('dispatches through the shared maps and picks endpoints with numgen', () => {
    const [r] = rulesOf(cases[0]?.services ?? [], cases[0]?.slices ?? []);
    assert.ok(r !== undefined);
    const svc = r.chains.find(([n]) => n.startsWith('service-'));
    assert.match(svc?.[0] ?? '', /^service-[A-Z2-7]{8}-ns1\/web\/tcp\/http$/);
    assert.deepEqual(
      r.elements.map((e) => [e.set, e.key]),
      [
        ['cluster-ips', '10.43.0.10'],
        ['service-ips', '10.43.0.10 . tcp . 80'],
      ],
    );
    assert.match(
      svc?.[1].at(-1) ?? '',
      /^numgen random mod 2 vmap \{ 0 : goto endpoint-\S+ , 1 : goto endpoint-\S+ \}$/,
    );
    assert.equal(r.chains.filter(([n]) => n.startsWith('endpoint-')).length, 2);
  });

  it('a partial render writes only changed chains and element differences, deletions last', () => {
    const before = rulesOf(cases[0]?.services ?? [], [makeEndpointSlice('ns1', 'web', two)]);
    const after = rulesOf(cases[0]?.services ?? [], [
      makeEndpointSlice('ns1', 'web', ['10.42.0.3', '10.42.0.4']),
    ]);
    const r = renderNftPartial([{ previous: before, next: after }]);
    const lines = r.script.trim().split('\n');
    assert.equal(r.rewritten, 2, 'the service chain and the new endpoint chain');
    assert.equal(r.deleted, 1);
    assert.ok(lines.some((l) => /^flush chain ip kts-proxy service-/.test(l)));
    assert.ok(!lines.some((l) => l.includes('element')), 'ClusterIP elements did not change');
    assert.match(lines.at(-1) ?? '', /^delete chain ip kts-proxy endpoint-\S+10\.42\.0\.2\/8080$/);
    // The deleted endpoint chain is emptied before it goes, and after the service chain stops using it.
    const flushOld = lines.findIndex((l) => /^flush chain .*10\.42\.0\.2\/8080$/.test(l));
    const lastRule = lines.findLastIndex((l) => l.startsWith('add rule'));
    assert.ok(flushOld > lastRule);

    const gone = renderNftPartial([{ previous: after, next: undefined }]);
    assert.match(gone.script, /^delete element ip kts-proxy cluster-ips \{ 10\.43\.0\.10 \}$/m);
    assert.match(gone.script, /^delete element ip kts-proxy service-ips \{ 10\.43\.0\.10 \. tcp \. 80 \}$/m);
    assert.equal(gone.deleted, 3);
    assert.equal(renderNftPartial([{ previous: after, next: after }]).script, '');
  });

  it('a service losing its endpoints moves from service-ips to no-endpoint-services', () => {
    const svc = [makeService('ns1', 'web', { clusterIP: '10.43.0.10' })];
    const r = renderNftPartial([
      { previous: rulesOf(svc, [makeEndpointSlice('ns1', 'web', two)]), next: rulesOf(svc, []) },
    ]);
    const lines = r.script.trim().split('\n');
    const del = lines.findIndex((l) => l.startsWith('delete element ip kts-proxy service-ips'));
    const add = lines.findIndex((l) =>
      l.startsWith(
        'add element ip kts-proxy no-endpoint-services { 10.43.0.10 . tcp . 80 comment "ns1/web:http" : goto reject-chain }',
      ),
    );
    const delChain = lines.findIndex((l) => l.startsWith('delete chain'));
    assert.ok(del >= 0 && add > del && delChain > add, r.script);
  });
});

describe('NftablesEngine', () => {
  it('syncs fully first, then partially, and fully again after a failure', async () => {
    const nft = recorder();
    const p = new Proxier({ engine: new NftablesEngine(nft, CFG), nodeName: 'node-a' });
    p.onServiceUpsert(makeService('ns1', 'web', { clusterIP: '10.43.0.10' }));
    p.onEndpointSliceUpsert(makeEndpointSlice('ns1', 'web', two));
    const full = await p.syncNow();
    assert.equal(full?.full, true);
    assert.match(nft.scripts[0] ?? '', /^add table ip kts-proxy\ndelete table ip kts-proxy\n/);

    p.onServiceUpsert(makeService('ns1', 'other', { clusterIP: '10.43.0.11' }));
    const partial = await p.syncNow();
    assert.equal(partial?.full, false);
    assert.equal(partial?.services, 1);
    assert.match(
      nft.scripts[1] ?? '',
      /^add element ip kts-proxy no-endpoint-services \{ 10\.43\.0\.11 \. tcp \. 80 comment "ns1\/other:http" : goto reject-chain \}$/m,
    );
    assert.doesNotMatch(nft.scripts[1] ?? '', /table|ns1\/web/);

    assert.equal((await p.syncNow())?.payloadBytes, 0, 'nothing changed, nothing written');

    nft.fail = true;
    p.onEndpointSliceUpsert(makeEndpointSlice('ns1', 'web', ['10.42.0.9']));
    assert.equal(await p.syncNow(), undefined);
    p.stop();
    const retry = await p.syncNow();
    assert.equal(retry?.full, true);
    assert.match(nft.scripts.at(-1) ?? '', /dnat to 10\.42\.0\.9:8080/);
  });
});
