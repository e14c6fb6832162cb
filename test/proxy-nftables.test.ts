// The nftables proxier against a real kernel, inside network namespaces this test creates:
// a "node" namespace with a bridge (10.42.0.1/24) and two "pod" namespaces (10.42.0.2 and
// 10.42.0.3) each serving its own name on TCP 8080. The proxier writes its kts-proxy table
// into the node namespace; a client there connects to ClusterIPs in 10.43.0.0/16 and to a
// NodePort, and the pods connect to a ClusterIP (one of them to itself: hairpin).
// The node namespace has no default route and no link to the host, so no packet can leave
// the machine; every namespace and process made here is removed by name/pid in after().

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_MASQUERADE_BIT } from '../src/proxy/iptables-rules.js';
import { ExecNft, NftablesEngine, nftAvailable } from '../src/proxy/nftables.js';
import { Proxier } from '../src/proxy/proxier.js';
import { makeEndpointSlice, makeService } from '../src/proxy/testing.js';
import { proxyNetns, proxyNetnsSkip } from './helpers/proxy-netns.js';

const skip = proxyNetnsSkip(['nft']);
const bed = proxyNetns({
  prefix: 'kts-nft-test',
  ifLetter: 'n',
  podToService: true,
  onNodeCreated: async (ns) => assert.ok(await nftAvailable({ netns: ns }), 'nft works in the namespace'),
});
const NODE = bed.node;
const PODS = bed.pods;
const connect = bed.connect;

function podNs(i: number): string {
  const p = PODS[i];
  if (p === undefined) throw new Error(`no pod ${i}`);
  return p.ns;
}

describe('nftables proxier in a network namespace', { skip }, () => {
  const nft = new ExecNft({ netns: NODE });
  const engine = new NftablesEngine(nft, {
    masqueradeBit: DEFAULT_MASQUERADE_BIT,
    clusterCIDR: '10.42.0.0/16',
  });
  const proxier = new Proxier({ engine, nodeName: 'node-a' });

  before(() => bed.setUp());

  after(() => bed.remove());

  it('serves ClusterIP, NodePort, affinity, Local policy and no-endpoint services, then cleans up', async () => {
    const both = PODS.map((p) => p.ip);
    proxier.onServiceUpsert(
      makeService('ns1', 'web', {
        type: 'NodePort',
        clusterIP: '10.43.0.10',
        ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }],
      }),
    );
    proxier.onEndpointSliceUpsert(makeEndpointSlice('ns1', 'web', both));
    proxier.onServiceUpsert(
      makeService('ns1', 'sticky', { clusterIP: '10.43.0.11', sessionAffinity: 'ClientIP' }),
    );
    proxier.onEndpointSliceUpsert(makeEndpointSlice('ns1', 'sticky', both));
    proxier.onServiceUpsert(makeService('ns1', 'empty', { clusterIP: '10.43.0.12' }));
    proxier.onServiceUpsert(
      makeService('ns1', 'local', { clusterIP: '10.43.0.13', internalTrafficPolicy: 'Local' }),
    );
    proxier.onEndpointSliceUpsert(
      makeEndpointSlice('ns1', 'local', [
        { ip: '10.42.0.2', nodeName: 'node-a' },
        { ip: '10.42.0.3', nodeName: 'node-b' },
      ]),
    );
    const full = await proxier.syncNow();
    assert.equal(full?.full, true);

    const spread = connect('10.43.0.10', 80, 24);
    assert.deepEqual([...new Set(spread)].sort(), ['pod-a', 'pod-b'], `replies: ${spread.join(',')}`);

    const pinned = connect('10.43.0.11', 80, 12);
    assert.equal(new Set(pinned).size, 1, `affinity replies: ${pinned.join(',')}`);
    assert.match(pinned[0] ?? '', /^pod-[ab]$/);

    assert.deepEqual(connect('10.43.0.12', 80, 1), ['ECONNREFUSED']);
    // A port the ClusterIP does not serve is refused too (cluster-ips-check).
    assert.deepEqual(connect('10.43.0.10', 81, 1), ['ECONNREFUSED']);

    // internalTrafficPolicy Local: only this node's endpoint.
    assert.deepEqual([...new Set(connect('10.43.0.13', 80, 12))], ['pod-a']);

    for (const reply of connect('10.42.0.1', 30080, 4)) assert.match(reply, /^pod-[ab]$/);

    // An incremental sync narrows the service to one backend.
    proxier.onEndpointSliceUpsert(makeEndpointSlice('ns1', 'web', ['10.42.0.3']));
    const partial = await proxier.syncNow();
    assert.equal(partial?.full, false);
    // Only the service chain is rewritten: endpoints are map entries, not chains.
    assert.deepEqual([partial?.rewrittenChains, partial?.deletedChains], [1, 0], JSON.stringify(partial));
    assert.deepEqual([...new Set(connect('10.43.0.10', 80, 8))], ['pod-b']);
    assert.deepEqual([...new Set(connect('10.42.0.1', 30080, 4))], ['pod-b']);

    // Endpoints gone: the service now refuses; back again: served.
    proxier.onEndpointSliceUpsert(makeEndpointSlice('ns1', 'web', []));
    assert.equal((await proxier.syncNow())?.full, false);
    assert.deepEqual(connect('10.43.0.10', 80, 1), ['ECONNREFUSED']);
    proxier.onEndpointSliceUpsert(makeEndpointSlice('ns1', 'web', ['10.42.0.2']));
    await proxier.syncNow();
    assert.deepEqual([...new Set(connect('10.43.0.10', 80, 4))], ['pod-a']);
    // Hairpin: pod-a reaches itself through the service (masqueraded via @hairpin-connections),
    // and pod-b reaches pod-a through it.
    assert.deepEqual(connect('10.43.0.10', 80, 3, podNs(0)), ['pod-a', 'pod-a', 'pod-a']);
    assert.deepEqual(connect('10.43.0.10', 80, 2, podNs(1)), ['pod-a', 'pod-a']);

    // Deleting a Service removes its chains and affinity sets.
    proxier.onServiceDelete('ns1', 'sticky');
    await proxier.syncNow();
    const table = await nft.run(['list', 'table', 'ip', 'kts-proxy']);
    assert.doesNotMatch(table, /ns1\/sticky/);
    assert.match(table, /ns1\/web/);

    const removed = await proxier.cleanup();
    assert.equal(removed.chains, 1);
    assert.doesNotMatch(await nft.run(['list', 'tables']), /kts-proxy/);
  });
});
