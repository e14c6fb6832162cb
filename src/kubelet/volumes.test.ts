import assert from 'node:assert/strict';
import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type {
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  Volume,
} from '../api/generated/types/core-v1.js';
import { atomicWrite, memoryVolumeSize, mountsUnder, setUpVolumes, type VolumeSources } from './volumes.js';

function files(entries: [string, string, number][]): Map<string, { data: Buffer; mode: number }> {
  return new Map(entries.map(([p, d, mode]) => [p, { data: Buffer.from(d), mode }]));
}

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

  it('writes volume files atomically: first write, unchanged, update, and over a crashed write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kts-atomic-'));
    try {
      const v1 = files([
        ['token', 'a', 0o644],
        ['ca.crt', 'b', 0o600],
        ['sub/key', 'c', 0o640],
      ]);
      assert.equal(await atomicWrite(dir, v1), true);
      const first = readlinkSync(join(dir, '..data'));
      assert.equal(readFileSync(join(dir, 'token'), 'utf8'), 'a');
      assert.equal(readFileSync(join(dir, 'sub', 'key'), 'utf8'), 'c');
      assert.equal(lstatSync(join(dir, first, 'ca.crt')).mode & 0o777, 0o600);
      assert.equal(lstatSync(join(dir, first, 'token')).mode & 0o777, 0o644);
      assert.ok(lstatSync(join(dir, 'token')).isSymbolicLink());
      assert.equal(await atomicWrite(dir, v1), false);

      const v2 = files([
        ['token', 'a2', 0o644],
        ['ca.crt', 'b', 0o600],
      ]);
      assert.equal(await atomicWrite(dir, v2), true);
      assert.equal(readFileSync(join(dir, 'token'), 'utf8'), 'a2');
      assert.notEqual(readlinkSync(join(dir, '..data')), first);
      assert.ok(!readdirSync(dir).includes(first), 'the old version is removed');

      // An interrupted write leaves a stray ..data_tmp link behind; the next write replaces it.
      const fresh = mkdtempSync(join(tmpdir(), 'kts-atomic-'));
      try {
        symlinkSync('..gone', join(fresh, '..data_tmp'));
        assert.equal(await atomicWrite(fresh, v2), true);
        assert.equal(readFileSync(join(fresh, 'ca.crt'), 'utf8'), 'b');
      } finally {
        rmSync(fresh, { recursive: true, force: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('resolves a claim to the directory of its bound volume, and waits while it is unbound', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kts-pvc-vol-'));
    try {
      const target = join(dir, 'storage', 'pvc-u1_default_data');
      const claim: PersistentVolumeClaim = {
        metadata: { name: 'data', namespace: 'default' },
        status: { phase: 'Pending' },
      };
      const pv: PersistentVolume = {
        metadata: {
          name: 'pvc-u1',
          annotations: { 'pv.kubernetes.io/provisioned-by': 'rancher.io/local-path' },
        },
        spec: { hostPath: { path: target, type: 'DirectoryOrCreate' } },
      };
      const sources: VolumeSources = {
        configMap: async () => undefined,
        secret: async () => undefined,
        serviceAccountToken: async () => '',
        persistentVolumeClaim: async (ns, name) => (ns === 'default' && name === 'data' ? claim : undefined),
        persistentVolume: async (name) => (name === 'pvc-u1' ? pv : undefined),
      };
      const pod: Pod = {
        metadata: { name: 'p', namespace: 'default', uid: 'pod1' },
        spec: { containers: [], volumes: [{ name: 'vol', persistentVolumeClaim: { claimName: 'data' } }] },
      };
      const ctx = { pod, podIP: '', podIPs: [], hostIP: '' };
      await assert.rejects(
        setUpVolumes(join(dir, 'kubelet'), pod, ctx, sources),
        /error processing PVC default\/data: PVC is not bound/,
      );
      claim.spec = { volumeName: 'pvc-u1' };
      claim.status = { phase: 'Bound' };
      const volumes = await setUpVolumes(join(dir, 'kubelet'), pod, ctx, sources);
      assert.equal(volumes.get('vol'), target);
      // local-path directories are world-writable, as upstream's helper pod makes them.
      assert.equal(lstatSync(target).mode & 0o777, 0o777);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
