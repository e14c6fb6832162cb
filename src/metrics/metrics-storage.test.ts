import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricsTable, nodeMetricsOf, podMetricsOf } from './metrics-api.js';
import { MetricsStorage, usageBetween, usageList, windowString } from './metrics-storage.js';
import { decodeSummary } from './scraper.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');

function summary(nodeCpuNs: number, containerCpuNs: number, mem = 52_428_800): unknown {
  return {
    node: {
      nodeName: 'n1',
      cpu: { time: '2024-05-01T12:00:00Z', usageCoreNanoSeconds: nodeCpuNs },
      memory: { time: '2024-05-01T12:00:00Z', workingSetBytes: 1_073_741_824 },
    },
    pods: [
      {
        podRef: { name: 'web', namespace: 'default', uid: 'u' },
        containers: [
          { name: 'app', cpu: { usageCoreNanoSeconds: containerCpuNs }, memory: { workingSetBytes: mem } },
          { name: 'side', cpu: { usageCoreNanoSeconds: 0 }, memory: { workingSetBytes: 1024 } },
        ],
      },
      { podRef: { name: 'partial', namespace: 'default' }, containers: [{ name: 'x', cpu: {} }] },
    ],
  };
}

describe('usage rates', () => {
  const cases: [string, Parameters<typeof usageBetween>, ReturnType<typeof usageBetween>][] = [
    [
      'half a core over 2 s',
      [
        { timestampMs: T0 + 2000, cumulativeCpuNs: 2e9, memoryBytes: 10 },
        { timestampMs: T0, cumulativeCpuNs: 1e9, memoryBytes: 5 },
      ],
      { cpuNanoCores: 500_000_000, memoryBytes: 10, timestampMs: T0 + 2000, windowMs: 2000 },
    ],
    [
      'a counter that went back gives nothing',
      [
        { timestampMs: T0 + 2000, cumulativeCpuNs: 1, memoryBytes: 1 },
        { timestampMs: T0, cumulativeCpuNs: 5, memoryBytes: 1 },
      ],
      undefined,
    ],
    [
      'the same time gives nothing',
      [
        { timestampMs: T0, cumulativeCpuNs: 9, memoryBytes: 1 },
        { timestampMs: T0, cumulativeCpuNs: 5, memoryBytes: 1 },
      ],
      undefined,
    ],
  ];
  for (const [name, args, want] of cases) it(name, () => assert.deepEqual(usageBetween(...args), want));

  it('formats quantities and windows as metrics-server', () => {
    assert.deepEqual(usageList({ cpuNanoCores: 123_456_789, memoryBytes: 52_428_800 }), {
      cpu: '123456789n',
      memory: '50Mi',
    });
    assert.deepEqual(usageList({ cpuNanoCores: 1_000_000, memoryBytes: 1000 }), { cpu: '1m', memory: '1k' });
    assert.equal(windowString(15_012), '15.012s');
  });
});

describe('MetricsStorage', () => {
  it('needs two scrapes and computes node and pod usage from them', () => {
    const s = new MetricsStorage();
    s.store(new Map([['n1', decodeSummary(summary(10e9, 1e9), T0)]]));
    assert.equal(s.nodeUsage('n1'), undefined);
    assert.equal(s.podUsage('default', 'web'), undefined);
    s.store(new Map([['n1', decodeSummary(summary(12e9, 1.25e9), T0 + 1000)]]));
    assert.equal(s.nodeUsage('n1')?.cpuNanoCores, 2e9);
    const pod = s.podUsage('default', 'web');
    assert.deepEqual(
      pod?.containers.map((c) => [c.name, c.usage.cpuNanoCores]),
      [
        ['app', 250_000_000],
        ['side', 0],
      ],
    );
    assert.equal(s.podUsage('default', 'partial'), undefined, 'a pod missing figures is left out');
    const node = nodeMetricsOf({ metadata: { name: 'n1', labels: { a: 'b' } } }, s, T0 + 5000);
    assert.deepEqual(node, {
      metadata: { name: 'n1', creationTimestamp: '2024-05-01T12:00:05Z', labels: { a: 'b' } },
      timestamp: '2024-05-01T12:00:01Z',
      window: '1s',
      usage: { cpu: '2', memory: '1Gi' },
    });
    const pm = podMetricsOf({ metadata: { name: 'web', namespace: 'default' } }, s, T0 + 5000);
    assert.ok(pm);
    const table = metricsTable([pm], 'None', 'v1') as {
      columnDefinitions: { name: string }[];
      rows: { cells: unknown[] }[];
    };
    assert.deepEqual(
      table.columnDefinitions.map((c) => c.name),
      ['Name', 'cpu', 'memory', 'Window'],
    );
    assert.deepEqual(table.rows[0]?.cells, ['web', '250m', '51201Ki', '1s']);
    // A node missing from a round loses its points.
    s.store(new Map());
    assert.equal(s.nodeUsage('n1'), undefined);
  });
});
