// How many replicas a resource metric asks for (upstream's replica_calculator.go and
// metrics/utilization.go). Pods are grouped first: deleted and failed pods are ignored,
// pending ones (and, for CPU, pods still in their initialization period whose readiness or
// sample is not settled) are unready, pods without a sample are missing. The usage ratio is
// computed over the ready pods with samples; within the tolerance nothing changes. Otherwise
// missing pods count as using their whole request (100%, or the target when that is higher)
// on a scale-down and nothing on a scale-up, unready pods count as using nothing on a
// scale-up, and the ratio is computed again: if that flips the direction or falls within the
// tolerance, the current count stays.

import type { Pod } from '../../api/generated/types/core-v1.js';
import { parseQuantity } from '../../machinery/quantity.js';

/** One pod's sample: the value in milli-units, when it was taken and over which window. */
export interface PodMetric {
  timestampMs: number;
  windowMs: number;
  value: number;
}

/** Samples by pod name. */
export type PodMetricsInfo = Map<string, PodMetric>;

/** The calculator's settings. */
export interface ReplicaCalculatorOptions {
  tolerance: number;
  cpuInitializationPeriodMs: number;
  delayOfInitialReadinessStatusMs: number;
}

/** The pods of a target grouped as upstream's groupPods does. */
export interface PodGroups {
  readyPodCount: number;
  unreadyPods: Set<string>;
  missingPods: Set<string>;
  ignoredPods: Set<string>;
}

/** Groups pods by whether their samples count (see the file comment). */
export function groupPods(
  pods: readonly Pod[],
  metrics: PodMetricsInfo,
  resource: string,
  o: ReplicaCalculatorOptions,
  nowMs: number,
): PodGroups {
  const g: PodGroups = {
    readyPodCount: 0,
    unreadyPods: new Set(),
    missingPods: new Set(),
    ignoredPods: new Set(),
  };
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    const phase = pod.status?.phase;
    if (pod.metadata?.deletionTimestamp !== undefined || phase === 'Failed') {
      g.ignoredPods.add(name);
      continue;
    }
    if (phase === 'Pending') {
      g.unreadyPods.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (metric === undefined) {
      g.missingPods.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const cond = pod.status?.conditions?.find((c) => c.type === 'Ready');
      const start = pod.status?.startTime !== undefined ? Date.parse(pod.status.startTime) : undefined;
      let unready: boolean;
      if (cond === undefined || start === undefined) unready = true;
      else {
        const transition = Date.parse(cond.lastTransitionTime ?? '') || 0;
        if (start + o.cpuInitializationPeriodMs > nowMs) {
          // Still initializing: the pod must be ready and one whole window sampled since.
          unready = cond.status === 'False' || metric.timestampMs < transition + metric.windowMs;
        } else {
          // Unready and never ready since it started.
          unready = cond.status === 'False' && start + o.delayOfInitialReadinessStatusMs > transition;
        }
      }
      if (unready) {
        g.unreadyPods.add(name);
        continue;
      }
    }
    g.readyPodCount++;
  }
  return g;
}

/**
 * Each pod's request of `resource` in milli-units (regular and restartable init containers,
 * or only `container`); throws upstream's error for a container without a request.
 */
export function calculatePodRequests(
  pods: readonly Pod[],
  container: string,
  resource: string,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    const containers = [
      ...(pod.spec?.containers ?? []),
      ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
    ];
    for (const c of containers) {
      if (container !== '' && container !== c.name) continue;
      const req = c.resources?.requests?.[resource];
      if (req === undefined)
        throw new Error(
          `missing request for ${resource} in container ${c.name} of Pod ${pod.metadata?.name ?? ''}`,
        );
      sum += parseQuantity(String(req)).milliValue();
    }
    out.set(pod.metadata?.name ?? '', sum);
  }
  return out;
}

/** Upstream's GetResourceUtilizationRatio: [ratio, utilization %, average raw value]. */
export function getResourceUtilizationRatio(
  metrics: PodMetricsInfo,
  requests: Map<string, number>,
  targetUtilization: number,
): [number, number, number] {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let entries = 0;
  for (const [pod, m] of metrics) {
    const request = requests.get(pod);
    // Samples of pods without requests are extraneous (missing requests are checked elsewhere).
    if (request === undefined) continue;
    metricsTotal += m.value;
    requestsTotal += request;
    entries++;
  }
  if (requestsTotal === 0) throw new Error('no metrics returned matched known pods');
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return [utilization / targetUtilization, utilization, Math.trunc(metricsTotal / entries)];
}

/** Upstream's GetMetricUsageRatio: [ratio, average usage]. */
export function getMetricUsageRatio(metrics: PodMetricsInfo, targetUsage: number): [number, number] {
  let total = 0;
  for (const m of metrics.values()) total += m.value;
  const usage = Math.trunc(total / metrics.size);
  return [usage / targetUsage, usage];
}

function within(ratio: number, tolerance: number): boolean {
  return Math.abs(1 - ratio) <= tolerance;
}

/** The result of a utilization calculation. */
export interface ResourceReplicas {
  replicas: number;
  /** Utilization in percent of the requests. */
  utilization: number;
  /** Average raw usage in milli-units. */
  rawUtilization: number;
}

/** What both calculations start from. */
interface CalculationInput {
  currentReplicas: number;
  resource: string;
  pods: readonly Pod[];
  metrics: PodMetricsInfo;
  options: ReplicaCalculatorOptions;
  nowMs: number;
}

const ZERO: PodMetric = { timestampMs: 0, windowMs: 0, value: 0 };

// The part both calculations share: group the pods, take the ratio over the settled
// samples, then (with missing or unready pods) fill them in and decide again.
function replicasFromRatio<R>(
  a: CalculationInput,
  measure: (metrics: PodMetricsInfo) => [number, R],
  missingOnScaleDown: (pod: string) => number,
): [number, R] {
  const metrics = new Map(a.metrics);
  if (a.pods.length === 0) throw new Error('no pods returned by selector while calculating replica count');
  const g = groupPods(a.pods, metrics, a.resource, a.options, a.nowMs);
  for (const p of g.ignoredPods) metrics.delete(p);
  for (const p of g.unreadyPods) metrics.delete(p);
  if (metrics.size === 0)
    throw new Error('did not receive metrics for targeted pods (pods might be unready)');
  const [usageRatio, current] = measure(metrics);
  const tolerance = a.options.tolerance;
  const scaleUpWithUnready = g.unreadyPods.size > 0 && usageRatio > 1;
  if (!scaleUpWithUnready && g.missingPods.size === 0) {
    if (within(usageRatio, tolerance)) return [a.currentReplicas, current];
    return [Math.ceil(usageRatio * g.readyPodCount), current];
  }
  if (g.missingPods.size > 0) {
    if (usageRatio < 1) {
      for (const p of g.missingPods) metrics.set(p, { ...ZERO, value: missingOnScaleDown(p) });
    } else if (usageRatio > 1) {
      for (const p of g.missingPods) metrics.set(p, ZERO);
    }
  }
  if (scaleUpWithUnready) for (const p of g.unreadyPods) metrics.set(p, ZERO);
  const [newRatio] = measure(metrics);
  // Too small a change, or one that would reverse the direction: keep the count.
  if (within(newRatio, tolerance) || (usageRatio < 1 && newRatio > 1) || (usageRatio > 1 && newRatio < 1))
    return [a.currentReplicas, current];
  const replicas = Math.ceil(newRatio * metrics.size);
  if ((newRatio < 1 && replicas > a.currentReplicas) || (newRatio > 1 && replicas < a.currentReplicas))
    return [a.currentReplicas, current];
  return [replicas, current];
}

/** Upstream's GetResourceReplicas (Utilization targets) over already fetched samples. */
export function resourceReplicas(
  a: CalculationInput & { targetUtilization: number; container: string },
): ResourceReplicas {
  let requests: Map<string, number> | undefined;
  const [replicas, [utilization, rawUtilization]] = replicasFromRatio<[number, number]>(
    a,
    (metrics) => {
      // Requests are read once the samples are known to exist, as upstream orders its errors.
      requests ??= calculatePodRequests(a.pods, a.container, a.resource);
      const [ratio, util, raw] = getResourceUtilizationRatio(metrics, requests, a.targetUtilization);
      return [ratio, [util, raw]];
    },
    // A scale-down counts missing pods at their whole request (or the target above 100%).
    (p) => Math.trunc(((requests?.get(p) ?? 0) * Math.max(100, a.targetUtilization)) / 100),
  );
  return { replicas, utilization, rawUtilization };
}

/** Upstream's calcPlainMetricReplicas (AverageValue targets): [replicas, average usage]. */
export function plainMetricReplicas(a: CalculationInput & { targetUsage: number }): [number, number] {
  return replicasFromRatio(
    a,
    (metrics) => getMetricUsageRatio(metrics, a.targetUsage),
    () => a.targetUsage,
  );
}
