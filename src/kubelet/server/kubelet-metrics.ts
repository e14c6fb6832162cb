// What the kubelet's Prometheus endpoints serve. `/metrics/resource` carries the CPU and
// memory numbers of the node, its pods and containers under upstream's metric and label
// names — what the real metrics-server scrapes — each sample stamped with the time it was
// measured; `/metrics` carries the kubelet's own gauges (its node, running pods and
// containers) and the process families every component has.
import { versionInfo } from '../../apiserver/version.js';
import { MetricsText, processStartSeconds, type Sample } from '../../machinery/prometheus.js';
import type { Summary } from '../node-stats.js';

const START_SECONDS = processStartSeconds();

function ms(time: string | undefined): number | undefined {
  if (time === undefined) return undefined;
  const t = Date.parse(time);
  return Number.isNaN(t) ? undefined : t;
}

function sample(
  labels: Record<string, string>,
  value: number | undefined,
  time: string | undefined,
): Sample[] {
  if (value === undefined) return [];
  const timestampMs = ms(time);
  return [timestampMs !== undefined ? { labels, value, timestampMs } : { labels, value }];
}

/** The `/metrics/resource` page of a summary. */
export function resourceMetricsText(s: Summary): string {
  const nodeCpu = s.node.cpu;
  const nodeMem = s.node.memory;
  const containerCpu: Sample[] = [];
  const containerMem: Sample[] = [];
  const containerStart: Sample[] = [];
  const podCpu: Sample[] = [];
  const podMem: Sample[] = [];
  for (const p of s.pods) {
    const podLabels = { namespace: p.podRef.namespace, pod: p.podRef.name };
    let cpuNanos: number | undefined;
    let cpuTime: string | undefined;
    for (const c of p.containers) {
      const labels = { ...podLabels, container: c.name };
      const nanos = c.cpu?.usageCoreNanoSeconds;
      containerCpu.push(...sample(labels, nanos !== undefined ? nanos / 1e9 : undefined, c.cpu?.time));
      containerMem.push(...sample(labels, c.memory?.workingSetBytes, c.memory?.time));
      const started = ms(c.startTime);
      if (started !== undefined) containerStart.push({ labels, value: started / 1000 });
      if (nanos !== undefined) {
        cpuNanos = (cpuNanos ?? 0) + nanos;
        cpuTime ??= c.cpu?.time;
      }
    }
    podCpu.push(...sample(podLabels, cpuNanos !== undefined ? cpuNanos / 1e9 : undefined, cpuTime));
    podMem.push(...sample(podLabels, p.memory?.workingSetBytes, p.memory?.time));
  }
  const nodeCpuNanos = nodeCpu?.usageCoreNanoSeconds;
  return new MetricsText()
    .family(
      'container_cpu_usage_seconds_total',
      'counter',
      'CPU time the container has used, in core-seconds.',
      containerCpu,
    )
    .family(
      'container_memory_working_set_bytes',
      'gauge',
      'Working set of the container (usage less inactive file pages), in bytes.',
      containerMem,
    )
    .family(
      'container_start_time_seconds',
      'gauge',
      'When the container started, in seconds since the epoch.',
      containerStart,
    )
    .family(
      'node_cpu_usage_seconds_total',
      'counter',
      'CPU time the node has used, in core-seconds.',
      sample({}, nodeCpuNanos !== undefined ? nodeCpuNanos / 1e9 : undefined, nodeCpu?.time),
    )
    .family(
      'node_memory_working_set_bytes',
      'gauge',
      'Working set of the node, in bytes.',
      sample({}, nodeMem?.workingSetBytes, nodeMem?.time),
    )
    .family('pod_cpu_usage_seconds_total', 'counter', 'CPU time the pod has used, in core-seconds.', podCpu)
    .family('pod_memory_working_set_bytes', 'gauge', 'Working set of the pod, in bytes.', podMem)
    .family('resource_scrape_error', 'gauge', '1 when reading the numbers above failed, else 0.', [
      { value: 0 },
    ])
    .text();
}

/** What the kubelet's own `/metrics` reports. */
export interface KubeletGauges {
  nodeName: string;
  runningPods: number;
  /** Containers by state: `running`, `exited`, `created`, `unknown`. */
  containers: Record<string, number>;
}

/** The kubelet's `/metrics` page. */
export function kubeletMetricsText(g: KubeletGauges): string {
  return new MetricsText()
    .family('kubelet_node_name', 'gauge', 'The node this kubelet runs (always 1).', [
      { labels: { node: g.nodeName }, value: 1 },
    ])
    .family(
      'kubelet_running_containers',
      'gauge',
      'Containers the runtime holds for this node, by state.',
      Object.entries(g.containers).map(([state, n]) => ({ labels: { container_state: state }, value: n })),
    )
    .family('kubelet_running_pods', 'gauge', 'Pods with a running sandbox.', [{ value: g.runningPods }])
    .processFamilies(versionInfo(), START_SECONDS)
    .text();
}
