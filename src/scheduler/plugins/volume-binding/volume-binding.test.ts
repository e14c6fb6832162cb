import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from '../../../api/generated/types/core-v1.js';
import type { StorageClass } from '../../../api/generated/types/storage-v1.js';
import { ClusterListers } from '../../framework/listers.js';
import { makeNode, makePod, pluginFor, runFilter } from '../../testing.js';
import { newVolumeBinding } from './volume-binding.js';

const pvc = (name: string, o: { volumeName?: string; sc?: string } = {}): PersistentVolumeClaim => ({
  metadata: { name, namespace: 'default' },
  spec: {
    volumeName: o.volumeName,
    storageClassName: o.sc,
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: '1Gi' } },
  },
});
const localPV = (name: string, node: string, sc = 'local'): PersistentVolume => ({
  metadata: { name },
  spec: {
    storageClassName: sc,
    capacity: { storage: '5Gi' },
    accessModes: ['ReadWriteOnce'],
    nodeAffinity: {
      required: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] },
        ],
      },
    },
  },
});
const wffc = (name: string, provisioner = 'kubernetes.io/no-provisioner'): StorageClass => ({
  metadata: { name },
  provisioner,
  volumeBindingMode: 'WaitForFirstConsumer',
});
const podWith = (claim: string): Pod =>
  makePod('p', {
    spec: {
      containers: [{ name: 'c' }],
      volumes: [{ name: 'v', persistentVolumeClaim: { claimName: claim } }],
    },
  });

describe('VolumeBinding', () => {
  const nodes = [makeNode('n1'), makeNode('n2')];
  const cases: {
    name: string;
    objs: [string, object][];
    claim: string;
    pre?: string;
    want?: Record<string, string>;
  }[] = [
    { name: 'missing claim', objs: [], claim: 'data', pre: 'persistentvolumeclaim "data" not found' },
    {
      name: 'bound PV node affinity',
      objs: [
        ['PersistentVolumeClaim', pvc('data', { volumeName: 'pv1' })],
        ['PersistentVolume', localPV('pv1', 'n2')],
      ],
      claim: 'data',
      want: { n1: 'UnschedulableAndUnresolvable: node(s) had volume node affinity conflict', n2: '' },
    },
    {
      name: 'unbound immediate claim',
      objs: [
        ['PersistentVolumeClaim', pvc('data', { sc: 'standard' })],
        ['StorageClass', { metadata: { name: 'standard' }, provisioner: 'x' }],
      ],
      claim: 'data',
      pre: 'pod has unbound immediate PersistentVolumeClaims',
    },
    {
      name: 'WaitForFirstConsumer with a local PV on n1',
      objs: [
        ['PersistentVolumeClaim', pvc('data', { sc: 'local' })],
        ['StorageClass', wffc('local')],
        ['PersistentVolume', localPV('pv1', 'n1')],
      ],
      claim: 'data',
      want: {
        n1: '',
        n2: "UnschedulableAndUnresolvable: node(s) didn't find available persistent volumes to bind",
      },
    },
    {
      name: 'WaitForFirstConsumer with a dynamic provisioner',
      objs: [
        ['PersistentVolumeClaim', pvc('data', { sc: 'fast' })],
        ['StorageClass', wffc('fast', 'csi.example.com')],
      ],
      claim: 'data',
      want: { n1: '', n2: '' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const listers = new ClusterListers();
      for (const [kind, o] of c.objs) listers.upsert(kind as 'PersistentVolume', o);
      const { plugin, snapshot } = pluginFor(newVolumeBinding, nodes, [], undefined, listers);
      const r = runFilter(plugin, podWith(c.claim), snapshot);
      if (c.pre !== undefined) assert.equal(r.pre?.message(), c.pre);
      else assert.deepEqual(Object.fromEntries(r.byNode), c.want);
    });
  }
});
