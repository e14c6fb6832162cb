import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Pod } from '../api/generated/types/core-v1.js';
import {
  buildSummary,
  diskUsage,
  type NodeObservations,
  nodeCpuNanos,
  type PodUsage,
  parseMeminfo,
  type StatsProvider,
} from './node-stats.js';

describe('node stats and the summary', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('parses /proc/meminfo and /proc/stat', () => {
    const meminfo = 'MemTotal:        2048 kB\nMemFree:          512 kB\nMemAvailable:    1024 kB\n';
    assert.deepEqual(parseMeminfo(meminfo), { available: 1024 * 1024, capacity: 2048 * 1024 });
    assert.equal(parseMeminfo('MemTotal: 1 kB\n'), undefined);
    assert.equal(nodeCpuNanos('cpu  100 5 50 1000 20 3 2 0 0 0\ncpu0 1 1 1 1\n'), 160 * 10_000_000);
    assert.equal(nodeCpuNanos('intr 1\n'), undefined);
  });

  it('measures the disk usage of a directory tree', async () => {
    const d = mkdtempSync(join(tmpdir(), 'kts-du-'));
    dirs.push(d);
    mkdirSync(join(d, 'sub'));
    writeFileSync(join(d, 'sub', 'f'), Buffer.alloc(64 * 1024, 1));
    assert.ok((await diskUsage(d)) >= 64 * 1024);
    assert.equal(await diskUsage(join(d, 'missing')), 0);
  });

  it('builds the summary from a stats provider', async () => {
    const stats: StatsProvider = {
      node: async (): Promise<NodeObservations> => ({
        memory: { available: 600, capacity: 1000 },
        nodefs: { available: 40, capacity: 100 },
        nodefsInodes: { available: 9, capacity: 10 },
        imagefs: { available: 30, capacity: 50 },
        pid: { available: 900, capacity: 1000 },
      }),
      pods: async (): Promise<Map<string, PodUsage>> =>
        new Map([
          [
            'u1',
            {
              uid: 'u1',
              containers: [
                {
                  name: 'c',
                  memoryWorkingSetBytes: 70,
                  cpuUsageCoreNanoSeconds: 5,
                  rootfsBytes: 3,
                  logsBytes: 2,
                },
              ],
              volumes: new Map([['scratch', 10]]),
            },
          ],
        ]),
    };
    const pod: Pod = {
      metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
      spec: { containers: [{ name: 'c' }] },
    };
    const s = await buildSummary('n1', stats, [pod], Date.UTC(2024, 0, 1));
    const t = '2024-01-01T00:00:00Z';
    assert.equal(s.node.nodeName, 'n1');
    assert.deepEqual(s.node.memory, { time: t, availableBytes: 600, usageBytes: 400, workingSetBytes: 400 });
    assert.deepEqual(s.node.fs, {
      time: t,
      availableBytes: 40,
      capacityBytes: 100,
      usedBytes: 60,
      inodesFree: 9,
      inodes: 10,
      inodesUsed: 1,
    });
    assert.equal(s.node.runtime?.imageFs?.usedBytes, 20);
    assert.deepEqual(s.node.rlimit, { time: t, maxpid: 1000, curproc: 100 });
    const p = s.pods[0];
    assert.deepEqual(p?.podRef, { name: 'p', namespace: 'ns', uid: 'u1' });
    assert.equal(p?.memory?.workingSetBytes, 70);
    assert.equal(p?.containers[0]?.cpu?.usageCoreNanoSeconds, 5);
    assert.equal(p?.containers[0]?.rootfs?.usedBytes, 3);
    assert.equal(p?.volume?.[0]?.name, 'scratch');
    assert.equal(p?.['ephemeral-storage']?.usedBytes, 15);
  });
});
