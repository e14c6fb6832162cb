import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node, Pod, Volume } from '../api/generated/types/core-v1.js';
import { memoryVolumeSize, mountsUnder } from './volumes.js';

const MOUNTINFO = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw',
  '90 22 0:50 / /data/pods/u1/volumes/kubernetes.io~empty-dir/cache rw,relatime - tmpfs tmpfs rw,size=8192k',
  '91 22 0:51 / /data/pods/u1/volumes/kubernetes.io~empty-dir/with\\040space rw - tmpfs tmpfs rw',
  '92 22 0:52 / /data/pods/u10/volumes/x rw - tmpfs tmpfs rw',
].join('\n');

describe('volumes', () => {
  it('finds mounts under a directory, deepest first, octal escapes decoded', () => {
    assert.deepEqual(mountsUnder('/data/pods/u1', MOUNTINFO), [
      '/data/pods/u1/volumes/kubernetes.io~empty-dir/with space',
      '/data/pods/u1/volumes/kubernetes.io~empty-dir/cache',
    ]);
    assert.deepEqual(mountsUnder('/data/pods/u1/volumes/kubernetes.io~empty-dir/cache/', MOUNTINFO), [
      '/data/pods/u1/volumes/kubernetes.io~empty-dir/cache',
    ]);
    assert.deepEqual(mountsUnder('/elsewhere', MOUNTINFO), []);
  });

  it('sizes a memory-backed emptyDir: sizeLimit, else pod memory limits, else node allocatable', () => {
    const vol: Volume = { name: 'm', emptyDir: { medium: 'Memory' } };
    const node: Node = { status: { allocatable: { memory: '2Gi' } } };
    const pod = (limits: (string | undefined)[]): Pod => ({
      spec: {
        containers: limits.map((l, i) => ({
          name: `c${i}`,
          ...(l !== undefined ? { resources: { limits: { memory: l } } } : {}),
        })),
      },
    });
    const ctx = { pod: pod([]), podIP: '', podIPs: [], hostIP: '', node };
    assert.equal(
      memoryVolumeSize({ name: 'm', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } }, pod(['1Gi']), ctx),
      8 * 1024 * 1024,
    );
    assert.equal(memoryVolumeSize(vol, pod(['64Mi', '32Mi']), ctx), 96 * 1024 * 1024);
    assert.equal(memoryVolumeSize(vol, pod(['64Mi', undefined]), ctx), 2 * 1024 ** 3);
    assert.equal(memoryVolumeSize(vol, pod([undefined]), { ...ctx, node: undefined }), undefined);
  });
});
