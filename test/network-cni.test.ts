// The CNI plugins on one node (a `kts-test-` namespace): the bridge plugin's own
// masquerade (bridgeIpMasq) is removed by DEL, a pod whose namespace vanished before DEL
// is still cleaned up by teardown, and the bandwidth plugin shapes and unshapes a pod.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CniNetwork, type CniRuntimeConf } from '../src/network/cni.js';
import { cniCacheDir, ipamDataDir, podNetworkConflist } from '../src/network/conflist.js';
import { execCommand } from '../src/network/host-command.js';
import { createNetns, deleteNetns, listLinks, listNetns, netnsPath } from '../src/network/netns.js';
import { setupNodeNetwork } from '../src/network/node-routes.js';
import { listIpamAllocations, teardownPodNetwork } from '../src/network/teardown.js';

const missing = ['bridge', 'host-local', 'portmap', 'bandwidth']
  .map((p) => `/usr/lib/cni/${p}`)
  .filter((p) => !existsSync(p))
  .concat(process.getuid?.() === 0 ? [] : ['root']);

const rand = randomBytes(3).toString('hex');
const NODE = `kts-test-node-${rand}`;
const PODS = [1, 2, 3].map((i) => `kts-test-pod${i}-${rand}`);
const CIDR = '10.42.7.0/24';

async function natRules(): Promise<string> {
  const r = await execCommand(['iptables-save', '-t', 'nat'], { netns: NODE });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

describe('CNI plugins on one node', {
  skip: missing.length > 0 ? `missing: ${missing.join(', ')}` : false,
}, () => {
  const data = join(tmpdir(), `kts-test-cni-${rand}`);
  const conflist = podNetworkConflist({ podCIDR: CIDR, dataDir: data, bridgeIpMasq: true, bandwidth: true });
  const net = new CniNetwork(conflist, { hostNetns: NODE, cacheDir: cniCacheDir(data) });
  const rt = (i: number): CniRuntimeConf => ({
    containerId: `ctr${i}-${rand}`,
    netns: netnsPath(PODS[i - 1] ?? ''),
    ifName: 'eth0',
  });

  before(async () => {
    mkdirSync(data);
    await createNetns(NODE, { loopbackUp: true });
    await setupNodeNetwork({ podCIDR: CIDR, netns: NODE });
    for (const p of PODS) await createNetns(p);
  });

  after(async () => {
    for (const ns of [...PODS, NODE]) await deleteNetns(ns).catch(() => {});
    try {
      rmSync(data, { recursive: true, force: true });
    } catch {
      // nothing more can be done
    }
  });

  it('DEL removes the bridge plugin’s masquerade chain and the address', async () => {
    await net.add(rt(1));
    assert.match(await natRules(), new RegExp(`id: \\\\"${rt(1).containerId}\\\\"`));
    await net.del(rt(1));
    assert.doesNotMatch(await natRules(), /id: \\"/);
    assert.deepEqual(listIpamAllocations(ipamDataDir(data), 'kts'), []);
  });

  it('the bandwidth plugin shapes a pod and DEL unshapes it', async () => {
    const shaped = {
      ...rt(2),
      capabilityArgs: {
        bandwidth: {
          ingressRate: 8_000_000,
          ingressBurst: 800_000,
          egressRate: 8_000_000,
          egressBurst: 800_000,
        },
      },
    };
    await net.add(shaped);
    const kinds = (await listLinks({ netns: NODE })).map((l) => l.kind);
    assert.ok(kinds.includes('ifb'), `an ifb device for egress shaping: ${kinds.join(',')}`);
    await net.del(rt(2));
    const left = (await listLinks({ netns: NODE })).filter((l) => l.kind === 'ifb' || l.kind === 'veth');
    assert.deepEqual(left, []);
  });

  it('teardown cleans up a pod whose namespace disappeared before DEL', async () => {
    await net.add(rt(3));
    await deleteNetns(PODS[2] ?? '');
    const report = await teardownPodNetwork({ dataDir: data, conflist, netns: NODE });
    assert.deepEqual(report.errors, []);
    assert.deepEqual(report.detached, [`${rt(3).containerId}/eth0`]);
    assert.doesNotMatch(await natRules(), /CNI-|KTSNET-|kts/);
    assert.deepEqual(
      (await listLinks({ netns: NODE })).map((l) => l.name),
      ['lo'],
    );
    assert.ok(!existsSync(join(ipamDataDir(data), 'kts')));
    for (const ns of [...PODS, NODE]) await deleteNetns(ns);
    assert.deepEqual(
      (await listNetns()).filter((n) => n.includes(rand)),
      [],
    );
  });
});
