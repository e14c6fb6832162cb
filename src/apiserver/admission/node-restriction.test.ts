import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { UserInfo } from '../endpoints/scope.js';
import { chainOf } from './chain.js';
import { nodeRestriction } from './node-restriction.js';
import { AdmissionFixture, namespace, pod } from './testing.js';

const kubelet = (n: string): UserInfo => ({
  username: `system:node:${n}`,
  groups: ['system:nodes', 'system:authenticated'],
});

describe('NodeRestriction', () => {
  const f = new AdmissionFixture();
  const chain = chainOf([nodeRestriction(f.stores)]);
  let n1Uid = '';

  before(async () => {
    await f.seed('', 'namespaces', namespace('default'));
    n1Uid = (await f.seed('', 'nodes', { metadata: { name: 'n1' } })).metadata?.uid ?? '';
    await f.seed('', 'nodes', { metadata: { name: 'n2' } });
    await f.seed('', 'pods', pod('on-n2', 'default', undefined, { nodeName: 'n2' }));
  });
  after(() => f.close());

  const mirror = (name: string, spec: Record<string, unknown> = {}, owner = true) => ({
    ...pod(name, 'default', undefined, { nodeName: 'n1', ...spec }),
    metadata: {
      name,
      namespace: 'default',
      annotations: { 'kubernetes.io/config.mirror': 'hash' },
      ...(owner
        ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: n1Uid, controller: true }] }
        : {}),
    },
  });

  it('lets a node create its own mirror pods only', async () => {
    await f.create(chain, '', 'pods', mirror('m1'), { user: kubelet('n1') });
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        pod('plain', 'default', undefined, { nodeName: 'n1' }),
        'pods "plain" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods',
      ],
      [
        mirror('other', { nodeName: 'n2' }),
        'pods "other" is forbidden: node "n1" can only create pods with spec.nodeName set to itself',
      ],
      [
        mirror('noowner', {}, false),
        'pods "noowner" is forbidden: node "n1" can only create pods with an owner reference set to itself',
      ],
      [
        mirror('sa', { serviceAccountName: 'x' }),
        'pods "sa" is forbidden: node "n1" can not create pods that reference a service account',
      ],
      [
        mirror('sec', { volumes: [{ name: 's', secret: { secretName: 's' } }] }),
        'pods "sec" is forbidden: node "n1" can not create pods that reference secrets',
      ],
    ];
    for (const [obj, message] of cases) {
      await assert.rejects(f.create(chain, '', 'pods', obj, { user: kubelet('n1') }), { message });
    }
  });

  it('lets a node delete only pods bound to it and change only its own Node', async () => {
    await assert.rejects(f.delete(chain, '', 'pods', 'default', 'on-n2', kubelet('n1')), {
      message: 'pods "on-n2" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself',
    });
    const n2 = await f.stores.byName('', 'nodes').get('', 'n2');
    await assert.rejects(
      f.update(
        chain,
        '',
        'nodes',
        { ...n2, metadata: { ...n2.metadata, labels: { a: 'b' } } },
        { user: kubelet('n1') },
      ),
      {
        message: 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"',
      },
    );
    const n1 = await f.stores.byName('', 'nodes').get('', 'n1');
    await assert.rejects(
      f.update(
        chain,
        '',
        'nodes',
        { ...n1, spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } },
        { user: kubelet('n1') },
      ),
      {
        message: 'nodes "n1" is forbidden: node "n1" is not allowed to modify taints',
      },
    );
    await assert.rejects(
      f.update(
        chain,
        '',
        'nodes',
        { ...n1, metadata: { ...n1.metadata, labels: { 'node-role.kubernetes.io/control-plane': '' } } },
        { user: kubelet('n1') },
      ),
      {
        message:
          'nodes "n1" is forbidden: is not allowed to modify labels: node-role.kubernetes.io/control-plane',
      },
    );
    await f.update(
      chain,
      '',
      'nodes',
      { ...n1, metadata: { ...n1.metadata, labels: { 'kubernetes.io/hostname': 'n1' } } },
      { user: kubelet('n1') },
    );
  });

  it('ignores users that are not nodes', async () => {
    await f.create(chain, '', 'pods', pod('admin-pod', 'default', undefined, { nodeName: 'n2' }));
  });
});
