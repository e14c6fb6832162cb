import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node, PersistentVolume, PersistentVolumeClaim } from '../../api/generated/types/core-v1.js';
import { findMatchingVolume, isVolumeBoundToClaim, volumeSatisfiesClaim } from './matching.js';

interface PVOpts {
  size?: string;
  modes?: string[];
  cls?: string;
  phase?: string;
  labels?: Record<string, string>;
  claimRef?: { name: string; namespace?: string; uid?: string };
  mode?: string;
  host?: string;
  deleting?: boolean;
}

function pv(name: string, o: PVOpts = {}): PersistentVolume {
  return {
    metadata: {
      name,
      ...(o.labels !== undefined ? { labels: o.labels } : {}),
      ...(o.deleting === true ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
    },
    spec: {
      capacity: { storage: o.size ?? '1Gi' },
      accessModes: o.modes ?? ['ReadWriteOnce'],
      ...(o.cls !== undefined ? { storageClassName: o.cls } : {}),
      ...(o.mode !== undefined ? { volumeMode: o.mode } : {}),
      ...(o.claimRef !== undefined ? { claimRef: { namespace: 'default', ...o.claimRef } } : {}),
      ...(o.host !== undefined
        ? {
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [o.host] }] },
                ],
              },
            },
          }
        : {}),
    },
    status: { phase: o.phase ?? 'Available' },
  };
}

function pvc(
  o: { size?: string; modes?: string[]; cls?: string; selector?: Record<string, string>; mode?: string } = {},
): PersistentVolumeClaim {
  return {
    metadata: { name: 'data', namespace: 'default', uid: 'u1' },
    spec: {
      accessModes: o.modes ?? ['ReadWriteOnce'],
      resources: { requests: { storage: o.size ?? '1Gi' } },
      ...(o.cls !== undefined ? { storageClassName: o.cls } : {}),
      ...(o.selector !== undefined ? { selector: { matchLabels: o.selector } } : {}),
      ...(o.mode !== undefined ? { volumeMode: o.mode } : {}),
    },
  };
}

const node = (name: string): Node => ({ metadata: { name, labels: { 'kubernetes.io/hostname': name } } });

describe('findMatchingVolume', () => {
  const cases: Array<{
    name: string;
    claim: PersistentVolumeClaim;
    volumes: PersistentVolume[];
    delay?: boolean;
    node?: Node;
    want: string | undefined;
  }> = [
    {
      name: 'smallest big-enough volume wins',
      claim: pvc({ size: '2Gi', cls: '' }),
      volumes: [pv('big', { size: '10Gi' }), pv('small', { size: '1Gi' }), pv('fit', { size: '3Gi' })],
      want: 'fit',
    },
    {
      name: 'class must match ("" matches only classless volumes)',
      claim: pvc({ cls: 'fast' }),
      volumes: [pv('none'), pv('slow', { cls: 'slow' }), pv('fast', { cls: 'fast', size: '5Gi' })],
      want: 'fast',
    },
    {
      name: 'every requested access mode must be offered',
      claim: pvc({ modes: ['ReadWriteMany'] }),
      volumes: [pv('rwo'), pv('rwx', { modes: ['ReadWriteMany', 'ReadWriteOnce'], size: '9Gi' })],
      want: 'rwx',
    },
    {
      name: 'fewer access modes are preferred over a smaller size',
      claim: pvc(),
      volumes: [
        pv('many', { modes: ['ReadWriteOnce', 'ReadOnlyMany'], size: '1Gi' }),
        pv('one', { size: '5Gi' }),
      ],
      want: 'one',
    },
    {
      name: 'label selector filters',
      claim: pvc({ selector: { tier: 'gold' } }),
      volumes: [pv('plain'), pv('gold', { labels: { tier: 'gold' }, size: '2Gi' })],
      want: 'gold',
    },
    {
      name: 'volumeMode must match (default Filesystem)',
      claim: pvc({ mode: 'Block' }),
      volumes: [pv('fs'), pv('block', { mode: 'Block' })],
      want: 'block',
    },
    {
      name: 'bound, released, too small and deleting volumes are skipped',
      claim: pvc({ size: '2Gi' }),
      volumes: [
        pv('taken', { size: '2Gi', claimRef: { name: 'other', uid: 'x' }, phase: 'Bound' }),
        pv('released', { size: '2Gi', phase: 'Released' }),
        pv('small', { size: '1Gi' }),
        pv('gone', { size: '2Gi', deleting: true }),
      ],
      want: undefined,
    },
    {
      name: 'a volume pre-bound to the claim wins whatever its class',
      claim: pvc(),
      volumes: [pv('a'), pv('mine', { size: '5Gi', cls: 'x', phase: 'Pending', claimRef: { name: 'data' } })],
      want: 'mine',
    },
    {
      name: 'waiting for the first consumer only takes a pre-bound volume',
      claim: pvc(),
      volumes: [pv('a')],
      delay: true,
      want: undefined,
    },
    {
      name: 'the selected node excludes volumes of other nodes',
      claim: pvc(),
      volumes: [pv('n1', { host: 'n1' }), pv('n2', { host: 'n2', size: '2Gi' })],
      node: node('n2'),
      want: 'n2',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = findMatchingVolume(c.claim, c.volumes, {
        delayBinding: c.delay ?? false,
        ...(c.node !== undefined ? { node: c.node } : {}),
      });
      assert.equal(got?.metadata?.name, c.want);
    });
  }
});

describe('volumeSatisfiesClaim and isVolumeBoundToClaim', () => {
  it('reports upstream reasons', () => {
    const table: Array<[PersistentVolume, PersistentVolumeClaim, string | undefined]> = [
      [pv('a'), pvc(), undefined],
      [pv('a', { size: '1Mi' }), pvc(), 'requested PV is too small'],
      [pv('a', { cls: 'x' }), pvc(), 'storageClassName does not match'],
      [pv('a', { mode: 'Block' }), pvc(), 'incompatible volumeMode'],
      [pv('a', { modes: ['ReadOnlyMany'] }), pvc(), 'incompatible accessMode'],
    ];
    for (const [v, c, want] of table) assert.equal(volumeSatisfiesClaim(v, c), want);
  });

  it('matches by name, namespace and (once set) uid', () => {
    assert.equal(isVolumeBoundToClaim(pv('a', { claimRef: { name: 'data' } }), pvc()), true);
    assert.equal(isVolumeBoundToClaim(pv('a', { claimRef: { name: 'data', uid: 'u1' } }), pvc()), true);
    assert.equal(isVolumeBoundToClaim(pv('a', { claimRef: { name: 'data', uid: 'u2' } }), pvc()), false);
    assert.equal(isVolumeBoundToClaim(pv('a', { claimRef: { name: 'data', namespace: 'x' } }), pvc()), false);
    assert.equal(isVolumeBoundToClaim(pv('a'), pvc()), false);
  });
});
