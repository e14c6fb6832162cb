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
  it('dispatches through the shared maps and DNATs with a numgen map, without endpoint chains', () => {
    const [r] = rulesOf(cases[0]?.services ?? [], cases[0]?.slices ?? []);
    assert.ok(r !== undefined);
    assert.equal(r.chains.length, 1);
    const [name, lines] = r.chains[0] ?? ['', []];
    assert.match(name, /^service-[A-Z2-7]{8}-ns1\/web\/tcp\/http$/);
    assert.deepEqual(
      r.elements.map((e) => [e.set, e.key]),
      [
        ['cluster-ips', '10.43.0.10'],
        ['service-ips', '10.43.0.10 . tcp . 80'],
        ['hairpin-connections', '10.42.0.2 . 10.42.0.2'],
        ['hairpin-connections', '10.42.0.3 . 10.42.0.3'],
      ],
    );
    assert.deepEqual(lines, [
      'meta l4proto tcp dnat to numgen random mod 2 map { 0 : 10.42.0.2 . 8080 , 1 : 10.42.0.3 . 8080 }',
    ]);
    const [one] = rulesOf(cases[0]?.services ?? [], [makeEndpointSlice('ns1', 'web', ['10.42.0.7'])]);
    assert.deepEqual(one?.chains[0]?.[1], ['meta l4proto tcp dnat to 10.42.0.7:8080']);
  });

  it('keeps endpoint chains only for ClientIP affinity', () => {
    const svc = makeService('ns1', 'sticky', { clusterIP: '10.43.0.30', sessionAffinity: 'ClientIP' });
    const [r] = rulesOf([svc], [makeEndpointSlice('ns1', 'sticky', two)]);
    const eps = (r?.chains ?? []).filter(([n]) => n.startsWith('endpoint-'));
    assert.equal(eps.length, 2);
    assert.deepEqual(eps[0]?.[1], [
      `update @${r?.sets[0]?.[0]} { ip saddr }`,
      'meta l4proto tcp dnat to 10.42.0.2:8080',
    ]);
    assert.equal(r?.sets.length, 2);
  });

  it('masquerades off-cluster (or, with masqueradeAll, every) ClusterIP client once, and hairpin connections', () => {
    const rulesOfChain = (cfg: RuleConfig, chain: string) =>
      renderNftFull([], cfg)
        .script.split('\n')
        .filter((l) => l.startsWith(`add rule ip kts-proxy ${chain} `))
        .map((l) => l.slice(`add rule ip kts-proxy ${chain} `.length));
    assert.equal(
      rulesOfChain(CFG, 'services')[0],
      'ip daddr @cluster-ips ip saddr != 10.42.0.0/16 jump mark-for-masquerade',
    );
    assert.equal(
      rulesOfChain({ ...CFG, masqueradeAll: true }, 'services')[0],
      'ip daddr @cluster-ips jump mark-for-masquerade',
    );
    assert.equal(
      rulesOfChain({ masqueradeBit: 14 }, 'services')[0],
      'ip daddr . meta l4proto . th dport vmap @service-ips',
    );
    assert.deepEqual(rulesOfChain(CFG, 'nat-postrouting'), [
      'ct status dnat ip saddr . ip daddr @hairpin-connections jump mark-for-masquerade',
      'jump masquerading',
    ]);
  });

  it('a partial render rewrites only the changed chain and element differences', () => {
    const before = rulesOf(cases[0]?.services ?? [], [makeEndpointSlice('ns1', 'web', two)]);
    const after = rulesOf(cases[0]?.services ?? [], [
      makeEndpointSlice('ns1', 'web', ['10.42.0.3', '10.42.0.4']),
    ]);
    const r = renderNftPartial([{ previous: before, next: after }]);
    const lines = r.script.trim().split('\n');
    assert.equal(r.rewritten, 1, 'the service chain');
    assert.equal(r.deleted, 0);
    assert.deepEqual(lines.slice(0, 2), [
      `add chain ip kts-proxy ${after[0]?.chains[0]?.[0]}`,
      `flush chain ip kts-proxy ${after[0]?.chains[0]?.[0]}`,
    ]);
    assert.deepEqual(lines.slice(3), [
      'delete element ip kts-proxy hairpin-connections { 10.42.0.2 . 10.42.0.2 }',
      'add element ip kts-proxy hairpin-connections { 10.42.0.4 . 10.42.0.4 }',
    ]);
    assert.deepEqual(
      [...r.refs],
      [
        ['hairpin-connections\u000010.42.0.2 . 10.42.0.2', 0],
        ['hairpin-connections\u000010.42.0.4 . 10.42.0.4', 1],
      ],
    );

    const gone = renderNftPartial([{ previous: after, next: undefined }]);
    assert.match(gone.script, /^delete element ip kts-proxy cluster-ips \{ 10\.43\.0\.10 \}$/m);
    assert.match(gone.script, /^delete element ip kts-proxy service-ips \{ 10\.43\.0\.10 \. tcp \. 80 \}$/m);
    assert.equal(gone.deleted, 1);
    assert.equal(renderNftPartial([{ previous: after, next: after }]).script, '');
  });

  it('a hairpin element shared by several services goes only with its last owner', () => {
    const web = makeService('ns1', 'web', { clusterIP: '10.43.0.10' });
    const api = makeService('ns1', 'api', { clusterIP: '10.43.0.11' });
    const slices = [makeEndpointSlice('ns1', 'web', two), makeEndpointSlice('ns1', 'api', ['10.42.0.2'])];
    const full = renderNftFull(rulesOf([web, api], slices), CFG);
    assert.equal(full.script.match(/10\.42\.0\.2 \. 10\.42\.0\.2/g)?.length, 1, 'added once');
    assert.equal(full.refs.get('hairpin-connections\u000010.42.0.2 . 10.42.0.2'), 2);
    const apiBefore = rulesOf([api], slices);
    const r = renderNftPartial([{ previous: apiBefore, next: undefined }], full.refs);
    assert.doesNotMatch(r.script, /hairpin/);
    assert.deepEqual([...r.refs], [['hairpin-connections\u000010.42.0.2 . 10.42.0.2', 1]]);
    const readd = renderNftPartial([{ previous: undefined, next: apiBefore }], new Map(r.refs));
    assert.doesNotMatch(readd.script, /hairpin/);
    const applied = new Map([...full.refs, ...r.refs]);
    const last = renderNftPartial([{ previous: rulesOf([web], slices), next: undefined }], applied);
    assert.match(
      last.script,
      /^delete element ip kts-proxy hairpin-connections \{ 10\.42\.0\.2 \. 10\.42\.0\.2 , 10\.42\.0\.3 \. 10\.42\.0\.3 \}$/m,
    );
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

describe('NftablesEngine hairpin elements', () => {
  it('keeps a shared element until its last owner goes, and its counts survive a failed sync', async () => {
    const nft = recorder();
    const p = new Proxier({ engine: new NftablesEngine(nft, CFG), nodeName: 'node-a' });
    p.onServiceUpsert(makeService('ns1', 'web', { clusterIP: '10.43.0.10' }));
    p.onEndpointSliceUpsert(makeEndpointSlice('ns1', 'web', ['10.42.0.2']));
    p.onServiceUpsert(makeService('ns1', 'api', { clusterIP: '10.43.0.11' }));
    p.onEndpointSliceUpsert(makeEndpointSlice('ns1', 'api', ['10.42.0.2']));
    await p.syncNow();

    nft.fail = true;
    p.onServiceDelete('ns1', 'api');
    assert.equal(await p.syncNow(), undefined);
    // The retry is a full sync; then a partial one removes api for real.
    await p.syncNow();
    p.onServiceDelete('ns1', 'web');
    p.onServiceUpsert(makeService('ns1', 'api', { clusterIP: '10.43.0.11' }));
    await p.syncNow();
    p.onServiceDelete('ns1', 'api');
    assert.equal((await p.syncNow())?.full, false);
    const removals = nft.scripts.filter((s) => /delete element ip kts-proxy hairpin-connections/.test(s));
    assert.equal(removals.length, 1, nft.scripts.join('\n---\n'));
    assert.equal(nft.scripts.at(-1), removals[0]);
  });
});
