// The nftables proxier against a real kernel, inside network namespaces this test creates:
// a "node" namespace with a bridge (10.42.0.1/24) and two "pod" namespaces (10.42.0.2 and
// 10.42.0.3) each serving its own name on TCP 8080. The proxier writes its kts-proxy table
// into the node namespace; a client there connects to ClusterIPs in 10.43.0.0/16 and to a
// NodePort, and the pods connect to a ClusterIP (one of them to itself: hairpin).
// The node namespace has no default route and no link to the host, so no packet can leave
// the machine; every namespace and process made here is removed by name/pid in after().

import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_MASQUERADE_BIT } from '../src/proxy/iptables-rules.js';
import { ExecNft, NftablesEngine, nftAvailable } from '../src/proxy/nftables.js';
import { Proxier } from '../src/proxy/proxier.js';
import { makeEndpointSlice, makeService } from '../src/proxy/testing.js';

function canRun(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const bin of ['ip', 'nft']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `${bin} not installed`;
    }
  }
  return undefined;
}

const skip = canRun();
const id = randomBytes(3).toString('hex');
const NODE = `kts-nft-test-${id}`;
const PODS = [
  { ns: `kts-nft-test-${id}-a`, ip: '10.42.0.2', name: 'pod-a', hostIf: `kts-na-${id}` },
  { ns: `kts-nft-test-${id}-b`, ip: '10.42.0.3', name: 'pod-b', hostIf: `kts-nb-${id}` },
];
const BRIDGE = 'kts-br0';
const created: string[] = [];
const servers: ChildProcess[] = [];

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

const SERVER = `
const net = require('node:net');
net.createServer((s) => { s.on('error', () => {}); s.end(process.env.NAME); })
  .listen(8080, '0.0.0.0', () => process.stdout.write('ready\\n'));`;

function startServer(ns: string, name: string): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SERVER], {
    env: { ...process.env, NAME: name },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  servers.push(child);
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`server in ${ns} exited ${code}`)));
  });
}

const CLIENT = `
const net = require('node:net');
const [host, port, n] = process.argv.slice(1);
(async () => {
  const out = [];
  for (let i = 0; i < Number(n); i++) {
    out.push(await new Promise((resolve) => {
      const s = net.connect({ host, port: Number(port) });
      let data = '';
      s.setTimeout(3000, () => { s.destroy(); resolve('ETIMEDOUT'); });
      s.on('data', (d) => { data += d; });
      s.on('end', () => resolve(data));
      s.on('error', (e) => resolve(e.code));
    }));
  }
  process.stdout.write(JSON.stringify(out));
})();`;

function podNs(i: number): string {
  const p = PODS[i];
  if (p === undefined) throw new Error(`no pod ${i}`);
  return p.ns;
}

/** Connects `n` times from the node (or another) namespace; returns each reply (or error code). */
function connect(host: string, port: number, n: number, from = NODE): string[] {
  const out = execFileSync(
    'ip',
    ['netns', 'exec', from, process.execPath, '-e', CLIENT, host, String(port), String(n)],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  return JSON.parse(out) as string[];
}

describe('nftables proxier in a network namespace', { skip }, () => {
  const nft = new ExecNft({ netns: NODE });
  const engine = new NftablesEngine(nft, {
    masqueradeBit: DEFAULT_MASQUERADE_BIT,
    clusterCIDR: '10.42.0.0/16',
  });
  const proxier = new Proxier({ engine, nodeName: 'node-a' });

  before(async () => {
    ip('netns', 'add', NODE);
    created.push(NODE);
    assert.ok(await nftAvailable({ netns: NODE }), 'nft works in the namespace');
    ip('-n', NODE, 'link', 'set', 'lo', 'up');
    ip('-n', NODE, 'link', 'add', BRIDGE, 'type', 'bridge');
    ip('-n', NODE, 'addr', 'add', '10.42.0.1/24', 'dev', BRIDGE);
    ip('-n', NODE, 'link', 'set', BRIDGE, 'up');
    ip('-n', NODE, 'route', 'add', '10.43.0.0/16', 'dev', BRIDGE);
    // Pods reach services through the node: it routes between its bridge ports.
    execFileSync('ip', ['netns', 'exec', NODE, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    for (const p of PODS) {
      ip('netns', 'add', p.ns);
      created.push(p.ns);
      ip('-n', NODE, 'link', 'add', p.hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p.ns);
      ip('-n', NODE, 'link', 'set', p.hostIf, 'master', BRIDGE, 'up');
      // As the CNI bridge's hairpinMode: a pod's DNATed packet to itself leaves by the port it came in.
      ip('-n', NODE, 'link', 'set', p.hostIf, 'type', 'bridge_slave', 'hairpin', 'on');
      ip('-n', p.ns, 'link', 'set', 'lo', 'up');
      ip('-n', p.ns, 'addr', 'add', `${p.ip}/24`, 'dev', 'eth0');
      ip('-n', p.ns, 'link', 'set', 'eth0', 'up');
      ip('-n', p.ns, 'route', 'add', 'default', 'via', '10.42.0.1');
    }
    // Safety: every address used below routes inside the namespace, and nothing has a way out.
    assert.equal(ip('-n', NODE, 'route', 'show', 'default').trim(), '');
    for (const dst of ['10.43.0.10', '10.43.0.12', '10.42.0.2', '10.42.0.3']) {
      assert.match(ip('-n', NODE, 'route', 'get', dst), new RegExp(`dev ${BRIDGE}\\b`));
    }
    await Promise.all(PODS.map((p) => startServer(p.ns, p.name)));
  });

  after(() => {
    for (const s of servers) if (s.exitCode === null && s.pid !== undefined) s.kill('SIGTERM');
    for (const ns of created.reverse()) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
  });

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
