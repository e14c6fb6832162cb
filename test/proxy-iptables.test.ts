// The iptables proxier against a real kernel, inside network namespaces this test creates:
// a "node" namespace with a bridge (10.42.0.1/24) and two "pod" namespaces (10.42.0.2 and
// 10.42.0.3) each serving its own name on TCP 8080. The proxier writes its rules into the
// node namespace; a client there connects to ClusterIPs in 10.43.0.0/16 and to a NodePort.
// The node namespace has no default route and no link to the host, so no packet can leave
// the machine; every namespace and process made here is removed by name/pid in after().

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExecIptables } from '../src/proxy/iptables.js';
import { Proxier } from '../src/proxy/proxier.js';
import { makeEndpointSlice, makeService } from '../src/proxy/testing.js';
import { proxyNetns, proxyNetnsSkip } from './helpers/proxy-netns.js';

const skip = proxyNetnsSkip(['iptables-restore', 'iptables-save']);
const bed = proxyNetns({ prefix: 'kts-proxy-test', ifLetter: 'p' });
const NODE = bed.node;
const PODS = bed.pods;
const connect = bed.connect;

describe('iptables proxier in a network namespace', { skip }, () => {
  const ipt = new ExecIptables({ netns: NODE });
  const proxier = new Proxier({ iptables: ipt, nodeName: 'node-a', clusterCIDR: '10.42.0.0/16' });

  before(() => bed.setUp());

  after(() => bed.remove());

  it('serves ClusterIP, NodePort, affinity and no-endpoint services, then cleans up', async () => {
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
    const full = await proxier.syncNow();
    assert.equal(full?.full, true);

    const spread = connect('10.43.0.10', 80, 24);
    assert.deepEqual([...new Set(spread)].sort(), ['pod-a', 'pod-b'], `replies: ${spread.join(',')}`);

    const pinned = connect('10.43.0.11', 80, 12);
    assert.equal(new Set(pinned).size, 1, `affinity replies: ${pinned.join(',')}`);
    assert.match(pinned[0] ?? '', /^pod-[ab]$/);

    assert.deepEqual(connect('10.43.0.12', 80, 1), ['ECONNREFUSED']);

    for (const reply of connect('10.42.0.1', 30080, 4)) assert.match(reply, /^pod-[ab]$/);

    // An incremental sync narrows the service to one backend.
    proxier.onEndpointSliceUpsert(makeEndpointSlice('ns1', 'web', ['10.42.0.3']));
    const partial = await proxier.syncNow();
    assert.equal(partial?.full, false);
    assert.deepEqual([...new Set(connect('10.43.0.10', 80, 8))], ['pod-b']);

    // A second full sync finds its jump rules in place and inserts no duplicates.
    proxier.onServiceDelete('ns1', 'sticky');
    await proxier.syncNow();
    const natBefore = await ipt.save('nat');
    assert.equal(natBefore.match(/-j KTS-SERVICES/g)?.length, 2);

    const removed = await proxier.cleanup();
    assert.ok(removed.chains > 0 && removed.rules === 11, JSON.stringify(removed));
    for (const table of ['nat', 'filter'] as const) {
      assert.doesNotMatch(await ipt.save(table), /KTS-/);
    }
  });
});
