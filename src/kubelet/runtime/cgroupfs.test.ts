import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CgroupFs, cpuSharesToWeight } from './cgroupfs.js';

const dirs: string[] = [];
function fakeRoot(layout: 'v1' | 'v2' | 'none'): string {
  const root = mkdtempSync(join(tmpdir(), 'kts-cgroupfs-'));
  dirs.push(root);
  if (layout === 'v1') for (const c of ['cpu', 'cpuacct', 'memory', 'pids']) mkdirSync(join(root, c));
  if (layout === 'v2') writeFileSync(join(root, 'cgroup.controllers'), 'cpu memory pids\n');
  return root;
}
const read = (p: string): string => readFileSync(p, 'utf8');

describe('cgroupfs', () => {
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('converts cpu shares to v2 weights as runc does', () => {
    assert.equal(cpuSharesToWeight(2), 1);
    assert.equal(cpuSharesToWeight(1024), 39);
    assert.equal(cpuSharesToWeight(262144), 10000);
    assert.equal(cpuSharesToWeight(0), 0);
  });

  it('detects the layout', () => {
    assert.equal(new CgroupFs(fakeRoot('v1')).version(), 1);
    assert.equal(new CgroupFs(fakeRoot('v2')).version(), 2);
    assert.equal(new CgroupFs(fakeRoot('none')).version(), undefined);
    assert.deepEqual(new CgroupFs(fakeRoot('none')).ensure('/kubepods', { cpuShares: 2 }), []);
  });

  it('tells whether a cgroup exists, on either layout', () => {
    for (const layout of ['v1', 'v2', 'none'] as const) {
      const fs = new CgroupFs(fakeRoot(layout));
      assert.equal(fs.exists('/kubepods/besteffort'), false, layout);
      fs.ensure('/kubepods/besteffort', { cpuShares: 2 });
      assert.equal(fs.exists('/kubepods/besteffort'), layout !== 'none', layout);
      assert.equal(fs.exists('/kubepods/burstable'), false, layout);
    }
  });

  it('writes v1 limits into every controller hierarchy', () => {
    const root = fakeRoot('v1');
    const fs = new CgroupFs(root);
    const got = fs.ensure('/kubepods/burstable/podx', {
      cpuShares: 512,
      cpuQuota: 50000,
      cpuPeriod: 100000,
      memoryLimitInBytes: 1 << 24,
      pidsLimit: 100,
    });
    assert.deepEqual(
      got,
      ['cpu', 'cpuacct', 'memory', 'pids'].map((c) => join(root, c, 'kubepods/burstable/podx')),
    );
    const d = (c: string, f: string): string => read(join(root, c, 'kubepods/burstable/podx', f));
    assert.equal(d('cpu', 'cpu.shares'), '512');
    assert.equal(d('cpu', 'cpu.cfs_period_us'), '100000');
    assert.equal(d('cpu', 'cpu.cfs_quota_us'), '50000');
    assert.equal(d('memory', 'memory.limit_in_bytes'), String(1 << 24));
    assert.equal(d('memory', 'memory.memsw.limit_in_bytes'), String(1 << 24));
    assert.equal(d('pids', 'pids.max'), '100');
    // Unlimited is written explicitly, so a reused cgroup loses old limits.
    fs.ensure('/kubepods/burstable/podx', {});
    assert.equal(d('cpu', 'cpu.cfs_quota_us'), '-1');
    assert.equal(d('pids', 'pids.max'), 'max');
    assert.equal(d('memory', 'memory.limit_in_bytes'), '-1');
  });

  it('writes v2 limits and delegates controllers down the path', () => {
    const root = fakeRoot('v2');
    const fs = new CgroupFs(root);
    const got = fs.ensure('/kubepods/podg', {
      cpuShares: 1024,
      cpuQuota: 20000,
      memoryLimitInBytes: 4096,
      pidsLimit: 7,
    });
    assert.deepEqual(got, [join(root, 'kubepods/podg')]);
    assert.equal(read(join(root, 'cgroup.subtree_control')), '+cpu +memory +pids');
    assert.equal(read(join(root, 'kubepods/cgroup.subtree_control')), '+cpu +memory +pids');
    const d = (f: string): string => read(join(root, 'kubepods/podg', f));
    assert.equal(d('cpu.weight'), '39');
    assert.equal(d('cpu.max'), '20000 100000');
    assert.equal(d('memory.max'), '4096');
    assert.equal(d('memory.swap.max'), '0');
    assert.equal(d('pids.max'), '7');
  });

  it('reads OOM kills, usage and the working set', () => {
    const v1 = fakeRoot('v1');
    const fs1 = new CgroupFs(v1);
    fs1.ensure('/a', {});
    writeFileSync(join(v1, 'memory/a/memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    writeFileSync(join(v1, 'memory/a/memory.usage_in_bytes'), '1000\n');
    writeFileSync(join(v1, 'memory/a/memory.stat'), 'cache 10\ntotal_inactive_file 300\n');
    assert.equal(fs1.oomKills('/a'), 2);
    assert.equal(fs1.memoryUsage('/a'), 1000);
    assert.equal(fs1.memoryWorkingSet('/a'), 700);
    const v2 = fakeRoot('v2');
    const fs2 = new CgroupFs(v2);
    fs2.ensure('/b', {});
    writeFileSync(join(v2, 'b/memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
    writeFileSync(join(v2, 'b/memory.current'), '2048\n');
    assert.equal(fs2.oomKills('/b'), 1);
    assert.equal(fs2.memoryUsage('/b'), 2048);
    assert.equal(fs2.oomKills('/missing'), 0);
  });

  it('reads the CPU time of every task of a cgroup', () => {
    const v1 = fakeRoot('v1');
    const fs1 = new CgroupFs(v1);
    fs1.ensure('/a', {});
    writeFileSync(join(v1, 'cpuacct/a/cpuacct.usage'), '123456789\n');
    assert.equal(fs1.cpuUsageNanos('/a'), 123456789);
    assert.equal(fs1.cpuUsageNanos('/missing'), undefined);
    const v2 = fakeRoot('v2');
    const fs2 = new CgroupFs(v2);
    fs2.ensure('/b', {});
    writeFileSync(join(v2, 'b/cpu.stat'), 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n');
    assert.equal(fs2.cpuUsageNanos('/b'), 2_500_000);
    assert.equal(fs2.cpuUsageNanos('/missing'), undefined);
  });
});
