import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Summary } from '../node-stats.js';
import { kubeletMetricsText, resourceMetricsText } from './kubelet-metrics.js';

const T = '2026-01-02T03:04:05Z';
const TMS = Date.parse(T);

describe('kubelet metrics pages', () => {
  it('/metrics/resource: node, pod and container CPU and memory with upstream names and timestamps', () => {
    const summary: Summary = {
      node: {
        nodeName: 'n1',
        cpu: { time: T, usageCoreNanoSeconds: 2_500_000_000 },
        memory: { time: T, workingSetBytes: 1000 },
      },
      pods: [
        {
          podRef: { name: 'p', namespace: 'ns', uid: 'u' },
          memory: { time: T, workingSetBytes: 300 },
          containers: [
            { name: 'a', startTime: T, cpu: { time: T, usageCoreNanoSeconds: 1_000_000_000 } },
            {
              name: 'b',
              cpu: { time: T, usageCoreNanoSeconds: 500_000_000 },
              memory: { time: T, workingSetBytes: 200 },
            },
          ],
        },
      ],
    };
    const lines = resourceMetricsText(summary).trim().split('\n');
    for (const want of [
      '# TYPE container_cpu_usage_seconds_total counter',
      `container_cpu_usage_seconds_total{container="a",namespace="ns",pod="p"} 1 ${TMS}`,
      `container_cpu_usage_seconds_total{container="b",namespace="ns",pod="p"} 0.5 ${TMS}`,
      `container_memory_working_set_bytes{container="b",namespace="ns",pod="p"} 200 ${TMS}`,
      `container_start_time_seconds{container="a",namespace="ns",pod="p"} ${TMS / 1000}`,
      `node_cpu_usage_seconds_total 2.5 ${TMS}`,
      `node_memory_working_set_bytes 1000 ${TMS}`,
      `pod_cpu_usage_seconds_total{namespace="ns",pod="p"} 1.5 ${TMS}`,
      `pod_memory_working_set_bytes{namespace="ns",pod="p"} 300 ${TMS}`,
      'resource_scrape_error 0',
    ])
      assert.ok(lines.includes(want), `missing ${want} in\n${lines.join('\n')}`);
    // No sample for what was not measured (container a's memory).
    assert.ok(!lines.some((l) => l.startsWith('container_memory_working_set_bytes{container="a"')));
  });

  it('/metrics: the node name, pods and containers by state, process families', () => {
    const text = kubeletMetricsText({
      nodeName: 'n1',
      runningPods: 2,
      containers: { created: 0, exited: 1, running: 3, unknown: 0 },
    });
    for (const want of [
      'kubelet_node_name{node="n1"} 1',
      'kubelet_running_pods 2',
      'kubelet_running_containers{container_state="running"} 3',
      'kubelet_running_containers{container_state="exited"} 1',
      '# TYPE process_resident_memory_bytes gauge',
    ])
      assert.ok(text.split('\n').includes(want), `missing ${want}`);
    assert.match(text, /^kubernetes_build_info\{.*git_version="v1\.32\.\d+-kts[^"]*".*\} 1$/m);
  });
});
