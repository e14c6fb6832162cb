import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Node } from '../../api/generated/types/core-v1.js';
import { NODES } from '../../client/resources.js';
import { newTestContext, type TestContext } from '../endpoints/test-context.js';
import { CIDRSet } from './cidr-set.js';
import { NodeIpamController } from './controller.js';

const node = (name: string, podCIDR?: string): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name },
  ...(podCIDR ? { spec: { podCIDR, podCIDRs: [podCIDR] } } : {}),
});

describe('CIDRSet', () => {
  const cases = [
    { cidr: '10.42.0.0/16', mask: 24, first: '10.42.0.0/24', max: 256 },
    { cidr: '10.244.0.0/16', mask: 26, first: '10.244.0.0/26', max: 1024 },
    { cidr: '192.168.0.0/30', mask: 31, first: '192.168.0.0/31', max: 2 },
  ];
  for (const c of cases) {
    it(`${c.cidr} /${c.mask}`, () => {
      const s = new CIDRSet(c.cidr, c.mask);
      assert.equal(s.max, c.max);
      assert.equal(s.allocateNext(), c.first);
    });
  }
  it('exhausts, releases, and occupies', () => {
    const s = new CIDRSet('192.168.0.0/30', 31);
    assert.equal(s.allocateNext(), '192.168.0.0/31');
    assert.equal(s.allocateNext(), '192.168.0.2/31');
    assert.equal(s.allocateNext(), undefined);
    s.release('192.168.0.0/31');
    assert.equal(s.allocateNext(), '192.168.0.0/31');
    assert.equal(s.occupy('10.0.0.0/31'), false);
  });
});

describe('NodeIpamController', () => {
  let t: TestContext | undefined;
  afterEach(async () => t?.stop());

  it('rebuilds from existing nodes and allocates the next free /24', async () => {
    t = newTestContext([
      { gvr: NODES, object: node('old', '10.42.0.0/24') },
      { gvr: NODES, object: node('new') },
    ]);
    const c = new NodeIpamController(t.ctx);
    await t.start();
    c.rebuild();
    await c.sync('new');
    const n = await t.client.resource(NODES).get('', 'new');
    assert.equal(n.spec?.podCIDR, '10.42.1.0/24');
    assert.deepEqual(n.spec?.podCIDRs, ['10.42.1.0/24']);
    assert.equal(c.cidrs.usedCount(), 2);
    await t.client.resource(NODES).delete('', 'new');
    await t.settle();
    assert.equal(c.cidrs.usedCount(), 1);
  });
});
