import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  CONFLIST_FILE_NAME,
  loopbackNetwork,
  podNetworkConflist,
  removeConflist,
  renderConflist,
  writeConflist,
} from './conflist.js';

describe('conflist', () => {
  it('generates bridge + host-local over the podCIDR, then portmap', () => {
    const list = podNetworkConflist({ podCIDR: '10.42.3.0/24', dataDir: '/var/lib/kts' });
    assert.deepEqual(list, {
      cniVersion: '1.0.0',
      name: 'kts',
      plugins: [
        {
          type: 'bridge',
          bridge: 'kts0',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: '10.42.3.0/24', gateway: '10.42.3.1' }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: '/var/lib/kts/cni/networks',
          },
        },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      ],
    });
  });

  it('honours the options', () => {
    const list = podNetworkConflist({
      podCIDR: '10.42.9.130/25',
      dataDir: '/d',
      bridgeName: 'br-x',
      networkName: 'other',
      mtu: 1400,
      bridgeIpMasq: true,
      bandwidth: true,
    });
    const [bridge, portmap, bandwidth] = list.plugins;
    assert.equal(list.name, 'other');
    assert.equal(bridge?.bridge, 'br-x');
    assert.equal(bridge?.mtu, 1400);
    assert.equal(bridge?.ipMasq, true);
    assert.deepEqual((bridge?.ipam as { ranges?: unknown } | undefined)?.ranges, [
      [{ subnet: '10.42.9.128/25', gateway: '10.42.9.129' }],
    ]);
    assert.equal(portmap?.type, 'portmap');
    assert.deepEqual(bandwidth, { type: 'bandwidth', capabilities: { bandwidth: true } });
  });

  it('rejects podCIDRs outside the cluster CIDR and bad bridge names', () => {
    const cases: [Parameters<typeof podNetworkConflist>[0], RegExp][] = [
      [{ podCIDR: '10.43.1.0/24', dataDir: '/d' }, /not inside the cluster CIDR/],
      [{ podCIDR: '10.42.0.0/8', dataDir: '/d' }, /not inside the cluster CIDR/],
      [{ podCIDR: '10.42.1.0/31', dataDir: '/d' }, /too small/],
      [{ podCIDR: '10.42.1.0/24', dataDir: '/d', bridgeName: 'a-name-far-too-long' }, /invalid bridge name/],
      [{ podCIDR: 'nonsense', dataDir: '/d' }, /invalid CIDR/],
    ];
    for (const [opts, re] of cases) assert.throws(() => podNetworkConflist(opts), re);
    assert.doesNotThrow(() =>
      podNetworkConflist({ podCIDR: '10.1.2.0/24', dataDir: '/d', clusterCIDR: '10.1.0.0/16' }),
    );
  });

  it('keeps loopback as a network of its own', () => {
    assert.deepEqual(loopbackNetwork(), {
      cniVersion: '1.0.0',
      name: 'cni-loopback',
      plugins: [{ type: 'loopback' }],
    });
  });

  it('writes and removes the file in a conf_dir, leaving other files alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kts-test-conf-'));
    try {
      writeFileSync(join(dir, '99-other.conflist'), '{}');
      const list = podNetworkConflist({ podCIDR: '10.42.1.0/24', dataDir: '/d' });
      const path = writeConflist(join(dir, 'net.d'), list);
      assert.equal(path, join(dir, 'net.d', CONFLIST_FILE_NAME));
      assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), list);
      assert.equal(readFileSync(path, 'utf8'), renderConflist(list));
      assert.deepEqual(readdirSync(join(dir, 'net.d')), [CONFLIST_FILE_NAME]);
      assert.equal(removeConflist(join(dir, 'net.d')), true);
      assert.equal(removeConflist(join(dir, 'net.d')), false);
      assert.deepEqual(readdirSync(dir).sort(), ['99-other.conflist', 'net.d']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
